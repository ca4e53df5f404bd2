"""The public protocol of the payment distributions (what engine, forecast and monitor read) agrees with the
private names it replaces, which stay as aliases until their callers switch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from payrisk.models import DISTRIBUTIONS, PaymentTimeModel, PaymentWeekModel


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame({"slow": rng.normal(size=n), "days_to_due": rng.integers(0, 60, n).astype(float)})
    days = np.round(np.exp(3 + 0.5 * X["slow"].to_numpy() + rng.normal(scale=0.4, size=n)))
    paid = rng.random(n) < 0.8
    return X, days, paid


@pytest.fixture(scope="module")
def time_model(data) -> PaymentTimeModel:
    X, days, paid = data
    return PaymentTimeModel(n_estimators=20).fit(X, days, paid)


def test_survival_and_quantiles_from_features_or_locations_match_the_old_names(time_model, data):
    X, _, _ = data
    m = time_model
    loc = m.predict_location(X)
    grid = [0.0, 10.0, 30.0, 90.0]
    s = m.survival_at(loc, grid)
    np.testing.assert_array_equal(s, m._survival_at(loc, grid))
    np.testing.assert_array_equal(s, m.survival_at(X, grid))  # from the features: the same numbers
    np.testing.assert_array_equal(s, m.predict_survival(X, grid).to_numpy())
    np.testing.assert_array_equal(m.p_paid_by(loc, grid), 1 - s)
    elapsed = np.arange(len(X)) % 20
    np.testing.assert_array_equal(m.survival_at(loc, grid, elapsed), m._survival_at(loc, grid, elapsed))
    levels = np.array([0.1, 0.5, 0.9])
    q = m.quantiles_at(loc, levels)
    np.testing.assert_array_equal(q, m._quantiles_at(loc, levels))
    np.testing.assert_array_equal(q, m.predict_quantiles(X, levels).to_numpy())
    np.testing.assert_array_equal(m.predict(X), q[:, 1])
    np.testing.assert_array_equal(m.quantiles_at(X, levels, elapsed=5), m._quantiles_at(loc, levels, elapsed=5))


def test_each_row_by_its_own_days_matches_the_monitors_formula(time_model, data):
    X, _, _ = data
    m = time_model
    days = np.maximum(X["days_to_due"].to_numpy(), 0.0)
    old = 1 - DISTRIBUTIONS[m.distribution_].sf(m._z(m.predict_location(X), days))  # what monitor computes today
    np.testing.assert_array_equal(m.p_paid_by(X, days[:, None])[:, 0], old)
    from payrisk.models._payment_time import _DISTS

    assert _DISTS is DISTRIBUTIONS and set(DISTRIBUTIONS) == {"normal", "logistic", "extreme"}


def test_weekly_paid_by_from_features_or_probabilities_matches_the_old_name(data):
    X, days, paid = data
    week = np.where(paid & (days <= 28), np.maximum(np.ceil(days / 7) - 1, 0), 4).astype(int)
    m = PaymentWeekModel(weeks=4, n_estimators=10).fit(X, week)
    proba = m.predict_proba(X)
    ends = [0, 3.5, 7, 20, 28]
    np.testing.assert_array_equal(m.p_paid_by(proba, ends), m._paid_by(proba, ends))
    np.testing.assert_array_equal(m.p_paid_by(X, ends), m.predict_paid_by(X, ends).to_numpy())
    np.testing.assert_array_equal(m.predict(X), np.argmax(proba, axis=1))
