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

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from payrisk._compat import ledger_first
from payrisk._training import (
    FRESH,
    MIN_PLANS,
    MIN_ROWS,
    NOT_FEATURES,
    PAY_DAY_FEATURES,
    check_enough_outcomes,
    forecast_rows,
    late_rows,
)
from payrisk.errors import AsOfWarning, ParameterError

if TYPE_CHECKING:  # pragma: no cover
    from payrisk.engine import RiskEngine

__all__ = [
    "DaskExecutor",
    "DaskLedger",
    "cash_inflow",
    "fit_adherence",
    "fit_engine",
    "fit_late_payment",
    "fit_payment_time",
    "fit_payment_week",
    "fit_segmenter",
    "invoice_features",
    "read_ledger",
    "score",
    "training_rows",
]

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

    def write(self, path: str | Path, storage_options: dict[str, Any] | None = None) -> str:
        """Store the ledger partitioned by customer (shuffling first if needed): one Parquet file per partition
        and table, plus ``partitioning.json``. :func:`read_ledger` reads it back partitioned by customer, so a
        large ledger is shuffled once and every later run streams its partitions from storage.

        Examples
        --------
        >>> import tempfile, payrisk as pr
        >>> folder = pr.datasets.make_ledger(n_customers=30, seed=0).write(tempfile.mkdtemp() + "/l")
        >>> stored = read_ledger(folder).by_customer(3).write(tempfile.mkdtemp() + "/by_customer")
        >>> again = read_ledger(stored)
        >>> again.partitioned_by_customer, again.tables["payments"].npartitions
        (True, 3)
        """
        import fsspec

        ledger = self if self.partitioned_by_customer else self.by_customer()
        root = str(path).rstrip("/")
        n = ledger.tables["invoices"].npartitions
        for name, table in ledger.tables.items():
            table.to_parquet(
                f"{root}/{name}.parquet", write_index=False, storage_options=storage_options, name_function=_part_name
            )
        fs, fs_path = fsspec.core.url_to_fs(f"{root}/{_PARTITIONING}", **(storage_options or {}))
        with fs.open(fs_path, "w") as f:
            json.dump({"by": "customer_id", "npartitions": n, "tables": list(ledger.tables)}, f)
        return root


_PARTITIONING = "partitioning.json"


def _part_name(i: int) -> str:
    return f"part-{i:06d}.parquet"


def _read_partitioned(root: str, doc: dict[str, Any], storage_options: dict[str, Any] | None) -> DaskLedger:
    """One Dask partition per stored file, in partition order (no fusing of small files: the tables' partitions
    must stay aligned)."""
    import pyarrow.parquet as pq

    dd = _dd()
    n = int(doc["npartitions"])
    tables = {}
    for name in _TABLES:
        paths = [f"{root}/{name}.parquet/{_part_name(i)}" for i in range(n)]
        meta = pq.read_schema(paths[0], filesystem=_filesystem(paths[0], storage_options)).empty_table().to_pandas()
        tables[name] = dd.from_map(pd.read_parquet, paths, meta=meta, storage_options=storage_options)
    return DaskLedger(tables, partitioned_by_customer=True)


def _filesystem(path: str, storage_options: dict[str, Any] | None) -> Any:
    import fsspec

    return fsspec.core.url_to_fs(path, **(storage_options or {}))[0]


def read_ledger(path: str | Path, storage_options: dict[str, Any] | None = None) -> DaskLedger:
    """Read a ledger folder (:meth:`payrisk.Ledger.write`, or one Parquet dataset per table, partitioned as you
    like: ``invoices.parquet`` may be a file or a folder of files) from a local path or any fsspec URL.

    The tables must be validated already (as :meth:`Ledger.write` writes them): this reads, it does not check.
    A folder written by :meth:`DaskLedger.write` comes back partitioned by customer, one partition per file.
    """
    dd = _dd()
    root = str(path).rstrip("/")
    fs = _filesystem(root, storage_options)
    if fs.exists(f"{root}/{_PARTITIONING}"):
        with fs.open(f"{root}/{_PARTITIONING}") as f:
            return _read_partitioned(root, json.load(f), storage_options)
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
    """Landmark rows of one partition, with the single-machine code: features plus targets."""
    from payrisk._training import training_rows as rows_of

    return rows_of(_partition_ledger(parts).as_of(day), day, history_days, exclude)


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

    kwargs: dict[str, Any] = {"day": to_date(as_of), "history_days": history_days, "exclude": tuple(exclude_features)}
    return _per_partition(ledger, _partition_training_rows, **kwargs)


