"""The engine's training rows and fitting steps, run by an executor.

:class:`RiskEngine.fit <payrisk.RiskEngine.fit>` is the one orchestrator: it asks an executor for the landmark
training rows, then for each model, and applies the rules that decide whether a model can be fitted (enough rows,
both outcomes present). :class:`InProcess` runs each step on a pandas ledger in this process;
:class:`payrisk.distributed.DaskExecutor` runs the same steps over a Dask ledger's customer partitions with
``xgboost.dask``. Everything either executor computes per invoice is defined here once (landmarks, rows, targets
from :mod:`payrisk.labels`).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pandas as pd

from payrisk import features, labels
from payrisk._calendar import day_numbers
from payrisk._frame import DayIntervals
from payrisk.errors import ParameterError

__all__ = [
    "FRESH",
    "MIN_OUTCOMES",
    "MIN_PLANS",
    "MIN_PROBLEMS",
    "MIN_ROWS",
    "NOT_FEATURES",
    "STEPS",
    "TARGETS",
    "WARNING_DAYS",
    "Executor",
    "InProcess",
    "check_enough_outcomes",
    "check_enough_rows",
    "customers_in_business",
    "forecast_rows",
    "landmark_rows",
    "late_rows",
    "problem_rows",
    "training_rows",
    "usable_plans",
    "usable_problems",
    "usable_weeks",
]

#: the engine's fitting steps, as progress reports them
STEPS = (
    "landmark features",
    "late-payment model",
    "payment-time model",
    "adherence model",
    "early-warning model",
    "segments",
)
#: the target columns of the training rows (``week``, ``kept`` and ``problem`` where the weekly, adherence and
#: early-warning models add them)
TARGETS = ("duration", "event", "late", "late_known", "week", "kept", "problem", "part_days", "part_share")
#: the column that marks a training row of an invoice's first days (on its issue day, or at its young age),
#: beside the landmark rows
FRESH = "fresh"
#: the columns of the training rows that are not features (the targets, the fresh-row mark and the weekly model's
#: cash weights, :func:`payrisk.labels.cash_weeks`)
NOT_FEATURES = (*TARGETS, FRESH, "cash_weight")
#: where the customer's payment weekday and pay-run day fall in the weeks ahead: read by the weekly model (with
#: them the forecast's WAPE fell in 5 of the 6 currency and horizon buckets of the default world's backtest, by up
#: to 25%); the payment-time model leaves them out: there they made its early stopping run 593 rounds instead of 91
#: (3.5x the fit) for the same accuracy out of time (C-index 0.7636 vs 0.7638, integrated Brier 0.0868 vs 0.0865)
PAY_DAY_FEATURES = ("days_to_pay_weekday", "days_to_pay_day")
MIN_ROWS = 200  #: landmark rows needed to fit the engine, and known payment weeks to fit the weekly model
MIN_OUTCOMES = 50  #: rows with a known late-payment outcome needed to fit the late-payment model
MIN_PLANS = 100  #: finished plans needed to fit the plan-adherence model
MIN_PROBLEMS = 50  #: customer-months that became a problem (and as many that did not) to fit the early warning
WARNING_DAYS = 90  #: the early warning's horizon: a problem within this many days
RECENT_DAYS = 365  #: a customer "in business" has an open invoice or one issued in this many days
LANDMARK_STEP = 5  #: days between landmarks: every weekday and every day of the month comes round
LANDMARK_EVERY = 6  #: each open invoice is a row at one landmark in six (every 30 days, at its own phase)
YOUNG_DAYS = 14  #: each invoice is also a row at an age of 1 to this many days (its own), while open and not due
_YOUNG_KEY = "payrisk-young-ag"  #: the hash key of that age (16 characters), apart from the landmark phase's


def landmarks(day: pd.Timestamp, history_days: int) -> list[pd.Timestamp]:
    """Every fifth day (counted from 1970-01-01: the same dates for every ``as_of``) in the ``history_days``
    before ``day`` (exclusive)."""
    days = pd.date_range(day - pd.Timedelta(days=history_days), day - pd.Timedelta(days=1), freq="D")
    return list(days[(days - pd.Timestamp("1970-01-01")).days % LANDMARK_STEP == 0])


def _turn(phase: Any, days: Any) -> Any:
    """True where day number ``days`` is a landmark (:func:`landmarks`) and an invoice of ``phase`` has its turn
    there: one landmark in :data:`LANDMARK_EVERY`, numbered from 1970-01-01 (the same for every ``as_of``)."""
    return (days % LANDMARK_STEP == 0) & ((phase + days // LANDMARK_STEP) % LANDMARK_EVERY == 0)


def _open_at(inv: pd.DataFrame, day: pd.Timestamp, phase: np.ndarray) -> pd.DataFrame:
    """Invoices issued by ``day``, not fully paid by its end (as far as the snapshot knows), whose turn it is.

    An invoice's turn comes at one landmark in ``LANDMARK_EVERY``, at a phase fixed by a hash of its id, so
    the rows cover every weekday and day of the month (a forecast or worklist is made on any day, and pay runs
    and payment weekdays make the days until payment depend on it) at the row count of monthly landmarks.
    """
    settled = inv["paid_date"].notna() & (inv["paid_date"] <= day)
    turn = _turn(phase, int(day_numbers(day)))
    return inv.loc[((inv["issue_date"] <= day) & ~settled).to_numpy() & turn]


def landmark_rows(snap: Any, day: pd.Timestamp, history_days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Open invoices at the landmarks of the ``history_days`` before ``day`` (an ``as_of`` column), and every
    invoice issued in those days in its first days (``fresh`` True), with their targets followed to the end of
    ``day`` (:func:`payrisk.labels.landmark_targets`).

    The landmark rows sample the open book as a worklist sees it on any day, so an invoice is there in proportion
    to how long it stays open: one paid within ten days is a row with a chance of about one in three, and an
    invoice's landmark row falls at any age of its first 30 days alike. The fresh rows give every invoice a row at
    the end of its issue day and one at an age of 1 to :data:`YOUNG_DAYS` days (its own, by a hash of its id) when
    it is still open and not yet due then: a quick payer's invoices are there as often as a slow payer's, and the
    late-payment model sees the ages at which a weekly worklist first meets an invoice as densely as the issue
    day (with the landmark rows alone, it put the invoices of a few days into the mix of older open ones). An
    invoice whose landmark falls on one of those days is kept once, as that landmark row. The payment-time and
    weekly models are fitted on the landmark rows alone: they forecast the open book, whose mix the landmarks keep.
    """
    inv = snap.invoices
    phase = pd.util.hash_array(inv["invoice_id"].to_numpy(dtype=object)) % np.uint64(LANDMARK_EVERY)
    phase = phase.astype(np.int64)
    parts = [_open_at(inv, mark, phase).assign(as_of=mark) for mark in landmarks(day, history_days)]
    rows = pd.concat(parts, ignore_index=True) if parts else inv.iloc[:0].assign(as_of=pd.NaT)
    rows = rows.assign(**{FRESH: False})
    first = day - pd.Timedelta(days=history_days)
    issued = ((inv["issue_date"] >= first) & (inv["issue_date"] < day)).to_numpy()
    age = pd.util.hash_array(inv["invoice_id"].to_numpy(dtype=object), hash_key=_YOUNG_KEY) % np.uint64(YOUNG_DAYS)
    young = inv["issue_date"] + pd.to_timedelta(1 + age.astype(np.int64), unit="D")
    fresh = []
    for when, keep in ((inv["issue_date"], issued), (young, issued & (young < day) & (young <= inv["due_date"]))):
        still_open = ~(inv["paid_date"] <= when).to_numpy()  # unpaid at the end of that day
        keep = keep & still_open & ~_turn(phase, day_numbers(when))  # not its landmark row's day already
        fresh.append(inv.loc[keep].assign(as_of=when[keep], **{FRESH: True}))
    rows = pd.concat([rows, *fresh], ignore_index=True).sort_values("as_of", kind="stable")
    rows = rows.reset_index(drop=True)
    return rows, labels.landmark_targets(rows, day)


