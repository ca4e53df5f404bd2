"""Point-in-time features: the fast builders against the naive reference, no leakage, by hand, registry."""

from __future__ import annotations

import functools
import itertools
import threading

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import payrisk as pr
from naive_features import (
    created_cutoffs,
    customer_date_cutoffs,
    date_cutoffs,
    due_cutoffs,
    installment_due_cutoffs,
    issue_cutoffs,
    naive_customer_features,
    naive_invoice_features,
    naive_plan_features,
)
from payrisk.errors import PayriskError

BASE = pd.Timestamp("2024-01-01")
CUSTOMERS = ("a", "b", "c")
CHANNELS = ("email", "sms", "letter", "phone", "legal")
DAY = pd.Timedelta(days=1)


def day(k: int) -> pd.Timestamp:
    return BASE + pd.Timedelta(days=int(k))


def assert_same(fast: pd.DataFrame, naive: pd.DataFrame) -> None:
    """Equal to the naive float64 reference as stored: features are float32 (what the trees read), so to float32's
    precision (a relative 6e-8, checked at 1e-6)."""
    numbers = [c for c in naive.columns if c not in ("customer_id", "as_of")]
    assert (fast[numbers].dtypes == "float32").all()
    expected = naive.astype(dict.fromkeys(numbers, "float32"))
    pd.testing.assert_frame_equal(fast, expected, check_exact=False, rtol=1e-6, atol=1e-6)


def build(frames: dict[str, pd.DataFrame]) -> pr.Ledger:
    ledger = pr.Ledger.from_frames(**frames)
    assert ledger.report.ok, str(ledger.report)
    return ledger


# -- random small ledgers ------------------------------------------------------------------------------------------


def _split(draw, cents: int, parts: int) -> list[int]:
    """``cents`` cut into ``parts`` positive whole-cent amounts."""
    parts = max(1, min(parts, cents))
    if parts == 1:
        return [cents]
    cuts = sorted(draw(st.lists(st.integers(1, cents - 1), min_size=parts - 1, max_size=parts - 1, unique=True)))
    edges = [0, *cuts, cents]
    return [b - a for a, b in itertools.pairwise(edges)]