def _time_cuts(times: Any, fractions: tuple[float, float]) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]:
    """The last training day, the last early-stopping day and the last day: rows in time order, split by row
    counts (one pass over the rows)."""
    counts = times.value_counts().compute().sort_index()
    share = counts.cumsum() / counts.sum()
    train_end = share.index[np.searchsorted(share.to_numpy(), 1 - sum(fractions))]
    valid_end = share.index[np.searchsorted(share.to_numpy(), 1 - fractions[1])]
    return train_end, valid_end, pd.Timestamp(counts.index[-1])


def _train_on_cluster(
    client: Any, model: Any, rows: Any, labels: Any, leave_out: tuple[str, ...] = ()
) -> tuple[Any, list[str]]:
    """Grow ``model``'s trees on the cluster with ``xgboost.dask`` and set its fitted state.

    The rows are split in time order as on one machine (train, early stopping, calibration, latest last; at
    ``as_of`` boundaries). ``labels(frame)`` gives the DaskDMatrix label keywords; the features are the numeric
    columns less the targets and ``leave_out``. Returns the calibration rows (for the model's own calibration step)
    and the feature names.
    """
    import xgboost as xgb
    import xgboost.dask  # the dask module of xgboost is imported on request

    model.validate_params()
    if getattr(model, "select_size", False):
        raise ParameterError(
            f"{type(model).__name__}(select_size=True) is not available on a Dask cluster: the trees are grown once, "
            "at the size given (max_depth, min_child_weight, reg_lambda). Choose the size on a sample in one process."
        )
    meta = rows._meta.select_dtypes(include=["number", "bool"])  # the feature columns, as TimeSplitModel.fit
    names = [c for c in meta.columns if c not in NOT_FEATURES and c not in leave_out]
    # a model that does not calibrate (the weekly one, an uncalibrated classifier) keeps no slice for it
    fractions = model.holdout_fractions()
    train_end, valid_end, last = _time_cuts(rows["as_of"], fractions)
    train = rows.loc[rows["as_of"] <= train_end]
    valid = rows.loc[(rows["as_of"] > train_end) & (rows["as_of"] <= valid_end)]

    def matrix(frame: Any) -> Any:
        return xgb.dask.DaskDMatrix(client, frame[names].astype("float32"), **labels(frame))

    params = {k: v for k, v in model.booster_params(names).items() if k != "nthread"}  # each worker's own threads
    evals = [(matrix(valid), "valid")] if model.valid_fraction > 0 else []
    out = xgb.dask.train(
        client,
        params,
        matrix(train),
        num_boost_round=model.n_estimators,
        evals=evals,
        early_stopping_rounds=model.early_stopping_rounds if evals else None,
        verbose_eval=False,
    )
    medians = train[names].quantile(0.5).compute().to_numpy()  # approximate on Dask: wording only
    model.set_booster(out["booster"], names, medians, last)
    return rows.loc[rows["as_of"] > valid_end], names


def _raw_predictions(client: Any, model: Any, frame: Any, names: list[str]) -> np.ndarray:
    import xgboost as xgb

    raw = xgb.dask.predict(
        client, model.booster_, frame[names].astype("float32"), iteration_range=(0, model.best_iteration_ + 1)
    )
    return np.asarray(raw.compute())


def _fit_classifier(client: Any, model: Any, rows: Any, label: str) -> Any:
    """Trees on the cluster, then the probability calibration on the calibration rows' raw predictions."""
    cal, names = _train_on_cluster(client, model, rows, lambda f: {"label": f[label].astype("float64")})
    model.classes_ = np.array([0, 1])
    raw, y = np.zeros(0), np.zeros(0)
    if model.calibration != "none":
        raw = _raw_predictions(client, model, cal, names)
        y = cal[label].compute().to_numpy(dtype=np.float64)
    return model.fit_calibration(raw, y)


