"""The synthetic world: deterministic, and its observable data match its own ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError as PydanticValidationError

import payrisk as pr
from payrisk.datasets import ARCHETYPES, WorldParams
from payrisk.errors import ParameterError


def _se(p: float, n: int) -> float:
    return float(np.sqrt(max(p * (1 - p), 1e-9) / max(n, 1)))


@pytest.fixture(scope="module")
def joined(world: pr.Ledger) -> pd.DataFrame:
    """Invoices of the default world beside their truth."""
    return world.invoices.merge(
        world.truth.invoices, on=["invoice_id", "customer_id", "due_date"], validate="one_to_one"
    )


def test_same_seed_same_world_other_seed_other_world():
    a = pr.datasets.make_ledger(n_customers=60, seed=11)
    b = pr.datasets.make_ledger(n_customers=60, seed=11)
    c = pr.datasets.make_ledger(n_customers=60, seed=12)
    assert a == b and a.truth == b.truth
    assert not a.invoices["amount"].equals(c.invoices["amount"])


def test_world_is_valid_and_complete(world: pr.Ledger):
    assert world.report.ok
    assert set(world.truth.invoices["invoice_id"]) == set(world.invoices["invoice_id"])
    assert len(world.credit_notes) > 0 and (world.credit_notes["amount"] < 0).all()
    open_ = world.open_invoices()
    assert len(open_) > 0 and open_["paid_date"].isna().all()
    partial = world.payments.groupby("invoice_id").size()
    assert (partial > 1).sum() > 0
    assert world.invoices["disputed"].sum() > 0
    assert len(world.plans) > 0 and len(world.installments) > 0
    assert set(world.contacts["channel"]) <= {"email", "sms", "letter", "phone", "legal"}
    assert set(world.truth.customers["archetype"]) == set(ARCHETYPES)


def test_late_share_per_archetype_matches_true_probability(joined: pd.DataFrame, world: pr.Ledger):
    # invoices whose outcome is known at the end date: paid, or open and past due
    end = world.end_date
    known = joined["paid_date"].notna() | (joined["due_date"] < end)
    df = joined.loc[known]
    observed_late = (df["paid_date"] > df["due_date"]) | df["paid_date"].isna()
    by = pd.DataFrame({"late": observed_late, "p": df["p_late"], "a": df["archetype"]}).groupby("a")
    for arche, g in by:
        tol = 4 * _se(g["p"].mean(), len(g))
        assert abs(g["late"].mean() - g["p"].mean()) < tol, (arche, g["late"].mean(), g["p"].mean())
    means = by["late"].mean()
    assert means["reliable"] < means["forgetful"] < means["struggling"] < means["chronic"]


def test_true_probabilities_are_calibrated(joined: pd.DataFrame):
    df = joined.assign(bin=pd.qcut(joined["p_late"], 10, labels=False))
    g = df.groupby("bin").agg(p=("p_late", "mean"), late=("late", "mean"), n=("late", "size"))
    z = (g["late"] - g["p"]) / np.sqrt(g["p"] * (1 - g["p"]) / g["n"])
    assert (z.abs() < 4).all(), g


def test_days_late_order_and_censoring(joined: pd.DataFrame, world: pr.Ledger):
    paid_late = joined.loc[joined["paid_date"] > joined["due_date"]]
    med = (paid_late["paid_date"] - paid_late["due_date"]).dt.days.groupby(paid_late["archetype"]).median()
    assert med["reliable"] <= med["forgetful"] < med["struggling"] < med["chronic"]
    # the realised days late before censoring agree with the ledger wherever the payment is known
    known = joined["paid_date"].notna() & joined["late"]
    np.testing.assert_array_equal(
        (joined.loc[known, "paid_date"] - joined.loc[known, "due_date"]).dt.days, joined.loc[known, "days_late"]
    )
    # never-paid invoices stay open
    assert joined.loc[joined["never_paid"], "paid_date"].isna().all()


def test_survival_truth_matches_empirical_unpaid_share(joined: pd.DataFrame, world: pr.Ledger):
    """The truth's survival is the payment time without collector actions; the logged actions only bring
    payments forward, and exactly on the invoices where the truth says an answer did."""
    cutoff = world.end_date - pd.Timedelta(days=200)
    df = joined.loc[joined["due_date"] <= cutoff]
    days = [0, 1, 3, 7, 14, 30, 60, 90]
    surv = world.truth.survival(days).loc[df["invoice_id"]]
    base = df["paid_without_action"]
    known = df["paid_date"].notna() & base.notna()
    assert (df.loc[known, "paid_date"] <= base[known]).all()
    moved = df["paid_date"].notna() & (base.isna() | (df["paid_date"] < base))
    forward = world.truth.actions.loc[world.truth.actions["brought_forward"], "invoice_id"]
    assert set(df.loc[moved, "invoice_id"]) == set(forward) & set(df["invoice_id"])
    assert 0.01 < moved.mean() < 0.1  # the collectors' work shows, the rest of the world stays as it was
    for d in days:
        unpaid = (base.isna() | (base > df["due_date"] + pd.Timedelta(days=d))).mean()
        tol = 4 * _se(unpaid, len(df))  # the truth follows payments onto the customer's rhythm exactly
        assert abs(unpaid - surv[d].mean()) < tol, (d, unpaid, surv[d].mean())
    s = world.truth.survival(np.arange(-30, 120, 5))
    assert (np.diff(s.to_numpy(), axis=1) <= 1e-12).all()  # never increases
    assert ((s >= 0) & (s <= 1)).all().all()


def test_logged_collector_actions_answer_with_their_true_probability(world: pr.Ledger):
    acts = world.truth.actions.merge(world.contacts, on=["contact_id", "invoice_id"], validate="one_to_one")
    assert len(acts) > 1000 and acts["template"].str.startswith("collector_").all()
    assert set(acts["channel"]) == {"phone", "sms", "letter"} and set(acts["tone"]) == {"mild", "firm", "strict"}
    g = acts.assign(bin=pd.qcut(acts["p_answer"], 5, labels=False, duplicates="drop")).groupby("bin")
    obs, exp, n = g["answered"].mean(), g["p_answer"].mean(), g.size()
    z = (obs - exp) / np.sqrt(exp * (1 - exp) / n)
    assert (z.abs() < 4).all(), pd.DataFrame({"obs": obs, "exp": exp, "n": n})
    # the truth's effects: calls reach more than letters, repeats answer less
    by_channel = acts.groupby("channel")["p_answer"].mean()
    assert by_channel["phone"] > by_channel["letter"]
    assert acts.groupby("earlier_actions")["p_answer"].mean().is_monotonic_decreasing


def test_action_value_is_the_extra_cash_a_replayed_action_brings(world: pr.Ledger):
    """A call on every open overdue invoice: the extra cash within 30 days over the invoices' realised payment
    days without action equals the truth's expected value (within the outcome draws' noise)."""
    day = pd.Timestamp("2024-03-04")
    truth = world.truth
    inv = truth.invoices.set_index("invoice_id")
    open_ = inv.loc[(inv["due_date"] < day) & (inv["paid_without_action"].isna() | (inv["paid_without_action"] > day))]
    ids = open_.index
    value = truth.action_value(ids, day, "phone", "firm", horizon_days=30)
    assert (value >= 0).all() and value.sum() > 0
    u = truth.answer_probability(ids, day, "phone", "firm").to_numpy()
    base = open_["paid_without_action"]
    later = (base.isna() | (base > day + pd.Timedelta(days=30))).to_numpy()
    cure = np.where(base.isna(), open_["archetype"].map(truth.params.collector.cure).to_numpy(), 1.0)
    # over the invoices' realised outcomes without action, the answers' expected cash is the truth's value
    expected_given_outcome = (open_["amount"].to_numpy() * later * u * cure).sum()
    se = np.sqrt((open_["amount"].to_numpy() ** 2 * later * u * (1 - u)).sum())
    assert abs(expected_given_outcome - value.sum()) < 4 * se + 0.05 * value.sum()
    # old debts are near worthless, fresh ones are worth most
    overdue = (day - open_["due_date"]).dt.days
    assert value[overdue <= 30].mean() > 5 * value[overdue > 365].mean()


def test_payment_rhythm_is_visible(world: pr.Ledger):
    truth = world.truth.customers
    pay = world.payments.merge(truth[["customer_id", "rhythm", "preferred_weekday", "payrun_day"]], on="customer_id")
    weekly = pay.loc[pay["rhythm"] == "weekday"]
    counts = weekly.groupby(["customer_id", weekly["payment_date"].dt.day_of_week]).size()
    mode = counts.groupby(level=0).idxmax().map(lambda t: t[1])
    pref = truth.set_index("customer_id")["preferred_weekday"].reindex(mode.index)
    assert (mode == pref).mean() > 0.9
    assert pay["payment_date"].dt.day_of_week.lt(5).all()  # business days only
    runs = pay.loc[pay["rhythm"] == "payrun"]
    share_on_run = (runs["payment_date"].dt.day == runs["payrun_day"]).mean()
    others = pay.loc[pay["rhythm"] == "none"]
    assert share_on_run > 0.3 and share_on_run > 5 * (others["payment_date"].dt.day == 15).mean()


def test_strict_vs_mild_effect_has_the_true_sign_per_archetype(joined: pd.DataFrame, world: pr.Ledger):
    """Tone was randomised: the simple difference in days late estimates the true effect."""
    df = joined.loc[joined["late"] & ~joined["never_paid"] & ~joined["first_bounced"] & joined["paid_date"].notna()]
    df = df.assign(days=(df["paid_date"] - df["due_date"]).dt.days)
    est = df.groupby(["archetype", "track_tone"])["days"].mean().unstack()
    est = est["strict"] - est["mild"]
    true = (df["days_late_if_strict"] - df["days_late_if_mild"]).groupby(df["archetype"]).mean()
    effects = world.truth.effects.set_index(["archetype", "tone"])["log_factor"]
    for a in ARCHETYPES:
        assert np.sign(true[a]) == np.sign(effects[(a, "strict")])
    assert est["chronic"] < -5 and est["struggling"] > 2  # strict helps chronic payers, hurts struggling ones
    assert abs(est["chronic"] - true["chronic"]) < 4


def test_contacts_only_while_unpaid(world: pr.Ledger):
    con = world.contacts.merge(world.invoices[["invoice_id", "due_date", "paid_date"]], on="invoice_id")
    assert (con["sent_at"].dt.normalize() > con["due_date"]).all()
    paid = con["paid_date"].notna()
    assert (con.loc[paid, "sent_at"].dt.normalize() <= con.loc[paid, "paid_date"]).all()
    legal = con.loc[con["channel"] == "legal"]
    assert (legal["tone"] == "strict").all()
    bounced_email = world.contacts.query("step == 1 and channel == 'email' and bounced")["invoice_id"]
    second = world.contacts.loc[world.contacts["invoice_id"].isin(bounced_email) & (world.contacts["step"] == 2)]
    assert (second["channel"] == "sms").all()  # a bounced e-mail falls back to SMS


def test_plans_kept_share_matches_truth(world: pr.Ledger):
    plans = world.truth.plans
    tol = 4 * _se(plans["p_kept"].mean(), len(plans))
    assert abs(plans["kept"].mean() - plans["p_kept"].mean()) < tol
    by = plans.groupby("archetype")["p_kept"].mean()
    assert by["chronic"] < by["struggling"]
    # broken plans miss from their break instalment on (when that instalment is already due)
    ins = world.installments.merge(plans[["plan_id", "kept", "break_at"]], on="plan_id")
    due = ins.loc[ins["due_date"] < world.end_date - pd.Timedelta(days=30)]
    after_break = due.loc[~due["kept"] & (due["installment_no"] > due["break_at"])]
    assert after_break["paid_date"].isna().all()
    kept = due.loc[due["kept"]]
    assert kept["paid_date"].notna().all()
    p_paid = world.truth.installments["p_paid"]
    assert ((p_paid > 0) & (p_paid <= 1)).all()


def test_deteriorating_customers_get_later(world: pr.Ledger, joined: pd.DataFrame):
    cust = world.truth.customers.set_index("customer_id")
    det = cust.loc[cust["deteriorates"]]
    assert len(det) > 0
    df = joined.loc[joined["customer_id"].isin(det.index)]
    after = df["issue_date"] >= df["customer_id"].map(det["deteriorated_on"])
    assert df.loc[after, "late"].mean() > df.loc[~after, "late"].mean() + 0.2
    assert (world.truth.archetype_at(world.end_date).loc[det.index] == "struggling").all()


def test_lost_customers_stop_buying(world: pr.Ledger):
    lost = world.truth.customers.dropna(subset=["lost_on"]).set_index("customer_id")["lost_on"]
    assert len(lost) > 0
    inv = world.invoices.loc[world.invoices["customer_id"].isin(lost.index)]
    assert (inv["issue_date"] <= inv["customer_id"].map(lost)).all()


def test_n_invoices_scales_the_world():
    small = pr.datasets.make_ledger(n_customers=200, n_invoices=5_000, seed=0)
    assert 4_000 <= len(small.invoices) <= 5_500


def test_bad_parameters_are_refused():
    with pytest.raises(ParameterError, match="'n_customers'"):
        pr.datasets.make_ledger(n_customers=0)
    with pytest.raises(ParameterError, match="'end' parameter must be after 'start'"):
        pr.datasets.make_ledger(start="2024-01-01", end="2023-01-01")
    with pytest.raises(PydanticValidationError, match="archetype_shares must sum to 1"):
        WorldParams(archetype_shares={"reliable": 0.5, "forgetful": 0.5, "struggling": 0.5, "chronic": 0.0})


def test_the_short_term_world_is_a_book_of_monthly_bills_paid_within_days():
    """The preset's promises, measured on its ledger: 14-day terms, monthly bills, payment within days (or on the
    due date by direct debit), short histories, deteriorating customers; and its truth is as calibrated as the
    default world's."""
    led = pr.datasets.make_ledger(n_customers=1500, seed=2, params=WorldParams.short_term())
    default = pr.datasets.make_ledger(n_customers=300, seed=2)
    inv = led.invoices
    terms = (inv["due_date"] - inv["issue_date"]).dt.days
    assert (terms == 14).mean() > 0.75
    assert inv.groupby("customer_id").size().median() < default.invoices.groupby("customer_id").size().median()
    debit = led.truth.invoices.set_index("invoice_id")["direct_debit"].reindex(inv["invoice_id"]).to_numpy()
    days_to_pay = (inv["paid_date"] - inv["issue_date"]).dt.days.loc[~debit].dropna()
    default_days = (default.invoices["paid_date"] - default.invoices["issue_date"]).dt.days
    assert days_to_pay.median() <= 10 < default_days.median()
    cust = led.truth.customers
    created = led.customers.set_index("customer_id")["created_date"].reindex(cust["customer_id"])
    assert (created.to_numpy() >= np.datetime64(inv["issue_date"].min())).mean() > 0.6
    assert cust["deteriorates"].mean() > default.truth.customers["deteriorates"].mean()
    joined = inv.merge(led.truth.invoices, on=["invoice_id", "customer_id", "due_date"], validate="one_to_one")
    g = joined.assign(bin=pd.qcut(joined["p_late"], 10, labels=False)).groupby("bin")
    p, late, n = g["p_late"].mean(), g["late"].mean(), g.size()
    assert ((late - p).abs() / np.sqrt(p * (1 - p) / n) < 4).all()
    with pytest.raises(PydanticValidationError):
        WorldParams.short_term(terms_probs=(0.5, 0.2))


