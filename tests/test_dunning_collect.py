"""Collections by what acting changes: capacity, the response model against the world's truth, and the replay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import payrisk as pr
from payrisk.dunning import (
    Capacity,
    ResponseModel,
    allocate,
    oracle_planner,
    plan_collections,
    rule_planner,
    simulate_collections,
)

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


def test_replay_expected_cash_is_the_mean_of_the_realised_cash_over_draws():
    """The replay's expected extra cash (each action's true value given the path, summed) is an unbiased estimate
    of the realised extra cash: over independent draws of the answers the two means agree within their noise,
    and the expected figure varies far less from draw to draw."""
    led = pr.datasets.make_ledger(n_customers=200, seed=5)
    cap = Capacity.share_of(400, 0.05)
    runs = pd.concat(
        [
            simulate_collections(led, {"largest": rule_planner("largest_first")}, START, cap, business_days=8, seed=s)
            for s in range(24)
        ]
    )
    realised, expected = runs["extra_cash_30d"], runs["expected_extra_cash_30d"]
    se = np.sqrt(realised.var() / len(runs) + expected.var() / len(runs))
    assert abs(realised.mean() - expected.mean()) < 3 * se, (realised.describe(), expected.describe())
    assert expected.std() < 0.5 * realised.std()
    assert expected.mean() > 0


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
    # each channel's effect on the treated, read from its response window: the interval holds the world's value
    for c in ("phone", "sms", "letter"):
        row = response.effects_.loc[("all", c)]
        assert row["ci_low"] <= true[channel == c].mean() <= row["ci_high"], (c, row, true[channel == c].mean())
    # both estimates are far closer to the truth than the naive difference (selection: the log works fresh debts)
    assert abs(est["effect"] - true_phone) < 0.5 * abs(est["naive"] - true_phone)
    assert abs(est["dr"] - true_phone) < 0.5 * abs(est["naive"] - true_phone)
    assert set(response.positivity_.index.get_level_values("arm")) >= {"none", "phone", "sms", "letter"}


def test_answer_chance_recovers_the_worlds_response(response: ResponseModel, book: pr.Ledger):
    """The answer model against the world's true answer chance on the logged actions: it ranks them (older debts,
    repeats and tired customers answer less), gets the channels' order right and its level near the truth."""
    rows = response.rows_.loc[response.rows_["arm"] != "none"].reset_index(drop=True)
    cust = pr.features.customer_features(
        book.as_of(START),
        pd.DataFrame({"customer_id": rows["customer_id"], "as_of": rows["day"] - pd.Timedelta(1, "D")}),
    ).reset_index(drop=True)
    X = response.state_features(rows, cust)
    u = response.answer_probability(X)
    est = u.to_numpy()[np.arange(len(rows)), u.columns.get_indexer(rows["arm"])]
    arm = rows["arm"].str.split("/")
    true = book.truth.answer_probability(
        rows["invoice_id"], rows["day"].to_numpy(), arm.str[0].to_numpy(), arm.str[1].to_numpy(),
        rows["earlier_actions"].to_numpy(),
    ).to_numpy()  # fmt: skip
    assert np.corrcoef(est, true)[0, 1] > 0.4
    by = pd.DataFrame({"est": est, "true": true}).groupby(arm.str[0].to_numpy()).mean()
    assert by["est"].idxmax() == by["true"].idxmax() == "phone"
    assert abs(est.mean() - true.mean()) < 0.5 * true.mean()
    # the uplift on P(paid within 30 days) is the answer chance times the chance of not paying anyway: below it
    up = response.uplift(X, horizon=30)
    assert (up.to_numpy() <= u.to_numpy() + 1e-12).all() and (up.to_numpy() >= 0).all()
    assert set(response.support_.index) == {"phone", "sms", "letter"}


def test_response_windows_find_the_days_the_worlds_answers_pay(response: ResponseModel, book: pr.Ledger):
    """The world pays an answered action on the next business day from its channel's response days (a call's
    promise 3 days on, a letter's 7): the window learned from the log starts there and ends within a weekend and
    a holiday of it, and no answer is counted before it."""
    windows = response.response_windows_
    assert set(windows.index) == {"phone", "sms", "letter"}
    answered = {d: response.answered_within(d) for d in range(1, response.answer_days + 1)}
    for channel, days in book.truth.params.collector.response_days.items():
        assert windows.loc[channel, "first_day"] == days, windows
        assert days <= windows.loc[channel, "last_day"] <= days + 3, windows
        assert days == 1 or answered[days - 1][channel] == 0.0
        assert answered[min(days + 3, response.answer_days)][channel] == pytest.approx(1.0)
        assert all(answered[d][channel] <= answered[d + 1][channel] for d in range(1, response.answer_days))


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


def _worklist(ledger: pr.Ledger, day: pd.Timestamp) -> pd.DataFrame:
    """What plan_collections reads of RiskEngine.score: the open items with their customer, amount and due date."""
    return ledger.as_of(day).open_invoices().set_index("invoice_id")[["customer_id", "open_amount", "due_date"]]


