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

import numpy as np
import pandas as pd

from payrisk.errors import ParameterError

__all__ = ["DaskLedger", "fit_late_payment", "invoice_features", "read_ledger", "score", "training_rows"]

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

    ledger = _partition_ledger(parts)
    if ledger.invoices.empty:
        return _empty_features(features)
    return feat.invoice_features(ledger, cutoffs, features)


def _empty_features(features: list[str] | None) -> pd.DataFrame:
    from payrisk.features import feature_names

    names = features or feature_names("invoice") + feature_names("customer")
    cols = {"customer_id": pd.Series(dtype="str"), "as_of": pd.Series(dtype="datetime64[ns]")}
    frame = pd.DataFrame(cols | {n: pd.Series(dtype="float64") for n in names})
    return frame.set_axis(pd.Index([], dtype="str", name="invoice_id"))


def _per_partition(ledger: DaskLedger, func: Any, meta: pd.DataFrame | None = None, **kwargs: Any) -> Any:
    """``func(*tables_of_one_partition, **kwargs)`` over the aligned customer partitions of every table. The
    output schema is ``meta``, or that of ``func`` run on the first partition."""
    if not ledger.partitioned_by_customer:
        ledger = ledger.by_customer()
    parts = [ledger.tables[name] for name in _TABLES]
    if meta is None:
        meta = func(*[p.get_partition(0).compute() for p in parts], **kwargs).iloc[:0]
    return _dd().map_partitions(func, *parts, **kwargs, meta=meta, align_dataframes=False)


def invoice_features(ledger: DaskLedger, cutoffs: str = "issue_date", features: list[str] | None = None) -> Any:
    """Point-in-time invoice features of a Dask ledger, per customer partition, with the pandas code of
    :func:`payrisk.features.invoice_features` (``cutoffs`` ``"issue_date"`` or ``"due_date"``).

    Returns a Dask DataFrame indexed by ``invoice_id`` with the single-machine columns; ``.compute()`` (sorted
    by ``invoice_id``) equals the single-machine result.
    """
    if cutoffs not in ("issue_date", "due_date"):
        raise ParameterError(f"distributed.invoice_features takes cutoffs 'issue_date' or 'due_date'; got {cutoffs!r}.")
    return _per_partition(ledger, _partition_features, _empty_features(features), cutoffs=cutoffs, features=features)


def _partition_ledger(parts: tuple[pd.DataFrame, ...]) -> Any:
    from payrisk.ledger import Ledger

    tables = dict(zip(_TABLES, parts, strict=True))
    tables["installments"] = tables["installments"].drop(columns="customer_id")
    return Ledger({name: t.reset_index(drop=True) for name, t in tables.items()})


def _partition_training_rows(
    *parts: pd.DataFrame, day: pd.Timestamp, history_days: int, exclude: tuple[str, ...]
) -> pd.DataFrame:
    """Landmark rows of one partition, as :meth:`RiskEngine.fit` builds them: features plus targets."""
    from payrisk import features as feat
    from payrisk.engine import RiskEngine

    snap = _partition_ledger(parts).as_of(day)
    rows, target = RiskEngine(history_days=history_days)._landmark_rows(snap, day)
    X = feat.invoice_features(snap, rows[["invoice_id", "as_of"]]).drop(columns=list(exclude))
    return X.assign(**{c: target[c].to_numpy() for c in target.columns})


def training_rows(
    ledger: DaskLedger, as_of: Any, history_days: int = 730, exclude_features: tuple[str, ...] = ()
) -> Any:
    """The engine's landmark training rows (point-in-time features and the targets ``duration``, ``event``,
    ``late``, ``late_known``), built per customer partition with the single-machine code.

    Examples
    --------
    >>> import tempfile, payrisk as pr
    >>> folder = pr.datasets.make_ledger(n_customers=60, seed=0).write(tempfile.mkdtemp() + "/l")
    >>> rows = training_rows(read_ledger(folder).by_customer(2), "2024-06-30").compute()
    >>> {"late", "duration", "event"} <= set(rows.columns)
    True
    """
    from payrisk.ledger import to_date

    kwargs = {"day": to_date(as_of), "history_days": history_days, "exclude": tuple(exclude_features)}
    return _per_partition(ledger, _partition_training_rows, **kwargs)