def training_rows(snap: Any, day: pd.Timestamp, history_days: int, exclude: tuple[str, ...] = ()) -> pd.DataFrame:
    """The landmark rows' point-in-time invoice features (less ``exclude``) with their target columns, and the
    cash each row's invoice brought before its settlement (:func:`payrisk.labels.cash_before_settlement`)."""
    rows, target = landmark_rows(snap, day, history_days)
    target = target.join(labels.cash_before_settlement(rows, snap.payments))
    X = features.invoice_features(snap, rows[["invoice_id", "as_of"]]).drop(columns=list(exclude))
    return X.assign(**{c: target[c].to_numpy() for c in target.columns}, **{FRESH: rows[FRESH].to_numpy()})


def customers_in_business(snap: Any, cutoffs: pd.DataFrame) -> np.ndarray:
    """Which (``customer_id``, ``as_of``) rows are customers in business at their cutoff: an invoice open at the
    end of that day, or one issued in the :data:`RECENT_DAYS` before it (the customers an early warning is for)."""
    inv = snap.invoices
    ids = pd.Index(cutoffs["customer_id"].astype(str).unique())
    code = ids.get_indexer(inv["customer_id"].astype(str))
    mine = code >= 0
    issue = day_numbers(inv["issue_date"])[mine]
    settled = day_numbers(inv["paid_date"], missing=np.iinfo(np.int32).max)[mine]
    business = DayIntervals(code[mine], issue, np.maximum(settled, issue + RECENT_DAYS))
    day = day_numbers(cutoffs["as_of"])
    return business.covering(ids.get_indexer(cutoffs["customer_id"].astype(str)), day) > 0


