"""Mild vs strict: the effect of a reminder's tone on days late, per segment, from logged (randomised) history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from payrisk.errors import ParameterError

if TYPE_CHECKING:
    from payrisk.ledger import Ledger

__all__ = ["ToneEffect", "estimate_tone_effect"]

_CLIP = 0.02  # propensities are clipped to [_CLIP, 1 - _CLIP]


@dataclass
class ToneEffect:
    """The estimated effect of the treated tone vs the control tone on restricted days late.

    Attributes
    ----------
    by_segment : DataFrame
        One row per segment and one for ``all``: ``n``, ``n_treated``, ``n_control``, ``mean_control`` (observed
        mean outcome under the control tone), ``effect`` (doubly robust, in days) with ``ci_low`` / ``ci_high``,
        the difference in means (``naive`` with its interval) and the T-learner's mean (``t_learner``).
    invoices : DataFrame
        Index ``invoice_id``: ``customer_id``, ``segment``, ``treated``, ``outcome``, ``propensity``, ``cate``
        (the T-learner's per-invoice effect: use it to target the tone) and ``pseudo_outcome``.
    meta : dict
        The parameters: tones, horizon, level, window, folds.

    Examples
    --------
    A hand-made result (:func:`~payrisk.dunning.estimate_tone_effect` computes real ones) and its forest plot:

    >>> by_segment = pd.DataFrame({"n": [400, 1000], "effect": [3.0, 1.2], "ci_low": [0.8, 0.1],
    ...                            "ci_high": [5.2, 2.3], "naive": [6.5, 2.0]}, index=["chronic", "all"])
    >>> eff = ToneEffect(by_segment=by_segment, invoices=pd.DataFrame(), meta={"treated": "strict", "control": "mild"})
    >>> float(eff.by_segment.loc["all", "effect"]), eff.plot().axes[0].get_title()
    (1.2, 'strict vs mild')
    """

    by_segment: pd.DataFrame
    invoices: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def plot(self, truth: pd.Series | None = None, ax: Any = None) -> Any:
        """Forest plot of the effect per segment with its interval (and the truth where known)."""
        from payrisk.plots import effect_forest

        return effect_forest(self.by_segment, truth=truth, meta=self.meta, ax=ax)


def _cohort(
    snap: Ledger, treated: str, control: str, start: pd.Timestamp | None, day: pd.Timestamp, horizon: int
) -> pd.DataFrame:
    """Invoices whose first reminder (first contact after the due date) was delivered in one of the two tones,
    due early enough that their outcome over ``horizon`` days is known at ``day``."""
    inv = snap.invoices.set_index("invoice_id")
    con = snap.contacts.sort_values("sent_at", kind="stable")
    due = inv["due_date"].reindex(con["invoice_id"]).to_numpy()
    first = con.loc[con["sent_at"].dt.normalize().to_numpy() > due].drop_duplicates("invoice_id")
    first = first.loc[first["tone"].isin([treated, control]) & ~first["bounced"].fillna(False).astype(bool)]
    rows = inv.loc[first["invoice_id"], ["customer_id", "due_date", "paid_date"]].assign(
        treated=(first["tone"] == treated).to_numpy().astype(np.int8)
    )
    known = rows["due_date"] + pd.Timedelta(days=horizon) <= day
    if start is not None:
        known &= rows["due_date"] >= start
    rows = rows.loc[known]
    days = (rows["paid_date"] - rows["due_date"]).dt.days
    rows["outcome"] = days.where(days < horizon, horizon).fillna(horizon).clip(lower=0).astype(float)
    return rows


def _folds(customers: pd.Series, n_folds: int, seed: int) -> np.ndarray:
    """Cross-fitting folds by customer (an invoice is never predicted by a model that saw its customer)."""
    key = f"{seed:016d}"[-16:]
    return (pd.util.hash_array(customers.to_numpy(dtype=object), hash_key=key) % np.uint64(n_folds)).astype(int)


def _cross_fit(X: np.ndarray, y: np.ndarray, fold: np.ndarray, sel: np.ndarray, model: Any) -> np.ndarray:
    """Out-of-fold predictions for every row, from a model fitted on the other folds' rows where ``sel``."""
    from sklearn.base import clone

    out = np.empty(len(y))
    for k in np.unique(fold):
        train = (fold != k) & sel
        fitted = clone(model).fit(X[train], y[train])
        rows = fold == k
        pred = fitted.predict_proba(X[rows])[:, 1] if hasattr(fitted, "predict_proba") else fitted.predict(X[rows])
        out[rows] = pred
    return out


def _cluster_mean(values: np.ndarray, cluster: np.ndarray) -> tuple[float, float]:
    """Mean and its cluster-robust standard error (clusters: customers)."""
    n = len(values)
    if n == 0:
        return np.nan, np.nan
    mean = float(values.mean())
    sums = np.bincount(cluster, weights=values - mean)
    return mean, float(np.sqrt((sums**2).sum()) / n)


def _summarise(cohort: pd.DataFrame, level: float) -> pd.DataFrame:
    z = norm.ppf(0.5 + level / 2)
    rows = []
    groups = [("all", cohort), *((k, g) for k, g in cohort.groupby("segment", sort=True) if k != "all")]
    for name, g in groups:
        cluster = pd.factorize(g["customer_id"])[0]
        t = g["treated"].to_numpy() == 1
        y = g["outcome"].to_numpy()
        effect, se = _cluster_mean(g["pseudo_outcome"].to_numpy(), cluster)
        share = t.mean() if len(t) else np.nan
        m1, m0 = (y[t].mean() if t.any() else np.nan), (y[~t].mean() if (~t).any() else np.nan)
        influence = np.where(t, (y - m1) / share, -(y - m0) / (1 - share)) if 0 < share < 1 else np.full(len(y), np.nan)
        _, naive_se = _cluster_mean(influence, cluster)
        rows.append(
            {
                "segment": name,
                "n": len(g),
                "n_treated": int(t.sum()),
                "n_control": int((~t).sum()),
                "mean_control": m0,
                "effect": effect,
                "ci_low": effect - z * se,
                "ci_high": effect + z * se,
                "naive": m1 - m0,
                "naive_low": m1 - m0 - z * naive_se,
                "naive_high": m1 - m0 + z * naive_se,
                "t_learner": float(g["cate"].mean()),
            }
        )
    return pd.DataFrame(rows).set_index("segment")


def estimate_tone_effect(
    ledger: Ledger,
    as_of: Any,
    segments: pd.Series | None = None,
    *,
    start: Any = None,
    treated: str = "strict",
    control: str = "mild",
    horizon_days: int = 60,
    propensity: float | None = None,
    level: float = 0.95,
    n_folds: int = 2,
    seed: int = 0,
) -> ToneEffect:
    """Effect of a strict (vs mild) first reminder on days late, per segment, with intervals.

    The cohort is every invoice whose first reminder (its first contact after the due date) was delivered in
    the ``treated`` or the ``control`` tone and that was due on or after ``start`` and at least ``horizon_days``
    before ``as_of``. The outcome is days late restricted to the horizon (paid later, or not at all: the
    horizon), so it is known for every invoice of the cohort. The estimator is doubly robust (AIPW, the
    DR-learner's pseudo-outcome): gradient-boosted outcome models per tone (a T-learner) and a propensity model,
    cross-fitted over folds of customers, on the invoice's point-in-time features the day before its due date.
    With randomised tones, pass the known share of the treated tone as ``propensity``; otherwise it is
    estimated, which needs every confounder among the features. Intervals are cluster-robust by customer.

    Parameters
    ----------
    ledger : Ledger
        The history with its contacts (``tone``, ``bounced``).
    as_of : date-like
        Nothing after it is used.
    segments : Series, optional
        Segment per ``customer_id`` (e.g. :class:`payrisk.segment.PayerSegmenter` as of ``start``, so that the
        segment is known before the reminders); customers not in it are ``new``. Default: one group.
    start : date-like, optional
        First due date of the cohort.
    treated, control : str
        The two tones compared (``effect`` is treated minus control).
    horizon_days : int
        The restriction of days late, and how long after its due date an invoice must be known.
    propensity : float, optional
        The known probability of the treated tone (a randomised test); estimated when None.
    level : float
        Confidence level of the intervals.
    n_folds : int
        Cross-fitting folds.
    seed : int
        Seed of the folds and the models.

    Returns
    -------
    ToneEffect

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=300, seed=0)
    >>> eff = estimate_tone_effect(ledger, "2024-06-30", propensity=0.5)
    >>> row = eff.by_segment.loc["all"]
    >>> bool(row["ci_low"] < row["effect"] < row["ci_high"]), int(row["n"]) == len(eff.invoices)
    (True, True)
    """
    import xgboost as xgb

    from payrisk import features
    from payrisk.ledger import to_date

    if propensity is not None and not 0 < propensity < 1:
        raise ParameterError(f"propensity must lie strictly between 0 and 1; got {propensity!r}.")
    if horizon_days < 1 or n_folds < 2:
        raise ParameterError(f"horizon_days must be >= 1 and n_folds >= 2; got {horizon_days!r}, {n_folds!r}.")
    day = to_date(as_of)
    snap = ledger.as_of(day)
    first_due = None if start is None else to_date(start, "start")
    cohort = _cohort(snap, treated, control, first_due, day, horizon_days)
    t = cohort["treated"].to_numpy()
    if len(cohort) < 10 * n_folds or t.min() == t.max():
        raise ParameterError(
            f"estimate_tone_effect: {len(cohort)} invoices got a delivered first reminder in the tones "
            f"{treated!r}/{control!r} (both needed) by {day.date()} - {horizon_days} days; widen the window."
        )
    cuts = pd.DataFrame({"invoice_id": cohort.index, "as_of": cohort["due_date"].to_numpy() - pd.Timedelta(days=1)})
    X = features.invoice_features(snap, cuts).reindex(cohort.index).drop(columns=["customer_id", "as_of"])
    M = X.to_numpy(dtype=np.float32)
    y = cohort["outcome"].to_numpy()
    fold = _folds(cohort["customer_id"], n_folds, seed)
    reg = xgb.XGBRegressor(
        n_estimators=300, learning_rate=0.05, max_depth=4, subsample=0.8, n_jobs=2, random_state=seed
    )
    m1 = _cross_fit(M, y, fold, t == 1, reg)
    m0 = _cross_fit(M, y, fold, t == 0, reg)
    if propensity is None:
        clf = xgb.XGBClassifier(n_estimators=100, learning_rate=0.1, max_depth=2, n_jobs=2, random_state=seed)
        e = np.clip(_cross_fit(M, t.astype(float), fold, np.ones(len(t), bool), clf), _CLIP, 1 - _CLIP)
    else:
        e = np.full(len(t), float(propensity))
    seg = (
        pd.Series("all", index=cohort.index)
        if segments is None
        else segments.reindex(cohort["customer_id"]).fillna("new").set_axis(cohort.index)
    )
    out = cohort[["customer_id", "treated", "outcome"]].assign(
        segment=seg.to_numpy(),
        propensity=e,
        cate=m1 - m0,
        pseudo_outcome=m1 - m0 + t * (y - m1) / e - (1 - t) * (y - m0) / (1 - e),
    )
    meta = {
        "treated": treated,
        "control": control,
        "horizon_days": horizon_days,
        "level": level,
        "as_of": str(day.date()),
        "start": None if first_due is None else str(first_due.date()),
        "n_folds": n_folds,
        "propensity": "estimated" if propensity is None else propensity,
        "outcome": f"days late, restricted to {horizon_days}",
    }
    by = _summarise(out, level)
    return ToneEffect(by, out, meta)
