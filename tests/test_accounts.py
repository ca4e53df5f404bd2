"""The account worklist: one row per customer and currency, its amounts the sums of its invoices, in order of the
account's expected loss, with its action or guard, its promise and its disputes, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import payrisk as pr
from payrisk.accounts import ACCOUNT_COLUMNS, account_worklist
from payrisk.errors import ParameterError

DAY = pd.Timestamp("2024-06-30")


def _book() -> tuple[pr.Ledger, pd.DataFrame]:
    inv = pd.DataFrame(
        {
            "invoice_id": ["1", "2", "3", "4", "5"],
            "customer_id": ["a", "a", "b", "c", "a"],
            "issue_date": ["2024-04-01", "2024-06-01", "2024-04-15", "2024-05-01", "2024-05-01"],
            "due_date": ["2024-05-01", "2024-07-01", "2024-05-15", "2024-05-31", "2024-05-31"],
            "amount": [1000.0, 500.0, 800.0, 300.0, 200.0],
            "currency": ["EUR", "EUR", "EUR", "EUR", "USD"],
            "disputed": [False, False, True, False, False],
            "disputed_date": [None, None, "2024-06-10", None, None],
        }
    )
    contacts = pd.DataFrame(
        {
            "contact_id": ["k1", "k2", "k3"],
            "customer_id": ["a", "c", "b"],
            "invoice_id": ["1", None, None],
            "sent_at": ["2024-06-25 10:00", "2024-06-05 09:00", "2024-04-01 09:00"],
            "channel": ["phone", "phone", "phone"],
            "outcome": ["promise_to_pay", "promise_to_pay", "promise_to_pay"],  # b's is too old to show
        }
    )
    ledger = pr.Ledger.from_frames(invoices=inv, contacts=contacts)
    worklist = pd.DataFrame(
        {
            "customer_id": ["a", "b", "a", "c", "a"],
            "currency": ["EUR", "EUR", "EUR", "EUR", "USD"],
            "open_amount": [1000.0, 800.0, 500.0, 300.0, 200.0],
            "days_overdue": [60, 46, 0, 30, 30],
            "expected_loss": [400.0, 700.0, 20.0, 90.0, 50.0],
            "priority_rank": [2, 1, 4, 3, 5],
            "segment": ["struggling", "chronic", "struggling", "forgetful", "struggling"],
            "reasons": ["", "ignores reminders", "", "late lately", "slow"],
        },
        index=pd.Index(["1", "3", "2", "4", "5"], name="invoice_id"),
    )
    return ledger, worklist


def test_accounts_by_hand():
    ledger, worklist = _book()
    actions = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "status": ["send", "blocked", "blocked"],
            "step": ["call", "reminder", "reminder"],
            "channel": ["phone", "email", "email"],
            "tone": ["firm", "mild", "mild"],
            "send_at": pd.to_datetime(["2024-07-01 09:00", "2024-07-01 09:00", "2024-07-01 09:00"]),
            "blocked_by": ["", "disputed: only the dispute flow", "max_contacts_per_week: 2 contacts in 7 days"],
        }
    )
    flat = account_worklist(ledger, worklist, DAY, actions)
    assert list(flat.columns) == ACCOUNT_COLUMNS
    acc = flat.set_index(["customer_id", "currency"])
    a = acc.loc[("a", "EUR")]
    assert a["open_amount"] == 1500.0 and a["overdue_amount"] == 1000.0 and a["n_invoices"] == 2
    assert a["n_overdue"] == 1 and a["max_days_overdue"] == 60 and a["expected_loss"] == 420.0
    assert a["first_invoice"] == "1" and a["reasons"] == ""  # its invoices carry no reasons (beyond the top n)
    assert acc.loc[("a", "USD"), "open_amount"] == 200.0  # never summed across currencies
    # the order: most expected loss of the account first (bands by share of the accounts: the first of 4 is 25%)
    assert acc.sort_values("account_rank").index.get_level_values(0).tolist() == ["b", "a", "c", "a"]
    assert acc.loc[("b", "EUR"), "band"] == "high" and acc.loc[("b", "EUR"), "reasons"] == "ignores reminders"
    # the action that goes out, else the guard that stopped it
    assert a["next_action"] == "call by phone (firm), Mon 01 Jul" and a["blocked_by"] == ""
    assert acc.loc[("c", "EUR"), "next_action"] == "" and acc.loc[("c", "EUR"), "blocked_by"].startswith("max_contacts")
    # disputes: b's invoice is disputed since 10 June
    assert acc.loc[("b", "EUR"), "disputed_invoices"] == 1 and acc.loc[("b", "EUR"), "disputed_amount"] == 800.0
    # promises: a's (invoice 1, made on 25 June, 14 days' grace) is open; c's (5 June) passed with 4 still open
    assert a["promise_status"] == "open" and "by 2024-07-09" in a["promise"] and "invoice 1" in a["promise"]
    assert acc.loc[("c", "EUR"), "promise_status"] == "broken"
    assert acc.loc[("b", "EUR"), "promise_status"] == ""  # made in April: older than promise_days
    # once a's invoice 1 is paid, its promise is kept
    paid = worklist.drop(index="1")
    assert account_worklist(ledger, paid, DAY).set_index("customer_id").loc["a"].iloc[0]["promise_status"] == "kept"


def test_account_sums_equal_the_worklist_on_a_world():
    ledger = pr.datasets.make_ledger(n_customers=150, seed=1)
    engine = pr.RiskEngine(n_estimators=20, reasons_top_n=10, forecast_weeks=0).fit(ledger, "2024-03-31")
    worklist = engine.score(ledger, "2024-06-30")
    acc = account_worklist(ledger, worklist, "2024-06-30")
    sums = worklist.groupby(["customer_id", "currency"])[["open_amount", "expected_loss"]].sum()
    got = acc.set_index(["customer_id", "currency"]).loc[sums.index]
    np.testing.assert_allclose(got["open_amount"], sums["open_amount"])
    np.testing.assert_allclose(got["expected_loss"], sums["expected_loss"])
    assert acc["account_rank"].tolist() == list(range(1, len(acc) + 1))
    assert (np.diff(acc["expected_loss"].to_numpy()) <= 1e-9).all()
    assert acc["n_invoices"].sum() == len(worklist)


def test_refusals_name_the_fix():
    ledger, worklist = _book()
    with pytest.raises(ParameterError, match="lacks"):
        account_worklist(ledger, worklist.drop(columns="expected_loss"), DAY)
    with pytest.raises(ParameterError, match="plan_actions"):
        account_worklist(ledger, worklist, DAY, pd.DataFrame({"customer_id": ["a"], "status": ["send"]}))
    with pytest.raises(ParameterError, match="promise_days"):
        account_worklist(ledger, worklist, DAY, promise_days=-1)


def test_kpi_trend_ends_on_the_day_and_matches_the_one_day_figures():
    ledger = pr.datasets.make_ledger(n_customers=150, seed=0)
    trend = pr.kpi.kpi_trend(ledger, "2024-06-15", months=4)
    days = trend.index.get_level_values("as_of").unique()
    assert days.strftime("%Y-%m-%d").tolist() == ["2024-03-31", "2024-04-30", "2024-05-31", "2024-06-15"]
    last = trend.xs(pd.Timestamp("2024-06-15"), level="as_of")
    dso = pr.kpi.dso(ledger, "2024-06-15")
    np.testing.assert_allclose(last["dso"], dso["dso"].reindex(last.index))
    aged = pr.kpi.ageing(ledger, "2024-06-15")
    np.testing.assert_allclose(last["overdue_share"], aged["overdue_share"].reindex(last.index))
    np.testing.assert_allclose(last[["current", "1-30", "31-60", "61-90", "90+"]].sum(axis=1), 1.0)
