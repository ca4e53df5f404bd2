"""Credit limits and terms: the appetite holds, limits fall as risk rises, the order-block check by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import payrisk as pr
from payrisk.errors import ParameterError
from payrisk.limits import TERMS_BANDS, limit_check, limit_utilisation, payment_cycle_days, recommend_limits


@settings(max_examples=60, deadline=None)
@given(
    p=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30),
    cycle=st.floats(1.0, 200.0),
    appetite=st.floats(0.0, 10_000.0),
    lgd=st.floats(0.05, 1.0),
)
def test_property_the_expected_loss_never_exceeds_the_appetite(p, cycle, appetite, lgd):
    risk = pd.DataFrame({"customer_id": [f"c{i}" for i in range(len(p))], "p_problem_12m": p, "cycle_days": cycle})
    lim = recommend_limits(risk, appetite=appetite, lgd=lgd, max_limit=1e7)
    assert (lim["expected_loss"] <= appetite + 1e-6).all()
    assert (lim["recommended_limit"] >= 0).all() and (lim["recommended_limit"] % 100 == 0).all()
    # the riskier, the smaller the limit (or the same), and the further down the offers
    order = np.argsort(lim["p_problem_12m"].to_numpy(), kind="stable")
    assert np.all(np.diff(lim["recommended_limit"].to_numpy()[order]) <= 1e-9)
    rank = lim["terms"].map({k: i for i, k in enumerate(TERMS_BANDS)}).to_numpy()[order]
    assert np.all(np.diff(rank) >= 0)


def test_limits_by_hand_caps_and_appetite_per_segment():
    risk = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"], "p_problem_12m": [0.02, 0.30, 0.70, 0.30],
            "cycle_days": [365.0, 365.0, 365.0, 365.0], "requested_limit": [1_000.0, np.nan, 9e9, 9e9],
            "segment": ["reliable", "struggling", "chronic", "reliable"],
        }
    )  # fmt: skip
    lim = recommend_limits(risk, appetite={"reliable": 300.0, "struggling": 150.0, "chronic": 150.0}, lgd=0.5)
    # a year's cycle: pd_cycle = p; the most exposure = appetite / (p * lgd)
    assert lim.loc["a", "recommended_limit"] == 1_000.0  # what it asked for (300 / 0.01 = 30,000 would be allowed)
    assert lim.loc["b", "recommended_limit"] == 1_000.0  # 150 / 0.15, no request given: no cap
    assert lim.loc["d", "recommended_limit"] == 2_000.0  # the same risk, the reliable segment's appetite
    assert lim.loc["c", "recommended_limit"] == 0.0 and lim.loc["c", "terms"] == "prepayment"
    assert lim.loc["b", "terms"] == "direct debit" and "1,000 is the most" in lim.loc["b", "reason"]
    assert "the limit asked for (1,000)" in lim.loc["a", "reason"]


def test_limit_refusals_name_the_fix():
    risk = pd.DataFrame({"customer_id": ["a"], "p_problem_12m": [1.5], "cycle_days": [30.0]})
    with pytest.raises(ParameterError, match=r"rows \[0\]"):
        recommend_limits(risk, appetite=100.0)
    with pytest.raises(ParameterError, match="cycle_days"):
        recommend_limits(risk.drop(columns="cycle_days"), appetite=100.0)
    with pytest.raises(ParameterError, match="segment column"):
        recommend_limits(risk.assign(p_problem_12m=0.1), appetite={"reliable": 1.0})
    with pytest.raises(ParameterError, match="lgd"):
        recommend_limits(risk.assign(p_problem_12m=0.1), appetite=1.0, lgd=0.0)


def _book() -> pr.Ledger:
    inv = pd.DataFrame(
        {
            "invoice_id": ["1", "2", "3"], "customer_id": ["a", "a", "b"],
            "issue_date": ["2024-05-01", "2024-06-01", "2024-06-01"], "due_date": ["2024-05-31", "2024-07-01",
                                                                                  "2024-07-01"],
            "amount": [500.0, 800.0, 100.0], "paid_date": ["2024-06-10", None, None],
        }
    )  # fmt: skip
    limits = pd.DataFrame(
        {"customer_id": ["a", "a"], "valid_from": ["2024-01-01", "2024-06-20"], "credit_limit": [2_000.0, 1_000.0]}
    )
    return pr.Ledger.from_frames(invoices=inv, credit_limits=limits)


def test_the_order_block_check_by_hand():
    ledger = _book()
    orders = pd.DataFrame({"order_id": ["o1", "o2", "o3"], "customer_id": ["a", "a", "b"], "amount": [150, 100, 5]})
    early = limit_check(ledger, "2024-06-15", orders)  # a's limit is 2,000 then; 800 open (the 500 was paid)
    assert early["exposure_before"].tolist() == [800.0, 950.0, 100.0]
    assert early["blocked"].tolist() == [False, False, True]  # b has no limit: no credit yet
    late = limit_check(ledger, "2024-06-30", orders)  # the limit fell to 1,000 on the 20th
    assert late["over_by"].tolist()[:2] == [0.0, 50.0] and late["blocked"].tolist()[:2] == [False, True]
    assert late.loc[1, "reason"] == "over the limit by 50.00" and late.loc[0, "headroom"] == 200.0
    given = limit_check(ledger, "2024-06-30", orders, limits=pd.Series({"a": 5_000.0, "b": 200.0}))
    assert not given["blocked"].any()


def test_order_refusals_name_rows():
    with pytest.raises(ParameterError, match=r"rows \[1\].*'-3'"):
        limit_check(_book(), "2024-06-30", pd.DataFrame({"customer_id": ["a", "a"], "amount": ["10", "-3"]}))
    with pytest.raises(ParameterError, match="amount"):
        limit_check(_book(), "2024-06-30", pd.DataFrame({"customer_id": ["a"]}))


def test_payment_cycle_from_the_history_else_the_terms():
    ledger = _book()
    cycle = payment_cycle_days(ledger, "2024-06-30")
    assert cycle["a"] == 40.0  # issued 1 May, paid 10 June
    assert cycle["b"] == 30.0  # nothing settled: its terms


def _limits_book() -> pr.Ledger:
    """Four customers by hand: a over its limit, b near it, c paid in two currencies, d without a limit; a's limit
    was cut in June and a raise published for July does not exist yet at the end of June."""
    inv = pd.DataFrame(
        {
            "invoice_id": ["1", "2", "3", "4", "5", "6"],
            "customer_id": ["a", "a", "b", "c", "c", "d"],
            "issue_date": ["2024-06-01"] * 6,
            "due_date": ["2024-07-01"] * 6,
            "amount": [700.0, 500.0, 950.0, 400.0, 9_000.0, 300.0],
            "currency": ["EUR", "EUR", "EUR", "EUR", "USD", "EUR"],
        }
    )
    lim = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "c"],
            "valid_from": ["2024-01-01", "2024-06-10", "2024-07-15", "2024-01-01", "2024-01-01"],
            "credit_limit": [5_000.0, 1_000.0, 8_000.0, 1_000.0, 1_000.0],
            "currency": ["EUR", "EUR", "EUR", "EUR", "EUR"],
        }
    )
    return pr.Ledger.from_frames(invoices=inv, credit_limits=lim)


def test_limit_utilisation_by_hand():
    u = limit_utilisation(_limits_book(), "2024-06-30")
    assert u.loc["a", "credit_limit"] == 1_000.0  # the June cut, not the July raise (not published yet)
    assert u.loc["a", "limit_since"] == pd.Timestamp("2024-06-10")
    assert u.loc["a", "exposure"] == 1_200.0 and u.loc["a", "over_by"] == 200.0
    assert u.loc["a", "status"] == "over the limit"
    assert u.loc["b", "utilisation"] == pytest.approx(0.95) and u.loc["b", "status"] == "near the limit"
    # c's USD invoice is not summed into its EUR limit
    assert u.loc["c", "exposure"] == 400.0 and u.loc["c", "status"] == "within the limit"
    assert np.isnan(u.loc["d", "credit_limit"]) and u.loc["d", "status"] == "no limit set"
    assert u.loc["d", "exposure"] == 300.0 and np.isnan(u.loc["d", "utilisation"])
    later = limit_utilisation(_limits_book(), "2024-07-20")
    assert later.loc["a", "credit_limit"] == 8_000.0 and later.loc["a", "status"] == "within the limit"
    with pytest.raises(ParameterError, match="near must lie"):
        limit_utilisation(_limits_book(), "2024-06-30", near=1.5)


def test_the_order_check_counts_the_exposure_in_the_limits_currency():
    orders = pd.DataFrame({"customer_id": ["c"], "amount": [500.0]})
    out = limit_check(_limits_book(), "2024-06-30", orders).iloc[0]
    assert out["exposure_before"] == 400.0 and not out["blocked"]  # the 9,000 USD invoice is not in EUR
