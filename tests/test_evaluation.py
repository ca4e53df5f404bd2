"""Metrics against scikit-learn and hand computations; bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from payrisk import evaluation as ev
from payrisk.backtest import time_backtest
from payrisk.errors import ParameterError


@pytest.fixture
def scores():
    rng = np.random.default_rng(0)
    p = rng.random(2000)
    y = (rng.random(2000) < p).astype(int)
    return y, p


def test_metrics_agree_with_scikit_learn(scores):
    y, p = scores
    assert ev.auc(y, p) == pytest.approx(skm.roc_auc_score(y, p))
    assert ev.gini(y, p) == pytest.approx(2 * skm.roc_auc_score(y, p) - 1)
    assert ev.brier(y, p) == pytest.approx(skm.brier_score_loss(y, p))
    assert ev.log_loss(y, p) == pytest.approx(skm.log_loss(y, p))


def test_ks_by_hand():
    y = np.array([0, 0, 0, 1, 1, 1])
    p = np.array([0.1, 0.2, 0.6, 0.4, 0.7, 0.9])
    # thresholds: at p >= 0.7 tpr 2/3, fpr 0 -> 0.667
    assert ev.ks(y, p) == pytest.approx(2 / 3)


def test_ece_is_small_for_calibrated_and_large_for_shifted(scores):
    y, p = scores
    assert ev.ece(y, p) < 0.03
    assert ev.ece(p, p) == 0.0  # against the true probabilities
    assert ev.ece(y, np.clip(p + 0.2, 0, 1)) > 0.1
    slope, intercept = ev.calibration_slope_intercept(y, p)
    assert slope == pytest.approx(1, abs=0.15) and intercept == pytest.approx(0, abs=0.15)
    z = np.log(p / (1 - p))
    sharp = 1 / (1 + np.exp(-2 * z))
    assert ev.calibration_slope_intercept(y, sharp)[0] < 0.7  # too extreme scores: slope below 1


def test_bootstrap_interval_covers_and_shrinks(scores):
    y, p = scores
    v, lo, hi = ev.bootstrap_ci(ev.auc, y, p, n_boot=100)
    assert lo < v < hi and hi - lo < 0.06
    _, lo2, hi2 = ev.bootstrap_ci(ev.auc, y[:200], p[:200], n_boot=100)
    assert hi2 - lo2 > hi - lo
    groups = np.repeat(np.arange(100), 20)
    _, glo, ghi = ev.bootstrap_ci(ev.auc, y, p, n_boot=100, groups=groups)
    assert glo < v < ghi


def test_bad_probabilities_are_refused():
    with pytest.raises(ParameterError, match=r"\[0, 1\]"):
        ev.auc([0, 1], [0.5, 1.5])
    with pytest.raises(ParameterError, match="same length"):
        ev.brier([0, 1, 1], [0.5, 0.5])


def test_concordance_index_against_brute_force():
    rng = np.random.default_rng(3)
    t = rng.integers(0, 30, 400).astype(float)
    e = rng.random(400) < 0.6
    p = t + rng.normal(0, 10, 400)
    p[::7] = p[1::7][: len(p[::7])] if len(p[1::7]) >= len(p[::7]) else p[::7]  # some tied predictions
    conc = ties = comp = 0.0
    for i in range(len(t)):
        if e[i]:
            later = (t > t[i]) | ((t == t[i]) & ~e)  # censored on the same day: paid later, comparable
            comp += later.sum()
            conc += (p[later] > p[i]).sum()
            ties += (p[later] == p[i]).sum()
    assert ev.concordance_index(t, e, p) == pytest.approx((conc + 0.5 * ties) / comp)
    assert ev.concordance_index(t, e, -p) == pytest.approx(1 - (conc + 0.5 * ties) / comp)


def test_interval_coverage_and_pinball():
    y = np.arange(10.0)
    assert ev.interval_coverage(y, y - 1, y + 1) == 1.0
    assert ev.interval_coverage(y, y + 1, y + 2) == 0.0
    assert ev.pinball_loss(y, y, 0.9) == 0.0
    # under-prediction costs q per unit, over-prediction 1 - q
    assert ev.pinball_loss([10.0], [8.0], 0.9) == pytest.approx(1.8)
    assert ev.pinball_loss([10.0], [12.0], 0.9) == pytest.approx(0.2)


def _censored_sample(n: int = 4000, seed: int = 5):
    rng = np.random.default_rng(seed)
    true_time = rng.exponential(30, n)
    pred = true_time * np.exp(rng.normal(0, 0.5, n))
    cens = rng.exponential(45, n)
    return true_time, pred, np.minimum(true_time, cens), true_time <= cens


def test_uno_c_equals_harrell_without_censoring_and_corrects_for_censoring():
    true_time, pred, t, e = _censored_sample()
    full = ev.concordance_index(true_time, np.ones(len(t), bool), pred)
    assert ev.concordance_index_ipcw(true_time, np.ones(len(t), bool), pred) == pytest.approx(full)
    tau = np.quantile(t[e], 0.8)
    uno = ev.concordance_index_ipcw(t, e, pred, tau=tau)
    full_tau = ev.concordance_index(np.minimum(true_time, tau), true_time < tau, pred)
    assert abs(uno - full_tau) < 0.02


def test_censoring_survival_is_a_decreasing_step_function():
    _, _, t, e = _censored_sample(500)
    times, g = ev.censoring_survival(t, e)
    assert (np.diff(g) <= 1e-12).all() and 0 <= g[-1] <= g[0] <= 1
    assert (np.diff(times) > 0).all() and len(times) == len(g)


def test_integrated_brier_score_orders_predictions():
    true_time, pred, t, e = _censored_sample(3000)
    grid = np.quantile(t, np.linspace(0.1, 0.8, 15))
    informed = np.exp(-grid[None, :] / pred[:, None])  # exponential curves with the predicted mean
    flat = np.tile(np.exp(-grid / 30.0), (len(t), 1))  # the population curve, the same for every row
    wrong = np.exp(-grid[None, :] / (1000 / pred[:, None]))  # ranking reversed
    ibs = [ev.integrated_brier_score(t, e, s, grid) for s in (informed, flat, wrong)]
    assert ibs[0] < ibs[1] < ibs[2]
    # censoring-weighted on censored data ~ the plain score on the uncensored truth
    plain = ev.integrated_brier_score(true_time, np.ones(len(t), bool), flat, grid)
    assert abs(ibs[1] - plain) < 0.01
    with pytest.raises(ParameterError, match="shape"):
        ev.integrated_brier_score(t, e, flat[:, :3], grid)


def test_time_backtest_trains_on_the_past_and_beats_the_prior_late_share(world):
    import payrisk as pr
    from payrisk.models import LatePaymentClassifier

    res = time_backtest(world, ["2024-03-31"], model_factory=lambda: LatePaymentClassifier(n_estimators=120), n_boot=20)
    row = res.set_index("metric")
    assert row.loc["auc", "model"] > row.loc["auc", "baseline"]
    assert row.loc["ece", "model"] < 0.03
    assert row.loc["auc", "ci_low"] <= row.loc["auc", "model"] <= row.loc["auc", "ci_high"]
    # the training rows were all due by the origin; the test rows were issued after it
    assert res["n_train"].iloc[0] == len(pr.labels.late_payment(world, as_of="2024-03-31", mature_only=True))
    with pytest.raises(ParameterError, match="'target' parameter"):
        time_backtest(world, ["2024-03-31"], target="cash")