def fit_late_payment(client: Any, rows: Any, **params: Any) -> Any:
    """Fit :class:`payrisk.models.LatePaymentClassifier` on Dask training rows with ``xgboost.dask``.

    The rows are the late-payment rows of :func:`training_rows` (not yet due at the landmark, outcome known).
    They are split in time order as on one machine (train, early stopping, calibration, latest last; at landmark
    boundaries), the trees are grown on the cluster, and the calibration is fitted on the calibration rows'
    predictions. The result is an ordinary fitted ``LatePaymentClassifier``: it predicts, explains and saves
    like one fitted on a single machine.
    """
    import dask

    from payrisk.models import LatePaymentClassifier

    model = LatePaymentClassifier(**params)
    rows = late_rows(rows)
    check_enough_outcomes(*(int(v) for v in dask.compute(rows.shape[0], rows["late"].sum())))
    return _fit_classifier(client, model, rows, "late")


def fit_payment_time(client: Any, rows: Any, **params: Any) -> Any:
    """Fit :class:`payrisk.models.PaymentTimeModel` (survival AFT) on the Dask rows of :func:`training_rows`.

    Every row is used: paid ones as events, open ones right-censored at the landmark's ``as_of`` (``duration``
    days seen so far). The trees grow on the cluster; the error distribution, its scale and the interval
    factor are fitted on the latest rows, as on one machine.
    """
    from payrisk.models import PaymentTimeModel

    model = PaymentTimeModel(**params)
    rows = forecast_rows(rows)

    def bounds(frame: Any) -> dict[str, Any]:
        lower = frame["duration"].astype("float64") + 1.0  # log(days + 1): payment on the issue day is day 0
        return {"label_lower_bound": lower, "label_upper_bound": lower.where(frame["event"], np.inf)}

    cal, names = _train_on_cluster(client, model, rows, bounds, leave_out=PAY_DAY_FEATURES)
    raw = _raw_predictions(client, model, cal, names)
    days, event = (cal[c].compute().to_numpy() for c in ("duration", "event"))
    return model.fit_calibration(raw, np.column_stack([days.astype(np.float64), event.astype(bool)]))


def _week_rows(frame: pd.DataFrame, day: pd.Timestamp, weeks: int) -> pd.DataFrame:
    """One partition's known rows with their ``week`` label and ``cash_weight`` (:func:`payrisk.labels.cash_weeks`):
    a row whose cash came partly before settlement is there twice."""
    from payrisk.labels import cash_weeks, payment_week

    follow_up = (day - frame["as_of"]).dt.days.to_numpy()
    week = payment_week(frame["duration"], frame["event"], follow_up, weeks)
    row, label, weight = cash_weeks(week, frame["part_days"], frame["part_share"], weeks)
    return frame.iloc[row].assign(week=label, cash_weight=weight)


def _fit_week(client: Any, rows: Any, day: pd.Timestamp, weeks: int, min_rows: int, params: dict) -> tuple[Any, int]:
    from payrisk._training import usable_weeks
    from payrisk.models import PaymentWeekModel

    model = PaymentWeekModel(weeks=weeks, **params)
    model.validate_params()
    if model.form != "softprob":
        raise ParameterError(
            f"PaymentWeekModel(form={model.form!r}) is fitted in one process only; on a Dask cluster the weekly "
            "model is form='softprob' (the default)."
        )
    rows = forecast_rows(rows)
    meta = rows._meta.assign(week=np.int64(0), cash_weight=np.float64(0))
    rows = rows.map_partitions(_week_rows, day, weeks, meta=meta)
    # the rows known: a row split by a partial payment counts once (its weights sum to 1)
    known = rows[["week", "cash_weight"]].compute()
    n_known = round(float(known["cash_weight"].sum()))
    if not usable_weeks(known["week"], min_rows) or n_known < min_rows:
        return None, n_known
    _train_on_cluster(client, model, rows, lambda f: {"label": f["week"].astype("float64"), "weight": f["cash_weight"]})
    model.classes_ = np.arange(weeks + 1)
    return model, n_known


