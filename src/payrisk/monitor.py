"""Is the engine still right? Population stability, feature drift and calibration drift since its training date.

:func:`monitor` compares the invoices a fitted :class:`~payrisk.RiskEngine` was trained on with those issued
since: the features (population stability index per feature), the scores (PSI of P(late)), and, for invoices
whose outcome has since become known, predicted against observed rates per segment for the late-payment,
payment-time and adherence models. It returns the tables, a summary in plain words and a figure.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> round(psi(rng.normal(0, 1, 5000), rng.normal(0, 1, 5000)), 3) < 0.01
True
>>> psi(rng.normal(0, 1, 5000), rng.normal(1, 1, 5000)) > 0.25
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from payrisk._compat import ledger_first
from payrisk.errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    from payrisk.engine import RiskEngine
    from payrisk.ledger import Ledger

__all__ = ["DriftReport", "calibration_drift", "feature_drift", "issued_between", "monitor", "psi"]

#: PSI below 0.1: stable; 0.1 to 0.25: moderate shift; above 0.25: major shift (the usual credit-scoring bands)
PSI_BANDS = (0.1, 0.25)
_EPS = 1e-4  #: floor of a bin's share, so that an empty bin does not make the PSI infinite


def psi(expected: Any, actual: Any, bins: int = 10) -> float:
    """Population stability index of ``actual`` against ``expected``.

    ``PSI = sum_i (a_i - e_i) ln(a_i / e_i)`` over the bins, with ``e_i`` and ``a_i`` the shares of the two
    samples in bin ``i``. Bins are the quantiles of ``expected`` (fewer when it has ties); missing values form a
    bin of their own; a share is floored at 1e-4. Below 0.1 is read as stable, 0.1-0.25 as a moderate shift,
    above 0.25 as a major one.

    Examples
    --------
    >>> psi([1, 2, 3, 4], [1, 2, 3, 4])
    0.0
    >>> round(psi([0, 0, 1, 1], [0, 1, 1, 1], bins=2), 4)  # shares (0.5, 0.5) -> (0.25, 0.75)
    0.2747
    """
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if bins < 2:
        raise ParameterError(f"psi needs at least 2 bins. Got {bins}.")
    if len(e) == 0 or len(a) == 0:
        raise ParameterError("psi needs values in both samples.")
    finite = e[~np.isnan(e)]
    inner = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1])) if len(finite) else np.array([])

    def shares(x: np.ndarray) -> np.ndarray:
        slot = np.where(np.isnan(x), len(inner) + 1, np.searchsorted(inner, x, side="right"))
        return np.maximum(np.bincount(slot, minlength=len(inner) + 2) / len(x), _EPS)

    se, sa = shares(e), shares(a)
    return float(np.sum((sa - se) * np.log(sa / se)))


def _band(value: float) -> str:
    return "major" if value > PSI_BANDS[1] else "moderate" if value > PSI_BANDS[0] else "stable"


def feature_drift(
    reference: pd.DataFrame, current: pd.DataFrame, features: list[str] | None = None, bins: int = 10
) -> pd.DataFrame:
    """PSI and summary statistics of every numeric feature, ``current`` against ``reference``, largest first.

    Returns
    -------
    DataFrame
        Index ``feature``: ``psi``, ``shift`` (stable, moderate, major), ``reference_mean``, ``current_mean``,
        ``reference_missing``, ``current_missing`` (shares).

    Examples
    --------
    >>> ref = pd.DataFrame({"days_late_mean": [1.0, 2, 3, 4] * 50, "amount": [10.0, 20, 30, 40] * 50})
    >>> cur = pd.DataFrame({"days_late_mean": [3.0, 4, 5, 6] * 50, "amount": [10.0, 20, 30, 40] * 50})
    >>> feature_drift(ref, cur)["shift"].to_dict()
    {'days_late_mean': 'major', 'amount': 'stable'}
    """
    names = features or [c for c in reference.select_dtypes(include=["number", "bool"]).columns if c in current]
    rows = []
    for name in names:
        r = reference[name].to_numpy(dtype=np.float64, na_value=np.nan)
        c = current[name].to_numpy(dtype=np.float64, na_value=np.nan)
        value = psi(r, c, bins)
        rows.append(
            {
                "feature": name,
                "psi": value,
                "shift": _band(value),
                "reference_mean": float(np.nanmean(r)) if np.isfinite(r).any() else np.nan,
                "current_mean": float(np.nanmean(c)) if np.isfinite(c).any() else np.nan,
                "reference_missing": float(np.isnan(r).mean()),
                "current_missing": float(np.isnan(c).mean()),
            }
        )
    out = pd.DataFrame(rows, columns=["feature", "psi", "shift", *_STATS]).set_index("feature")
    return out.sort_values("psi", ascending=False, kind="stable")


_STATS = ["reference_mean", "current_mean", "reference_missing", "current_missing"]


# -- calibration on outcomes known since ----------------------------------------------------------------------------
def issued_between(snap: Ledger, start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.Series, pd.DataFrame]:
    """Invoices issued after ``start`` up to ``end`` whose late/on-time outcome is known in ``snap``, with their
    features at issue (the day before it, as the model saw new invoices in training): what a model fitted at
    ``start`` is judged on out of time.

    Examples
    --------
    >>> import payrisk as pr
    >>> snap = pr.datasets.make_ledger(n_customers=80, seed=0).as_of("2024-09-30")
    >>> y, X = issued_between(snap, pd.Timestamp("2024-06-30"), pd.Timestamp("2024-09-30"))
    >>> bool((X.index == y.index).all()), set(y.unique()) <= {0, 1}
    (True, True)
    """
    from payrisk import features, labels

    y = labels.late_payment(snap, mature_only=True)
    issued = snap.invoices.set_index("invoice_id")["issue_date"].reindex(y.index)
    y = y.loc[((issued > start) & (issued <= end)).to_numpy()]
    cuts = pd.DataFrame({"invoice_id": y.index, "as_of": issued.loc[y.index].to_numpy() - pd.Timedelta(days=1)})
    X = features.invoice_features(snap, cuts).loc[y.index] if len(y) else pd.DataFrame()
    return y, X


def _rate_rows(
    model: str, quantity: str, predicted: np.ndarray, observed: np.ndarray, groups: np.ndarray, customers: Any
) -> list[dict[str, Any]]:
    """Predicted mean against observed rate per group (and all), with the standard error of the gap, clustered
    by customer: a customer's invoices share its own tendency beyond what the model knows, so a hundred invoices
    of ten customers are not a hundred independent outcomes (the binomial error alone, given the predicted
    probabilities, is the floor)."""
    rows = []
    cust = pd.factorize(np.asarray(customers, dtype=object))[0]
    for name in ["all", *sorted(set(groups))]:
        m = np.ones(len(groups), bool) if name == "all" else groups == name
        n = int(m.sum())
        if n:
            obs, pred = float(observed[m].mean()), float(predicted[m].mean())
            binomial = np.clip(predicted[m] * (1 - predicted[m]), 1e-6, None).sum()
            per_customer = np.bincount(cust[m], weights=observed[m] - predicted[m] - (obs - pred))
            se = float(np.sqrt(max(binomial, float((per_customer**2).sum()))) / n)
            rows.append(
                {"model": model, "quantity": quantity, "segment": name, "n": n}
                | {"predicted": pred, "observed": obs, "gap": obs - pred, "_se": se}
            )
    return rows


def _paid_by_due(model: Any, X: pd.DataFrame) -> np.ndarray:
    """The payment-time model's P(paid within ``days_to_due`` days of the cutoff), row by row."""
    days = np.maximum(X["days_to_due"].to_numpy(dtype=np.float64), 0.0)
    return model.p_paid_by(X, days[:, None])[:, 0]


