"""Models: late payment, payment time (censored survival) and payment week, instalment adherence. Saved without pickle.

Examples
--------
>>> from payrisk.models import LatePaymentClassifier
>>> LatePaymentClassifier().get_params()["calibration"]
'auto'
"""

from payrisk.models._late_payment import InstallmentAdherenceClassifier, LatePaymentClassifier
from payrisk.models._payment_time import DISTRIBUTIONS, PaymentTimeModel
from payrisk.models._payment_week import PaymentWeekModel

__all__ = [
    "DISTRIBUTIONS",
    "InstallmentAdherenceClassifier",
    "LatePaymentClassifier",
    "PaymentTimeModel",
    "PaymentWeekModel",
]
