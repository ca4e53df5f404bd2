"""Models: late payment (more to come: payment time, instalment adherence). Saved without pickle.

Examples
--------
>>> from payrisk.models import LatePaymentClassifier
>>> LatePaymentClassifier().get_params()["calibration"]
'auto'
"""

from payrisk.models._late_payment import LatePaymentClassifier

__all__ = ["LatePaymentClassifier"]
