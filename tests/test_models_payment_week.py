"""PaymentWeekModel: the weekly payment distribution of open items, against the generator's truth."""

from __future__ import annotations

import copy
import functools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import payrisk as pr
from payrisk._training import PAY_DAY_FEATURES
from payrisk.errors import ParameterError
from payrisk.forecast import _paid_by
from payrisk.labels import cash_weeks, payment_week
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


def test_the_weekly_model_reads_where_the_pay_day_falls_and_the_payment_time_model_does_not():
    _, engine, _, _ = _world()
    assert set(PAY_DAY_FEATURES) <= set(engine.week_model_.feature_names_in_)
    assert not set(PAY_DAY_FEATURES) & set(engine.time_model_.feature_names_in_)
    assert "days_to_due" in engine.time_model_.feature_names_in_


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


def test_cash_weights_put_a_partial_payment_in_its_own_week():
    """Half the items pay 40% of their amount in week 2 and settle in week 5, the others settle in week 3: fitted on
    the settlement week alone, the model expects all the cash of the first kind in week 5; weighted by cash
    (:func:`payrisk.labels.cash_weeks`), 40% in week 2 and 60% in week 5, the share each week really brings."""
    rng = np.random.default_rng(7)
    n, weeks = 4000, 6
    split = rng.random(n) < 0.5
    week = np.where(split, 4, 2)  # 0-based: settled in week 5 or week 3
    part_days = np.where(split, rng.integers(8, 15, n), np.nan)  # a partial payment in week 2
    part_share = np.where(split, 0.4, 0.0)
    X = pd.DataFrame({"split": split.astype(float), "noise": rng.random(n)})
    row, label, weight = cash_weeks(week, part_days, part_share, weeks)
    cash = PaymentWeekModel(weeks=weeks, n_estimators=100).fit(X.iloc[row], label, sample_weight=weight)
    settled = PaymentWeekModel(weeks=weeks, n_estimators=100).fit(X, week)
    first = X["split"] == 1.0
    np.testing.assert_allclose(cash.predict_proba(X[first]).mean(axis=0)[[1, 4]], [0.4, 0.6], atol=0.03)
    assert settled.predict_proba(X[first]).mean(axis=0)[4] > 0.95
    np.testing.assert_allclose(cash.predict_proba(X[~first]).mean(axis=0)[2], 1.0, atol=0.03)
    with pytest.raises(ParameterError, match="sample_weight must be finite and not negative: 1 are not"):
        PaymentWeekModel(weeks=weeks).fit(X, week, sample_weight=np.r_[-1.0, np.ones(n - 1)])


def test_a_weight_of_k_is_k_copies_of_the_row():
    """With every row in the trees (no row or column sampling, no early-stopping slice), fitting with integer
    weights gives the same model as repeating each row that many times (a weight of 0 leaves it out)."""
    rng = np.random.RandomState(42)
    X, week, w = rng.rand(40, 5), rng.randint(0, 3, 40), rng.randint(0, 5, 40)
    size = {"weeks": 2, "n_estimators": 5, "valid_fraction": 0.0, "subsample": 1.0, "colsample_bytree": 1.0}
    weighted = PaymentWeekModel(**size).fit(X, week, sample_weight=w).predict_proba(X)
    repeated = PaymentWeekModel(**size).fit(X.repeat(w, axis=0), week.repeat(w)).predict_proba(X)
    np.testing.assert_allclose(weighted, repeated, atol=1e-6)
    assert not np.allclose(weighted, PaymentWeekModel(**size).fit(X, week).predict_proba(X), atol=1e-3)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(-1, 5),
            st.one_of(st.none(), st.floats(0, 100, allow_nan=False)),
            st.floats(0, 1, allow_nan=False),
        ),
        max_size=40,
    )
)
def test_cash_weeks_keep_every_known_item_once_in_weight(items):
    """Whatever the partial payments: every known item's weights sum to 1, each in (0, 1], labels in 0..weeks,
    an unknown item is left out, and the rows stay in their order."""
    week = np.array([w for w, _, _ in items], dtype=np.int64)
    days = np.array([np.nan if d is None else d for _, d, _ in items], dtype=np.float64)
    share = np.array([s for _, _, s in items], dtype=np.float64)
    row, label, weight = cash_weeks(week, days, share, weeks=5)
    assert (np.diff(row) >= 0).all() and ((label >= 0) & (label <= 5)).all()
    assert ((weight > 0) & (weight <= 1)).all()
    total = np.bincount(row, weights=weight, minlength=len(items))
    np.testing.assert_allclose(total, (week >= 0).astype(float), atol=1e-12)
