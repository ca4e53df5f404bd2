"""Synthetic payment worlds with ground truth, and loaders for public real datasets.

Examples
--------
>>> import payrisk as pr
>>> ledger = pr.datasets.make_ledger(n_customers=200, seed=0)
>>> ledger.truth.customers["archetype"].value_counts().index[0]
'reliable'
"""

from payrisk.datasets._params import ARCHETYPES, WorldParams
from payrisk.datasets._real import (
    DATASETS,
    load_berka,
    load_dataset,
    load_home_credit,
    load_ibm_ar,
    load_loan_collections,
    load_taiwan_credit,
)
from payrisk.datasets._synthetic import make_ledger
from payrisk.datasets._truth import Truth

__all__ = [
    "ARCHETYPES",
    "DATASETS",
    "Truth",
    "WorldParams",
    "load_berka",
    "load_dataset",
    "load_home_credit",
    "load_ibm_ar",
    "load_loan_collections",
    "load_taiwan_credit",
    "make_ledger",
]
