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
from typing import Any

import numpy as np
import pandas as pd

from payrisk._frame import positions
from payrisk._priority import prioritise
from payrisk.errors import ModelFileError, NotFittedError, ParameterError, PayriskWarning
from payrisk.models._persist import check_manifest, write_manifest

__all__ = ["RiskEngine"]

Progress = Callable[[str, int, int], None]
_STEPS = ("landmark features", "late-payment model", "payment-time model", "adherence model", "segments")
_FORMAT = "payrisk-engine"
#: a payment-time model leans on them, but "due in 29 days" is no reason for a collector to act
_MECHANICS = ("days_to_due", "terms_days", "issue_month")
_FORMAT_VERSION = 1


def _noop(step: str, done: int, total: int) -> None:
    return None


_LANDMARK_STEP = 5  #: days between landmarks: every weekday and every day of the month comes round
_LANDMARK_EVERY = 6  #: each open invoice is a row at one landmark in six (every 30 days, at its own phase)


def _landmark_number(day: pd.Timestamp) -> int:
    return (day - pd.Timestamp("1970-01-01")).days // _LANDMARK_STEP


def _note(message: str) -> None:
    """A fallback the user should know of, as a :class:`~payrisk.errors.PayriskWarning` (the command prints it)."""
    warnings.warn(message, PayriskWarning, stacklevel=3)


def _landmarks(day: pd.Timestamp, history_days: int) -> list[pd.Timestamp]:
    """Every fifth day (counted from 1970-01-01: the same dates for every ``as_of``) in the ``history_days``
    before ``day`` (exclusive)."""
    days = pd.date_range(day - pd.Timedelta(days=history_days), day - pd.Timedelta(days=1), freq="D")
    return list(days[(days - pd.Timestamp("1970-01-01")).days % _LANDMARK_STEP == 0])


def _open_at(inv: pd.DataFrame, day: pd.Timestamp, phase: np.ndarray) -> pd.DataFrame:
    """Invoices issued by ``day``, not fully paid by its end (as far as the snapshot knows), whose turn it is.

    An invoice's turn comes at one landmark in ``_LANDMARK_EVERY``, at a phase fixed by a hash of its id, so
    the rows cover every weekday and day of the month (a forecast or worklist is made on any day, and pay runs
    and payment weekdays make the days until payment depend on it) at the row count of monthly landmarks.
    """
    settled = inv["paid_date"].notna() & (inv["paid_date"] <= day)
    turn = (phase + _landmark_number(day)) % _LANDMARK_EVERY == 0
    return inv.loc[((inv["issue_date"] <= day) & ~settled).to_numpy() & turn]


def _invoice_fact(rows: pd.DataFrame, day: pd.Timestamp) -> np.ndarray:
    """ "the invoice of 67 EUR was due on 2024-07-01" / "... is due on ...": facts a customer can check."""
    amount = [
        f"{a:,.0f}".replace(",", "\u202f") + f" {c}" for a, c in zip(rows["open_amount"], rows["currency"], strict=True)
    ]
    due = rows["due_date"].dt.strftime("%Y-%m-%d").to_numpy()
    verb = np.where(rows["due_date"].to_numpy() < np.datetime64(day), "was due on", "is due on")
    return np.asarray([f"{a} open on this invoice, which {v} {d}" for a, v, d in zip(amount, verb, due, strict=True)])


