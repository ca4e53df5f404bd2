"""RiskEngine: the whole chain from a ledger to a scored, ordered and explained worklist, in one saveable object.

Examples
--------
>>> import payrisk as pr
>>> ledger = pr.datasets.make_ledger(n_customers=300, seed=0)
>>> engine = RiskEngine(n_estimators=60).fit(ledger, as_of="2024-06-30")
>>> worklist = engine.score(ledger, as_of="2024-07-31")
>>> bool((worklist["priority_rank"].diff().dropna() > 0).all())
True
>>> {"p_late", "pay_p50", "expected_loss", "segment", "band", "reasons"} <= set(worklist.columns)
True
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from payrisk._device import check_device
from payrisk._frame import positions
from payrisk._manifest import check_manifest, write_manifest
from payrisk._priority import prioritise
from payrisk._training import (
    MIN_PLANS,
    MIN_PROBLEMS,
    MIN_ROWS,
    STEPS,
    WARNING_DAYS,
    Executor,
    InProcess,
    check_enough_rows,
    customers_in_business,
)
from payrisk.errors import AsOfWarning, ModelFileError, NotFittedError, ParameterError, PayriskWarning
from payrisk.limits import limit_utilisation
from payrisk.schema import WORKLIST

if TYPE_CHECKING:  # pragma: no cover
    from payrisk.distributed import DaskLedger
    from payrisk.ledger import Ledger

__all__ = ["RiskEngine"]

Progress = Callable[[str, int, int], None]
_FORMAT = "payrisk-engine"
#: a payment-time model leans on them, but "due in 29 days" is no reason for a collector to act
_MECHANICS = ("days_to_due", "days_open", "terms_days", "issue_month")
_FORMAT_VERSION = 1


def _noop(step: str, done: int, total: int) -> None:
    return None


def _note(message: str) -> None:
    """A fallback the user should know of, as a :class:`~payrisk.errors.PayriskWarning` (the command prints it)."""
    warnings.warn(message, PayriskWarning, stacklevel=3)


#: an ``as_of`` more than this many days after the ledger's last recorded date is said (an export is often days old)
STALE_DAYS = 31


def _check_data_end(ledger: Any, day: pd.Timestamp) -> None:
    """Say so when ``day`` lies well after the last date the ledger records: nothing after it is in the data, so
    every invoice open then looks unpaid (and later) all that time."""
    end = getattr(ledger, "end_date", None)  # a Dask ledger does not compute it
    if isinstance(end, pd.Timestamp) and (day - end).days > STALE_DAYS:
        warnings.warn(
            f"as_of {day.date()} is {(day - end).days} days after the last date the ledger records ({end.date()}): "
            f"nothing after {end.date()} is in the data, so the invoices open then count as unpaid all that time. "
            f"Use an as_of on or before {end.date()}, or a newer export.",
            AsOfWarning,
            stacklevel=3,
        )


def _invoice_fact(rows: pd.DataFrame, day: pd.Timestamp) -> np.ndarray:
    """ "the invoice of 67 EUR was due on 2024-07-01" / "... is due on ...": facts a customer can check."""
    amount = [
        f"{a:,.0f}".replace(",", "\u202f") + f" {c}" for a, c in zip(rows["open_amount"], rows["currency"], strict=True)
    ]
    due = rows["due_date"].dt.strftime("%Y-%m-%d").to_numpy()
    verb = np.where(rows["due_date"].to_numpy() < np.datetime64(day), "was due on", "is due on")
    return np.asarray([f"{a} open on this invoice, which {v} {d}" for a, v, d in zip(amount, verb, due, strict=True)])


def _joined(reasons: pd.DataFrame) -> np.ndarray:
    """The three reasons of each row of :func:`payrisk.explain.reason_codes` in one text ("a; b; c")."""
    joined = reasons[["reason_1", "reason_2", "reason_3"]].agg("; ".join, axis=1).str.strip("; ")
    return joined.str.replace(r"(; )+", "; ", regex=True).to_numpy()


def _open_rows(snap: Any, day: pd.Timestamp, X: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The open invoices (open amount > 0) among the feature rows of ``invoice_features(snap, day)`` and their
    invoice lines indexed by id. The rows come in ledger order, so they align by position (no id lookup)."""
    invoices = snap.invoices
    unsettled = invoices.loc[(invoices["issue_date"] <= day) & ~(invoices["paid_date"] <= day)]
    if not pd.Index(unsettled["invoice_id"]).equals(X.index):  # never expected; stay correct regardless
        unsettled = invoices.set_index("invoice_id").loc[X.index].reset_index()
    is_open = unsettled["open_amount"].to_numpy() > 0
    return X.loc[is_open], unsettled.loc[is_open].set_index("invoice_id")


