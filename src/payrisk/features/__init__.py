"""Point-in-time features of invoices, customers and payment plans, and the feature registry.

Every feature of a row uses only what the ledger knew at the end of the row's cutoff day, and a row's own
invoice never contributes to its customer's history (see ``docs/features.md``).

Examples
--------
>>> import payrisk as pr
>>> ledger = pr.datasets.make_ledger(n_customers=30, seed=0)
>>> X = pr.features.invoice_features(ledger, "issue_date")
>>> list(X.columns[:4])
['customer_id', 'as_of', 'amount', 'terms_days']
>>> pr.features.registry.loc["share_late", "entity"]
'customer'
"""

from payrisk.features._builders import customer_features, invoice_features, plan_features
from payrisk.features._profile import PROFILE_CATEGORIES, PROFILE_NUMBERS, customer_profile
from payrisk.features._registry import (
    FEATURES,
    MISSED_GRACE_DAYS,
    Feature,
    feature_names,
    registry_frame,
    registry_markdown,
)

#: every feature: entity, definition, unit, risk direction and reason-code phrases (a DataFrame by name)
registry = registry_frame()

__all__ = [
    "FEATURES",
    "MISSED_GRACE_DAYS",
    "PROFILE_CATEGORIES",
    "PROFILE_NUMBERS",
    "Feature",
    "customer_features",
    "customer_profile",
    "feature_names",
    "invoice_features",
    "plan_features",
    "registry",
    "registry_markdown",
]
