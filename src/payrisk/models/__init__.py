"""Models: late payment, payment time (censored survival) and payment week, instalment adherence. Saved without pickle.

Examples
--------
>>> from payrisk.models import LatePaymentClassifier
>>> LatePaymentClassifier().get_params()["calibration"]
'auto'
"""

from payrisk.models._late_payment import (
    CustomerProblemClassifier,
    InstallmentAdherenceClassifier,
    LatePaymentClassifier,
)
from payrisk.models._payment_time import DISTRIBUTIONS, PaymentTimeModel
from payrisk.models._payment_week import PaymentWeekModel

__all__ = [
    "DISTRIBUTIONS",
    "CustomerProblemClassifier",
    "InstallmentAdherenceClassifier",
    "LatePaymentClassifier",
    "PaymentTimeModel",
    "PaymentWeekModel",
]
