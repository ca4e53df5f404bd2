"""Collections by what acting changes: capacity, the response model against the world's truth, and the replay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import payrisk as pr
from payrisk.dunning import Capacity, ResponseModel, allocate, oracle_planner, rule_planner, simulate_collections

START = pd.Timestamp("2024-06-28")


@pytest.fixture(scope="module")
def book() -> pr.Ledger:
    return pr.datasets.make_ledger(n_customers=1_000, seed=3)


@given(
    n=st.integers(1, 40),
    caps=st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 6)),
    seed=st.integers(0, 10_000),
)
def test_allocate_respects_capacity_one_action_per_account_and_positive_value(n, caps, seed):
    rng = np.random.default_rng(seed)
    rows = pd.DataFrame(
        {
            "customer_id": np.repeat([f"c{i}" for i in range(n)], 3),
            "channel": np.tile(["phone", "sms", "letter"], n),
            "tone": "firm",
            "value": rng.normal(10, 20, 3 * n),
        }
    )
    cap = Capacity(per_day=dict(zip(["phone", "sms", "letter"], caps, strict=True)))
    out = allocate(rows, cap)
    assert out["customer_id"].is_unique
    assert (out["value"] > 0).all()
    for ch, m in out["channel"].value_counts().items():
        assert m <= cap.per_day[ch]
    # nothing worth doing is left undone while its channel has room
    left = rows.loc[~rows["customer_id"].isin(out["customer_id"]) & (rows["value"] > 0)]
    used = out["channel"].value_counts().reindex(["phone", "sms", "letter"]).fillna(0)
    for ch in left["channel"].unique():
        assert used[ch] >= cap.per_day[ch]


def test_allocate_gives_a_slot_to_the_most_valuable_account():
    rows = pd.DataFrame(
        {"customer_id": ["a", "b"], "channel": ["phone", "phone"], "tone": "mild", "value": [100.0, 300.0]}
    )
    out = allocate(rows, Capacity(per_day={"phone": 1, "sms": 0, "letter": 0}))
    assert out["customer_id"].tolist() == ["b"]


def test_replay_oracle_beats_simple_rules_and_planners_keep_to_capacity(book: pr.Ledger):
    snap = book.as_of(START)
    open_ = snap.open_invoices()
    accounts = open_.loc[open_["due_date"] < START, "customer_id"].nunique()
    cap = Capacity.share_of(accounts, 0.05)
    planners = {
        "oracle": oracle_planner(book.truth),
        "largest_first": rule_planner("largest_first"),
        "oldest_first": rule_planner("oldest_first"),
    }
    table = simulate_collections(book, planners, START, cap, business_days=20)
    assert (table["actions"] <= 20 * sum(cap.per_day.values())).all()
    assert table.loc["oracle", "extra_cash_30d"] > table.loc["oldest_first", "extra_cash_30d"]
    assert table.loc["oracle", "extra_cash_30d"] > table.loc["largest_first", "extra_cash_30d"]
    assert (table["extra_cash_90d"] >= 0).all()  # actions only bring payments forward
    again = simulate_collections(book, planners, START, cap, business_days=20)
    pd.testing.assert_frame_equal(table, again)  # common random numbers: a replay is deterministic


def test_replay_refuses_a_planner_over_capacity_twice_or_off_the_book(book: pr.Ledger):
    def greedy(state):
        acc = state.accounts().index
        return pd.DataFrame({"customer_id": acc, "channel": "phone", "tone": "firm"})

    with pytest.raises(pr.errors.ParameterError, match="exceeded the capacity"):
        simulate_collections(book, {"greedy": greedy}, START, Capacity.share_of(100, 0.02), business_days=3)

    def twice(state):
        first = state.accounts().index[0]
        return pd.DataFrame({"customer_id": [first, first], "channel": ["phone", "sms"], "tone": "firm"})

    with pytest.raises(pr.errors.ParameterError, match="twice"):
        simulate_collections(book, {"twice": twice}, START, Capacity.share_of(1000, 0.02), business_days=3)

    def stray(state):
        return pd.DataFrame({"customer_id": ["no-such-customer"], "channel": ["phone"], "tone": "firm"})

    with pytest.raises(pr.errors.ParameterError, match="nothing overdue"):
        simulate_collections(book, {"stray": stray}, START, Capacity.share_of(1000, 0.02), business_days=3)


@pytest.fixture(scope="module")
def response(book: pr.Ledger) -> ResponseModel:
    return ResponseModel(templates="^collector_", n_estimators=80).fit(book, START)


def test_response_model_finds_the_effect_of_calls_and_beats_the_naive_difference(
    response: ResponseModel, book: pr.Ledger
):
    rows = response.rows_
    acted = rows.loc[rows["arm"] != "none"]
    channel, tone = acted["arm"].str.split("/").str[0].to_numpy(), acted["arm"].str.split("/").str[1].to_numpy()
    value = book.truth.action_value(
        acted["invoice_id"], acted["day"].to_numpy(), channel, tone, horizon_days=7,
        earlier=acted["earlier_actions"].to_numpy(),
    )  # fmt: skip
    true = pd.Series(value.to_numpy() / acted["open_amount"].to_numpy(), index=acted.index)
    est = response.effects_.loc[("all", "phone")]
    true_phone = true[channel == "phone"].mean()
    assert est["effect"] > 0 and est["ci_low"] > 0
    # the doubly robust estimate is far closer to the truth than the naive difference (selection: the log
    # works fresh debts)
    assert abs(est["effect"] - true_phone) < 0.5 * abs(est["naive"] - true_phone)
    assert set(response.positivity_.index.get_level_values("arm")) >= {"none", "phone", "sms", "letter"}


def test_off_policy_value_of_a_plan_covers_its_true_value(response: ResponseModel, book: pr.Ledger):
    """Call every invoice up to 60 days overdue, leave the rest: the estimate from the log against the world's
    value of that plan on the same rows (each row's payment without action, plus the call's true answer)."""
    rows = response.rows_

    def plan(r: pd.DataFrame) -> np.ndarray:
        return np.where(r["days_overdue"] <= 60, "phone/firm", "none")

    ope = response.off_policy_value(plan)
    truth = book.truth
    base = truth.invoices.set_index("invoice_id")["paid_without_action"].reindex(rows["invoice_id"]).to_numpy()
    day = rows["day"].to_numpy()
    paid_anyway = base <= day + np.timedelta64(7, "D")
    u = truth.answer_probability(rows["invoice_id"], day, "phone", "firm", rows["earlier_actions"].to_numpy())
    cure = np.where(
        pd.isna(base), rows["customer_id"].map(truth.archetype_at(START)).map(truth.params.collector.cure), 1.0
    )
    acts = plan(rows) != "none"
    true_value = np.mean(paid_anyway) + np.mean(~paid_anyway * acts * u.to_numpy() * cure)
    assert ope.loc["dr", "ci_low"] <= true_value <= ope.loc["dr", "ci_high"], (ope, true_value)
    nothing = response.off_policy_value(lambda r: np.full(len(r), "none"))
    assert nothing.loc["dr", "value"] < ope.loc["dr", "value"]  # calling fresh debts collects more
    with pytest.raises(pr.errors.ParameterError, match="never took"):
        response.off_policy_value(lambda r: np.full(len(r), "fax/mild"))


def test_uplift_is_zero_where_the_log_never_acted(response: ResponseModel, book: pr.Ledger):
    rows = response.rows_.iloc[:200].copy()
    rows["days_overdue"] = 900  # far beyond any logged action
    cust = pr.features.customer_features(
        book.as_of(START), pd.DataFrame({"customer_id": rows["customer_id"], "as_of": rows["day"]})
    ).reset_index(drop=True)
    up = response.uplift(response.state_features(rows.reset_index(drop=True), cust), horizon=7)
    assert (up.to_numpy() == 0).mean() > 0.9