def problem_rows(snap: Any, day: pd.Timestamp, history_days: int, exclude: tuple[str, ...] = ()) -> pd.DataFrame:
    """The early warning's training rows: the customers in business at monthly cutoffs of the ``history_days``
    before ``day`` whose :data:`WARNING_DAYS` horizon has passed by ``day``, who were not a problem at the cutoff;
    their point-in-time customer features (less ``exclude``) and ``problem`` (:func:`payrisk.labels.customer_problem`).
    """
    marks = [m for m in landmarks(day, history_days) if m + pd.Timedelta(days=WARNING_DAYS) <= day]
    marks = [m for m in marks if _turn(0, int(day_numbers(m)))]  # every 30 days
    ids = snap.customers["customer_id"].to_numpy(dtype=object)
    when = np.repeat(np.array(marks, dtype="datetime64[ns]"), len(ids))
    cut = pd.DataFrame({"customer_id": np.tile(ids, len(marks)), "as_of": when})
    cut = cut.loc[customers_in_business(snap, cut)].reset_index(drop=True)
    target = labels.customer_problem(snap, cut, as_of=day, horizon_days=WARNING_DAYS)
    keep = (~target["already"] & target["known"]).to_numpy()
    cut = cut.loc[keep].reset_index(drop=True)
    C = features.customer_features(snap, cut).drop(columns=[c for c in exclude if c != "as_of"], errors="ignore")
    return C.reset_index().assign(problem=target["problem"].to_numpy()[keep])


def late_rows(rows: Any) -> Any:
    """The rows the late-payment model learns from: not yet due at their cutoff, outcome known (pandas or Dask)."""
    return _where(rows, (rows["days_to_due"] >= 0) & rows["late_known"])


def forecast_rows(rows: Any) -> Any:
    """The rows the payment-time and weekly models learn from: the landmark rows, the open book as the forecast
    meets it (pandas or Dask)."""
    return _where(rows, ~rows[FRESH])


def _where(rows: Any, mask: Any) -> Any:
    """Rows where ``mask`` holds: by position on pandas (the rows repeat invoice ids), by partition on Dask."""
    return rows.loc[mask.to_numpy() if isinstance(rows, pd.DataFrame) else mask]


def check_enough_rows(n_rows: int, history_days: int, day: pd.Timestamp, ledger: Any = None) -> None:
    """Refuse to fit the engine on fewer than :data:`MIN_ROWS` landmark rows, saying what to change (a ledger of
    payment plans without invoices is told where plans are modelled)."""
    if n_rows >= MIN_ROWS:
        return
    if ledger is not None and not len(ledger.invoices):
        raise ParameterError(
            f"The ledger holds no invoices ({len(ledger.plans)} payment plans): RiskEngine learns from invoices. "
            "For plans alone, fit payrisk.models.InstallmentAdherenceClassifier on "
            "payrisk.features.plan_features(ledger, 'created_date') and payrisk.labels.plan_kept(ledger)."
        )
    raise ParameterError(
        f"Only {n_rows} invoice rows were open at the landmarks of the {history_days} days before "
        f"{day.date()}: too few to fit. Choose a later as_of or a longer history_days."
    )