def test_direct_debit_is_collected_on_the_due_date_unless_it_fails_and_the_truth_knows():
    """A direct-debit invoice is paid on the last business day on or before its due date, or, when the collection
    fails (with a share of the customer's own chance of paying late), late like any other; the truth's survival
    follows both, and the default world has no direct debit (its draw unchanged)."""
    from payrisk._calendar import direct_debit_day

    led = pr.datasets.make_ledger(n_customers=1500, seed=4, params=WorldParams.short_term())
    truth = led.truth.invoices.set_index("invoice_id")
    inv = led.invoices.set_index("invoice_id").loc[truth.index]
    debit = truth["direct_debit"].to_numpy()
    assert (
        0.3 < debit.mean() < 0.5
        and not pr.datasets.make_ledger(n_customers=100, seed=4).truth.invoices["direct_debit"].any()
    )
    day = lambda s: s.to_numpy().astype("datetime64[D]").astype(np.int64)  # noqa: E731
    collected = direct_debit_day(day(inv["issue_date"]), day(inv["due_date"]))
    on_day = inv["paid_date"].notna().to_numpy() & (day(inv["paid_date"].fillna(inv["due_date"])) == collected)
    late = (inv["paid_date"].isna() | (inv["paid_date"] > inv["due_date"])).to_numpy()
    due = (inv["due_date"] < led.end_date).to_numpy()  # its collection day has come
    assert (on_day | late)[debit & due].all()  # collected on its day, or failed and late: never early or between
    fails = late[debit & due].mean()
    assert fails < 0.4 * late[~debit & due].mean()  # a failed collection is rare beside a late payment
    p = truth["p_late"].to_numpy()
    assert abs(fails - p[debit & due].mean()) < 4 * np.sqrt(fails * (1 - fails) / (debit & due).sum())
    cutoff = led.end_date - pd.Timedelta(days=200)
    due_ok = (inv["due_date"] <= cutoff).to_numpy() & debit
    for d in (-3, -1, 0, 7, 30):
        unpaid = ~(inv["paid_date"] <= inv["due_date"] + pd.Timedelta(days=d)).to_numpy()[due_ok]
        want = led.truth.survival([d])[d].to_numpy()[due_ok]
        # collector actions only bring payments forward: the empirical share is at most the truth, and close
        assert unpaid.mean() <= want.mean() + 4 * _se(want.mean(), due_ok.sum()), d
        assert abs(unpaid.mean() - want.mean()) < 0.01 + 4 * _se(want.mean(), due_ok.sum()), d