def test_plan_collections_acts_within_capacity_by_gain_and_routes_hopeless_debts(response, book):
    day = pd.Timestamp("2024-07-03")
    cap = Capacity(per_day={"phone": 6, "sms": 4, "letter": 4})
    plan = plan_collections(book.as_of(day), _worklist(book, day), response, cap, day)
    assert plan["customer_id"].is_unique  # one row per account
    send = plan.loc[plan["status"] == "send"]
    assert len(send) > 0 and all(send["channel"].value_counts().get(ch, 0) <= n for ch, n in cap.per_day.items())
    assert send["template"].str.startswith("collector_").all() and (send["expected_extra_cash"] > 0).all()
    # sendable first, then in action order (the most expected extra cash first)
    assert plan["status"].iloc[: len(send)].eq("send").all()
    assert send["expected_extra_cash"].is_monotonic_decreasing
    waiting = plan.loc[plan["status"] == "wait", "expected_extra_cash"]
    assert waiting.empty or waiting.max() <= send["expected_extra_cash"].max()
    # the debts no action helps go to legal/agency or write-off review, and they are the old ones
    routed = plan.loc[plan["status"] == "route"]
    assert set(routed["route"]) <= {"formal_notice", "legal_or_agency", "write_off_review"} and len(routed) > 0
    # legal only after a formal notice: an account routed to legal had one on an invoice of its overdue book
    con = book.as_of(day).contacts
    steps = pr.dunning._plan._step_table(pr.dunning.Policy.default())
    templates = {*steps.loc[steps["formal_notice"], "template"], "collector_letter_strict"}
    notices = con.loc[con["template"].isin(templates) & (con["sent_at"] < day), "invoice_id"]
    to_legal = routed.loc[routed["route"] == "legal_or_agency", "invoice_ids"].str.split(",")
    assert all(notices.isin(ids).any() for ids in to_legal)
    first = routed.loc[routed["route"] == "formal_notice", "invoice_ids"].str.split(",")
    assert not any(notices.isin(ids).any() for ids in first)
    assert not plan["explored"].any()  # no exploration unless asked
    ages = (day - book.invoices.set_index("invoice_id")["due_date"]).dt.days
    # (an account's value comes from its freshest debts: the routed ones have none fresh)
    newest = plan.set_index("customer_id")["invoice_ids"].str.split(",").map(lambda ids: ages.reindex(ids).min())
    assert newest[routed["customer_id"]].median() > 2 * newest[send["customer_id"]].median()
    # disputed invoices are left to the dispute flow
    disputed = book.invoices.loc[book.invoices["disputed_date"] <= day, "invoice_id"]
    planned = set(",".join(plan["invoice_ids"]).split(","))
    assert not planned & set(disputed)


def test_plan_collections_is_idempotent_after_recording(response, book):
    day = pd.Timestamp("2024-07-03")
    cap = Capacity(per_day={"phone": 6, "sms": 4, "letter": 4})
    hist = book.as_of(day)
    plan = plan_collections(hist, _worklist(book, day), response, cap, day)
    again = plan_collections(hist, _worklist(book, day), response, cap, day)
    pd.testing.assert_frame_equal(plan, again)  # deterministic
    sent = plan.loc[plan["status"] == "send"]
    recorded = pr.Ledger.from_frames(
        **{name: getattr(hist, name) for name in ("customers", "invoices", "payments", "plans", "installments")},
        contacts=pd.concat([hist.contacts, pr.dunning.to_contacts(sent)], ignore_index=True),
    )
    replanned = plan_collections(recorded, _worklist(book, day), response, cap, day)
    twice = replanned.loc[(replanned["status"] == "send") & replanned["customer_id"].isin(sent["customer_id"])]
    assert twice.empty  # nothing planned twice
    assert (replanned.set_index("customer_id").loc[sent["customer_id"], "blocked_by"].str.startswith("pending")).all()
    # the day's capacity holds across the two plans: what was recorded uses up its share
    both = pd.concat([sent, replanned.loc[replanned["status"] == "send"]])
    assert all(both["channel"].value_counts().get(ch, 0) <= n for ch, n in cap.per_day.items())


def test_plan_collections_explores_a_share_of_the_capacity_at_random(response, book):
    day = pd.Timestamp("2024-07-03")
    cap = Capacity(per_day={"phone": 6, "sms": 4, "letter": 4})
    hist = book.as_of(day)
    plan = plan_collections(hist, _worklist(book, day), response, cap, day, explore=0.5, seed=7)
    explored = plan.loc[plan["explored"]]
    assert explored["channel"].value_counts().to_dict() == {"phone": 3, "sms": 2, "letter": 2}
    assert (explored["status"] == "send").all() and explored["reason"].str.startswith("exploration").all()
    send = plan.loc[plan["status"] == "send"]
    assert all(send["channel"].value_counts().get(ch, 0) <= n for ch, n in cap.per_day.items())
    assert plan["customer_id"].is_unique
    again = plan_collections(hist, _worklist(book, day), response, cap, day, explore=0.5, seed=7)
    pd.testing.assert_frame_equal(plan, again)  # the draw is fixed by the seed and the day
    other = plan_collections(hist, _worklist(book, day), response, cap, day, explore=0.5, seed=8)
    assert set(other.loc[other["explored"], "customer_id"]) != set(explored["customer_id"])
    with pytest.raises(pr.errors.ParameterError, match="explore"):
        plan_collections(hist, _worklist(book, day), response, cap, day, explore=1.5)


def test_the_key_first_order_needs_its_key():
    from payrisk.dunning import rule_planner

    with pytest.raises(pr.errors.ParameterError, match=r"key_first.*needs key="):
        rule_planner("key_first")