def check_enough_outcomes(n_rows: int, n_late: int) -> None:
    """Refuse to fit the late-payment model on fewer than :data:`MIN_OUTCOMES` rows whose outcome is known (due
    by the fit date), or on rows all late or all on time, saying what to change: a short history can have its
    landmark rows and no invoice due yet; a ledger that records no settlement has every due invoice late."""
    if n_rows < MIN_OUTCOMES:
        raise ParameterError(
            f"Only {n_rows} invoice rows in the history have a known late-payment outcome (not yet due at their "
            "landmark, due by the fit date): too few to fit. Choose an as_of at least one payment term after the "
            "ledger's first invoices and not after its last ones, or a longer history_days."
        )
    if n_late == n_rows:
        raise ParameterError(
            f"All {n_rows} invoice rows in the history with a known outcome were paid late or are still unpaid "
            "after their due date: none was paid on time, so there is nothing to tell late from on time. Most "
            "often the ledger records no settlement: invoices.paid_date is empty and no payment names its invoice "
            "(payments.invoice_id). Map the column that holds the paid date or the payments' invoice number "
            "(docs/validation.md), and check with `payrisk validate` that the dates were read."
        )
    if n_late == 0:
        raise ParameterError(
            f"None of the {n_rows} invoice rows in the history with a known outcome was paid after its due date: "
            "there is nothing to tell late from on time. Check that invoices.due_date holds the due date (not the "
            "issue date plus a guess) and that paid dates were read, with `payrisk validate`."
        )


def usable_weeks(week: pd.Series | np.ndarray, min_rows: int = MIN_ROWS) -> bool:
    """The weekly payment model is fitted on at least ``min_rows`` known payment weeks, of two weeks or more."""
    return len(week) >= min_rows and len(np.unique(np.asarray(week))) >= 2


def usable_plans(kept: pd.Series | np.ndarray, min_plans: int = MIN_PLANS) -> bool:
    """The adherence model is fitted on at least ``min_plans`` finished plans, kept and broken both."""
    return len(kept) >= min_plans and 0 < float(np.mean(kept)) < 1


def usable_problems(problem: pd.Series | np.ndarray, min_problems: int = MIN_PROBLEMS) -> bool:
    """The early warning is fitted on at least ``min_problems`` customer-months that became a problem and as many
    that did not."""
    n = int(np.sum(problem))
    return n >= min_problems and len(problem) - n >= min_problems


class Executor(Protocol):
    """Where the engine's fitting steps run. Each ``fit_*`` returns a fitted model, or None (with the count the
    engine's note reports) where the rules above leave the model out."""

    def training_rows(self, ledger: Any, day: pd.Timestamp, history_days: int, exclude: tuple[str, ...]) -> Any: ...

    def count(self, rows: Any) -> int:
        """The landmark rows (the issue rows are not counted: :func:`check_enough_rows` is the landmark rule)."""
        ...

    def fit_late(self, rows: Any, size: dict[str, int]) -> Any: ...

    def fit_time(self, rows: Any, size: dict[str, int]) -> Any: ...

    def fit_week(self, rows: Any, day: pd.Timestamp, weeks: int, size: dict[str, int]) -> tuple[Any, int]: ...

    def fit_adherence(self, ledger: Any, day: pd.Timestamp, device: str = "cpu") -> tuple[Any, int]: ...

    def fit_problem(
        self, ledger: Any, day: pd.Timestamp, history_days: int, exclude: tuple[str, ...], device: str = "cpu"
    ) -> tuple[Any, int]: ...

    def fit_segmenter(self, ledger: Any, day: pd.Timestamp) -> Any: ...