@st.composite
def ledger_frames(draw, min_plans: int = 0) -> dict[str, pd.DataFrame]:
    """Small valid user tables: >= 2 customers, partial and unallocated payments, contacts on every channel,
    dated and undated disputes, credit notes, plans with instalments; events crowded into a span of days short
    enough for many same-day ties (and sometimes long enough for the 90/180/365-day windows to matter)."""
    span = draw(st.sampled_from([8, 20, 45, 120, 400]))
    custs = list(CUSTOMERS[: draw(st.integers(2, 3))])
    when = st.integers(0, span)
    created = [
        None if draw(st.booleans()) else day(draw(st.integers(-40, span))) for _ in custs
    ]  # sometimes after the first invoice
    customers = pd.DataFrame({"customer_id": custs, "created_date": pd.Series(created, dtype="datetime64[ns]")})

    inv_rows, pay_rows, con_rows = [], [], []
    n_inv = draw(st.integers(2, 10))
    for i in range(n_inv):
        c = custs[i] if i < len(custs) else draw(st.sampled_from(custs))
        inv_id = f"I{i}"
        issue = draw(when)
        terms = draw(st.sampled_from([0, 1, 3, 10, 30]))
        cents = draw(st.integers(1, 40_000))
        dispute = draw(st.sampled_from([None, None, None, "dated", "undated"]))
        disputed_date = day(issue + draw(st.integers(0, 40))) if dispute == "dated" else None
        paid = None
        if draw(st.booleans()):  # settled: 1-3 payments, the last one on the paid date
            paid = issue + draw(st.integers(0, terms + 40))
            amounts = _split(draw, cents, draw(st.integers(1, 3)))
            dates = [*sorted(draw(st.integers(issue, paid)) for _ in amounts[:-1]), paid]
            pay_rows += [(c, inv_id, day(d), a / 100) for d, a in zip(dates, amounts, strict=True)]
        else:  # open: sometimes partial payments that leave something open
            for _ in range(draw(st.integers(0, 2))):
                if cents >= 4:
                    pay_rows.append((c, inv_id, day(issue + draw(st.integers(0, 40))), (cents // 4) / 100))
        inv_rows.append(
            (
                inv_id,
                c,
                day(issue),
                day(issue + terms),
                cents / 100,
                None if paid is None else day(paid),
                dispute is not None,
                disputed_date,
            )
        )
        for _ in range(draw(st.integers(0, 3))):
            sent = day(issue + draw(st.integers(0, terms + 30))) + pd.Timedelta(hours=draw(st.integers(0, 23)))
            con_rows.append((c, inv_id, sent, draw(st.sampled_from(CHANNELS))))
    for k in range(draw(st.integers(0, 2))):  # credit notes
        issue = draw(when)
        inv_rows.append(
            (
                f"CN{k}",
                draw(st.sampled_from(custs)),
                day(issue),
                day(issue),
                -draw(st.integers(1, 500)) / 4,
                None,
                False,
                None,
            )
        )
    for _ in range(draw(st.integers(0, 2))):  # unallocated payments
        pay_rows.append((draw(st.sampled_from(custs)), None, day(draw(when)), draw(st.integers(1, 500)) / 4))
    for _ in range(draw(st.integers(0, 3))):  # customer-level contacts
        sent = day(draw(when)) + pd.Timedelta(minutes=draw(st.integers(0, 24 * 60 - 1)))
        con_rows.append((draw(st.sampled_from(custs)), None, sent, draw(st.sampled_from(CHANNELS))))

    plan_rows, ins_rows = [], []
    for k in range(draw(st.integers(min_plans, 3))):
        created_day = draw(when)
        plan_rows.append((f"P{k}", draw(st.sampled_from(custs)), day(created_day)))
        for j in range(1, draw(st.integers(1, 4)) + 1):
            due = created_day + draw(st.integers(0, 60))
            amount_due = draw(st.integers(1, 400)) / 4
            paid_after = draw(st.one_of(st.none(), st.integers(-10, 50)))
            if paid_after is None:
                ins_rows.append((f"P{k}", j, day(due), amount_due, None, 0.0))
            else:
                paid_day = max(created_day, due + paid_after)
                amount_paid = amount_due if draw(st.booleans()) else amount_due / 2
                ins_rows.append((f"P{k}", j, day(due), amount_due, day(paid_day), amount_paid))

    invoices = pd.DataFrame(
        inv_rows,
        columns=[
            "invoice_id",
            "customer_id",
            "issue_date",
            "due_date",
            "amount",
            "paid_date",
            "disputed",
            "disputed_date",
        ],
    )
    for col in ("issue_date", "due_date", "paid_date", "disputed_date"):
        invoices[col] = invoices[col].astype("datetime64[ns]")
    return {
        "customers": customers,
        "invoices": invoices,
        "payments": pd.DataFrame(pay_rows, columns=["customer_id", "invoice_id", "payment_date", "amount"]).astype(
            {"payment_date": "datetime64[ns]"}
        ),
        "contacts": pd.DataFrame(con_rows, columns=["customer_id", "invoice_id", "sent_at", "channel"]).astype(
            {"sent_at": "datetime64[ns]"}
        ),
        "plans": pd.DataFrame(plan_rows, columns=["plan_id", "customer_id", "created_date"]).astype(
            {"created_date": "datetime64[ns]"}
        ),
        "installments": pd.DataFrame(
            ins_rows, columns=["plan_id", "installment_no", "due_date", "amount_due", "paid_date", "amount_paid"]
        ).astype({"due_date": "datetime64[ns]", "paid_date": "datetime64[ns]"}),
    }


def _span(ledger: pr.Ledger) -> tuple[int, int]:
    """Day offsets (from BASE) bracketing the ledger's events, with some room on either side."""
    first = (ledger.invoices["issue_date"].min() - BASE).days
    last = (ledger.end_date - BASE).days
    return first - 10, last + 40


@st.composite
def invoice_cutoff_frame(draw, ledger: pr.Ledger) -> pd.DataFrame:
    """Random (invoice_id, as_of) lines, in random order with repeats, each before its invoice's paid date."""
    inv = ledger.invoices
    rows = []
    for _ in range(draw(st.integers(1, 8))):
        pos = draw(st.integers(0, len(inv) - 1))
        as_of = inv["issue_date"].iloc[pos] + pd.Timedelta(days=draw(st.integers(-30, 120)))
        paid = inv["paid_date"].iloc[pos]
        if pd.notna(paid) and as_of >= paid:
            as_of = paid - pd.Timedelta(days=draw(st.integers(1, 30)))
        rows.append((inv["invoice_id"].iloc[pos], as_of))
    out = pd.DataFrame(rows, columns=["invoice_id", "as_of"])
    return out.astype({"invoice_id": "str", "as_of": "datetime64[ns]"})


# -- fast == naive on random ledgers -----------------------------------------------------------------------------


@settings(max_examples=30)
@given(frames=ledger_frames())
def test_invoice_rules_match_naive(frames):
    ledger = build(frames)
    assert_same(
        pr.features.invoice_features(ledger, "issue_date"), naive_invoice_features(ledger, issue_cutoffs(ledger))
    )
    assert_same(pr.features.invoice_features(ledger, "due_date"), naive_invoice_features(ledger, due_cutoffs(ledger)))


@settings(max_examples=30)
@given(frames=ledger_frames(), data=st.data())
def test_invoice_dates_and_frames_match_naive(frames, data):
    ledger = build(frames)
    lo, hi = _span(ledger)
    D = day(data.draw(st.integers(lo, hi), label="D"))
    assert_same(
        pr.features.invoice_features(ledger, str(D.date())), naive_invoice_features(ledger, date_cutoffs(ledger, D))
    )
    cutoffs = data.draw(invoice_cutoff_frame(ledger), label="cutoffs")
    assert_same(pr.features.invoice_features(ledger, cutoffs), naive_invoice_features(ledger, cutoffs))


@settings(max_examples=30)
@given(frames=ledger_frames(), data=st.data())
def test_customer_features_match_naive(frames, data):
    ledger = build(frames)
    lo, hi = _span(ledger)
    D = day(data.draw(st.integers(lo, hi), label="D"))
    assert_same(
        pr.features.customer_features(ledger, D), naive_customer_features(ledger, customer_date_cutoffs(ledger, D))
    )
    days = data.draw(st.lists(st.integers(lo, hi), min_size=1, max_size=8), label="days")
    ids = data.draw(
        st.lists(st.sampled_from(list(ledger.customers["customer_id"])), min_size=len(days), max_size=len(days)),
        label="ids",
    )
    cutoffs = pd.DataFrame({"customer_id": pd.Series(ids, dtype="str"), "as_of": [day(k) for k in days]})
    assert_same(pr.features.customer_features(ledger, cutoffs), naive_customer_features(ledger, cutoffs))


@settings(max_examples=30)
@given(frames=ledger_frames(min_plans=1), data=st.data())
def test_plan_features_match_naive(frames, data):
    ledger = build(frames)
    assert_same(pr.features.plan_features(ledger, "created_date"), naive_plan_features(ledger, created_cutoffs(ledger)))
    assert_same(
        pr.features.plan_features(ledger, "installment_due"),
        naive_plan_features(ledger, installment_due_cutoffs(ledger)),
    )
    plans = ledger.plans
    rows = []
    for _ in range(data.draw(st.integers(1, 6), label="n")):
        pos = data.draw(st.integers(0, len(plans) - 1))
        rows.append(
            (plans["plan_id"].iloc[pos], plans["created_date"].iloc[pos] + data.draw(st.integers(-20, 120)) * DAY)
        )
    cutoffs = pd.DataFrame(rows, columns=["plan_id", "as_of"]).astype({"plan_id": "str", "as_of": "datetime64[ns]"})
    assert_same(pr.features.plan_features(ledger, cutoffs), naive_plan_features(ledger, cutoffs))


@settings(max_examples=15)
@given(frames=ledger_frames(min_plans=1))
def test_plan_features_of_a_ledger_of_plans_only(frames):
    """Loan books (Berka, Home Credit) have plans and no invoices: customer history is simply empty."""
    keep = {k: v for k, v in frames.items() if k in ("customers", "plans", "installments")}
    ledger = build(keep)
    assert ledger.invoices.empty
    for cutoffs in ("created_date", "installment_due"):
        fast = pr.features.plan_features(ledger, cutoffs)
        want = created_cutoffs(ledger) if cutoffs == "created_date" else installment_due_cutoffs(ledger)
        assert_same(fast, naive_plan_features(ledger, want))
        assert (fast["n_invoices"] == 0).all() and fast["share_late"].isna().all()


# -- fast == naive on synthetic ledgers (a few months, a few customers) -------------------------------------------


@functools.lru_cache(maxsize=8)
def _synthetic(seed: int) -> pr.Ledger:
    return pr.datasets.make_ledger(n_customers=4, start="2023-01-01", end="2023-05-31", seed=seed)


@settings(max_examples=25)
@given(seed=st.integers(0, 7), data=st.data())
def test_synthetic_ledgers_match_naive(seed, data):
    ledger = _synthetic(seed)
    # rule outputs: same rows as the hand-built cutoffs, and a random sample of rows equal to the naive ones
    for rule, cutoffs in (("issue_date", issue_cutoffs(ledger)), ("due_date", due_cutoffs(ledger))):
        fast = pr.features.invoice_features(ledger, rule)
        assert fast.index.tolist() == cutoffs["invoice_id"].tolist(), rule
        assert (fast["as_of"].to_numpy() == cutoffs["as_of"].to_numpy()).all(), rule
        pos = sorted(data.draw(st.sets(st.integers(0, len(cutoffs) - 1), min_size=1, max_size=6), label=rule))
        assert_same(fast.iloc[pos], naive_invoice_features(ledger, cutoffs.iloc[pos]))
    D = pd.Timestamp("2023-01-01") + data.draw(st.integers(0, 170), label="D") * DAY
    fast = pr.features.invoice_features(ledger, D)
    cutoffs = date_cutoffs(ledger, D)
    assert fast.index.tolist() == cutoffs["invoice_id"].tolist()
    if len(cutoffs):
        pos = sorted(data.draw(st.sets(st.integers(0, len(cutoffs) - 1), min_size=1, max_size=6), label="date rows"))
        assert_same(fast.iloc[pos], naive_invoice_features(ledger, cutoffs.iloc[pos]))
    assert_same(
        pr.features.customer_features(ledger, D), naive_customer_features(ledger, customer_date_cutoffs(ledger, D))
    )
    if len(ledger.plans):
        assert_same(
            pr.features.plan_features(ledger, "installment_due"),
            naive_plan_features(ledger, installment_due_cutoffs(ledger)),
        )


@functools.lru_cache(maxsize=2)
def _mid_world(seed: int) -> pr.Ledger:
    return pr.datasets.make_ledger(n_customers=60, start="2022-01-01", end="2023-12-31", seed=seed)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 1), offset=st.integers(0, 700))
def test_one_day_kernel_equals_the_multi_cutoff_kernel(seed, offset):
    """Scoring runs (one cutoff for all rows) use bincounts instead of sorted streams: same numbers, every
    feature, on a ledger with plans, partial payments, disputes and reminders."""
    from payrisk.features._customer import invoiced_365, usual_log_amount
    from payrisk.features._history import History, Prepared
    from payrisk.features._snapshot import SnapshotHistory, history

    ledger = _mid_world(seed)
    prep = Prepared(ledger)
    D = int((pd.Timestamp("2022-02-01") - pd.Timestamp("1970-01-01")).days) + offset
    pos = np.flatnonzero((prep.inv_issue <= D) & (prep.inv_paid > D))
    own = np.concatenate([pos, np.full(len(pos) // 2 + 1, -1)])  # open invoices, and rows without one
    cust = np.concatenate([prep.inv_cust[pos], np.arange(len(own) - len(pos)) % len(prep.cust_index)])
    day = np.full(len(own), D, dtype=np.int64)
    fast = history(prep, cust, day, own)
    assert isinstance(fast, SnapshotHistory)
    slow = History(prep, cust, day, own)
    got, want = fast.frame(), slow.frame()
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-9, atol=1e-9)
    for quantity in (usual_log_amount, invoiced_365):
        np.testing.assert_allclose(quantity(fast), quantity(slow), rtol=1e-9)
    for table, values in (("payments", None), ("payments", "cents"), ("contacts", None)):
        np.testing.assert_array_equal(fast.own_total(table, values), slow.own_total(table, values))


# -- nothing after the cutoff matters ---------------------------------------------------------------------------------


def _after(draw, D: pd.Timestamp, not_before: pd.Timestamp | None = None, most: int = 60) -> pd.Timestamp:
    """A random day after ``D`` (and on or after ``not_before``)."""
    start = D if not_before is None or not_before <= D else not_before - DAY
    return start + draw(st.integers(1, most)) * DAY


def perturb_after(draw, frames: dict[str, pd.DataFrame], D: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """Add, remove and move events dated after the end of day ``D``; leave everything known at ``D`` alone."""
    # object columns: rows appended below may hold None or new types without pandas casting the column
    f = {k: v.astype(object) for k, v in frames.items()}
    inv, pay, con = f["invoices"], f["payments"], f["contacts"]
    custs = list(f["customers"]["customer_id"])
    pay_later = pay["payment_date"] > D

    # settled later: move the paid date (and the invoice's later payments) to another day after D
    for i in inv.index[(inv["paid_date"] > D) & (inv["amount"] > 0)]:
        if draw(st.booleans()):
            new_paid = _after(draw, D, inv.at[i, "issue_date"])
            inv.at[i, "paid_date"] = new_paid
            pay.loc[pay_later & (pay["invoice_id"] == inv.at[i, "invoice_id"]), "payment_date"] = new_paid
    # open for good: settle some of them after D with a payment of what is left
    for i in inv.index[inv["paid_date"].isna() & (inv["amount"] > 0)]:
        if draw(st.booleans()):
            new_paid = _after(draw, D, inv.at[i, "issue_date"])
            left = inv.at[i, "amount"] - pay.loc[pay["invoice_id"] == inv.at[i, "invoice_id"], "amount"].sum()
            inv.at[i, "paid_date"] = new_paid
            if left > 0.004:
                pay.loc[len(pay)] = (inv.at[i, "customer_id"], inv.at[i, "invoice_id"], new_paid, round(left, 2))
    # disputes raised later: another later day
    for i in inv.index[inv["disputed_date"] > D]:
        inv.at[i, "disputed_date"] = _after(draw, D)
    # later payments: delete some
    drop = [i for i in pay.index[pay["payment_date"] > D] if draw(st.booleans())]
    pay = pay.drop(index=drop).reset_index(drop=True)
    # new invoices, credit notes, payments and contacts after D
    n_old = len(inv)
    for k in range(draw(st.integers(0, 3))):
        c = draw(st.sampled_from(custs))
        issue = _after(draw, D)
        cents = draw(st.integers(1, 40_000))
        paid = _after(draw, D, issue) if draw(st.booleans()) else pd.NaT
        inv.loc[n_old + k] = (
            f"N{k}",
            c,
            issue,
            issue + draw(st.integers(0, 30)) * DAY,
            cents / 100,
            paid,
            False,
            pd.NaT,
        )
        if pd.notna(paid):
            pay.loc[len(pay)] = (c, f"N{k}", paid, cents / 100)
        con.loc[len(con)] = (c, f"N{k}", issue + pd.Timedelta(hours=5), draw(st.sampled_from(CHANNELS)))
    if draw(st.booleans()):
        issue = _after(draw, D)
        inv.loc[len(inv)] = ("NCN", draw(st.sampled_from(custs)), issue, issue, -12.5, pd.NaT, False, pd.NaT)
    for _ in range(draw(st.integers(0, 2))):
        pay.loc[len(pay)] = (draw(st.sampled_from(custs)), None, _after(draw, D), 7.25)
    # later contacts: delete some, add some (about earlier invoices and at customer level)
    later = con["sent_at"] >= D + DAY
    con = con.drop(index=[i for i in con.index[later] if draw(st.booleans())]).reset_index(drop=True)
    old_ids = list(frames["invoices"].loc[frames["invoices"]["amount"] > 0, "invoice_id"])
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.sampled_from(old_ids))
        c = frames["invoices"].set_index("invoice_id").at[i, "customer_id"]
        about = i if draw(st.booleans()) else None
        con.loc[len(con)] = (
            c,
            about,
            _after(draw, D) + pd.Timedelta(hours=draw(st.integers(0, 23))),
            draw(st.sampled_from(CHANNELS)),
        )
    # plans: later instalment payments move, new plans created after D
    ins = f["installments"]
    for i in ins.index[ins["paid_date"] > D]:
        ins.at[i, "paid_date"] = _after(draw, D)
        ins.at[i, "amount_paid"] = ins.at[i, "amount_due"] * draw(st.sampled_from([0.5, 1.0]))
    plans = f["plans"]
    if draw(st.booleans()):
        created = _after(draw, D)
        plans.loc[len(plans)] = ("NP", draw(st.sampled_from(custs)), created)
        ins.loc[len(ins)] = ("NP", 1, created + 10 * DAY, 20.0, created + 12 * DAY, 20.0)
    f.update(invoices=inv, payments=pay, contacts=con, plans=plans, installments=ins)
    return f


@settings(max_examples=30)
@given(frames=ledger_frames(), data=st.data())
def test_events_after_the_cutoff_change_nothing(frames, data):
    ledger = build(frames)
    lo, hi = _span(ledger)
    D = day(data.draw(st.integers(lo + 10, hi - 40), label="D"))
    inv_cut = date_cutoffs(ledger, D)
    cust_cut = pd.DataFrame({"customer_id": ledger.customers["customer_id"], "as_of": D})
    plan_cut = pd.DataFrame({"plan_id": ledger.plans.loc[ledger.plans["created_date"] <= D, "plan_id"], "as_of": D})
    builders = [(pr.features.customer_features, cust_cut)]
    builders += [(pr.features.invoice_features, inv_cut)] if len(inv_cut) else []
    builders += [(pr.features.plan_features, plan_cut)] if len(plan_cut) else []
    before = [build_features(ledger, cut) for build_features, cut in builders]
    changed = build(perturb_after(data.draw, frames, D))
    after = [build_features(changed, cut) for build_features, cut in builders]
    for b, a in zip(before, after, strict=True):
        assert_same(a, b)


# -- by hand -------------------------------------------------------------------------------------------------------


def _hand_frames(i1_paid: str | None = "2024-01-01") -> dict[str, pd.DataFrame]:
    invoices = pd.DataFrame(
        {
            "invoice_id": ["I1", "I2", "I3", "I4", "I5"],
            "customer_id": ["c1", "c1", "c1", "c1", "c2"],
            "issue_date": ["2024-01-01", "2024-01-01", "2023-12-01", "2023-12-15", "2024-01-02"],
            "due_date": ["2024-01-31", "2024-01-31", "2023-12-31", "2023-12-20", "2024-01-16"],
            "amount": [100.0, 200.0, 50.0, 80.0, 10.0],
            "paid_date": [i1_paid, None, "2024-01-10", None, "2024-01-20"],
        }
    )
    payments = pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c1", "c2"],
            "invoice_id": ["I1", "I3", "I4", "I5"],
            "payment_date": ["2024-01-01", "2024-01-10", "2024-01-05", "2024-01-20"],
            "amount": [100.0, 50.0, 30.0, 10.0],
        }
    )
    if i1_paid is None:
        payments = payments.iloc[1:]
    contacts = pd.DataFrame(
        {"customer_id": ["c1"], "invoice_id": ["I4"], "sent_at": ["2024-01-03 10:00"], "channel": ["email"]}
    )
    return {"invoices": invoices, "payments": payments, "contacts": contacts}


@pytest.fixture
def hand() -> pr.Ledger:
    return build(_hand_frames())


def test_issue_date_rows_are_the_day_before_and_do_not_leak(hand):
    X = pr.features.invoice_features(hand, "issue_date")
    assert X.index.tolist() == ["I1", "I2", "I3", "I4", "I5"]
    assert X["as_of"].tolist() == list(hand.invoices["issue_date"] - DAY)
    i1 = X.loc["I1"]
    assert i1["paid_share"] == 0 and i1["n_reminders"] == 0
    # I1 was paid on its issue day: its issue-date row is the same as if it had never been paid
    unpaid = pr.features.invoice_features(build(_hand_frames(i1_paid=None)), "issue_date")
    assert_same(X.loc[["I1"]], unpaid.loc[["I1"]])
    # at 2023-12-31 the customer has I3 (due that day, paid later) and I4 (overdue since 12-20), nothing settled
    assert i1["n_invoices"] == 2 and i1["n_settled"] == 0 and np.isnan(i1["days_late_mean"])
    assert i1["n_open"] == 2 and i1["open_amount"] == 130 and i1["n_overdue"] == 1 and i1["max_days_overdue"] == 11
    assert i1["terms_days"] == 30 and i1["days_to_due"] == 31 and i1["days_overdue"] == 0 and i1["issue_month"] == 1


def test_own_invoice_is_excluded_and_open_invoices_are_censored(hand):
    X = pr.features.invoice_features(hand, "2024-01-15")
    assert X.index.tolist() == ["I2", "I4", "I5"]  # I1 and I3 are settled by then
    i2, i4, i5 = X.loc["I2"], X.loc["I4"], X.loc["I5"]
    # I2's history: I1 (paid 30 days early), I3 (10 days late), I4 (open, 26 days overdue, 30 of 80 paid)
    assert i2["n_invoices"] == 3 and i2["n_settled"] == 2
    assert i2["days_late_mean"] == -10 and i2["share_late"] == 0.5 and i2["days_late_max_90d"] == 10
    assert i2["n_open"] == 1 and i2["open_amount"] == 50 and i2["n_overdue"] == 1 and i2["overdue_amount"] == 50
    assert i2["max_days_overdue"] == 26
    assert i2["share_partial_payments"] == pytest.approx(1 / 3) and i2["days_since_last_payment"] == 5
    assert i2["n_reminders_365d"] == 1 and i2["reminder_response_7d"] == 1 and i2["reminder_response_7d_email"] == 1
    # I4's own payment and reminder are invoice features, not history
    assert i4["paid_share"] == pytest.approx(30 / 80) and i4["n_reminders"] == 1 and i4["days_overdue"] == 26
    assert i4["n_open"] == 1 and i4["open_amount"] == 200 and i4["n_overdue"] == 0 and np.isnan(i4["max_days_overdue"])
    assert i4["n_reminders_365d"] == 0 and np.isnan(i4["reminder_response_7d"])
    assert i4["n_settled"] == 2 and i4["days_since_last_payment"] == 5 and i4["share_partial_payments"] == 0
    # c2 has no other invoice
    assert i5["n_invoices"] == 0 and i5["n_open"] == 0 and np.isnan(i5["tenure_days"]) and np.isnan(i5["share_late"])
    C = pr.features.customer_features(hand, "2024-01-15")
    assert C.loc["c1", ["n_invoices", "n_open", "n_overdue", "n_settled", "open_amount"]].tolist() == [4, 2, 1, 2, 250]
    assert_same(X, naive_invoice_features(hand, date_cutoffs(hand, "2024-01-15")))


def test_due_date_rows(hand):
    X = pr.features.invoice_features(hand, "due_date")
    assert X.index.tolist() == ["I2", "I3", "I4", "I5"]  # I1 was settled before its due date
    assert X["as_of"].tolist() == [pd.Timestamp(d) for d in ["2024-01-30", "2023-12-30", "2023-12-19", "2024-01-15"]]
    assert (X["days_to_due"] == 1).all()
    assert_same(X, naive_invoice_features(hand, due_cutoffs(hand)))


def test_cutoffs_on_or_after_the_paid_date_are_refused(hand):
    cutoffs = pd.DataFrame({"invoice_id": ["I2", "I1"], "as_of": pd.to_datetime(["2024-01-15", "2024-01-01"])})
    with pytest.raises(PayriskError) as info:
        pr.features.invoice_features(hand, cutoffs)
    assert "I1" in str(info.value) or "[1]" in str(info.value)
    later = pd.DataFrame({"invoice_id": ["I3"], "as_of": pd.to_datetime(["2024-03-01"])})
    with pytest.raises(PayriskError, match=r"I3|\[0\]"):
        pr.features.invoice_features(hand, later)
    ok = pd.DataFrame({"invoice_id": ["I1", "I3"], "as_of": pd.to_datetime(["2023-12-31", "2024-01-09"])})
    assert_same(pr.features.invoice_features(hand, ok), naive_invoice_features(hand, ok))


def test_unknown_ids_are_refused(hand):
    with pytest.raises(PayriskError, match="NOPE"):
        pr.features.invoice_features(hand, pd.DataFrame({"invoice_id": ["I2", "NOPE"], "as_of": ["2024-01-05"] * 2}))


# -- registry ----------------------------------------------------------------------------------------------------


def test_registry_is_well_formed():
    reg = pr.features.registry
    assert reg.index.is_unique
    assert set(reg["entity"]) <= {"invoice", "customer", "plan", "profile"}
    assert (reg["description"].str.strip().str.len() > 0).all()
    assert set(reg["risk"]) <= {-1, 0, 1}
    assert reg.index.tolist() == pr.features.feature_names()
    for entity in ("invoice", "customer", "plan", "profile"):
        assert pr.features.feature_names(entity) == reg.index[reg["entity"] == entity].tolist()
    assert set(pr.features.PROFILE_NUMBERS) < set(pr.features.feature_names("profile"))


def test_every_customer_feature_is_defined_once_for_both_kernels():
    from payrisk.features._customer import DEFINITIONS

    assert sorted(DEFINITIONS) == sorted(pr.features.feature_names("customer"))


@pytest.mark.parametrize("cutoffs", ["issue_date", "2023-06-30"], ids=["multi_cutoff", "one_day"])
def test_each_customer_feature_alone_equals_its_column_of_all(cutoffs):
    """A feature asked for alone computes what it needs (e.g. pay_weekday_share without pay_weekday)."""
    ledger = _mid_world(0)
    full = pr.features.invoice_features(ledger, cutoffs)
    for name in pr.features.feature_names("customer"):
        alone = pr.features.invoice_features(ledger, cutoffs, features=[name])
        pd.testing.assert_series_equal(alone[name], full[name])


def test_builders_columns_follow_the_registry(hand):
    names = pr.features.feature_names
    X = pr.features.invoice_features(hand, "issue_date")
    assert list(X.columns) == ["customer_id", "as_of", *names("invoice"), *names("customer")]
    assert X.index.name == "invoice_id"
    C = pr.features.customer_features(hand, "2024-01-15")
    assert list(C.columns) == ["as_of", *names("customer")] and C.index.name == "customer_id"
    frames = _hand_frames()
    frames["plans"] = pd.DataFrame({"plan_id": ["PL1"], "customer_id": ["c1"], "created_date": ["2024-01-20"]})
    frames["installments"] = pd.DataFrame(
        {
            "plan_id": ["PL1", "PL1"],
            "installment_no": [1, 2],
            "due_date": ["2024-02-20", "2024-03-20"],
            "amount_due": [40.0, 40.0],
        }
    )
    ledger = build(frames)
    P = pr.features.plan_features(ledger, "installment_due")
    assert list(P.columns) == ["customer_id", "as_of", "installment_no", *names("plan"), *names("customer")]
    assert P.index.name == "plan_id" and P["installment_no"].tolist() == [1.0, 2.0]
    for df in (X, C, P):
        feats = [c for c in df.columns if c not in ("customer_id", "as_of")]
        assert (df[feats].dtypes == "float32").all()
    assert_same(P, naive_plan_features(ledger, installment_due_cutoffs(ledger)))


def test_blocks_of_customers_change_nothing(monkeypatch):
    """invoice_features works through blocks of whole customers: cut in many small blocks, every value is the
    same, in the cutoffs' order."""
    from payrisk.features import _builders

    ledger = pr.datasets.make_ledger(n_customers=150, seed=4)
    open_ids = ledger.as_of("2024-03-31").open_invoices()["invoice_id"].sample(frac=1.0, random_state=0)
    cut = pd.DataFrame({"invoice_id": open_ids.to_numpy(), "as_of": pd.Timestamp("2024-03-31")})  # shuffled
    whole = {i: pr.features.invoice_features(ledger, c) for i, c in enumerate(("issue_date", "due_date", cut))}
    monkeypatch.setattr(_builders, "BLOCK_ROWS", 37)
    monkeypatch.setattr(_builders, "MAX_BLOCKS", 1000)
    assert len(_builders._customer_blocks(np.sort(ledger.invoices["customer_id"].factorize()[0]))) > 20
    for i, c in enumerate(("issue_date", "due_date", cut)):
        got, expected = pr.features.invoice_features(ledger, c), whole[i]
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got.index.tolist() == cut["invoice_id"].tolist()
    in_worker: list[pd.DataFrame] = []  # inside a worker thread (a Dask task) the blocks run one after the other
    worker = threading.Thread(target=lambda: in_worker.append(pr.features.invoice_features(ledger, "issue_date")))
    worker.start()
    worker.join()
    pd.testing.assert_frame_equal(in_worker[0], whole[0], check_exact=True)


@settings(max_examples=300, deadline=None)
@given(
    day=st.dates(min_value=pd.Timestamp("1999-01-01").date(), max_value=pd.Timestamp("2040-12-31").date()),
    pay_day=st.integers(1, 31),
)
def test_a_pay_run_is_the_first_or_last_day_of_its_day_of_month_with_month_ends_kept_in_the_month(day, pay_day):
    """``next_payrun`` / ``prev_payrun`` (read by the pay-day features, the world and the segments): the first day on
    or after ``d`` / the last day on or before it whose day of the month is the pay day, or the month's last day
    where the month is shorter (the 31st in April is 30 April, never 1 May); walked day by day here."""
    from payrisk._calendar import day_numbers, next_payrun, prev_payrun

    d = pd.Timestamp(day)
    on_run = lambda x: x.day == min(pay_day, x.days_in_month)  # noqa: E731
    want_next = next(d + pd.Timedelta(days=i) for i in range(40) if on_run(d + pd.Timedelta(days=i)))
    want_prev = next(d - pd.Timedelta(days=i) for i in range(40) if on_run(d - pd.Timedelta(days=i)))
    n = day_numbers(pd.Series([d]))
    got = [int(f(n, np.array([pay_day]))[0]) for f in (next_payrun, prev_payrun)]
    assert got == [int(day_numbers(pd.Series([w]))[0]) for w in (want_next, want_prev)]
    assert np.isnan(next_payrun(n, np.array([np.nan]))).all() and np.isnan(prev_payrun(n, np.array([np.nan]))).all()