def _open_rows(snap: Any, day: pd.Timestamp, X: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The open invoices (open amount > 0) among the feature rows of ``invoice_features(snap, day)`` and their
    invoice lines indexed by id. The rows come in ledger order, so they align by position (no id lookup)."""
    invoices = snap.invoices
    unsettled = invoices.loc[(invoices["issue_date"] <= day) & ~(invoices["paid_date"] <= day)]
    if not pd.Index(unsettled["invoice_id"]).equals(X.index):  # never expected; stay correct regardless
        unsettled = invoices.set_index("invoice_id").loc[X.index].reset_index()
    is_open = unsettled["open_amount"].to_numpy() > 0
    return X.loc[is_open], unsettled.loc[is_open].set_index("invoice_id")


class RiskEngine:
    """Late-payment, payment-time and adherence models plus segments, fitted as of a date; scores open items.

    The payment-time and late-payment models are trained on *landmark* rows: the invoices open at landmark days
    of the ``history_days`` before ``as_of`` (every fifth day; each invoice at one in six of them, so every 30
    days, at a phase set by its id), with its features at that day and what happened after it
    (days to payment, censored at ``as_of``; paid after its due date, for invoices not yet due, mature only).
    That is exactly the situation of the rows :meth:`score` sees: open items at a date, some new, some long
    overdue.

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

    Attributes
    ----------
    late_model_, time_model_ : fitted models
    week_model_ : PaymentWeekModel or None (None when ``forecast_weeks=0`` or too few landmarks are that old)
    adherence_model_ : InstallmentAdherenceClassifier or None (None without enough finished plans)
    segmenter_ : PayerSegmenter or None (None without enough customers with history)
    as_of_ : pandas.Timestamp
    n_landmark_rows_ : int

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
    ) -> None:
        self.history_days = history_days
        self.horizon_days = horizon_days
        self.loss_given_nonpayment = loss_given_nonpayment
        self.annual_rate = annual_rate
        self.reasons_top_n = reasons_top_n
        self.reason_method = reason_method
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.exclude_features = tuple(exclude_features)
        self.forecast_weeks = forecast_weeks

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
        rate = self.annual_rate
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate <= 1:
            raise ParameterError(f"The 'annual_rate' parameter must be a number in [0, 1] (8% is 0.08). Got {rate!r}.")
        lgd = self.loss_given_nonpayment
        values = list(lgd.values()) if isinstance(lgd, dict) else [lgd]
        if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) and 0 <= v <= 1 for v in values):
            raise ParameterError(
                f"The 'loss_given_nonpayment' parameter must be a share in [0, 1], or one per segment. Got {lgd!r}."
            )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters (scikit-learn convention)."""
        names = (
            "history_days",
            "horizon_days",
            "loss_given_nonpayment",
            "annual_rate",
            "reasons_top_n",
            "reason_method",
            "n_estimators",
            "max_depth",
            "exclude_features",
            "forecast_weeks",
        )
        return {n: getattr(self, n) for n in names}

    # -- fit ----------------------------------------------------------------------------------------------------
    def fit(self, ledger: Any, as_of: Any, progress: Progress | None = None) -> RiskEngine:
        """Fit every model on what is known at the end of ``as_of``.

        ``progress(step, done, total)`` is called before each step when given.
        """
        from payrisk import features, labels
        from payrisk.ledger import to_date
        from payrisk.models import InstallmentAdherenceClassifier, LatePaymentClassifier, PaymentTimeModel
        from payrisk.segment import PayerSegmenter

        self._validate_params()
        report = progress or _noop
        day = to_date(as_of, "as_of")
        snap = ledger.as_of(day)
        report(_STEPS[0], 0, len(_STEPS))
        rows, target = self._landmark_rows(snap, day)
        if len(rows) < 200:
            raise ParameterError(
                f"Only {len(rows)} invoice rows were open at the landmarks of the {self.history_days} days before "
                f"{day.date()}: too few to fit. Choose a later as_of or a longer history_days."
            )
        X = features.invoice_features(snap, rows[["invoice_id", "as_of"]]).drop(columns=list(self.exclude_features))
        size = {"n_estimators": self.n_estimators, "max_depth": self.max_depth}
        report(_STEPS[1], 1, len(_STEPS))
        not_due = (X["days_to_due"] >= 0).to_numpy() & target["late_known"].to_numpy()
        y_late = target["late"].to_numpy()[not_due]
        self.late_model_ = LatePaymentClassifier(**size).fit(X.loc[not_due], y_late, time=X.loc[not_due, "as_of"])
        report(_STEPS[2], 2, len(_STEPS))
        surv = labels.SurvivalTarget.from_arrays(target["duration"], target["event"])
        self.time_model_ = PaymentTimeModel(**size).fit(X, surv, time=X["as_of"])
        self.week_model_ = self._fit_week_model(X, target, day, size)
        report(_STEPS[3], 3, len(_STEPS))
        self.adherence_model_ = None
        if len(snap.plans):
            kept = labels.plan_kept(snap, mature_only=True)
            if len(kept) >= 100 and 0 < kept.mean() < 1:
                P = features.plan_features(snap, "created_date").loc[kept.index]
                self.adherence_model_ = InstallmentAdherenceClassifier().fit(P, kept)
            else:
                _note(f"the plan-adherence model was left out: {len(kept)} finished plans by {day.date()} (100 "
                      "needed, kept and broken both); payment plans are offered without a P(kept) gate")  # fmt: skip
        report(_STEPS[4], 4, len(_STEPS))
        try:
            self.segmenter_: PayerSegmenter | None = PayerSegmenter().fit(snap, day)
        except ParameterError as exc:
            self.segmenter_ = None  # too little history: every customer is "new"
            _note(f"no payer segments: {exc} Every customer is segment 'new'.")
        self.as_of_ = day
        self.n_landmark_rows_ = len(rows)
        report("done", len(_STEPS), len(_STEPS))
        return self

    def _fit_week_model(self, X: pd.DataFrame, target: pd.DataFrame, day: pd.Timestamp, size: dict) -> Any:
        """The weekly payment distribution, on the landmarks followed for ``forecast_weeks`` (None if too few)."""
        from payrisk.models import PaymentWeekModel
        from payrisk.models._payment_week import payment_week

        if not self.forecast_weeks:
            return None
        follow_up = (day - X["as_of"]).dt.days.to_numpy()
        week = payment_week(target["duration"], target["event"], follow_up, self.forecast_weeks)
        known = week >= 0
        if known.sum() < 200 or len(np.unique(week[known])) < 2:
            _note(f"the payment-week model was left out: {int(known.sum())} landmark rows followed for "
                  f"{self.forecast_weeks} weeks (200 needed); the forecast uses the payment-time model")  # fmt: skip
            return None
        return PaymentWeekModel(weeks=self.forecast_weeks, **size).fit(
            X.loc[known], week[known], time=X.loc[known, "as_of"]
        )

    def _landmark_rows(self, snap: Any, day: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Open invoices at the landmarks, with days to payment (censored at ``day``) and the late outcome."""
        inv = snap.invoices
        phase = pd.util.hash_array(inv["invoice_id"].to_numpy(dtype=object)) % np.uint64(_LANDMARK_EVERY)
        phase = phase.astype(np.int64)
        parts = []
        for mark in _landmarks(day, self.history_days):  # one vectorised selection per landmark
            parts.append(_open_at(inv, mark, phase).assign(as_of=mark))
        rows = pd.concat(parts, ignore_index=True) if parts else inv.iloc[:0].assign(as_of=pd.NaT)
        paid = rows["paid_date"]
        event = paid.notna().to_numpy()
        end = paid.where(paid.notna(), day)
        duration = (end - rows["as_of"]).dt.days.to_numpy()
        late_known = (rows["due_date"] <= day).to_numpy()
        late = (paid.isna() | (paid > rows["due_date"])).to_numpy().astype(int)
        target = pd.DataFrame({"duration": duration, "event": event, "late": late, "late_known": late_known})
        return rows.reset_index(drop=True), target

    # -- score --------------------------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "time_model_"):
            raise NotFittedError("This RiskEngine is not fitted yet; call fit(ledger, as_of) first.")

    def score(self, ledger: Any, as_of: Any, progress: Progress | None = None) -> pd.DataFrame:
        """One row per open invoice at the end of ``as_of``, ordered by priority (1 = act first).

        Returns
        -------
        DataFrame
            Index ``invoice_id``: ``customer_id``, ``currency``, ``open_amount``, ``due_date``, ``days_overdue``,
            ``p_late``, ``pay_p10``/``pay_p50``/``pay_p90`` (dates), ``p_paid_30d``/``60d``/``90d``,
            ``expected_loss``, ``segment``, ``segment_why``, ``priority_rank``, ``red``, ``band``, ``reasons``
            (for a collector) and ``customer_reasons`` (for the customer; empty beyond ``reasons_top_n``).
        """
        from payrisk import explain

        report = progress or _noop
        report("features", 0, 4)
        snap, day, X, inv = self._open_items(ledger, as_of)
        report("predictions", 1, 4)
        out = self._predict(X, inv, day)
        report("segments and priority", 2, 4)
        out = self._segment_and_prioritise(out, snap, day)
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
                joined = r[["reason_1", "reason_2", "reason_3"]].agg("; ".join, axis=1).str.strip("; ")
                reasons[column][:n] = joined.str.replace(r"(; )+", "; ", regex=True).to_numpy()
            # a customer always gets a plain fact about the invoice, even when no account fact raised the score
            said = reasons["customer_reasons"][:n]
            empty = said == ""
            said[empty] = _invoice_fact(out.iloc[:n], day)[empty]
        out = out.drop(columns="_row").assign(**reasons)
        report("done", 4, 4)
        return out

    def _open_items(self, ledger: Any, as_of: Any) -> tuple[Any, pd.Timestamp, pd.DataFrame, pd.DataFrame]:
        """(snapshot, day, features, invoice lines) of the items open at the end of ``as_of``, rows aligned."""
        from payrisk import features
        from payrisk.ledger import to_date

        self._check_fitted()
        day = to_date(as_of, "as_of")
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
        q = pd.DataFrame(tm._quantiles_at(location, levels), index=X.index, columns=list(levels))
        grid = np.arange(0, self.horizon_days + 1, 5, dtype=np.float64)
        surv = tm._survival_at(location, grid)
        s_at = tm._survival_at(location, [30, 60, 90, float(self.horizon_days)])
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
        doc = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "payrisk_version": __version__,
            "params": self.get_params(),
            "as_of": str(self.as_of_.date()),
            "n_landmark_rows": self.n_landmark_rows_,
            "adherence": self.adherence_model_ is not None,
            "payment_week": self.week_model_ is not None,
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
        engine.segmenter_ = None
        if doc["segmenter"] is not None:
            seg = PayerSegmenter(**doc["segmenter"]["params"])
            seg.components_ = pd.DataFrame(doc["segmenter"]["components"]).set_index("segment")
            seg.components_.index.name = None
            engine.segmenter_ = seg
        engine.as_of_ = pd.Timestamp(doc["as_of"])
        engine.n_landmark_rows_ = int(doc["n_landmark_rows"])
        return engine
