"""Models: late payment, payment time (censored survival), instalment adherence. Saved without pickle.

Examples
--------
>>> from payrisk.models import LatePaymentClassifier
>>> LatePaymentClassifier().get_params()["calibration"]
'auto'
"""

from payrisk.models._late_payment import InstallmentAdherenceClassifier, LatePaymentClassifier
from payrisk.models._payment_time import PaymentTimeModel

__all__ = ["InstallmentAdherenceClassifier", "LatePaymentClassifier", "PaymentTimeModel"]
