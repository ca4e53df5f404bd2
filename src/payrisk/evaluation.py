"""Model metrics with bootstrap confidence intervals.

Classification: AUC, Gini, KS, Brier, log loss, expected calibration error (against labels or against true
probabilities), calibration slope and intercept. Every metric takes ``(y, p)`` and returns a float;
:func:`bootstrap_ci` wraps any of them with a percentile interval.

Survival: Harrell's and Uno's C, the integrated Brier score, the censoring-aware coverage of an interval and the
pinball loss. Their conventions for times tied on a day are scikit-survival's, except where a docstring says
otherwise and gives the exact relation (checked in ``tests/test_survival_metrics_sksurv.py``).

Examples
--------
>>> import numpy as np
>>> from payrisk import evaluation as ev
>>> y = np.array([0, 0, 1, 1]); p = np.array([0.1, 0.4, 0.35, 0.8])
>>> ev.auc(y, p), ev.gini(y, p), ev.ks(y, p)
(0.75, 0.5, 0.5)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from payrisk.errors import ParameterError

__all__ = [
    "auc",
    "bootstrap_ci",
    "brier",
    "calibration_slope_intercept",
    "classification_report",
    "concordance_index",
    "ece",
    "gini",
    "interval_coverage",
    "ks",
    "log_loss",
    "pinball_loss",
]

_EPS = 1e-12


def _check(y: Any, p: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if y.shape != p.shape:
        raise ParameterError(f"y and p must have the same length; got {len(y)} and {len(p)}.")
    if not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
        raise ParameterError("p must hold probabilities in [0, 1] (no missing values).")
    return y, p


def auc(y: Any, p: Any) -> float:
    """Area under the ROC curve (scikit-learn's ``roc_auc_score``).

    Examples
    --------
    >>> auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    >>> auc([0, 1, 1], [0.2, 0.7, 0.9])  # every late invoice scored above every on-time one
    1.0
    """
    y, p = _check(y, p)
    return float(skm.roc_auc_score(y, p))


def gini(y: Any, p: Any) -> float:
    """Gini coefficient, ``2 * AUC - 1`` (the accuracy ratio credit managers quote).

    Examples
    --------
    >>> gini([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.5
    """
    return 2.0 * auc(y, p) - 1.0


def ks(y: Any, p: Any) -> float:
    """Kolmogorov-Smirnov statistic: the largest gap between the score distributions of late and on-time.

    Examples
    --------
    >>> ks([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.5
    """
    y, p = _check(y, p)
    fpr, tpr, _ = skm.roc_curve(y, p)
    return float(np.max(tpr - fpr))


def brier(y: Any, p: Any) -> float:
    """Brier score: mean squared error of the probabilities (lower is better).

    Examples
    --------
    >>> round(brier([0, 1], [0.2, 0.6]), 3)  # ((0.2 - 0)**2 + (0.6 - 1)**2) / 2
    0.1
    """
    y, p = _check(y, p)
    return float(np.mean((p - y) ** 2))


def log_loss(y: Any, p: Any) -> float:
    """Mean negative log-likelihood of the labels (lower is better).

    Examples
    --------
    >>> round(log_loss([0, 1], [0.5, 0.5]), 4)  # log(2): an uninformative 0.5
    0.6931
    """
    y, p = _check(y, p)
    q = np.clip(p, _EPS, 1 - _EPS)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def ece(target: Any, p: Any, n_bins: int = 10, strategy: str = "quantile") -> float:
    """Expected calibration error: the mean gap between predicted and observed rates over bins of ``p``.

    ``target`` may be 0/1 labels, or the true probabilities of a synthetic world (then the gap is measured
    against the truth, without label noise). Bins are quantiles of ``p`` (equal counts) by default, or equal
    width with ``strategy="uniform"``; the gaps are weighted by bin size.

    Examples
    --------
    >>> ece([0.2, 0.2, 0.8, 0.8], [0.2, 0.2, 0.8, 0.8])
    0.0
    >>> ece([0, 1, 1, 1], [0.5, 0.5, 0.5, 0.5])  # one constant score: one bin
    0.25
    """
    t, p = _check(target, p)
    if strategy == "quantile":
        edges = np.unique(np.quantile(p, np.linspace(0, 1, n_bins + 1)))
    elif strategy == "uniform":
        edges = np.linspace(0, 1, n_bins + 1)
    else:
        raise ParameterError(f"The 'strategy' parameter must be 'quantile' or 'uniform'. Got {strategy!r}.")
    if len(edges) < 2:  # every score equal: a single bin
        edges = np.array([edges[0], edges[0]])
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
    count = np.bincount(which, minlength=len(edges) - 1)
    gap = np.abs(
        np.bincount(which, weights=t, minlength=len(count)) - np.bincount(which, weights=p, minlength=len(count))
    )
    return float(gap.sum() / max(len(p), 1))


def calibration_slope_intercept(y: Any, p: Any) -> tuple[float, float]:
    """Slope and intercept of a logistic regression of the labels on ``logit(p)`` (perfect: 1 and 0).

    A slope below 1 means the scores are too extreme (over-fitted); above 1, too timid.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0); p = rng.uniform(0.05, 0.95, 5000); y = rng.random(5000) < p
    >>> slope, intercept = calibration_slope_intercept(y, p)
    >>> bool(abs(slope - 1) < 0.15 and abs(intercept) < 0.15)  # labels drawn from p: calibrated
    True
    """
    from sklearn.linear_model import LogisticRegression

    y, p = _check(y, p)
    z = np.log(np.clip(p, 1e-9, 1 - 1e-9) / np.clip(1 - p, 1e-9, 1 - 1e-9)).reshape(-1, 1)
    lr = LogisticRegression(C=np.inf, max_iter=1000).fit(z, y.astype(int))
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def bootstrap_ci(
    metric: Callable[..., float],
    y: Any,
    p: Any,
    n_boot: int = 200,
    level: float = 0.95,
    seed: int = 0,
    groups: Any = None,
) -> tuple[float, float, float]:
    """The metric with a percentile bootstrap interval: ``(value, low, high)``.

    With ``groups`` (e.g. customer ids) whole groups are resampled, so rows of one customer move together
    (the honest interval when rows are not independent).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0); p = rng.random(500); y = rng.random(500) < p
    >>> v, lo, hi = bootstrap_ci(auc, y, p, n_boot=100)
    >>> lo < v < hi
    True
    """
    y = np.asarray(y)
    p = np.asarray(p)
    rng = np.random.default_rng(seed)
    value = metric(y, p)
    stats = []
    if groups is None:
        idx_sets = (rng.integers(0, len(y), len(y)) for _ in range(n_boot))
    else:
        codes, uniq = pd.factorize(pd.Series(groups))
        members = pd.Series(np.arange(len(y))).groupby(codes).apply(np.asarray).to_numpy()
        idx_sets = (np.concatenate(members[rng.integers(0, len(uniq), len(uniq))]) for _ in range(n_boot))
    for idx in idx_sets:
        try:
            stats.append(metric(y[idx], p[idx]))
        except ValueError:  # a resample with one class only
            continue
    alpha = (1 - level) / 2
    low, high = np.quantile(stats, [alpha, 1 - alpha])
    return float(value), float(low), float(high)


def classification_report(y: Any, p: Any, n_boot: int = 200, seed: int = 0, groups: Any = None) -> pd.DataFrame:
    """Every classification metric with a bootstrap interval, one row each.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1); p = rng.random(300); y = rng.random(300) < p
    >>> list(classification_report(y, p, n_boot=50).index)
    ['auc', 'gini', 'ks', 'brier', 'log_loss', 'ece']
    """
    rows = {}
    for name, fn in (("auc", auc), ("gini", gini), ("ks", ks), ("brier", brier), ("log_loss", log_loss), ("ece", ece)):
        v, lo, hi = bootstrap_ci(fn, y, p, n_boot=n_boot, seed=seed, groups=groups)
        rows[name] = {"value": v, "ci_low": lo, "ci_high": hi}
    return pd.DataFrame(rows).T


# -- survival and interval metrics -------------------------------------------------------------------------
def concordance_index(duration: Any, event: Any, predicted_time: Any, weights: Any = None) -> float:
    """Harrell's C: among comparable pairs (the shorter time is an observed event), the share ordered the
    same way by the predicted times (ties in prediction count one half).

    Ties in time, common with whole days: a row censored on the day another row's event happens is comparable
    with it (censored on day ``k`` means still unpaid at the end of day ``k``, so it paid later); two events, or
    two censorings, on the same day are not comparable. Predictions tie when exactly equal. These are
    scikit-survival's conventions: without ``weights`` the value equals
    ``sksurv.metrics.concordance_index_censored(event, duration, -predicted_time)[0]`` (it takes a risk score,
    higher for an earlier event; its ``tied_tol=1e-8`` also ties predictions closer than 1e-8).

    Computed in O(n log n) with a Fenwick tree over the ranks of the predictions (a loop over rows in
    evaluation code, not on a scoring path).

    Parameters
    ----------
    duration : array
        Observed times: the event time where ``event``, the censoring time otherwise.
    event : array of bool
        True where the event (the payment) was observed.
    predicted_time : array
        Predicted times (or any score that is higher for a later event).
    weights : array, optional
        A weight per row, applied to every comparable pair whose shorter time is that row's event
        (:func:`concordance_index_ipcw` passes its inverse-probability-of-censoring weights).

    Returns
    -------
    float
        The weighted share of concordant comparable pairs, in [0, 1] (0.5 is random ordering).

    Examples
    --------
    >>> concordance_index([1, 2, 3, 4], [1, 1, 1, 0], [1, 2, 3, 4])
    1.0
    >>> concordance_index([1, 2, 3, 4], [1, 1, 1, 0], [4, 3, 2, 1])
    0.0
    """
    t = np.asarray(duration, dtype=np.float64)
    e = np.asarray(event, dtype=bool)
    p = np.asarray(predicted_time, dtype=np.float64)
    w = np.ones(len(t)) if weights is None else np.asarray(weights, dtype=np.float64)
    if not (len(t) == len(e) == len(p) == len(w)):
        raise ParameterError("duration, event and predicted_time must have the same length.")
    ranks = np.unique(p, return_inverse=True)[1] + 1  # 1-based ranks of the predictions
    size = int(ranks.max()) if len(ranks) else 0
    tree = np.zeros(size + 1, dtype=np.int64)

    def add(i: int) -> None:
        while i <= size:
            tree[i] += 1
            i += i & -i

    def count(i: int) -> int:  # how many inserted ranks are <= i
        s = 0
        while i > 0:
            s += tree[i]
            i -= i & -i
        return int(s)

    order = np.argsort(-t, kind="stable")  # longest first: insert rows with a longer time before querying
    conc = ties = comparable = 0.0
    inserted = 0
    k = 0
    while k < len(order):  # rows with equal times form one group: only its censored rows are comparable with its events
        j = k
        while j < len(order) and t[order[j]] == t[order[k]]:
            j += 1
        group = order[k:j]
        for i in group[~e[group]]:  # censored on the same day as an event: still open after it, so comparable
            add(int(ranks[i]))
            inserted += 1
        for i in group[e[group]]:
            if w[i] > 0:
                below = count(ranks[i] - 1)
                same = count(ranks[i]) - below
                above = inserted - below - same
                conc += w[i] * above  # the later payer was predicted later: concordant
                ties += w[i] * same
                comparable += w[i] * inserted
        for i in group[e[group]]:
            add(int(ranks[i]))
        inserted += int(e[group].sum())
        k = j
    if comparable == 0:
        raise ParameterError("concordance_index: no comparable pairs (no observed event before another time).")
    return float((conc + 0.5 * ties) / comparable)


def interval_coverage(y: Any, low: Any, high: Any, event: Any = None) -> float:
    """Share of observed values inside their predicted interval ``[low, high]``.

    With ``event`` (False where ``y`` is a censoring time: the true value is only known to exceed it) censored
    rows count too where they can be decided: censored after ``high`` is a miss (the value lies above the
    interval); censored at or before ``high`` is undecided and left out. Dropping the censored rows instead
    would keep only the early payers of a recent cohort and overstate the coverage of its upper bound.

    Examples
    --------
    >>> interval_coverage([5, 20, 40], [0, 0, 0], [30, 30, 30])
    0.6666666666666666
    >>> interval_coverage([5, 20, 40], [0, 0, 0], [30, 30, 30], event=[True, False, False])  # 20: undecided
    0.5
    """
    y, lo, hi = (np.asarray(a, dtype=np.float64) for a in (y, low, high))
    inside = (y >= lo) & (y <= hi)
    if event is None:
        return float(np.mean(inside))
    e = np.asarray(event, dtype=bool)
    decided = e | (y > hi)
    if not decided.any():
        raise ParameterError("No row decides the coverage: every censored time lies inside its interval.")
    return float(np.mean((inside & e)[decided]))


def pinball_loss(y: Any, predicted: Any, q: float) -> float:
    """Mean pinball (quantile) loss of ``predicted`` as the ``q`` quantile of ``y`` (lower is better).

    Examples
    --------
    >>> pinball_loss([10, 20], [15, 15], 0.5)  # half the mean absolute error for the median
    2.5
    >>> round(pinball_loss([20], [10], 0.9), 2), round(pinball_loss([10], [20], 0.9), 2)  # P90: too low costs more
    (9.0, 1.0)
    """
    y, pr_ = np.asarray(y, dtype=np.float64), np.asarray(predicted, dtype=np.float64)
    diff = y - pr_
    return float(np.mean(np.maximum(q * diff, (q - 1) * diff)))


def censoring_survival(duration: Any, event: Any) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier estimate of the censoring distribution G(t) = P(C > t): ``(times, G)`` as a step function.

    Used as inverse-probability-of-censoring weights (Uno's C, the integrated Brier score). On a day with both
    events and censorings the events come first: a row that paid on day ``t`` is not at risk of being censored on
    day ``t`` (the reverse Kaplan-Meier of ``sksurv.nonparametric.CensoringDistributionEstimator``, whose values it
    equals), the convention under which a row censored on day ``t`` is known to pay after day ``t``.

    Returns
    -------
    times : ndarray
        The distinct observed times, increasing.
    G : ndarray
        G at each of ``times`` (right-continuous: censorings on that day included).

    Examples
    --------
    >>> times, g = censoring_survival([1, 1, 2, 3], [True, False, False, True])
    >>> times.tolist(), g.tolist()  # day 1: one of the 3 rows not paid that day is censored
    ([1.0, 2.0, 3.0], [0.6666666666666667, 0.33333333333333337, 0.33333333333333337])
    """
    t = np.asarray(duration, dtype=np.float64)
    censored = ~np.asarray(event, dtype=bool)
    times = np.unique(t)
    at_risk = len(t) - np.searchsorted(np.sort(t), times, side="left")
    n_cens = np.bincount(np.searchsorted(times, t[censored]), minlength=len(times))
    n_events = np.bincount(np.searchsorted(times, t[~censored]), minlength=len(times))
    still_open = at_risk - n_events  # a row paid on day t was not at risk of being censored on day t
    g = np.cumprod(1 - n_cens / np.maximum(still_open, 1))
    return times, g


def _g_at(times: np.ndarray, g: np.ndarray, x: np.ndarray, left: bool) -> np.ndarray:
    """G evaluated at ``x`` (``left=True``: the left limit G(x-))."""
    idx = np.searchsorted(times, x, side="left" if left else "right") - 1
    return np.where(idx >= 0, g[np.clip(idx, 0, len(g) - 1)], 1.0)


def concordance_index_ipcw(duration: Any, event: Any, predicted_time: Any, tau: float | None = None) -> float:
    """Uno's C: Harrell's C with each comparable pair weighted by ``1 / G(T_i-)**2``, over times below ``tau``.

    Unlike Harrell's C it does not depend on the censoring distribution. Without censoring it equals Harrell's C.
    ``G`` is :func:`censoring_survival` of the rows themselves; pairs are those of :func:`concordance_index`.

    Tie convention, deliberately different from scikit-survival's: the weight takes ``G`` just before the event
    day, ``G(T_i-) = P(C >= T_i)``, the probability that the event and its comparable rows (those still open at
    the end of day ``T_i``, censored that day included) are seen; ``sksurv.metrics.concordance_index_ipcw`` takes
    ``G(T_i)``, which also counts that day's censorings. With whole days, where censorings fall on event days, its
    weights are too large for events on a day with censorings; ``G(T_i-)`` is also never 0 (sksurv raises where
    the last day has only censorings besides the events). The two agree exactly once each censoring time is moved
    later by a ``d`` smaller than the gap between distinct times (``d = 0.5`` for whole days)::

        y = sksurv.util.Surv.from_arrays(event, duration + d * ~event)
        sksurv.metrics.concordance_index_ipcw(y, y, -predicted_time, tau)[0]  # == this function's value

    Parameters
    ----------
    duration, event, predicted_time
        As for :func:`concordance_index`.
    tau : float, optional
        Only events before ``tau`` count (pairs whose shorter time is at least ``tau`` get weight 0).

    Returns
    -------
    float

    Examples
    --------
    >>> concordance_index_ipcw([1, 2, 3, 4], [1, 1, 1, 1], [1, 2, 3, 4])
    1.0
    """
    t = np.asarray(duration, dtype=np.float64)
    e = np.asarray(event, dtype=bool)
    times, g = censoring_survival(t, e)
    gi = _g_at(times, g, t, left=True)
    w = np.where(e & (gi > 0), 1.0 / np.maximum(gi, 1e-12) ** 2, 0.0)
    if tau is not None:
        w = np.where(t < tau, w, 0.0)
    return concordance_index(t, e, predicted_time, weights=w)


def integrated_brier_score(duration: Any, event: Any, survival: Any, times: Any) -> float:
    """Integrated Brier score of predicted survival curves under censoring (Graf et al. 1999, IPCW).

    At each time ``t`` of ``times``: rows with an event by ``t`` count ``S(t)**2 / G(T_i-)``, rows still open
    after ``t`` count ``(1 - S(t))**2 / G(t)``, rows censored by ``t`` count 0; the mean over all rows is the
    Brier score at ``t``, integrated over ``times`` by the trapezoid rule and divided by their span. ``G`` is
    :func:`censoring_survival` of the rows themselves.

    Tie convention, deliberately different from scikit-survival's: an event's weight takes ``G`` just before its
    day, ``G(T_i-) = P(C >= T_i)``, the probability that the event is seen when events come before censorings on
    the same day; ``sksurv.metrics.integrated_brier_score`` takes ``G(T_i)``, which also counts that day's
    censorings. With whole days this overweights the events on days with censorings, a bias of the score itself:
    scoring the true survival curves of simulated daily payment times (200 samples of 3,000 rows, 22% and 32%
    censored), ``G(T_i)`` overstates the uncensored score by 0.7% and 1.2%, ``G(T_i-)`` by 0.1% and 0.15% (within
    two standard errors of none). The two agree exactly once each censoring time and each of ``times`` is moved
    later by a ``d`` smaller than the gap between distinct times and grid points (``d = 0.5`` for whole days)::

        y = sksurv.util.Surv.from_arrays(event, duration + d * ~event)
        sksurv.metrics.integrated_brier_score(y, y, survival, times + d)  # == this function's value

    Parameters
    ----------
    duration, event : array
        Observed times and event flags of the test rows.
    survival : array, shape (n_rows, n_times)
        Predicted P(T > t) for each row at each of ``times``.
    times : array
        Increasing evaluation times, inside the follow-up.

    Returns
    -------
    float
        The time-average of the Brier score over ``times`` (lower is better; 0.25 is an uninformative 0.5).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([1.0, 2, 3, 4]); e = np.ones(4, bool); grid = np.array([1.5, 2.5, 3.5])
    >>> perfect = (t[:, None] > grid[None, :]).astype(float)
    >>> integrated_brier_score(t, e, perfect, grid)
    0.0
    """
    t = np.asarray(duration, dtype=np.float64)
    e = np.asarray(event, dtype=bool)
    s = np.asarray(survival, dtype=np.float64)
    grid = np.asarray(times, dtype=np.float64)
    if s.shape != (len(t), len(grid)):
        raise ParameterError(f"survival must have shape (n_rows, n_times) = ({len(t)}, {len(grid)}); got {s.shape}.")
    ct, g = censoring_survival(t, e)
    g_ti = np.maximum(_g_at(ct, g, t, left=True), 1e-12)[:, None]
    g_t = np.maximum(_g_at(ct, g, grid, left=False), 1e-12)[None, :]
    died = (t[:, None] <= grid[None, :]) & e[:, None]
    alive = t[:, None] > grid[None, :]
    bs = (s**2 * died / g_ti + (1 - s) ** 2 * alive / g_t).mean(axis=0)
    if len(grid) == 1:
        return float(bs[0])
    return float(np.trapezoid(bs, grid) / (grid[-1] - grid[0]))


def __getattr__(name: str) -> Any:
    """``time_backtest`` moved to :mod:`payrisk.backtest` (it refits models, a layer above the metrics); the old
    name works for one release with a ``DeprecationWarning``."""
    if name == "time_backtest":
        import warnings

        from payrisk import backtest

        warnings.warn(
            "payrisk.evaluation.time_backtest moved to payrisk.backtest.time_backtest; the old name goes in the next "
            "release.",
            DeprecationWarning,
            stacklevel=2,
        )
        return backtest.time_backtest
    raise AttributeError(f"module 'payrisk.evaluation' has no attribute {name!r}")
