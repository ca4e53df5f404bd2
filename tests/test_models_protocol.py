"""The public protocol of the payment distributions (what engine, forecast and monitor read) agrees with the
distributions computed directly: the fitted scipy distribution's ``sf``/``ppf`` for payment time, the cumulative
weekly probabilities for the payment week."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from payrisk.models import DISTRIBUTIONS, PaymentTimeModel, PaymentWeekModel


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 3000  # calibration rows enough for two location bins with their own scales
    X = pd.DataFrame({"slow": rng.normal(size=n), "days_to_due": rng.integers(0, 60, n).astype(float)})
    days = np.round(np.exp(3 + 0.5 * X["slow"].to_numpy() + rng.normal(scale=0.4, size=n)))
    paid = rng.random(n) < 0.8
    return X, days, paid


@pytest.fixture(scope="module")
def time_model(data) -> PaymentTimeModel:
    X, days, paid = data
    return PaymentTimeModel(n_estimators=20).fit(X, days, paid)


def _scale(m: PaymentTimeModel, loc: np.ndarray) -> np.ndarray:
    """Each row's scale as the attributes document it: ``sigma_`` times its location bin's factor."""
    return m.sigma_ * m.scale_factors_[np.searchsorted(m.scale_edges_, loc)]


def _z(m: PaymentTimeModel, loc: np.ndarray, days: np.ndarray) -> np.ndarray:
    """log(days + 1) standardised by the fitted location and scale, computed here."""
    return (np.log1p(np.maximum(days, 0)) - loc) / _scale(m, loc)


def test_survival_and_quantiles_from_features_or_locations_match_the_distribution(time_model, data):
    X, _, _ = data
    m = time_model
    dist = DISTRIBUTIONS[m.distribution_]
    loc = m.predict_location(X)
    assert len(m.scale_factors_) >= 2  # the scale read per row, from its location's bin
    grid = [0.0, 10.0, 30.0, 90.0]
    s = m.survival_at(loc, grid)
    np.testing.assert_allclose(s, dist.sf(_z(m, loc[:, None], np.array(grid)[None, :])), rtol=1e-12)
    np.testing.assert_array_equal(s, m.survival_at(X, grid))  # from the features: the same numbers
    np.testing.assert_array_equal(s, m.predict_survival(X, grid).to_numpy())
    np.testing.assert_array_equal(m.p_paid_by(loc, grid), 1 - s)
    elapsed = np.arange(len(X)) % 20
    conditional = s / dist.sf(_z(m, loc, elapsed))[:, None]  # S(d | elapsed) = S(d) / S(elapsed) for d >= elapsed
    want = np.where(np.array(grid)[None, :] >= elapsed[:, None], conditional, 1.0)
    np.testing.assert_allclose(m.survival_at(loc, grid, elapsed), want, rtol=1e-12)
    levels = np.array([0.1, 0.5, 0.9])
    q = m.quantiles_at(loc, levels)
    scale = _scale(m, loc)[:, None]
    np.testing.assert_allclose(q, np.maximum(np.expm1(loc[:, None] + scale * dist.ppf(levels)), 0), rtol=1e-12)
    np.testing.assert_array_equal(q, m.predict_quantiles(X, levels).to_numpy())
    np.testing.assert_array_equal(m.predict(X), q[:, 1])
    f5 = dist.cdf(_z(m, loc, np.full(len(X), 5.0)))[:, None]  # P(T <= t | T > 5) = q  <=>  F(t) = F(5) + q (1 - F(5))
    want = np.maximum(np.expm1(loc[:, None] + scale * dist.ppf(f5 + levels * (1 - f5))), 0)
    np.testing.assert_allclose(m.quantiles_at(X, levels, elapsed=5), want, rtol=1e-9)
    np.testing.assert_allclose(m.survival_at(loc, q[:, [1]]), 0.5)  # the median is where half are still unpaid


def test_each_row_by_its_own_days_matches_the_monitors_formula(time_model, data):
    X, _, _ = data
    m = time_model
    days = np.maximum(X["days_to_due"].to_numpy(), 0.0)
    want = 1 - DISTRIBUTIONS[m.distribution_].sf(_z(m, m.predict_location(X), days))
    np.testing.assert_allclose(m.p_paid_by(X, days[:, None])[:, 0], want, rtol=1e-12)
    assert set(DISTRIBUTIONS) == {"normal", "logistic", "extreme"}


def test_weekly_paid_by_from_features_or_probabilities_matches_the_cumulative_weeks(data):
    X, days, paid = data
    week = np.where(paid & (days <= 28), np.maximum(np.ceil(days / 7) - 1, 0), 4).astype(int)
    m = PaymentWeekModel(weeks=4, n_estimators=10).fit(X, week)
    proba = m.predict_proba(X)
    ends = [0, 3.5, 7, 20, 28]
    cdf = np.cumsum(proba, axis=1)  # P(paid by the end of week 1, 2, ...)
    want = np.column_stack(
        [np.zeros(len(X)), cdf[:, 0] / 2, cdf[:, 0], cdf[:, 1] + (20 - 14) / 7 * proba[:, 2], cdf[:, 3]]
    )
    np.testing.assert_allclose(m.p_paid_by(proba, ends), want, rtol=1e-6)
    np.testing.assert_array_equal(m.p_paid_by(X, ends), m.predict_paid_by(X, ends).to_numpy())
    np.testing.assert_array_equal(m.predict(X), np.argmax(proba, axis=1))
