"""The same pipeline on Dask: a ledger read from partitioned Parquet, repartitioned by customer, so that the
point-in-time features of each partition come from the same pandas code as on one machine.

A customer's history lives in one partition after :meth:`DaskLedger.by_customer` (every table is shuffled on a
hash of ``customer_id`` into the same number of partitions; instalments follow their plan's customer), so
:func:`invoice_features` runs :func:`payrisk.features.invoice_features` on each partition's small ledger: one
implementation, not two, and results equal to the single-machine ones.

Requires the ``dask`` extra (``pip install payrisk[dask]``). Works on a ``distributed.LocalCluster`` and on any
``distributed.Client`` the user has connected.

Examples
--------
>>> import tempfile, payrisk as pr
>>> from payrisk import distributed as prd
>>> ledger = pr.datasets.make_ledger(n_customers=60, seed=0)
>>> folder = ledger.write(tempfile.mkdtemp() + "/ledger")
>>> dl = prd.read_ledger(folder).by_customer(npartitions=3)
>>> X = prd.invoice_features(dl, "issue_date").compute()
>>> len(X) == len(ledger.invoices)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from payrisk.errors import ParameterError

__all__ = ["DaskLedger", "invoice_features", "read_ledger"]

_TABLES = ("customers", "invoices", "credit_notes", "payments", "plans", "installments", "contacts")


def _dd() -> Any:
    try:
        import dask.dataframe as dd
    except ImportError as exc:  # pragma: no cover - the extra is installed in the dev environment
        raise ImportError("payrisk.distributed needs Dask: pip install 'payrisk[dask]'") from exc
    return dd


@dataclass(frozen=True)
class DaskLedger:
    """A ledger's tables as Dask DataFrames (``by_customer`` tells whether they are partitioned by customer).

    Examples
    --------
    >>> import tempfile, payrisk as pr
    >>> folder = pr.datasets.make_ledger(n_customers=30, seed=0).write(tempfile.mkdtemp() + "/l")
    >>> read_ledger(folder).by_customer(2).tables["invoices"].npartitions
    2
    """

    tables: dict[str, Any]
    partitioned_by_customer: bool = False

    def by_customer(self, npartitions: int | None = None) -> DaskLedger:
        """Shuffle every table on a hash of ``customer_id`` into ``npartitions`` (default: the invoices' count),
        so that each customer's whole history is in one partition, the same partition in every table."""
        n = npartitions or self.tables["invoices"].npartitions
        if n < 1:
            raise ParameterError(f"npartitions must be at least 1; got {n!r}.")
        tables = dict(self.tables)
        owner = tables["plans"][["plan_id", "customer_id"]]
        tables["installments"] = tables["installments"].merge(owner, on="plan_id", how="left")
        out = {name: t.shuffle("customer_id", npartitions=n) for name, t in tables.items()}
        return DaskLedger(out, partitioned_by_customer=True)


def read_ledger(path: str | Path, storage_options: dict[str, Any] | None = None) -> DaskLedger:
    """Read a ledger folder (:meth:`payrisk.Ledger.write`, or one Parquet dataset per table, partitioned as you
    like: ``invoices.parquet`` may be a file or a folder of files) from a local path or any fsspec URL.

    The tables must be validated already (as :meth:`Ledger.write` writes them): this reads, it does not check.
    """
    dd = _dd()
    root = str(path).rstrip("/")
    tables = {}
    for name in _TABLES:
        tables[name] = dd.read_parquet(f"{root}/{name}.parquet", storage_options=storage_options)
    return DaskLedger(tables)


def _partition_features(*parts: pd.DataFrame, cutoffs: Any, features: list[str] | None) -> pd.DataFrame:
    """Features of one partition: its tables as a pandas ledger, through the single-machine code."""
    from payrisk import features as feat
    from payrisk.ledger import Ledger

    tables = dict(zip(_TABLES, parts, strict=True))
    tables["installments"] = tables["installments"].drop(columns="customer_id")
    ledger = Ledger({name: t.reset_index(drop=True) for name, t in tables.items()})
    if ledger.invoices.empty:
        return _empty_features(features)
    return feat.invoice_features(ledger, cutoffs, features)


def _empty_features(features: list[str] | None) -> pd.DataFrame:
    from payrisk.features import feature_names

    names = features or feature_names("invoice") + feature_names("customer")
    cols = {"customer_id": pd.Series(dtype="str"), "as_of": pd.Series(dtype="datetime64[ns]")}
    frame = pd.DataFrame(cols | {n: pd.Series(dtype="float64") for n in names})
    return frame.set_axis(pd.Index([], dtype="str", name="invoice_id"))


def invoice_features(ledger: DaskLedger, cutoffs: str = "issue_date", features: list[str] | None = None) -> Any:
    """Point-in-time invoice features of a Dask ledger, per customer partition, with the pandas code of
    :func:`payrisk.features.invoice_features` (``cutoffs`` ``"issue_date"`` or ``"due_date"``).

    Returns a Dask DataFrame indexed by ``invoice_id`` with the single-machine columns; ``.compute()`` (sorted
    by ``invoice_id``) equals the single-machine result.
    """
    if cutoffs not in ("issue_date", "due_date"):
        raise ParameterError(f"distributed.invoice_features takes cutoffs 'issue_date' or 'due_date'; got {cutoffs!r}.")
    if not ledger.partitioned_by_customer:
        ledger = ledger.by_customer()
    dd = _dd()
    parts = [ledger.tables[name] for name in _TABLES]
    return dd.map_partitions(
        _partition_features,
        *parts,
        cutoffs=cutoffs,
        features=features,
        meta=_empty_features(features),
        align_dataframes=False,
    )
