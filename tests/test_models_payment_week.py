"""PaymentWeekModel: the weekly payment distribution of open items, against the generator's truth."""

from __future__ import annotations

import copy
import functools

import numpy as np
import pandas as pd
import pytest

import payrisk as pr
from payrisk.errors import ParameterError
from payrisk.forecast import _paid_by
from payrisk.labels import payment_week
from payrisk.models import PaymentWeekModel

ORIGIN = pd.Timestamp("2024-06-30")
ENDS = np.arange(1, 14) * 7


@functools.lru_cache(maxsize=1)
def _world() -> tuple[pr.Ledger, pr.RiskEngine, pd.DataFrame, pd.DataFrame]:
    ledger = pr.datasets.make_ledger(n_customers=600, seed=11)
    engine = pr.RiskEngine(history_days=365, n_estimators=150).fit(ledger, ORIGIN)
    _, _, X, inv = engine.open_items(ledger, ORIGIN)
    return ledger, engine, X, inv


def test_weekly_cash_is_closer_to_the_truth_than_the_survival_curve_alone():
    ledger, engine, X, inv = _world()
    assert engine.week_model_ is not None and engine.week_model_.weeks == 13
    amount = inv["open_amount"].to_numpy()
    true_paid = ledger.truth.paid_within(inv.index, ORIGIN, ENDS).to_numpy()
    true_cash = amount @ np.diff(true_paid, axis=1, prepend=0)
    with_weeks = amount @ np.diff(_paid_by(engine, X, ENDS), axis=1, prepend=0)
    survival_only = copy.copy(engine)
    survival_only.week_model_ = None
    without = amount @ np.diff(_paid_by(survival_only, X, ENDS), axis=1, prepend=0)
    err_with = np.abs(with_weeks - true_cash).sum() / true_cash.sum()
    err_without = np.abs(without - true_cash).sum() / true_cash.sum()
    assert err_with < 0.15, err_with
    assert err_with < err_without, (err_with, err_without)


def test_probabilities_and_curves_are_proper():
    _, engine, X, _ = _world()
    m = engine.week_model_
    p = m.predict_proba(X)
    assert p.shape == (len(X), 14) and np.allclose(p.sum(axis=1), 1.0) and (p >= 0).all()
    cdf = m.predict_paid_by(X, [0, 3.5, 7, 50, 91]).to_numpy()
    assert np.allclose(cdf[:, 0], 0.0) and np.allclose(cdf[:, 2], p[:, 0], atol=1e-6)
    assert np.allclose(cdf[:, 1], p[:, 0] / 2, atol=1e-6)  # linear within a week
    assert (np.diff(cdf, axis=1) >= -1e-9).all() and np.allclose(cdf[:, -1], 1 - p[:, -1], atol=1e-6)
    with pytest.raises(ParameterError, match="days must lie"):
        m.predict_paid_by(X, [92])


def test_beyond_its_weeks_the_forecast_continues_with_the_survival_model():
    _, engine, X, _ = _world()
    ends = np.array([7, 91, 120, 200], dtype=np.int64)
    cdf = _paid_by(engine, X, ends)
    assert (np.diff(cdf, axis=1) >= -1e-9).all() and (cdf <= 1).all()
    assert np.allclose(cdf[:, 1], engine.week_model_.p_paid_by(engine.week_model_.predict_proba(X), [91])[:, 0])


def test_labels_leave_unfinished_cutoffs_out_and_fit_refuses_them():
    week = payment_week([5, 5, 95, 30], [True, True, True, False], [10, 91, 95, 91], weeks=13)
    assert week.tolist() == [-1, 0, 13, 13]  # paid early but followed 10 days only: unknown, not "fast"
    X = pd.DataFrame({"x": np.arange(300.0)})
    with pytest.raises(ParameterError, match="Leave out the rows"):
        PaymentWeekModel(weeks=4).fit(X, np.r_[np.full(299, 1), -1])
    with pytest.raises(ParameterError, match="'weeks'"):
        PaymentWeekModel(weeks=0).fit(X, np.zeros(300))


def test_save_and_load_predict_the_same(tmp_path):
    _, engine, X, _ = _world()
    folder = engine.week_model_.save(tmp_path / "week")
    back = PaymentWeekModel.load(folder)
    assert np.array_equal(back.predict_proba(X), engine.week_model_.predict_proba(X))
    assert back.weeks == 13 and back.classes_.tolist() == list(range(14))


def test_the_hazard_form_recovers_a_known_weekly_distribution_and_round_trips(tmp_path):
    """form="hazard": one binary tree per round on invoice-weeks. On rows whose weekly hazard is known (0.1 or 0.4
    by a feature), the predicted distribution is the geometric one of each group, proper, and equal after a save."""
    rng = np.random.default_rng(3)
    n, weeks = 6000, 6
    fast = rng.random(n) < 0.5
    hazard = np.where(fast, 0.4, 0.1)
    week = np.minimum(rng.geometric(hazard) - 1, weeks)  # 0-based week paid; `weeks` = later
    X = pd.DataFrame({"fast": fast.astype(float), "noise": rng.random(n)})
    model = PaymentWeekModel(weeks=weeks, form="hazard", n_estimators=200).fit(X, week)
    P = model.predict_proba(X)
    assert P.shape == (n, weeks + 1) and np.allclose(P.sum(axis=1), 1) and (P >= 0).all()
    for flag, h in ((1.0, 0.4), (0.0, 0.1)):
        expected = np.append(h * (1 - h) ** np.arange(weeks), (1 - h) ** weeks)
        np.testing.assert_allclose(P[X["fast"] == flag].mean(axis=0), expected, atol=0.02)
    back = PaymentWeekModel.load(model.save(tmp_path / "hazard"))
    assert back.form == "hazard" and np.array_equal(back.predict_proba(X.iloc[:50]), P[:50])
