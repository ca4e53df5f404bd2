"""The public API takes the ledger first and names the date ``as_of``; the older forms work for one release with
a DeprecationWarning and give the same result."""

from __future__ import annotations

import pandas as pd
import pytest

import payrisk as pr
from payrisk._compat import is_ledger


@pytest.fixture(scope="module")
def fitted():
    ledger = pr.datasets.make_ledger(n_customers=120, seed=3)
    engine = pr.RiskEngine(n_estimators=20, reasons_top_n=0, forecast_weeks=0).fit(ledger, "2024-06-30")
    return ledger, engine, engine.score(ledger, "2024-07-31")


def test_the_old_order_and_names_still_work_with_a_warning(fitted):
    ledger, engine, worklist = fitted
    policy = pr.dunning.Policy.default()
    snap = ledger.as_of("2024-07-31")
    new = pr.dunning.plan_actions(snap, worklist, policy, "2024-07-31")
    with pytest.warns(DeprecationWarning, match="pass the ledger first"):
        old = pr.dunning.plan_actions(worklist, policy, "2024-07-31", snap)
    pd.testing.assert_frame_equal(old, new)
    with pytest.warns(DeprecationWarning, match="'today' is now 'as_of'"):
        named = pr.dunning.plan_actions(snap, worklist, policy, today="2024-07-31")
    pd.testing.assert_frame_equal(named, new)
    with pytest.warns(DeprecationWarning, match="'history' is now 'ledger'"):
        kw = pr.dunning.plan_actions(scores=worklist, policy=policy, today="2024-07-31", history=snap)
    pd.testing.assert_frame_equal(kw, new)
    fc_new = pr.forecast.cash_inflow(ledger, engine, "2024-07-31", horizon_weeks=4, segments=False)
    with pytest.warns(DeprecationWarning):
        fc_old = pr.forecast.cash_inflow(engine, ledger, "2024-07-31", horizon_weeks=4, segments=False)
    pd.testing.assert_frame_equal(fc_old.periods, fc_new.periods)
    # a worklist with no ledger: None first is the new order, not the old one
    by_list = pr.forecast.cash_inflow(None, worklist, "2024-07-31", horizon_weeks=4, segments=False)
    with pytest.warns(DeprecationWarning):
        old_list = pr.forecast.cash_inflow(worklist, None, "2024-07-31", horizon_weeks=4, segments=False)
    pd.testing.assert_frame_equal(by_list.periods, old_list.periods)


def test_the_new_order_gives_no_warning(fitted, recwarn):
    ledger, engine, worklist = fitted
    pr.dunning.plan_actions(ledger.as_of("2024-07-31"), worklist, pr.dunning.Policy.default(), "2024-07-31")
    pr.report.model_quality(ledger, engine, "2024-09-30", n_boot=10)
    assert not [w for w in recwarn if issubclass(w.category, DeprecationWarning)]


def test_what_counts_as_a_ledger(fitted):
    ledger, engine, worklist = fitted
    assert is_ledger(ledger) and is_ledger(ledger.as_of("2024-07-31"))
    assert not is_ledger(engine) and not is_ledger(worklist) and not is_ledger("2024-07-31")


def test_one_warning_per_old_call_and_a_value_given_twice_is_refused(fitted):
    import warnings

    ledger, _, worklist = fitted
    policy = pr.dunning.Policy.default()
    snap = ledger.as_of("2024-07-31")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pr.dunning.plan_actions(worklist, policy, today="2024-07-31", history=snap)
    said = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(said) == 1 and "'today' is now 'as_of'" in said[0] and "'history' is now 'ledger'" in said[0]
    with pytest.raises(TypeError, match="got both 'today'"):
        pr.dunning.plan_actions(snap, worklist, policy, today="2024-07-31", as_of="2024-07-31")
    with pytest.raises(TypeError, match="multiple values"):
        pr.dunning.plan_actions(worklist, policy, "2024-07-31", snap, as_of="2024-07-31")
