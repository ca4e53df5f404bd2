"""The early warning per customer: its target (when a customer becomes a problem) against a per-row reading of its
definition, and its customers in business."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import payrisk as pr
from payrisk._training import customers_in_business

DAY0 = pd.Timestamp("2024-01-01")


def _reference(inv: pd.DataFrame, legal: pd.DataFrame, cut: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """customer_problem read off its definition, one question at a time (no plans here)."""
    out = []
    for c, t in zip(cut["customer_id"], cut["as_of"], strict=True):
        events = []  # (start, end) of each problem of the customer known at as_of
        for r in inv.loc[inv["customer_id"] == c].itertuples():
            limit = r.due_date + pd.Timedelta(days=30)
            paid = r.paid_date if pd.notna(r.paid_date) and r.paid_date <= as_of else pd.NaT
            if limit <= as_of and (pd.isna(paid) or paid > limit):
                events.append((limit, paid if pd.notna(paid) else pd.Timestamp.max))
        for s in legal["sent_at"].loc[(legal["customer_id"] == c).to_numpy()] if len(legal) else []:
            if s > as_of.replace(hour=23, minute=59):
                continue
            events.append((s.normalize(), s.normalize() + pd.Timedelta(days=90)))
        begins = [s for s, _ in events if t < s <= t + pd.Timedelta(days=90)]
        out.append(
            {
                "problem": int(bool(begins)),
                "already": any(s <= t < e for s, e in events),
                "first_problem": min(begins) if begins else pd.NaT,
                "known": bool(begins) or t + pd.Timedelta(days=90) <= as_of,
            }
        )
    return pd.DataFrame(out)


@st.composite
def books(draw):
    n = draw(st.integers(1, 12))
    cust = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    issue = draw(st.lists(st.integers(0, 300), min_size=n, max_size=n))
    terms = draw(st.lists(st.sampled_from([0, 14, 30]), min_size=n, max_size=n))
    wait = draw(st.lists(st.one_of(st.none(), st.integers(0, 200)), min_size=n, max_size=n))
    inv = pd.DataFrame(
        {
            "invoice_id": [f"i{k}" for k in range(n)],
            "customer_id": cust,
            "issue_date": [DAY0 + pd.Timedelta(days=d) for d in issue],
            "due_date": [DAY0 + pd.Timedelta(days=d + t) for d, t in zip(issue, terms, strict=True)],
            "amount": 100.0,
            "paid_date": [
                pd.NaT if w is None else DAY0 + pd.Timedelta(days=d + w) for d, w in zip(issue, wait, strict=True)
            ],
        }
    )
    m = draw(st.integers(0, 3))
    legal = pd.DataFrame(
        {
            "customer_id": draw(st.lists(st.sampled_from(["a", "b"]), min_size=m, max_size=m)),
            "sent_at": [
                DAY0 + pd.Timedelta(days=d, hours=10)
                for d in draw(st.lists(st.integers(0, 400), min_size=m, max_size=m))
            ],
            "channel": "legal",
        }
    )
    cut_days = draw(st.lists(st.integers(0, 450), min_size=1, max_size=6))
    cut = pd.DataFrame(
        {
            "customer_id": draw(
                st.lists(st.sampled_from(["a", "b", "c", "z"]), min_size=len(cut_days), max_size=len(cut_days))
            ),
            "as_of": [DAY0 + pd.Timedelta(days=d) for d in cut_days],
        }
    )
    as_of = DAY0 + pd.Timedelta(days=draw(st.integers(100, 600)))
    return inv, legal, cut, as_of


@settings(max_examples=60, deadline=None)
@given(books())
def test_customer_problem_is_its_definition_read_row_by_row(book):
    inv, legal, cut, as_of = book
    ledger = pr.Ledger.from_frames(invoices=inv, contacts=legal if len(legal) else None)
    got = pr.labels.customer_problem(ledger, cut, as_of=as_of)
    want = _reference(inv, legal, cut, as_of)
    assert got.index.equals(cut.index)
    for column in ("problem", "already", "known"):
        assert got[column].tolist() == want[column].tolist(), column
    pd.testing.assert_series_equal(
        got["first_problem"].reset_index(drop=True), want["first_problem"].astype("datetime64[ns]"), check_names=False
    )
    assert set(got.loc[got["problem"] == 1, "first_problem_kind"]) <= {"overdue", "handover"}
    assert (got.loc[got["problem"] == 0, "first_problem_kind"] == "").all()


def test_a_missed_instalment_breaks_a_plan_and_makes_a_problem():
    plans = pd.DataFrame({"plan_id": ["p"], "customer_id": ["a"], "created_date": ["2024-01-01"]})
    ins = pd.DataFrame(
        {
            "plan_id": "p",
            "installment_no": [1, 2],
            "due_date": ["2024-02-01", "2024-03-01"],
            "amount_due": 50.0,
            "paid_date": ["2024-02-01", None],
            "amount_paid": [50.0, 0.0],
        }
    )
    inv = pd.DataFrame({"invoice_id": ["i"], "customer_id": "a", "issue_date": "2023-12-01", "due_date": "2023-12-31",
                        "amount": 100.0, "paid_date": "2023-12-20"})  # fmt: skip
    ledger = pr.Ledger.from_frames(invoices=inv, plans=plans, installments=ins)
    cut = pd.DataFrame({"customer_id": ["a", "a"], "as_of": pd.to_datetime(["2024-02-15", "2024-04-15"])})
    got = pr.labels.customer_problem(ledger, cut, as_of="2024-12-31")
    assert got["problem"].tolist() == [1, 0] and got["already"].tolist() == [False, True]
    assert (
        got["first_problem"].iloc[0] == pd.Timestamp("2024-03-31")
        and got["first_problem_kind"].iloc[0] == "broken_plan"
    )


def test_customers_in_business_have_an_open_invoice_or_a_recent_one():
    inv = pd.DataFrame(
        {
            "invoice_id": ["old_open", "old_paid", "recent"],
            "customer_id": ["a", "b", "c"],
            "issue_date": ["2022-01-01", "2022-01-01", "2023-12-01"],
            "due_date": ["2022-01-31", "2022-01-31", "2023-12-31"],
            "amount": 100.0,
            "paid_date": ["2024-05-01", "2022-02-01", "2023-12-20"],
        }
    )
    ledger = pr.Ledger.from_frames(invoices=inv)
    cut = pd.DataFrame({"customer_id": ["a", "b", "c", "c", "a"], "as_of": pd.to_datetime(
        ["2024-03-01", "2024-03-01", "2024-03-01", "2024-12-31", "2024-06-01"])})  # fmt: skip
    assert customers_in_business(ledger, cut).tolist() == [True, False, True, False, False]


def test_the_truth_deteriorating_customers_become_problems_more_often():
    """The target carries the world's truth: reliable customers who deteriorate become problems far more often
    after the change than those who do not."""
    ledger = pr.datasets.make_ledger(n_customers=600, seed=5)
    c = ledger.truth.customers.set_index("customer_id")
    reliable = c.loc[c["archetype"] == "reliable"]
    days = pd.date_range("2023-01-31", "2024-09-30", freq="30D")
    cut = pd.DataFrame({"customer_id": np.repeat(reliable.index, len(days)), "as_of": np.tile(days, len(reliable))})
    y = pr.labels.customer_problem(ledger, cut)
    after = reliable["deteriorated_on"].reindex(cut["customer_id"]).to_numpy() <= cut["as_of"].to_numpy()
    quiet = ~y["already"].to_numpy()
    assert y["problem"].to_numpy()[after & quiet].mean() > 5 * y["problem"].to_numpy()[~after & quiet].mean()