class RiskEngine(BaseEstimator):
    """Late-payment, payment-time and adherence models plus segments, fitted as of a date; scores open items.

    The payment-time and late-payment models are trained on *landmark* rows: the invoices open at landmark days
    of the ``history_days`` before ``as_of`` (every fifth day; each invoice at one in six of them, so every 30
    days, at a phase set by its id), with its features at that day and what happened after it
    (days to payment, censored at ``as_of``; paid after its due date, for invoices not yet due, mature only).
    That is exactly the situation of the rows :meth:`score` sees: open items at a date, some new, some long
    overdue. The late-payment model also learns from every invoice of the history on its issue day: an invoice
    is a landmark row in proportion to how long it stays open, so without them a quick payer's new invoices
    would be rare among its rows.

    Parameters
    ----------
    history_days : int, default 730
        Landmarks (every fifth day) in this many days before ``as_of``.
    horizon_days : int, default 90
        Expected loss counts what is not paid within this horizon.
    loss_given_nonpayment : float or dict, default 1.0
        Share of an unpaid amount lost; a dict maps segment -> share (missing segments: 1.0).
    annual_rate : float, default 0.08
        Cost of money for the waiting term of the expected loss.
    reasons_top_n : int or None, default 1000
        Reason codes for the first N rows of the worklist (None: every row). Reasons cost TreeSHAP time.
    reason_method : {"exact", "approx"}
    n_estimators, max_depth : int
        Size of the boosted models (the reasons' cost grows with trees x leaves x depth^2).
    exclude_features : tuple of str
        Features the models must not use (e.g. ``("disputed",)`` where a dispute flag has no date).
    forecast_weeks : int, default 13
        Weeks of the direct weekly payment distribution (:class:`~payrisk.models.PaymentWeekModel`) that the
        cash forecast reads; trained on the landmarks followed for all of them. 0 leaves it out (the forecast
        then reads the payment-time model alone).
    select_size : bool, default False
        The late-payment, payment-time and weekly models choose their tree size by time-ordered validation inside
        the training rows (``select_size`` of the models; the choice is in each model's ``size_selection_`` and
        saved metadata). Worth it on small books (a few thousand to tens of thousands of invoices); not on a Dask
        cluster.
    alert_level : float, default 0.3
        The early warning alerts on a customer who is not a problem yet when its P(becoming a problem within 90
        days) is at least this (:meth:`early_warning`; a problem is an invoice 30 days overdue, a missed plan
        instalment or a hand-over).
    device : {"cpu", "cuda"}, default "cpu"
        Where XGBoost grows every model's trees and computes the reasons (``"cuda"``: an NVIDIA GPU, refused with
        a clear error where XGBoost finds none). The features, segments and calibration stay on the CPU.

    Attributes
    ----------
    late_model_, time_model_ : fitted models
    week_model_ : PaymentWeekModel or None (None when ``forecast_weeks=0`` or too few landmarks are that old)
    adherence_model_ : InstallmentAdherenceClassifier or None (None without enough finished plans)
    problem_model_ : CustomerProblemClassifier or None
        The early warning (None without enough customer-months that became a problem, and that did not).
    segmenter_ : PayerSegmenter or None (None without enough customers with history)
    as_of_ : pandas.Timestamp
    n_landmark_rows_ : int
        The landmark rows (the issue-day rows of the late-payment model beside them are not counted).

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=150, seed=0)
    >>> engine = RiskEngine(n_estimators=30, reasons_top_n=10).fit(ledger, "2024-03-31")
    >>> str(engine.as_of_.date()), engine.get_params()["n_estimators"]
    ('2024-03-31', 30)
    >>> worklist = engine.score(ledger, "2024-04-30")
    >>> int(worklist["priority_rank"].iloc[0]), bool(worklist["p_late"].between(0, 1).all())
    (1, True)
    >>> bool((worklist["customer_reasons"].iloc[:10] != "").all() and (worklist["reasons"].iloc[10:] == "").all())
    True
    """

    def __init__(
        self,
        *,
        history_days: int = 730,
        horizon_days: int = 90,
        loss_given_nonpayment: float | dict[str, float] = 1.0,
        annual_rate: float = 0.08,
        reasons_top_n: int | None = 1000,
        reason_method: str = "exact",
        n_estimators: int = 400,
        max_depth: int = 4,
        exclude_features: tuple[str, ...] = (),
        forecast_weeks: int = 13,
        select_size: bool = False,
        alert_level: float = 0.3,
        device: str = "cpu",
    ) -> None:
        self.history_days = history_days
        self.horizon_days = horizon_days
        self.loss_given_nonpayment = loss_given_nonpayment
        self.annual_rate = annual_rate
        self.reasons_top_n = reasons_top_n
        self.reason_method = reason_method
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.exclude_features = exclude_features
        self.forecast_weeks = forecast_weeks
        self.select_size = select_size
        self.alert_level = alert_level
        self.device = device

    def _validate_params(self) -> None:
        """Each parameter in its range, named in the error (scikit-learn's convention: checked at fit)."""
        import numbers

        def whole(name: str, low: int) -> None:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < low:
                raise ParameterError(
                    f"The '{name}' parameter of RiskEngine must be a whole number >= {low}. Got {v!r}."
                )

        for name, low in (("history_days", 30), ("horizon_days", 1), ("n_estimators", 1), ("max_depth", 1),
                          ("forecast_weeks", 0)):  # fmt: skip
            whole(name, low)
        if self.reasons_top_n is not None:
            whole("reasons_top_n", 0)
        if self.reason_method not in ("exact", "approx"):
            raise ParameterError(
                f"The 'reason_method' parameter must be 'exact' or 'approx'. Got {self.reason_method!r}."
            )
        excl = self.exclude_features
        if excl is None or isinstance(excl, str) or not all(isinstance(c, str) for c in excl):
            raise ParameterError(
                f"The 'exclude_features' parameter must be a list of feature names, e.g. ['issue_month']. Got {excl!r}."
            )
        if not isinstance(self.select_size, bool | np.bool_):
            raise ParameterError(f"The 'select_size' parameter must be True or False. Got {self.select_size!r}.")
        level = self.alert_level
        if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < level < 1:
            raise ParameterError(
                "The 'alert_level' parameter must be a probability strictly between 0 and 1 (30% is 0.3). "
                f"Got {level!r}."
            )
        check_device(self.device, "RiskEngine")
        rate = self.annual_rate
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate <= 1:
            raise ParameterError(f"The 'annual_rate' parameter must be a number in [0, 1] (8% is 0.08). Got {rate!r}.")
        lgd = self.loss_given_nonpayment
        values = list(lgd.values()) if isinstance(lgd, dict) else [lgd]
        if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) and 0 <= v <= 1 for v in values):
            raise ParameterError(
                f"The 'loss_given_nonpayment' parameter must be a share in [0, 1], or one per segment. Got {lgd!r}."
            )

    # -- fit ----------------------------------------------------------------------------------------------------
    def fit(
        self,
        ledger: Ledger | DaskLedger,
        as_of: Any,
        progress: Progress | None = None,
        executor: Executor | None = None,
    ) -> RiskEngine:
        """Fit every model on what is known at the end of ``as_of``.

        ``progress(step, done, total)`` is called before each step when given. ``executor`` runs the steps:
        in this process on a pandas ledger (the default), or :class:`payrisk.distributed.DaskExecutor` over a
        Dask ledger's partitions; the rules and the notes are the same.
        """
        from payrisk.ledger import to_date

        self._validate_params()
        run = executor if executor is not None else InProcess()
        report = progress or _noop
        day = to_date(as_of, "as_of")
        _check_data_end(ledger, day)
        report(STEPS[0], 0, len(STEPS))
        rows = run.training_rows(ledger, day, self.history_days, tuple(self.exclude_features))
        n_rows = run.count(rows)
        check_enough_rows(n_rows, self.history_days, day, ledger)
        size: dict[str, Any] = {"n_estimators": self.n_estimators, "max_depth": self.max_depth, "device": self.device}
        if self.select_size:
            size["select_size"] = True
        report(STEPS[1], 1, len(STEPS))
        self.late_model_ = run.fit_late(rows, size)
        report(STEPS[2], 2, len(STEPS))
        self.time_model_ = run.fit_time(rows, size)
        self.week_model_ = None
        if self.forecast_weeks:
            self.week_model_, n_known = run.fit_week(rows, day, self.forecast_weeks, size)
            if self.week_model_ is None:
                _note(f"the payment-week model was left out: {n_known} landmark rows followed for "
                      f"{self.forecast_weeks} weeks ({MIN_ROWS} needed); the forecast uses the payment-time "
                      "model")  # fmt: skip
        report(STEPS[3], 3, len(STEPS))
        self.adherence_model_, n_plans = run.fit_adherence(ledger, day, self.device)
        if self.adherence_model_ is None and n_plans >= 0:
            _note(f"the plan-adherence model was left out: {n_plans} finished plans by {day.date()} ({MIN_PLANS} "
                  "needed, kept and broken both); payment plans are offered without a P(kept) gate")  # fmt: skip
        report(STEPS[4], 4, len(STEPS))
        self.problem_model_, n_problems = run.fit_problem(
            ledger, day, self.history_days, tuple(self.exclude_features), self.device
        )
        if self.problem_model_ is None:
            _note(f"the early warning was left out: {n_problems} customer-months became a problem within "
                  f"{WARNING_DAYS} days in the history ({MIN_PROBLEMS} needed, and as many that did not); no "
                  "customer is alerted")  # fmt: skip
        report(STEPS[5], 5, len(STEPS))
        try:
            self.segmenter_ = run.fit_segmenter(ledger, day)
        except ParameterError as exc:
            self.segmenter_ = None  # too little history: every customer is "new"
            _note(f"no payer segments: {exc} Every customer is segment 'new'.")
        self.as_of_ = day
        self.n_landmark_rows_ = n_rows
        report("done", len(STEPS), len(STEPS))
        return self

    # -- score --------------------------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "time_model_"):
            raise NotFittedError("This RiskEngine is not fitted yet; call fit(ledger, as_of) first.")

    def _check_day(self, day: pd.Timestamp, ledger: Any = None) -> None:
        """Say so when the engine is used at a day before the one it was fitted as of: it learned from outcomes
        that were not known then (a look-ahead), so its scores there flatter any backtest; and when the day lies
        well after the ledger's last recorded date."""
        _check_data_end(ledger, day)
        if day < self.as_of_:
            warnings.warn(
                f"the engine was fitted as of {self.as_of_.date()}, after {day.date()}: it learned from outcomes not "
                f"known on {day.date()} (a look-ahead). For a backtest, fit it as of {day.date()} or earlier.",
                AsOfWarning,
                stacklevel=3,
            )

    def score(self, ledger: Ledger, as_of: Any, progress: Progress | None = None) -> pd.DataFrame:
        """One row per open invoice at the end of ``as_of``, ordered by priority (1 = act first).

        Returns
        -------
        DataFrame
            Index ``invoice_id``: ``customer_id``, ``currency``, ``open_amount``, ``due_date``, ``days_overdue``,
            ``p_late``, ``pay_p10``/``pay_p50``/``pay_p90`` (dates), ``p_paid_30d``/``60d``/``90d``,
            ``expected_loss``, ``segment``, ``segment_why``, the customer's early warning ``p_problem_90d`` and
            ``alert`` (:meth:`early_warning`), its ``credit_limit`` and ``limit_utilisation``
            (:func:`payrisk.limits.limit_utilisation`), ``priority_rank``, ``red``, ``band``, ``reasons`` (for a
            collector) and ``customer_reasons`` (for the customer; empty beyond ``reasons_top_n``). The columns
            are declared in :data:`payrisk.schema.WORKLIST`.
        """
        from payrisk import explain

        report = progress or _noop
        report("features", 0, 4)
        snap, day, X, inv = self.open_items(ledger, as_of)
        report("predictions", 1, 4)
        out = self._predict(X, inv, day)
        report("segments and priority", 2, 4)
        out = self._segment_and_prioritise(out, snap, day)
        customers = pd.unique(out["customer_id"].to_numpy())
        warn = self._warnings(snap, pd.DataFrame({"customer_id": customers, "as_of": day}), reasons=False)
        at = positions(out["customer_id"], warn.index)
        out["p_problem_90d"] = warn["p_problem_90d"].to_numpy()[at]
        out["alert"] = warn["alert"].to_numpy()[at]
        held = limit_utilisation(snap, day)  # the customer's credit limit and how much of it its open invoices use
        at = positions(out["customer_id"], held.index)  # every customer with an open invoice is there
        out["credit_limit"] = held["credit_limit"].to_numpy(dtype=np.float64)[at]
        out["limit_utilisation"] = held["utilisation"].to_numpy(dtype=np.float64)[at]
        report("reasons", 3, 4)
        n = len(out) if self.reasons_top_n is None else min(self.reasons_top_n, len(out))
        reasons = {
            "reasons": np.full(len(out), "", dtype=object),
            "customer_reasons": np.full(len(out), "", dtype=object),
        }
        if n:
            top = out["_row"].to_numpy()[:n]  # the first n of the worklist, as positions in X (no id lookups)
            Xt = X.iloc[top].assign(currency=out["currency"].to_numpy()[:n])
            phi = explain.contributions(self.time_model_, Xt, self.reason_method)
            for column, register in (("reasons", "collector"), ("customer_reasons", "customer")):
                r = explain.reason_codes(self.time_model_, Xt, n=3, register=register, contribs=phi, exclude=_MECHANICS)
                reasons[column][:n] = _joined(r)
            # a customer always gets a plain fact about the invoice, even when no account fact raised the score
            said = reasons["customer_reasons"][:n]
            empty = said == ""
            said[empty] = _invoice_fact(out.iloc[:n], day)[empty]
        out = out.drop(columns="_row").assign(**reasons)[WORKLIST.column_names]  # the declared table, in its order
        report("done", 4, 4)
        return out

    def early_warning(self, ledger: Ledger, as_of: Any, reasons: bool = True) -> pd.DataFrame:
        """The customers in business at the end of ``as_of`` who may become a problem: P(an invoice 30 days
        overdue, a missed plan instalment or a hand-over within 90 days), the alerts first, then by that chance.

        A customer is in business with an invoice open at that day or one issued in the year before it. Customers
        who are a problem already (an invoice 30+ days overdue and open, or a missed instalment or hand-over in
        the last 90 days) are listed with ``problem_now`` and no alert: they are in the worklist's overdue items.

        Returns
        -------
        DataFrame
            Index ``customer_id``: ``p_problem_90d`` (NaN when the engine has no early warning:
            ``problem_model_`` is None), ``problem_now``, ``alert`` (not a problem yet and ``p_problem_90d >=
            alert_level``) and ``reasons`` (for a collector; for the alerts only, empty without ``reasons``).

        Examples
        --------
        >>> import payrisk as pr
        >>> ledger = pr.datasets.make_ledger(n_customers=400, seed=0)
        >>> engine = pr.RiskEngine(n_estimators=30, reasons_top_n=0, forecast_weeks=0).fit(ledger, "2024-03-31")
        >>> ew = engine.early_warning(ledger, "2024-04-30")
        >>> bool(ew["p_problem_90d"].between(0, 1).all()), bool((ew["alert"] <= ~ew["problem_now"]).all())
        (True, True)
        """
        from payrisk.ledger import to_date

        self._check_fitted()
        day = to_date(as_of, "as_of")
        self._check_day(day, ledger)
        snap = ledger.as_of(day)
        ids = snap.customers["customer_id"].astype(str)
        cut = pd.DataFrame({"customer_id": ids.to_numpy(), "as_of": day})
        cut = cut.loc[customers_in_business(snap, cut)].reset_index(drop=True)
        out = self._warnings(snap, cut, reasons)
        order = np.lexsort((-out["p_problem_90d"].fillna(-1).to_numpy(), ~out["alert"].to_numpy()))
        return out.iloc[order]  # the alerts first, then by the chance of becoming a problem

    def _warnings(self, snap: Any, cut: pd.DataFrame, reasons: bool) -> pd.DataFrame:
        """:meth:`early_warning` for the (``customer_id``, ``as_of``) rows of ``cut``, in their order."""
        from payrisk import explain, features, labels

        now = labels.customer_problem(snap, cut, horizon_days=WARNING_DAYS)["already"].to_numpy()
        p = np.full(len(cut), np.nan)
        model = self.problem_model_
        if model is not None and len(cut):
            C = features.customer_features(snap, cut)
            p = model.predict_proba(C[list(model.feature_names_in_)])[:, 1]
        alert = ~now & (p >= self.alert_level)
        why = np.full(len(cut), "", dtype=object)
        if reasons and alert.any():
            why[alert] = _joined(explain.reason_codes(model, C.iloc[np.flatnonzero(alert)], n=3, register="collector"))
        index = pd.Index(cut["customer_id"].to_numpy(), name="customer_id", dtype="str")
        return pd.DataFrame({"p_problem_90d": p, "problem_now": now, "alert": alert, "reasons": why}, index=index)

    def open_items(self, ledger: Ledger, as_of: Any) -> tuple[Ledger, pd.Timestamp, pd.DataFrame, pd.DataFrame]:
        """The items the engine scores: ``(snapshot, day, features, invoice lines)`` of the invoices open at the end
        of ``as_of``, rows aligned (the features are the models' inputs; the forecast reads them too).

        Examples
        --------
        >>> import payrisk as pr
        >>> ledger = pr.datasets.make_ledger(n_customers=100, seed=0)
        >>> engine = pr.RiskEngine(n_estimators=20, reasons_top_n=0, forecast_weeks=0).fit(ledger, "2024-06-30")
        >>> snap, day, X, inv = engine.open_items(ledger, "2024-07-31")
        >>> bool((X.index == inv.index).all()), bool((inv["open_amount"] > 0).all())
        (True, True)
        """
        from payrisk import features
        from payrisk.ledger import to_date

        self._check_fitted()
        day = to_date(as_of, "as_of")
        self._check_day(day, ledger)
        snap = ledger.as_of(day)
        X, inv = _open_rows(snap, day, features.invoice_features(snap, day))
        return snap, day, X.drop(columns=list(self.exclude_features)), inv

    def _predict(self, X: pd.DataFrame, inv: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
        days_overdue = np.maximum((day - inv["due_date"]).dt.days.to_numpy(), 0)
        not_due = X["days_to_due"].to_numpy() >= 0
        p_late = np.ones(len(X))
        if not_due.any():
            p_late[not_due] = self.late_model_.predict_proba(X.loc[not_due])[:, 1]
        tm = self.time_model_
        location = tm.predict_location(X)  # one booster pass; every question below reads this distribution
        levels = np.array([0.1, 0.5, 0.9])
        q = pd.DataFrame(tm.quantiles_at(location, levels), index=X.index, columns=list(levels))
        grid = np.arange(0, self.horizon_days + 1, 5, dtype=np.float64)
        surv = tm.survival_at(location, grid)
        s_at = tm.survival_at(location, [30, 60, 90, float(self.horizon_days)])
        out = pd.DataFrame(
            {
                "customer_id": inv["customer_id"].to_numpy(),
                "currency": inv["currency"].to_numpy(),
                "open_amount": inv["open_amount"].to_numpy(dtype=np.float64),
                "due_date": inv["due_date"].to_numpy(),
                "days_overdue": days_overdue,
                "p_late": p_late,
            },
            index=X.index,
        )
        for k, col in ((0.1, "pay_p10"), (0.5, "pay_p50"), (0.9, "pay_p90")):
            out[col] = day + pd.to_timedelta(np.ceil(q[k].to_numpy()), unit="D")
        for j, d in enumerate((30, 60, 90)):
            out[f"p_paid_{d}d"] = 1 - s_at[:, j]
        out["p_unpaid_horizon"] = s_at[:, 3]
        out["expected_wait_days"] = np.trapezoid(surv, grid, axis=1)
        return out

    def _segment_and_prioritise(self, out: pd.DataFrame, snap: Any, day: pd.Timestamp) -> pd.DataFrame:
        if self.segmenter_ is not None:
            seg = self.segmenter_.predict(snap, day)
            at = positions(out["customer_id"], seg.index)
            for column, source, fill in (("segment", "segment", "new"), ("segment_why", "why", "no history")):
                values = seg[source].to_numpy(dtype=object)
                out[column] = np.where(at >= 0, values[np.maximum(at, 0)] if len(values) else fill, fill)
        else:
            out["segment"], out["segment_why"] = "new", "too little history to learn segments"
        lgd: Any = self.loss_given_nonpayment
        if isinstance(lgd, dict):
            lgd = out["segment"].map(lgd).fillna(1.0).to_numpy(dtype=np.float64)
        prio = prioritise(out, lgd, self.annual_rate)
        for column in prio.columns:  # same rows in the same order: no join on ids
            out[column] = prio[column].to_numpy()
        out["_row"] = np.arange(len(out))  # position in the feature rows, for the reasons of the top rows
        return out.sort_values("priority_rank")

    # -- persistence --------------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the engine into folder ``path``: one sub-folder per model (UBJSON + JSON), ``engine.json``."""
        from payrisk._version import __version__

        self._check_fitted()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.late_model_.save(path / "late_payment")
        self.time_model_.save(path / "payment_time")
        if self.week_model_ is not None:
            self.week_model_.save(path / "payment_week")
        if self.adherence_model_ is not None:
            self.adherence_model_.save(path / "adherence")
        if self.problem_model_ is not None:
            self.problem_model_.save(path / "early_warning")
        doc = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "payrisk_version": __version__,
            "params": self.get_params(),
            "as_of": str(self.as_of_.date()),
            "n_landmark_rows": self.n_landmark_rows_,
            "adherence": self.adherence_model_ is not None,
            "payment_week": self.week_model_ is not None,
            "early_warning": self.problem_model_ is not None,
            "segmenter": None
            if self.segmenter_ is None
            else {
                "params": self.segmenter_.get_params(),
                "components": self.segmenter_.components_.reset_index(names="segment").to_dict(orient="records"),
            },
        }
        (path / "engine.json").write_text(json.dumps(doc, indent=2), encoding="utf-8")
        write_manifest(path)  # every file's SHA-256: an edit, a missing or an added file is refused on load
        return path

    @classmethod
    def load(cls, path: str | Path) -> RiskEngine:
        """Read an engine written by :meth:`save`; each model checks its own files."""
        from payrisk.models import (
            CustomerProblemClassifier,
            InstallmentAdherenceClassifier,
            LatePaymentClassifier,
            PaymentTimeModel,
            PaymentWeekModel,
        )
        from payrisk.segment import PayerSegmenter

        path = Path(path)
        if not (path / "engine.json").is_file():
            raise ModelFileError(f"{path}: no engine.json; is this a folder written by RiskEngine.save()?")
        check_manifest(path)
        try:
            doc = json.loads((path / "engine.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelFileError(
                f"{path}: no readable engine.json; is this a folder written by RiskEngine.save()?"
            ) from exc
        if doc.get("format") != _FORMAT or doc.get("format_version") != _FORMAT_VERSION:
            raise ModelFileError(f"{path}/engine.json: not a payrisk engine of format version {_FORMAT_VERSION}.")
        params = dict(doc.get("params") or {})
        unknown = sorted(set(params) - set(cls().get_params()))
        if unknown:
            raise ModelFileError(f"{path}/engine.json: unknown parameters {unknown}; the document was not written by "
                                 "this payrisk.")  # fmt: skip
        engine = cls(**{**params, "exclude_features": tuple(params.get("exclude_features", ()))})
        try:
            engine._validate_params()
        except ParameterError as exc:
            raise ModelFileError(f"{path}/engine.json: {exc}") from None
        engine.late_model_ = LatePaymentClassifier.load(path / "late_payment")
        engine.time_model_ = PaymentTimeModel.load(path / "payment_time")
        engine.adherence_model_ = InstallmentAdherenceClassifier.load(path / "adherence") if doc["adherence"] else None
        engine.week_model_ = PaymentWeekModel.load(path / "payment_week") if doc.get("payment_week") else None
        warns = doc.get("early_warning")
        engine.problem_model_ = CustomerProblemClassifier.load(path / "early_warning") if warns else None
        engine.segmenter_ = None
        if doc["segmenter"] is not None:
            # a model saved before pay days were read as intervals reads them as it was fitted: at face value
            seg = PayerSegmenter(**({"pay_days": False} | doc["segmenter"]["params"]))
            seg.components_ = pd.DataFrame(doc["segmenter"]["components"]).set_index("segment")
            seg.components_.index.name = None
            engine.segmenter_ = seg
        engine.as_of_ = pd.Timestamp(doc["as_of"])
        engine.n_landmark_rows_ = int(doc["n_landmark_rows"])
        return engine
