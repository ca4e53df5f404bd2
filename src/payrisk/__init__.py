"""payrisk: payment-risk modelling for credit management.

Examples
--------
>>> import payrisk as pr
>>> ledger = pr.datasets.make_ledger(n_customers=50, seed=0)
>>> isinstance(ledger, pr.Ledger)
True
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("payrisk")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without installation
    __version__ = "0.0.0+unknown"

from payrisk import (
    datasets,
    dunning,
    errors,
    evaluation,
    explain,
    features,
    forecast,
    kpi,
    labels,
    models,
    monitor,
    plots,
    report,
    schema,
    segment,
)
from payrisk.engine import RiskEngine
from payrisk.ledger import Ledger
from payrisk.schema import ColumnMapping, ValidationReport

__all__ = [
    "ColumnMapping",
    "Ledger",
    "RiskEngine",
    "ValidationReport",
    "__version__",
    "datasets",
    "dunning",
    "errors",
    "evaluation",
    "explain",
    "features",
    "forecast",
    "kpi",
    "labels",
    "models",
    "monitor",
    "plots",
    "report",
    "schema",
    "segment",
]