def fit_payment_week(client: Any, rows: Any, as_of: Any, weeks: int = 13, min_rows: int = 200, **params: Any) -> Any:
    """Fit :class:`payrisk.models.PaymentWeekModel` on the Dask rows of :func:`training_rows`: the landmarks
    followed for all ``weeks`` by ``as_of`` (see :func:`payrisk.labels.payment_week`). None with fewer than
    ``min_rows`` such rows or a single week label among them: the engine's rule."""
    from payrisk.ledger import to_date

    return _fit_week(client, rows, to_date(as_of), weeks, min_rows, params)[0]


def _partition_plan_rows(*parts: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    """Plan features at creation and whether the plan was kept, for the mature plans of one partition."""
    from payrisk import features, labels

    snap = _partition_ledger(parts).as_of(day)
    kept = labels.plan_kept(snap, mature_only=True)
    return features.plan_features(snap, "created_date").loc[kept.index].assign(kept=kept.to_numpy())


def _fit_adherence(client: Any, ledger: DaskLedger, day: pd.Timestamp, min_plans: int, params: dict) -> tuple[Any, int]:
    from payrisk._training import usable_plans
    from payrisk.models import InstallmentAdherenceClassifier

    rows = _per_partition(ledger, _partition_plan_rows, day=day).persist()
    kept = rows["kept"].compute()
    if not usable_plans(kept, min_plans):
        any_plan = len(kept) or int((ledger.tables["plans"]["created_date"] <= day).sum().compute())
        return None, len(kept) if any_plan else -1
    return _fit_classifier(client, InstallmentAdherenceClassifier(**params), rows, "kept"), len(kept)


def fit_adherence(client: Any, ledger: DaskLedger, as_of: Any, min_plans: int = 100, **params: Any) -> Any:
    """Fit :class:`payrisk.models.InstallmentAdherenceClassifier` on the mature plans of a Dask ledger (features
    at plan creation, per customer partition; trees on the cluster). None with fewer than ``min_plans`` plans or
    when every plan was kept, or none was: the engine's rule."""
    from payrisk.ledger import to_date

    return _fit_adherence(client, ledger, to_date(as_of), min_plans, params)[0]


def _partition_problem_rows(
    *parts: pd.DataFrame, day: pd.Timestamp, history_days: int, exclude: tuple[str, ...]
) -> pd.DataFrame:
    """The early warning's customer rows of one partition, with the single-machine code."""
    from payrisk._training import problem_rows

    return problem_rows(_partition_ledger(parts).as_of(day), day, history_days, exclude)


def _fit_problem(
    client: Any, ledger: DaskLedger, day: pd.Timestamp, history_days: int, exclude: tuple[str, ...], device: str
) -> tuple[Any, int]:
    from payrisk._training import usable_problems
    from payrisk.models import CustomerProblemClassifier

    kwargs: dict[str, Any] = {"day": day, "history_days": history_days, "exclude": exclude}
    rows = _per_partition(ledger, _partition_problem_rows, **kwargs).persist()
    problem = rows["problem"].compute()
    if not usable_problems(problem):
        return None, int(problem.sum())
    model = CustomerProblemClassifier(device=device)
    return _fit_classifier(client, model, rows, "problem"), int(problem.sum())


def _partition_history(*parts: pd.DataFrame, day: pd.Timestamp, window: int, never_after: int) -> pd.DataFrame:
    from payrisk.segment import payment_history

    return payment_history(_partition_ledger(parts), day, window, never_after)


def _partition_intervals(*parts: pd.DataFrame, day: pd.Timestamp, window: int) -> pd.DataFrame:
    from payrisk.segment import pay_day_intervals

    return pay_day_intervals(_partition_ledger(parts), day, window)


def _fit_segmenter(ledger: DaskLedger, day: pd.Timestamp, params: dict) -> Any:
    from payrisk.segment import PayerSegmenter

    seg = PayerSegmenter(**params)
    seg.validate_params()
    kwargs: dict[str, Any] = {"day": day, "window": seg.window_days, "never_after": seg.never_after_days}
    stats = _per_partition(ledger, _partition_history, **kwargs).compute().sort_index()
    intervals = None
    if seg.pay_days:  # a customer's pay-day rhythm is its own: each partition finds its customers'
        intervals = _per_partition(ledger, _partition_intervals, day=day, window=seg.window_days).compute()
    return seg.fit_history(stats, intervals)


def fit_segmenter(ledger: DaskLedger, as_of: Any, **params: Any) -> Any:
    """Fit :class:`payrisk.segment.PayerSegmenter` on a Dask ledger: each partition sums its customers' payment
    history and lists their late invoices paid on their own pay day, and the mixture is fitted on the client from
    those per-customer sums (one small row per customer) and intervals (five numbers per such invoice). None
    when too few customers have history (every customer is then "new")."""
    from payrisk.ledger import to_date

    try:
        return _fit_segmenter(ledger, to_date(as_of), params)
    except ParameterError:
        return None


class DaskExecutor:
    """The engine's fitting steps over a Dask ledger's customer partitions: the landmark rows with the
    single-machine code per partition, the trees grown on the cluster with ``xgboost.dask``, the segments from
    per-customer sums. Pass it to :meth:`payrisk.RiskEngine.fit` (or use :func:`fit_engine`).

    Examples
    --------
    >>> import tempfile, payrisk as pr
    >>> from distributed import Client, LocalCluster
    >>> folder = pr.datasets.make_ledger(n_customers=150, seed=0).write(tempfile.mkdtemp() + "/l")
    >>> with LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster, Client(cluster) as client:
    ...     engine = pr.RiskEngine(n_estimators=30, forecast_weeks=0).fit(
    ...         read_ledger(folder).by_customer(2), "2024-03-31", executor=DaskExecutor(client))
    >>> engine.late_model_.n_features_in_ > 40
    True
    """

    def __init__(self, client: Any) -> None:
        self.client = client

    def training_rows(self, ledger: DaskLedger, day: pd.Timestamp, history_days: int, exclude: tuple[str, ...]) -> Any:
        return training_rows(ledger, day, history_days, exclude).persist()

    def count(self, rows: Any) -> int:
        return int((~rows[FRESH]).sum().compute())

    def fit_late(self, rows: Any, size: dict[str, int]) -> Any:
        return fit_late_payment(self.client, rows, **size)

    def fit_time(self, rows: Any, size: dict[str, int]) -> Any:
        return fit_payment_time(self.client, rows, **size)

    def fit_week(self, rows: Any, day: pd.Timestamp, weeks: int, size: dict[str, int]) -> tuple[Any, int]:
        return _fit_week(self.client, rows, day, weeks, MIN_ROWS, size)

    def fit_adherence(self, ledger: DaskLedger, day: pd.Timestamp, device: str = "cpu") -> tuple[Any, int]:
        return _fit_adherence(self.client, ledger, day, MIN_PLANS, {"device": device})

    def fit_problem(
        self, ledger: DaskLedger, day: pd.Timestamp, history_days: int, exclude: tuple[str, ...], device: str = "cpu"
    ) -> tuple[Any, int]:
        return _fit_problem(self.client, ledger, day, history_days, exclude, device)

    def fit_segmenter(self, ledger: DaskLedger, day: pd.Timestamp) -> Any:
        return _fit_segmenter(ledger, day, {})


def fit_engine(client: Any, ledger: DaskLedger, as_of: Any, progress: Any = None, **params: Any) -> Any:
    """A :class:`payrisk.RiskEngine` fitted on a Dask ledger: the same landmark rows, the three models and the
    weekly payment model grown on the cluster with ``xgboost.dask``, the segments fitted from per-customer sums.

    ``params`` are RiskEngine's; ``progress(step, done, total)`` is called before each step when given. The
    engine scores a pandas ledger as usual, and a Dask one with :func:`score` and :func:`cash_inflow`.

    Examples
    --------
    >>> import tempfile, payrisk as pr
    >>> from distributed import Client, LocalCluster
    >>> folder = pr.datasets.make_ledger(n_customers=150, seed=0).write(tempfile.mkdtemp() + "/l")
    >>> with LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster, Client(cluster) as client:
    ...     engine = fit_engine(client, read_ledger(folder).by_customer(2), "2024-03-31", n_estimators=30)
    >>> engine.as_of_.date().isoformat(), engine.late_model_.n_features_in_ > 40
    ('2024-03-31', True)
    """
    from payrisk.engine import RiskEngine

    return RiskEngine(**params).fit(ledger, as_of, progress, executor=DaskExecutor(client))


_RANK_KEYS = ["expected_loss", "days_overdue", "open_amount"]


def _partition_score(*parts: pd.DataFrame, engine: Any, day: pd.Timestamp) -> pd.DataFrame:
    with warnings.catch_warnings():  # the day is checked once by score() on the client, not per partition
        warnings.simplefilter("ignore", AsOfWarning)
        return engine.score(_partition_ledger(parts), day)


def _attach(part: pd.DataFrame, ranked: pd.DataFrame) -> pd.DataFrame:
    return part.assign(**{c: ranked[c].to_numpy() for c in ranked.columns})


@ledger_first(("engine", "ledger"))
def score(ledger: DaskLedger, engine: RiskEngine, as_of: Any) -> Any:
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
    >>> got = score(dl, engine, "2024-04-30").compute().sort_values("priority_rank")
    >>> want = engine.score(ledger, "2024-04-30")
    >>> bool((got.index == want.index).all() and (got["expected_loss"] == want["expected_loss"]).all())
    True
    """
    from dask import delayed

    from payrisk._priority import rank_and_shade
    from payrisk.ledger import to_date

    day = to_date(as_of, "as_of")
    engine._check_day(day)  # said once, here, not per partition on the workers
    local = _per_partition(ledger, _partition_score, engine=engine, day=day)
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


def _partition_book(
    *parts: pd.DataFrame, engine: Any, day: pd.Timestamp, horizon: int, freq: str, segments: bool
) -> Any:
    """The open items of one partition as the additive sums a forecast needs (:class:`payrisk.forecast.OpenBook`)."""
    from payrisk.forecast import OpenBook

    ledger = _partition_ledger(parts)
    if ledger.invoices.empty:
        return OpenBook.empty()
    return OpenBook.of(ledger, engine, day, horizon, freq, segments)


@ledger_first(("engine", "ledger"))
def cash_inflow(
    ledger: DaskLedger,
    engine: RiskEngine,
    as_of: Any,
    horizon_weeks: int = 13,
    freq: str = "W",
    levels: tuple[float, float] = (0.1, 0.9),
    period_correlation: float = 0.1,
    threshold: float | dict[str, float] | None = None,
    segments: bool = True,
) -> Any:
    """The cash-inflow forecast of :func:`payrisk.forecast.cash_inflow` from a fitted engine and a Dask ledger.

    Each customer partition turns its open items into sums per payment-curve bin, customer and segment (one
    task per partition); the client adds them up and computes the totals and their intervals. Only those sums
    travel: the result equals the single-machine forecast up to the order of floating-point additions.

    Examples
    --------
    >>> import tempfile, numpy as np, payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=150, seed=0)
    >>> engine = pr.RiskEngine(n_estimators=30, forecast_weeks=4).fit(ledger, "2024-03-31")
    >>> dl = read_ledger(ledger.write(tempfile.mkdtemp() + "/l")).by_customer(2)
    >>> got = cash_inflow(dl, engine, "2024-03-31", horizon_weeks=6).periods
    >>> want = pr.forecast.cash_inflow(ledger, engine, "2024-03-31", horizon_weeks=6).periods
    >>> bool(np.allclose(got["expected"], want["expected"]) and np.allclose(got["high"], want["high"]))
    True
    """
    import dask
    from dask import delayed

    from payrisk.forecast import OpenBook
    from payrisk.ledger import to_date

    OpenBook.check_interval(levels, period_correlation)  # before the partitions are read
    day = to_date(as_of, "as_of")
    if not ledger.partitioned_by_customer:
        ledger = ledger.by_customer()
    kwargs = {"engine": engine, "day": day, "horizon": horizon_weeks, "freq": freq, "segments": segments}
    parts = zip(*(ledger.tables[name].to_delayed() for name in _TABLES), strict=True)
    books = dask.compute(*[delayed(_partition_book)(*p, **kwargs) for p in parts])
    return OpenBook.combine(list(books)).forecast(day, horizon_weeks, freq, levels, period_correlation, threshold)