def _time_cuts(times: Any, fractions: tuple[float, float]) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The last training day and the last early-stopping day: rows in time order, split by row counts."""
    counts = times.value_counts().compute().sort_index()
    share = counts.cumsum() / counts.sum()
    train_end = share.index[np.searchsorted(share.to_numpy(), 1 - sum(fractions))]
    valid_end = share.index[np.searchsorted(share.to_numpy(), 1 - fractions[1])]
    return train_end, valid_end


def fit_late_payment(client: Any, rows: Any, **params: Any) -> Any:
    """Fit :class:`payrisk.models.LatePaymentClassifier` on Dask training rows with ``xgboost.dask``.

    The rows are the late-payment rows of :func:`training_rows` (not yet due at the landmark, outcome known).
    They are split in time order as on one machine (train, early stopping, calibration, latest last; at landmark
    boundaries), the trees are grown on the cluster, and the calibration is fitted on the calibration rows'
    predictions. The result is an ordinary fitted ``LatePaymentClassifier``: it predicts, explains and saves
    like one fitted on a single machine.
    """
    import xgboost as xgb
    import xgboost.dask  # the dask module of xgboost is imported on request

    from payrisk.models import LatePaymentClassifier

    model = LatePaymentClassifier(**params)
    model._check_params()
    rows = rows.loc[(rows["days_to_due"] >= 0) & rows["late_known"]]
    names = [c for c in rows.columns if c not in ("customer_id", "as_of", "duration", "event", "late", "late_known")]
    train_end, valid_end = _time_cuts(rows["as_of"], (model.valid_fraction, model.calibration_fraction))
    part = {
        "train": rows.loc[rows["as_of"] <= train_end],
        "valid": rows.loc[(rows["as_of"] > train_end) & (rows["as_of"] <= valid_end)],
        "calibration": rows.loc[rows["as_of"] > valid_end],
    }

    def matrix(frame: Any) -> Any:
        return xgb.dask.DaskDMatrix(client, frame[names].astype("float32"), frame["late"].astype("float64"))

    out = xgb.dask.train(
        client,
        {**model._tree_params(names), "objective": "binary:logistic", "eval_metric": "logloss"},
        matrix(part["train"]),
        num_boost_round=model.n_estimators,
        evals=[(matrix(part["valid"]), "valid")],
        early_stopping_rounds=model.early_stopping_rounds,
        verbose_eval=False,
    )
    booster = out["booster"]
    model.best_iteration_ = int(getattr(booster, "best_iteration", model.n_estimators - 1))
    medians = part["train"][names].quantile(0.5).compute().to_numpy()  # approximate on Dask: wording only
    model._set_booster(booster, names, medians, pd.Timestamp(rows["as_of"].max().compute()))
    model.classes_ = np.array([0, 1])
    cal = part["calibration"]
    raw = xgb.dask.predict(
        client, booster, cal[names].astype("float32"), iteration_range=(0, model.best_iteration_ + 1)
    )
    y_cal = cal["late"].compute().to_numpy(dtype=np.float64)
    model.calibration_method_, model.calibrator_ = model._fit_calibration(np.asarray(raw.compute()), y_cal)
    return model


_RANK_KEYS = ["expected_loss", "days_overdue", "open_amount"]


def _partition_score(*parts: pd.DataFrame, engine: Any, day: pd.Timestamp) -> pd.DataFrame:
    return engine.score(_partition_ledger(parts), day)


def _attach(part: pd.DataFrame, ranked: pd.DataFrame) -> pd.DataFrame:
    return part.assign(**{c: ranked[c].to_numpy() for c in ranked.columns})


def score(engine: Any, ledger: DaskLedger, as_of: Any) -> Any:
    """The worklist of a fitted :class:`payrisk.RiskEngine` over a Dask ledger.

    Each customer partition is scored with :meth:`RiskEngine.score`; the rows are then ranked across all
    partitions (the priority rank, red shade and band of the single machine; only the three ranking keys of each
    row travel to the client). Reason codes are written for the first ``engine.reasons_top_n`` rows of each
    partition. Returns a Dask DataFrame indexed by ``invoice_id``, in no particular order: sort by
    ``priority_rank`` (or use ``nsmallest``) to read it.

    Examples
    --------
    >>> import tempfile, payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=150, seed=0)
    >>> engine = pr.RiskEngine(n_estimators=30, reasons_top_n=0, forecast_weeks=0).fit(ledger, "2024-03-31")
    >>> dl = read_ledger(ledger.write(tempfile.mkdtemp() + "/l")).by_customer(2)
    >>> got = score(engine, dl, "2024-04-30").compute().sort_values("priority_rank")
    >>> want = engine.score(ledger, "2024-04-30")
    >>> bool((got.index == want.index).all() and (got["expected_loss"] == want["expected_loss"]).all())
    True
    """
    from dask import delayed

    from payrisk._priority import rank_and_shade
    from payrisk.ledger import to_date

    local = _per_partition(ledger, _partition_score, engine=engine, day=to_date(as_of))
    meta = local._meta
    local = local.persist()  # scored once; only the three ranking keys travel to the client
    keys = (
        local[_RANK_KEYS]
        .map_partitions(
            lambda df, partition_info=None: df.assign(part=partition_info["number"]),
            meta=meta[_RANK_KEYS].assign(part=pd.Series(dtype="int64")),
        )
        .compute()
    )
    k = [keys[c].to_numpy(dtype=np.float64) for c in _RANK_KEYS]
    ranked = pd.DataFrame(rank_and_shade(*k), index=keys.index)  # the single machine's order, over every row
    part = keys["part"].to_numpy()
    pieces = [delayed(_attach)(chunk, ranked.loc[part == k]) for k, chunk in enumerate(local.to_delayed())]
    return _dd().from_delayed(pieces, meta=meta, verify_meta=False)