def _calibration_rows(
    engine: Any, snap: Any, start: pd.Timestamp, end: pd.Timestamp, seg: pd.Series
) -> list[dict[str, Any]]:
    """Predicted against observed for the invoices issued and plans created after ``start`` up to ``end`` whose
    outcome ``snap`` knows, per segment."""
    from payrisk import features, labels

    rows: list[dict[str, Any]] = []
    y, X = issued_between(snap, start, end)
    if len(y):
        group = X["customer_id"].map(seg).astype("object").fillna(_NEWER).to_numpy(dtype=object)
        late = y.to_numpy(dtype=np.float64)
        who = X["customer_id"].to_numpy()
        X = X.drop(columns=list(engine.exclude_features))
        rows += _rate_rows("late_payment", "p_late", engine.late_model_.predict_proba(X)[:, 1], late, group, who)
        p_due = _paid_by_due(engine.time_model_, X)
        rows += _rate_rows("payment_time", "p_paid_by_due", p_due, 1 - late, group, who)
    if engine.adherence_model_ is not None and len(snap.plans):
        kept = labels.plan_kept(snap, mature_only=True)
        created = snap.plans.set_index("plan_id")["created_date"].reindex(kept.index)
        kept = kept.loc[((created > start) & (created <= end)).to_numpy()]
        if len(kept):
            P = features.plan_features(snap, "created_date").loc[kept.index]
            group = P["customer_id"].map(seg).astype("object").fillna(_NEWER).to_numpy(dtype=object)
            p_kept = engine.adherence_model_.predict_proba(P)[:, 1]
            rows += _rate_rows("adherence", "p_kept", p_kept, kept.to_numpy(dtype=np.float64), group, P["customer_id"])
    return rows