class InProcess:
    """The engine's steps on a pandas :class:`~payrisk.Ledger`, in this process (the default executor).

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=100, seed=0)
    >>> rows = InProcess().training_rows(ledger, pd.Timestamp("2024-06-30"), 365, ())
    >>> {"late", "late_known", "duration", "event"} <= set(rows.columns), len(rows) > 200
    (True, True)
    """

    def __init__(self) -> None:
        self._ledger: Any = None
        self._snaps: dict[pd.Timestamp, Any] = {}

    def _snap(self, ledger: Any, day: pd.Timestamp) -> Any:
        """The snapshot at ``day``, made once per ledger (the ledger is held, so a cached one is never stale)."""
        if ledger is not self._ledger:
            self._ledger, self._snaps = ledger, {}
        if day not in self._snaps:
            self._snaps[day] = ledger.as_of(day)
        return self._snaps[day]

    def training_rows(
        self, ledger: Any, day: pd.Timestamp, history_days: int, exclude: tuple[str, ...]
    ) -> pd.DataFrame:
        return training_rows(self._snap(ledger, day), day, history_days, exclude)

    def count(self, rows: pd.DataFrame) -> int:
        return int((~rows[FRESH]).sum())

    @staticmethod
    def _features(rows: pd.DataFrame) -> pd.DataFrame:
        return rows.drop(columns=[c for c in NOT_FEATURES if c in rows.columns])

    def fit_late(self, rows: pd.DataFrame, size: dict[str, int]) -> Any:
        from payrisk.models import LatePaymentClassifier

        rows = late_rows(rows)
        check_enough_outcomes(len(rows), int(rows["late"].sum()))
        X = self._features(rows)
        return LatePaymentClassifier(**size).fit(X, rows["late"].to_numpy(), time=X["as_of"])

    def fit_time(self, rows: pd.DataFrame, size: dict[str, int]) -> Any:
        from payrisk.models import PaymentTimeModel

        rows = forecast_rows(rows)
        X = self._features(rows).drop(columns=list(PAY_DAY_FEATURES), errors="ignore")
        surv = labels.SurvivalTarget.from_arrays(rows["duration"], rows["event"])
        return PaymentTimeModel(**size).fit(X, surv, time=X["as_of"])

    def fit_week(self, rows: pd.DataFrame, day: pd.Timestamp, weeks: int, size: dict[str, int]) -> tuple[Any, int]:
        from payrisk.models import PaymentWeekModel

        rows = forecast_rows(rows)
        follow_up = (day - rows["as_of"]).dt.days.to_numpy()
        week = labels.payment_week(rows["duration"], rows["event"], follow_up, weeks)
        known = week >= 0
        if not usable_weeks(week[known]):
            return None, int(known.sum())
        row, label, weight = labels.cash_weeks(week, rows["part_days"], rows["part_share"], weeks)
        X = self._features(rows.iloc[row])
        model = PaymentWeekModel(weeks=weeks, **size).fit(X, label, time=X["as_of"], sample_weight=weight)
        return model, int(known.sum())

    def fit_adherence(self, ledger: Any, day: pd.Timestamp, device: str = "cpu") -> tuple[Any, int]:
        from payrisk.models import InstallmentAdherenceClassifier

        snap = self._snap(ledger, day)
        if not len(snap.plans):
            return None, -1  # no plans at all: nothing to say
        kept = labels.plan_kept(snap, mature_only=True)
        if not usable_plans(kept):
            return None, len(kept)
        P = features.plan_features(snap, "created_date").loc[kept.index]
        return InstallmentAdherenceClassifier(device=device).fit(P, kept), len(kept)

    def fit_problem(
        self, ledger: Any, day: pd.Timestamp, history_days: int, exclude: tuple[str, ...], device: str = "cpu"
    ) -> tuple[Any, int]:
        from payrisk.models import CustomerProblemClassifier

        rows = problem_rows(self._snap(ledger, day), day, history_days, exclude)
        n_problems = int(rows["problem"].sum())
        if not usable_problems(rows["problem"]):
            return None, n_problems
        X = rows.drop(columns=["customer_id", "problem"])
        model = CustomerProblemClassifier(device=device)
        return model.fit(X, rows["problem"].to_numpy(), time=X["as_of"]), n_problems

    def fit_segmenter(self, ledger: Any, day: pd.Timestamp) -> Any:
        from payrisk.segment import PayerSegmenter

        return PayerSegmenter().fit(self._snap(ledger, day), day)
