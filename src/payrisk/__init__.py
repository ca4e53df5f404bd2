"""payrisk: payment-risk modelling for credit management.

Examples
--------
>>> import payrisk as pr
>>> ledger = pr.datasets.make_ledger(n_customers=50, seed=0)
>>> isinstance(ledger, pr.Ledger)
True
"""

from payrisk import (
    acceptance,
    accounts,
    backtest,
    datasets,
    dunning,
    errors,
    evaluation,
    explain,
    features,
    feedback,
    forecast,
    kpi,
    labels,
    limits,
    models,
    monitor,
    plots,
    report,
    schema,
    segment,
)
from payrisk._version import __version__
from payrisk.engine import RiskEngine
from payrisk.ledger import Ledger
from payrisk.schema import ColumnMapping, ValidationReport

__all__ = [
    "ColumnMapping",
    "Ledger",
    "RiskEngine",
    "ValidationReport",
    "__version__",
    "acceptance",
    "accounts",
    "backtest",
    "datasets",
    "dunning",
    "errors",
    "evaluation",
    "explain",
    "features",
    "feedback",
    "forecast",
    "kpi",
    "labels",
    "limits",
    "models",
    "monitor",
    "plots",
    "report",
    "schema",
    "segment",
]