_KEYS = ["model", "quantity", "segment"]
_NEWER = "new since training"  #: customers the engine's segments did not know
#: segments whose customers change by construction between the windows (new at training: they have history now)
_NOT_LIKE_FOR_LIKE = ("new", _NEWER)
_CALIBRATION = [*_KEYS, "n", "predicted", "observed", "gap", "gap_then", "drift", "drift_low", "drift_high"]


@ledger_first(("engine", "ledger"))
def calibration_drift(
    ledger: Ledger,
    engine: RiskEngine,
    as_of: Any,
    segments: pd.Series | None = None,
    baseline_days: int = 180,
    min_rows: int = 50,
) -> pd.DataFrame:
    """How each model's calibration moved: predicted against observed on outcomes that became known after the
    engine's training date, beside the same on the ``baseline_days`` before it.

    - ``late_payment`` / ``p_late``: invoices issued in the window whose due date has passed, scored with their
      features at issue; observed: paid after the due date (or not at all).
    - ``payment_time`` / ``p_paid_by_due``: the same invoices; predicted: the payment-time model's P(paid by
      the due date); observed: paid in full by it. Its gap shows a shift in payment timing.
    - ``adherence`` / ``p_kept``: plans created in the window and mature.

    ``gap`` is observed minus predicted since the training date (positive: the model is too low); ``gap_then``
    the same on the baseline window, with what was known at the training date (a model can be off for a segment
    by design, e.g. one error scale for all payers); ``drift = gap - gap_then`` is what changed, with a 95%
    interval from the noise of both windows' outcomes (clustered by customer). Rows per segment (``segments``:
    customer id -> name; default: the engine's segments as of its training date, so a segment holds the same
    customers in both windows) and ``all``; segments with fewer than ``min_rows`` rows now are left out.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=300, seed=0)
    >>> engine = pr.RiskEngine(n_estimators=60, reasons_top_n=0).fit(ledger, "2024-03-31")
    >>> cal = calibration_drift(ledger, engine, "2024-09-30")
    >>> set(cal["model"]) >= {"late_payment", "payment_time"}, bool(cal["drift"].abs().max() < 0.5)
    (True, True)
    """
    from payrisk.ledger import to_date

    day = to_date(as_of, "as_of")
    trained = engine.as_of_
    seg = _segments(engine, ledger, segments)
    now = pd.DataFrame(_calibration_rows(engine, ledger.as_of(day), trained, day, seg))
    baseline = trained - pd.Timedelta(days=baseline_days)
    then = pd.DataFrame(_calibration_rows(engine, ledger.as_of(trained), baseline, trained, seg))
    if now.empty:
        return pd.DataFrame(columns=_CALIBRATION)
    if then.empty:
        then = now[_KEYS].assign(gap=np.nan, _se=np.nan)
    out = now.merge(then[[*_KEYS, "gap", "_se"]], on=_KEYS, how="left", suffixes=("", "_then"))
    out["gap_then"] = out["gap_then"].fillna(0.0)  # no baseline: taken as calibrated at training
    out["drift"] = out["gap"] - out["gap_then"]
    se = np.sqrt(out["_se"] ** 2 + out["_se_then"].fillna(0.0) ** 2)
    out["drift_low"], out["drift_high"] = out["drift"] - 1.96 * se, out["drift"] + 1.96 * se
    keep = (out["n"] >= min_rows) | (out["segment"] == "all")
    return out.loc[keep, _CALIBRATION].reset_index(drop=True)


