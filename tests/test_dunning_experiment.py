"""Champion/challenger: arm assignment is stable (order, company, process, ramp-up), Experiment.plan runs each arm's
policy on exactly its customers, and evaluate_policies measures outcomes worked out by hand, with clustered
intervals."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import payrisk as pr
from payrisk.dunning import Policy
from payrisk.dunning._experiment import Experiment, assign_arms, evaluate_policies
from payrisk.dunning._plan import plan_actions
from payrisk.errors import ParameterError

IDS = [f"C{i:06d}" for i in range(20_000)]
SPLIT = {"champion": 0.9, "challenger": 0.1}
ID_TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12)


# -- assign_arms ---------------------------------------------------------------------------------------------
def test_assignment_is_a_named_text_indexed_series_in_input_order():
    got = assign_arms(["b", "a", 7], SPLIT, "exp")
    assert got.name == "arm" and got.index.name == "customer_id"
    assert got.index.tolist() == ["b", "a", "7"] and got.index.dtype == "str" and got.dtype == "str"
    assert set(got) <= set(SPLIT)
    assert got["7"] == assign_arms(["7"], SPLIT, "exp").iloc[0]  # ids are compared as text


def test_shares_hold_within_binomial_tolerance():
    shares = {"a": 0.5, "b": 0.3, "c": 0.2}
    got = assign_arms(IDS, shares, "shares").value_counts(normalize=True)
    for arm, p in shares.items():
        assert abs(got[arm] - p) < 4 * np.sqrt(p * (1 - p) / len(IDS)), got.to_dict()


@given(ids=st.lists(ID_TEXT, min_size=1, max_size=40), others=st.lists(ID_TEXT, max_size=40), seed=st.integers(0, 99))
def test_an_ids_arm_does_not_depend_on_the_other_ids_or_their_order(ids, others, seed):
    alone = assign_arms(ids, SPLIT, "company")
    mixed = list(np.random.default_rng(seed).permutation(np.array(ids + others, dtype=object)))
    together = assign_arms(mixed, SPLIT, "company")
    lookup = dict(zip(together.index, together, strict=True))
    assert [lookup[i] for i in ids] == alone.tolist()


def test_duplicates_keep_their_rows_and_share_one_arm():
    ids = IDS[:500] + IDS[:500]
    got = assign_arms(ids, SPLIT, "dups")
    assert len(got) == 1000
    assert (got.iloc[:500].to_numpy() == got.iloc[500:].to_numpy()).all()


def test_another_experiment_reshuffles_independently():
    half = {"a": 0.5, "b": 0.5}
    one, two = assign_arms(IDS, half, "exp-1"), assign_arms(IDS, half, "exp-2")
    agree = float((one == two).mean())
    assert abs(agree - 0.5) < 4 * np.sqrt(0.25 / len(IDS)), agree


def test_growing_the_last_arm_only_moves_customers_into_it():
    before = assign_arms(IDS, SPLIT, "ramp")
    after = assign_arms(IDS, {"champion": 0.8, "challenger": 0.2}, "ramp")
    assert (after[before == "challenger"] == "challenger").all()
    moved = (before == "champion") & (after == "challenger")
    assert abs(moved.mean() - 0.1) < 4 * np.sqrt(0.09 / len(IDS))
    assert ((before == after) | moved).all()


@given(small=st.floats(0.01, 0.98), grow=st.floats(0.0, 1.0))
def test_ramp_up_is_monotone_for_any_shares(small, grow):
    big = small + grow * (0.99 - small)
    before = assign_arms(IDS[:2000], {"a": 0.6 * (1 - small), "b": 0.4 * (1 - small), "new": small}, "any")
    after = assign_arms(IDS[:2000], {"a": 0.6 * (1 - big), "b": 0.4 * (1 - big), "new": big}, "any")
    assert (after[before == "new"] == "new").all()


def test_assignment_is_the_same_in_a_fresh_process_with_another_hash_seed():
    code = (
        "import json, sys; from payrisk.dunning._experiment import assign_arms; "
        "ids = [f'C{i:06d}' for i in range(3000)]; "
        "print(json.dumps(assign_arms(ids, {'a': 0.5, 'b': 0.3, 'c': 0.2}, 'process').tolist()))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    here = assign_arms(IDS[:3000], {"a": 0.5, "b": 0.3, "c": 0.2}, "process").tolist()
    assert json.loads(out.stdout) == here


def test_assignment_is_pinned_across_versions():
    """A running experiment must keep its customers: a change of hash (e.g. in pandas) would fail here."""
    got = assign_arms([f"C{i}" for i in range(12)], {"a": 0.5, "b": 0.5}, "pinned").tolist()
    assert got == PINNED


PINNED = ["a", "b", "b", "b", "b", "a", "a", "a", "b", "b", "a", "b"]


@pytest.mark.parametrize(
    ("shares", "experiment", "ids", "says"),
    [
        ({}, "x", ["a"], "non-empty mapping"),
        ({"a": 1.0, "b": 0.0}, "x", ["a"], "above 0"),
        ({"a": 0.7, "b": -0.2, "c": 0.5}, "x", ["a"], "above 0"),
        ({"a": 0.5, "b": 0.4}, "x", ["a"], "sum to 1"),
        ({"a": float("nan")}, "x", ["a"], "above 0"),
        ({"a": 1.0}, "", ["a"], "'experiment'"),
        ({"a": 1.0}, "x", ["a", None], "missing id"),
        ({"a": 1.0}, "x", "abc", "list-like"),
    ],
)
def test_invalid_input_names_the_parameter_and_the_fix(shares, experiment, ids, says):
    with pytest.raises(ParameterError, match=says):
        assign_arms(ids, shares, experiment)


# -- Experiment ----------------------------------------------------------------------------------------------
def _strict() -> Policy:
    data = Policy.default().to_dict()
    for track in data["tracks"].values():
        for step in track["steps"]:
            step["tone"] = "strict"
    return Policy.model_validate({**data, "name": "strict"})


def test_an_experiment_checks_its_arms_and_shares():
    with pytest.raises(ParameterError, match="same arms"):
        Experiment("x", {"a": Policy.default()}, {"b": 1.0})
    with pytest.raises(ParameterError, match="Policy"):
        Experiment("x", {"a": "default"}, {"a": 1.0})  # type: ignore[dict-item]
    with pytest.raises(ParameterError, match="sum to 1"):
        Experiment("x", {"a": Policy.default(), "b": Policy.default()}, {"a": 0.5, "b": 0.6})
    with pytest.raises(ParameterError, match="'experiment'"):
        Experiment(" ", {"a": Policy.default()}, {"a": 1.0})


@pytest.fixture(scope="module")
def world_plan() -> tuple[pr.Ledger, pd.DataFrame]:
    ledger = pr.datasets.make_ledger(n_customers=200, seed=0)
    scores = pr.RiskEngine(n_estimators=40, reasons_top_n=0).fit(ledger, "2024-03-31").score(ledger, "2024-04-30")
    return ledger.as_of("2024-04-30"), scores


def test_plan_runs_each_arms_policy_on_exactly_its_customers(world_plan):
    history, scores = world_plan
    exp = Experiment("tone", {"champion": Policy.default(), "strict": _strict()}, {"champion": 0.5, "strict": 0.5})
    plan = exp.plan(history, scores, "2024-04-30")
    cols = list(plan.columns)
    assert cols[cols.index("customer_id") + 1] == "arm"
    arm_of = assign_arms(plan["customer_id"], exp.shares, exp.name)
    assert (plan["arm"].to_numpy() == arm_of.to_numpy()).all()
    assert set(plan["arm"]) == {"champion", "strict"}
    for arm, policy in exp.arms.items():
        mine = scores.loc[(assign_arms(scores["customer_id"], exp.shares, exp.name) == arm).to_numpy()]
        alone = plan_actions(history, mine, policy, "2024-04-30")
        rows = plan.loc[plan["arm"] == arm].drop(columns="arm").reset_index(drop=True)
        pd.testing.assert_frame_equal(rows, alone)
    assert (plan.loc[plan["arm"] == "strict", "tone"] == "strict").all()
    assert (plan.loc[plan["arm"] == "champion", "tone"] != "strict").any()
    status = plan["status"].map({"send": 0, "blocked": 1})
    assert status.is_monotonic_increasing
    for _, part in plan.groupby("status"):
        assert part["priority"].is_monotonic_increasing


# -- evaluate_policies ---------------------------------------------------------------------------------------
def _ledger(invoices: list[tuple], payments: list[tuple] = (), contacts: list[tuple] = ()) -> pr.Ledger:
    """invoices: (invoice, customer, issue, due, amount, paid, currency); payments: (invoice, date, amount);
    contacts: (invoice, sent_at)."""
    inv = pd.DataFrame(
        invoices, columns=["invoice_id", "customer_id", "issue_date", "due_date", "amount", "paid_date", "currency"]
    )
    cust = inv.set_index("invoice_id")["customer_id"]
    pay = pd.DataFrame(list(payments), columns=["invoice_id", "payment_date", "amount"])
    pay = pay.assign(
        payment_id=[f"P{i}" for i in range(len(pay))],
        customer_id=cust.reindex(pay["invoice_id"]).to_numpy(),
        currency=inv.set_index("invoice_id")["currency"].reindex(pay["invoice_id"]).to_numpy(),
    )
    con = pd.DataFrame(list(contacts), columns=["invoice_id", "sent_at"])
    con = con.assign(
        contact_id=[f"K{i}" for i in range(len(con))],
        customer_id=cust.reindex(con["invoice_id"]).to_numpy(),
        channel="email",
        tone="mild",
    )
    ledger = pr.Ledger.from_frames(invoices=inv, payments=pay if len(pay) else None, contacts=con if len(con) else None)
    assert ledger.report.ok, ledger.report.issues.to_string()
    return ledger


def _at(res: pd.DataFrame, arm: str, metric: str) -> pd.Series:
    return res.set_index(["arm", "metric"]).loc[(arm, metric)]


def _paying(arms: pd.Series, delay: dict[str, int], extra: list[tuple] = ()) -> pr.Ledger:
    """Two invoices per customer, due 2024-01-10 and 2024-02-10, paid ``delay[arm]`` days after due."""
    rows, pays = [], []
    for k, (cust, arm) in enumerate(arms.items()):
        for j, due in enumerate(pd.to_datetime(["2024-01-10", "2024-02-10"])):
            paid = due + pd.Timedelta(days=delay[arm])
            inv = f"I{k}-{j}"
            rows.append((inv, cust, due - pd.Timedelta(days=30), due, 100.0 + k, paid, "EUR"))
            pays.append((inv, paid, 100.0 + k))
    return _ledger(rows + list(extra), pays)


def test_an_arm_that_pays_early_beats_one_that_pays_late_beyond_doubt():
    arms = assign_arms([f"c{i:03d}" for i in range(400)], {"A": 0.5, "B": 0.5}, "early")
    late = [("LATE", arms.index[0], "2024-03-01", "2024-04-15", 1e6, None, "EUR")]  # due after as_of - 30: out
    ledger = _paying(arms, {"A": 5, "B": 40}, late)
    res = evaluate_policies(ledger, arms, "2024-01-01", "2024-04-30", days=(30,), baseline="A", n_boot=200)
    assert res.columns.tolist() == ["arm", "metric", "value", "ci_low", "ci_high", "diff", "diff_low", "diff_high"]
    assert _at(res, "A", "cash_by_day_30")["value"] == 1.0 and _at(res, "B", "cash_by_day_30")["value"] == 0.0
    assert _at(res, "A", "days_to_pay")["value"] == 5.0 and _at(res, "B", "days_to_pay")["value"] == 30.0
    n_a = int((arms == "A").sum())
    assert _at(res, "A", "n_customers")["value"] == n_a and _at(res, "A", "n_invoices")["value"] == 2 * n_a
    assert _at(res, "B", "n_invoices")["value"] == 2 * (400 - n_a)  # the late invoice is not in the cohort
    cash, wait = _at(res, "B", "cash_by_day_30"), _at(res, "B", "days_to_pay")
    assert cash["diff"] == -1.0 and cash["diff_high"] < 0 and wait["diff"] == 25.0 and wait["diff_low"] > 0
    assert res.loc[res["arm"] == "A", ["diff", "diff_low", "diff_high"]].isna().all().all()
    assert res.attrs["baseline"] == "A" and res.attrs["due_to"] == "2024-03-31" and res.attrs["days"] == [30]
    default = evaluate_policies(ledger, arms, "2024-01-01", "2024-04-30", days=(30,), n_boot=0)
    assert default.attrs["baseline"] == arms.iloc[0]  # the first arm to appear
    assert default["ci_low"].isna().all() and default["diff_low"].isna().all()
    assert np.isnan(_at(res, "B", "contacts_per_1000")["value"])  # nothing collected: undefined
    assert _at(res, "A", "contacts_per_1000")["value"] == 0.0


def _noisy(rng: np.random.Generator, on_time: dict[str, float], copies: int = 3) -> tuple[pr.Ledger, pd.Series]:
    """Each customer pays all its ``copies`` invoices on time (day 0) or all late (day 45): fully clustered."""
    arms = assign_arms([f"n{i:04d}" for i in range(2000)], {"A": 0.5, "B": 0.5}, "noise")
    good = rng.random(len(arms)) < arms.map(on_time).to_numpy(dtype=float)
    delay = np.where(good, 0, 45)
    rows, pays = [], []
    for j in range(copies):
        due = pd.Timestamp("2024-01-10") + pd.Timedelta(days=7 * j)
        inv = [f"I{k}-{j}" for k in range(len(arms))]
        paid = due + pd.to_timedelta(delay, unit="D")
        rows += list(
            zip(
                inv,
                arms.index,
                [due - pd.Timedelta(days=30)] * len(arms),
                [due] * len(arms),
                [100.0] * len(arms),
                paid,
                ["EUR"] * len(arms),
                strict=True,
            )
        )
        pays += list(zip(inv, paid, [100.0] * len(arms), strict=True))
    return _ledger(rows, pays), arms


def test_the_interval_covers_the_true_difference_and_is_as_wide_as_the_customers_allow():
    ledger, arms = _noisy(np.random.default_rng(1), {"A": 0.5, "B": 0.7})
    res = evaluate_policies(ledger, arms, "2024-01-01", "2024-05-31", days=(30,), baseline="A")
    b = _at(res, "B", "cash_by_day_30")
    assert b["diff_low"] < 0.2 < b["diff_high"]
    # independent check: the binomial standard error over customers (not invoices: they move together)
    p = {a: _at(res, a, "cash_by_day_30")["value"] for a in "AB"}
    n = {a: int((arms == a).sum()) for a in "AB"}
    half = 1.96 * np.sqrt(sum(p[a] * (1 - p[a]) / n[a] for a in "AB"))
    assert (b["diff_high"] - b["diff_low"]) / 2 == pytest.approx(half, rel=0.15)
    assert b["diff"] == pytest.approx(p["B"] - p["A"])


def test_more_invoices_per_customer_moving_together_do_not_narrow_the_interval():
    one = evaluate_policies(
        *_noisy(np.random.default_rng(2), {"A": 0.5, "B": 0.6}, copies=1),
        "2024-01-01",
        "2024-05-31",
        days=(30,),
        n_boot=300,
    )
    four = evaluate_policies(
        *_noisy(np.random.default_rng(2), {"A": 0.5, "B": 0.6}, copies=4),
        "2024-01-01",
        "2024-05-31",
        days=(30,),
        n_boot=300,
    )
    cols = ["value", "ci_low", "ci_high", "diff", "diff_low", "diff_high"]
    rows = one["metric"] != "n_invoices"
    pd.testing.assert_frame_equal(one.loc[rows, cols], four.loc[rows, cols])


def test_contacts_per_1000_counts_contacts_within_the_follow_up_per_cash_collected():
    invoices = [
        ("K1", "k", "2024-01-01", "2024-02-01", 2000.0, "2024-02-11", "EUR"),
        ("K2", "k2", "2024-01-01", "2024-02-01", 1000.0, "2024-02-04", "EUR"),
        ("KX", "k", "2024-03-10", "2024-04-10", 500.0, None, "EUR"),  # due after as_of - 30: not in the cohort
        ("M1", "m", "2024-01-01", "2024-02-01", 1000.0, "2024-03-17", "EUR"),
    ]
    payments = [("K1", "2024-02-11", 2000.0), ("K2", "2024-02-04", 1000.0), ("M1", "2024-02-11", 500.0)]
    payments += [("M1", "2024-03-17", 500.0)]
    contacts = [
        ("K1", "2024-01-28 09:00"),  # before due: counts
        ("K1", "2024-02-05 09:00"),
        ("K1", "2024-03-02 16:00"),  # due + 30: the last day of follow-up
        ("K1", "2024-03-03 09:00"),  # due + 31: out
        ("K1", "2024-05-05 09:00"),  # after as_of: out
        ("KX", "2024-04-20 09:00"),  # not a cohort invoice
        ("M1", "2024-02-20 09:00"),
    ]
    ledger = _ledger(invoices, payments, contacts)
    arms = pd.Series({"k": "A", "k2": "A", "m": "B"})
    res = evaluate_policies(ledger, arms, "2024-01-01", "2024-04-30", days=(30,), n_boot=50)
    assert _at(res, "A", "contacts_per_1000")["value"] == pytest.approx(3 / 3000 * 1000)
    assert _at(res, "B", "contacts_per_1000")["value"] == pytest.approx(1 / 500 * 1000)
    assert _at(res, "B", "cash_by_day_30")["value"] == 0.5 and _at(res, "B", "days_to_pay")["value"] == 30.0
    assert _at(res, "A", "days_to_pay")["value"] == pytest.approx((10 + 3) / 2)
    assert _at(res, "B", "contacts_per_1000")["diff"] == pytest.approx(2.0 - 1.0)


def test_customers_lost_are_the_old_customers_without_a_recent_invoice():
    # start 2024-03-01, as_of 2024-06-30, lost after 60 days: a customer is active with an invoice after 2024-05-01
    issued = {
        "x": ["2024-01-05", "2024-06-01"],  # old, active
        "y": ["2024-01-05", "2024-04-01"],  # old, lost
        "z": ["2024-03-10"],  # new: not counted
        "w": ["2024-02-01", "2024-07-15"],  # old, lost: the later invoice is after as_of
        "v": ["2024-02-01", "2024-05-02"],  # old, active (the first day of the window)
        "u": ["2024-02-01", "2024-05-01"],  # old, lost (the day before the window)
    }
    rows = [
        (f"{c}{j}", c, d, pd.Timestamp(d) + pd.Timedelta(days=10), 100.0, None, "EUR")
        for c, dates in issued.items()
        for j, d in enumerate(dates)
    ]
    ledger = _ledger(rows)
    arms = pd.Series({"x": "A", "y": "A", "z": "A", "w": "B", "v": "B", "u": "B"})
    res = evaluate_policies(ledger, arms, "2024-03-01", "2024-06-30", days=(30,), lost_after_days=60, n_boot=100)
    assert _at(res, "A", "customers_lost")["value"] == 0.5
    assert _at(res, "B", "customers_lost")["value"] == pytest.approx(2 / 3)
    assert _at(res, "B", "customers_lost")["diff"] == pytest.approx(2 / 3 - 0.5)
    cut = evaluate_policies(
        ledger.as_of("2024-06-30"), arms, "2024-03-01", "2024-06-30", days=(30,), lost_after_days=60, n_boot=100
    )
    pd.testing.assert_frame_equal(cut, res)


def test_only_what_is_known_at_as_of_is_used():
    arms = assign_arms([f"c{i:03d}" for i in range(200)], {"A": 0.5, "B": 0.5}, "known")
    ledger = _paying(arms, {"A": 5, "B": 40})
    later = [(f"F{k}", c, "2024-05-10", "2024-06-09", 50.0, "2024-05-20", "EUR") for k, c in enumerate(arms.index)]
    with_future = _paying(arms, {"A": 5, "B": 40}, later)
    kw = {"days": (30, 60), "n_boot": 100}
    a = evaluate_policies(ledger, arms, "2024-01-01", "2024-04-30", **kw)
    b = evaluate_policies(with_future, arms, "2024-01-01", "2024-04-30", **kw)
    pd.testing.assert_frame_equal(a, b)
    # an earlier as_of with a longer horizon: only the January invoices, B's payments on day 40 count
    c = evaluate_policies(ledger, arms, "2024-01-01", "2024-03-31", days=(60,), n_boot=0)
    assert _at(c, "B", "cash_by_day_60")["value"] == 1.0 and _at(c, "B", "n_invoices")["value"] == (arms == "B").sum()


def test_an_arm_without_cohort_invoices_gives_nan_not_a_crash():
    arms = pd.Series(pd.Categorical(["A", "A"], categories=["A", "empty"]), index=["c0", "c1"])
    ledger = _paying(pd.Series({"c0": "A", "c1": "A"}), {"A": 5})
    res = evaluate_policies(ledger, arms, "2024-01-01", "2024-04-30", days=(30,), n_boot=50)
    empty = res.loc[res["arm"] == "empty"].set_index("metric")
    assert empty.loc["n_invoices", "value"] == 0
    assert empty.loc["cash_by_day_30", ["value", "ci_low", "diff", "diff_low"]].isna().all()
    assert _at(res, "A", "cash_by_day_30")["value"] == 1.0


def test_bad_parameters_raise_parameter_errors():
    arms = pd.Series({"a": "A", "b": "B"})
    invoices = [
        ("I1", "a", "2024-01-01", "2024-01-20", 100.0, None, "EUR"),
        ("I2", "b", "2024-01-01", "2024-01-20", 100.0, None, "USD"),
    ]
    ledger = _ledger(invoices)
    go = {"start": "2024-01-01", "as_of": "2024-04-30", "n_boot": 10}
    with pytest.raises(ParameterError, match="currencies"):
        evaluate_policies(ledger, arms, **go)
    eur = evaluate_policies(ledger, arms, **go, currency="EUR")
    assert _at(eur, "A", "n_invoices")["value"] == 1 and _at(eur, "B", "n_invoices")["value"] == 0
    with pytest.raises(ParameterError, match="'baseline'"):
        evaluate_policies(ledger, arms, **go, currency="EUR", baseline="C")
    with pytest.raises(ParameterError, match="start must be on or before 2024-03-01"):
        evaluate_policies(ledger, arms, "2024-03-15", "2024-04-30", currency="EUR")
    with pytest.raises(ParameterError, match="'days'"):
        evaluate_policies(ledger, arms, **go, currency="EUR", days=(0, 30))
    with pytest.raises(ParameterError, match="'level'"):
        evaluate_policies(ledger, arms, **go, currency="EUR", level=95)
    with pytest.raises(ParameterError, match="more than one arm"):
        evaluate_policies(ledger, pd.Series(["A", "B"], index=["a", "a"]), **go, currency="EUR")
    with pytest.raises(ParameterError, match="Series"):
        evaluate_policies(ledger, {"a": "A"}, **go)  # type: ignore[arg-type]