def _segments(engine: Any, ledger: Any, segments: pd.Series | None) -> pd.Series:
    if segments is not None:
        return segments
    if getattr(engine, "segmenter_", None) is None:
        return pd.Series(dtype="object")
    return engine.segmenter_.predict(ledger, engine.as_of_)["segment"]


# -- the report -----------------------------------------------------------------------------------------------------
@dataclass
class DriftReport:
    """What :func:`monitor` found: feature and score drift, calibration drift, and what to do, in words.

    Attributes
    ----------
    features : DataFrame
        :func:`feature_drift` of the invoices issued in the window before ``as_of`` against those of the window
        before the training date.
    score_psi : float
        PSI of the late-payment model's P(late) on the same two sets of invoices.
    calibration : DataFrame
        :func:`calibration_drift` with a ``flagged`` column.
    summary : list of str
        Plain words, most important first; the first line says whether to retrain.
    retrain : bool

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=300, seed=0)
    >>> engine = pr.RiskEngine(n_estimators=60, reasons_top_n=0).fit(ledger, "2024-03-31")
    >>> report = monitor(ledger, engine, "2024-09-30")
    >>> str(report).splitlines()[0] == report.summary[0], report.plot().axes[1].get_title()
    (True, 'calibration drift since training')
    """

    as_of: pd.Timestamp
    training_as_of: pd.Timestamp
    features: pd.DataFrame
    score_psi: float
    calibration: pd.DataFrame
    summary: list[str]
    retrain: bool
    counts: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        return "\n".join(self.summary)

    def plot(self, top: int = 12) -> Any:
        """The features that moved most (PSI, with the 0.1 and 0.25 bands) and the calibration gaps per segment
        with their 95% intervals."""
        from payrisk.plots import drift_panel

        return drift_panel(self, top=top)


def _features_at_issue(snap: Any, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Features of the invoices issued from ``start`` to ``end`` as of the day before each was issued."""
    from payrisk import features

    inv = snap.invoices
    inv = inv.loc[((inv["issue_date"] >= start) & (inv["issue_date"] <= end)).to_numpy(dtype=bool)]
    cuts = pd.DataFrame({"invoice_id": inv["invoice_id"].to_numpy(), "as_of": inv["issue_date"] - pd.Timedelta(days=1)})
    return features.invoice_features(snap, cuts)


def _monitored(engine: Any) -> list[str]:
    """The model's features less the calendar ones (a month differs between two windows by construction)."""
    from payrisk.features import registry

    calendar = set(registry.index[registry["unit"] == "month"])
    return [n for n in engine.late_model_.feature_names_in_ if n not in calendar]


def _points(x: float) -> str:
    return f"{abs(x) * 100:.0f} point{'s' if round(abs(x) * 100) != 1 else ''}"


def _wording(cal: pd.DataFrame, since: pd.Timestamp, limit: int = 8) -> list[str]:
    """One line per flagged drift: per model the overall one first, then the segments, largest first."""
    flagged = cal.loc[cal["flagged"]]
    order = np.lexsort((-flagged["drift"].abs().to_numpy(), (flagged["segment"] != "all").to_numpy()))
    lines = []
    for r in flagged.iloc[order[:limit]].to_dict("records"):
        who = "overall" if r["segment"] == "all" else f"for the {r['segment']} segment"
        what = "plans" if r["model"] == "adherence" else "invoices"
        gap, gap_then = float(r["gap"]), float(r["gap_then"])
        then = "calibrated" if abs(gap_then) < 0.005 else f"{_points(gap_then)} {'low' if gap_then > 0 else 'high'}"
        lines.append(
            f"{r['quantity']} is now {_points(gap)} too {'low' if gap > 0 else 'high'} {who}; retrain "
            f"(predicted {r['predicted']:.0%}, observed {r['observed']:.0%} of {r['n']:,} {what} since "
            f"{since.date()}; "
            f"{then} before)"
        )
    if len(flagged) > limit:
        lines.append(f"and {len(flagged) - limit} more calibration shifts (see the calibration table)")
    return lines


@ledger_first(("engine", "ledger"))
def monitor(
    ledger: Ledger,
    engine: RiskEngine,
    as_of: Any,
    window_days: int = 90,
    tolerance: float = 0.05,
    segments: pd.Series | None = None,
    bins: int = 10,
) -> DriftReport:
    """Check a fitted engine against what happened since its training date.

    The invoices issued in the ``window_days`` before ``as_of`` are compared with those issued in the
    ``window_days`` before the engine's training date, each with its features at issue: PSI per feature and of
    P(late). Calibration is checked on every outcome that became known since the training date
    (:func:`calibration_drift`); a model's calibration drift for a segment (the change of observed minus
    predicted against the baseline before training) is flagged when it is at least ``tolerance`` (5 points) and
    its interval excludes zero at a family-wise 95% over all the rows that can be flagged (Bonferroni: the
    shown 95% intervals are each row's own). The ``new`` segments are shown but not flagged: customers new at the
    training date have a history by now, so their invoices are not like for like. Retraining is advised when
    any drift is flagged or P(late) shifted by a major PSI.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=300, seed=0)
    >>> engine = pr.RiskEngine(n_estimators=60, reasons_top_n=0).fit(ledger, "2024-03-31")
    >>> report = monitor(ledger, engine, "2024-09-30")
    >>> report.summary[0].split(":")[0] in ("Retrain", "No action needed")
    True
    >>> report.features.columns[:2].tolist()
    ['psi', 'shift']
    """
    from payrisk.ledger import to_date

    day = to_date(as_of, "as_of")
    trained = engine.as_of_
    if day <= trained:
        raise ParameterError(f"as_of ({day.date()}) must be after the engine's training date ({trained.date()}).")
    span = pd.Timedelta(days=window_days - 1)
    reference = _features_at_issue(ledger.as_of(trained), trained - span, trained)
    current = _features_at_issue(ledger.as_of(day), day - span, day)
    if len(reference) < 50 or len(current) < 50:
        raise ParameterError(
            f"Too few invoices to compare: {len(reference)} issued in the {window_days} days before the training "
            f"date, {len(current)} before as_of. Use a longer window_days."
        )
    drift = feature_drift(reference, current, _monitored(engine), bins)
    p_ref, p_cur = (engine.late_model_.predict_proba(f)[:, 1] for f in (reference, current))
    score_psi = psi(p_ref, p_cur, bins)
    cal = calibration_drift(ledger, engine, day, segments)
    # "retrain when any drift is flagged" is one decision over every row that can be flagged: each row is held to
    # a family-wise 95% (Bonferroni), so ten segments and models do not raise a false alarm every other month
    like_for_like = ~cal["segment"].isin(_NOT_LIKE_FOR_LIKE)
    z = (cal["drift"] / ((cal["drift_high"] - cal["drift"]) / 1.96)).abs()
    family = float(norm.ppf(1 - 0.025 / max(int(like_for_like.sum()), 1)))
    cal["flagged"] = (cal["drift"].abs() >= tolerance) & (z > family) & like_for_like
    retrain = bool(cal["flagged"].any() or score_psi > PSI_BANDS[1])
    lines = _wording(cal, trained)
    score_line = (
        f"P(late) of new invoices {'has shifted' if score_psi > PSI_BANDS[0] else 'is stable'} since training: "
        f"PSI {score_psi:.2f} ({_band(score_psi)}); mean {p_ref.mean():.0%} then, {p_cur.mean():.0%} now"
    )
    lines.insert(0 if score_psi > PSI_BANDS[1] else len(lines), score_line)
    major = drift.loc[drift["shift"] == "major"]
    if len(major):
        top = ", ".join(f"{n} (PSI {v:.2f})" for n, v in major["psi"].head(5).items())
        lines.append(f"{len(major)} features shifted strongly since training: {top}")
    moderate = int((drift["shift"] == "moderate").sum())
    if moderate:
        lines.append(f"{moderate} features shifted moderately (PSI 0.1-0.25)")
    verdict = (
        "Retrain: the models no longer match what happens"
        if retrain
        else "No action needed: the models are as calibrated as at training and their scores are stable"
    )
    return DriftReport(
        as_of=day,
        training_as_of=trained,
        features=drift,
        score_psi=score_psi,
        calibration=cal,
        summary=[f"{verdict} ({day.date()}, trained {trained.date()}).", *[line + "." for line in lines]],
        retrain=retrain,
        counts={"reference": len(reference), "current": len(current)},
    )
