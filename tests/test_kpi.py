"""AR KPIs on ledgers small enough to compute by hand, against the synthetic truth, and without look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import payrisk as pr
from payrisk import kpi


def _ledger(invoices: list[tuple], payments: list[tuple] = (), contacts: list[tuple] = ()) -> pr.Ledger:
    """invoices: (id, customer, currency, issue, due, amount; negative: a credit note);
    payments: (invoice, customer, date, amount); contacts: (invoice or None, customer, sent_at, outcome)."""
    inv = pd.DataFrame(invoices, columns=["invoice_id", "customer_id", "currency", "issue_date", "due_date", "amount"])
    pay = pd.DataFrame(
        [(f"p{i}", c, i_, d, a) for i, (i_, c, d, a) in enumerate(payments)],
        columns=["payment_id", "customer_id", "invoice_id", "payment_date", "amount"],
    )
    pay["currency"] = pay["invoice_id"].map(inv.set_index("invoice_id")["currency"])
    con = pd.DataFrame(
        [(f"k{i}", c, i_, d, "phone", o) for i, (i_, c, d, o) in enumerate(contacts)],
        columns=["contact_id", "customer_id", "invoice_id", "sent_at", "channel", "outcome"],
    )
    ledger = pr.Ledger.from_frames(
        invoices=inv,
        payments=pay if len(pay) else None,
        contacts=con if len(con) else None,
    )
    assert ledger.report.n_rejected == 0, ledger.report
    return ledger


AS_OF = "2024-06-30"


@pytest.fixture()
def book() -> pr.Ledger:
    """Two customers, two currencies: boundaries of every bucket, a partial payment, credit notes, a paid item."""
    invoices = [
        ("due-today", "c1", "EUR", "2024-06-01", "2024-06-30", 100.0),  # current (0 days overdue)
        ("d30", "c1", "EUR", "2024-05-01", "2024-05-31", 200.0),  # 30 days overdue -> 1-30
        ("d31", "c1", "EUR", "2024-04-30", "2024-05-30", 300.0),  # 31 -> 31-60, partly paid: 120 open
        ("d90", "c2", "EUR", "2024-03-02", "2024-04-01", 400.0),  # 90 -> 61-90
        ("d91", "c2", "EUR", "2024-03-01", "2024-03-31", 500.0),  # 91 -> 90+
        ("paid", "c2", "EUR", "2024-05-01", "2024-05-31", 50.0),  # paid in full: not open
        ("paid-later", "c2", "EUR", "2024-05-01", "2024-05-31", 70.0),  # paid after as_of: open at as_of
        ("usd", "c3", "USD", "2024-06-15", "2024-07-15", 1000.0),  # another currency, current
        ("cn", "c1", "EUR", "2024-06-10", "2024-06-10", -40.0),  # a credit note: not an open invoice
    ]
    payments = [
        ("d31", "c1", "2024-06-01", 180.0),
        ("paid", "c2", "2024-05-30", 50.0),
        ("paid-later", "c2", "2024-07-10", 70.0),
    ]
    return _ledger(invoices, payments)


def test_ageing_puts_every_invoice_in_its_bucket_at_the_boundaries(book):
    aged = kpi.ageing(book, AS_OF)
    eur, usd = aged.loc["EUR"], aged.loc["USD"]
    assert eur["current"] == 100.0
    assert eur["1-30"] == 200.0 + 70.0  # 30 days overdue, and the invoice paid only after as_of
    assert eur["31-60"] == 120.0  # 300 less the partial payment of 180
    assert eur["61-90"] == 400.0 and eur["90+"] == 500.0
    assert eur["total"] == 100 + 270 + 120 + 400 + 500
    assert eur["overdue"] == eur["total"] - 100.0
    assert usd["current"] == 1000.0 and usd["overdue_share"] == 0.0


def test_ageing_by_customer_adds_up_and_buckets_are_configurable(book):
    per_customer = kpi.ageing(book, AS_OF, by="customer")
    total = kpi.ageing(book, AS_OF)
    summed = per_customer.groupby(level="currency").sum()
    pd.testing.assert_series_equal(summed["total"], total["total"])
    assert per_customer.loc[("EUR", "c2"), "90+"] == 500.0
    custom = kpi.ageing(book, AS_OF, buckets=(15, 45))
    assert list(custom.columns[:4]) == ["current", "1-15", "16-45", "45+"]
    assert custom.loc["EUR", "16-45"] == 200.0 + 70.0 + 120.0  # 30 and 31 days overdue
    assert custom.loc["EUR", "45+"] == 900.0
    with pytest.raises(pr.errors.ParameterError, match="increasing"):
        kpi.ageing(book, AS_OF, buckets=(30, 30))


def test_segments_group_customers_and_must_be_given(book):
    seg = pd.Series({"c1": "reliable", "c2": "chronic"})
    aged = kpi.ageing(book, AS_OF, by="segment", segments=seg)
    assert aged.loc[("EUR", "chronic"), "total"] == 400 + 500 + 70
    with pytest.raises(pr.errors.ParameterError, match="segments"):
        kpi.ageing(book, AS_OF, by="segment")
    with pytest.raises(pr.errors.ParameterError, match="'by'"):
        kpi.dso(book, AS_OF, by="region")


@pytest.fixture()
def three_months() -> pr.Ledger:
    """Sales: January 400, February 200, March 300; open at 31 March: 150 of February's and all of March's."""
    invoices = [
        ("jan", "c1", "EUR", "2024-01-10", "2024-02-09", 400.0),
        ("feb", "c1", "EUR", "2024-02-10", "2024-03-11", 200.0),
        ("mar", "c1", "EUR", "2024-03-10", "2024-04-09", 300.0),
        ("cn", "c1", "EUR", "2024-03-20", "2024-03-20", -90.0),
    ]
    payments = [("jan", "c1", "2024-02-10", 400.0), ("feb", "c1", "2024-03-01", 50.0)]
    return _ledger(invoices, payments)


def test_dso_standard_countback_best_possible_and_add_by_hand(three_months):
    got = kpi.dso(three_months, "2024-03-31", period_days=91).loc["EUR"]  # 1 January to 31 March
    assert got["receivables"] == 450.0 and got["credit_sales"] == 900.0
    assert got["dso"] == pytest.approx(450 / 900 * 91)
    assert got["best_possible_dso"] == pytest.approx(300 / 900 * 91)  # only March's invoice is not yet due
    assert got["add"] == pytest.approx((450 - 300) / 900 * 91)
    # countback: March's 300 covered in full (31 days), then 150 of February's 200 (of its 29 days)
    assert got["dso_countback"] == pytest.approx(31 + 150 / 200 * 29)


def test_credit_notes_are_neither_receivables_nor_sales_but_are_shown(three_months):
    got = kpi.dso(three_months, "2024-03-31", period_days=91).loc["EUR"]
    assert got["credit_notes"] == 90.0  # issued on 20 March, shown beside the sales
    assert got["receivables"] == 450.0 and got["credit_sales"] == 900.0
    assert kpi.ageing(three_months, "2024-03-31").loc["EUR", "total"] == 450.0


def test_countback_beyond_the_months_of_history_extrapolates_at_average_daily_sales(three_months):
    got = kpi.dso(three_months, "2024-03-31", countback_months=1).loc["EUR"]
    # 450 open against 300 of March (31 days): 31 days, then 150 at March's 300 / 31 a day
    assert got["dso_countback"] == pytest.approx(31 + 150 / (300 / 31))


def test_cei_per_month_by_hand(three_months):
    cei = kpi.collection_effectiveness(three_months, "2024-02-01", "2024-03-31").loc["EUR"]
    feb, mar = cei.loc["2024-02-01"], cei.loc["2024-03-01"]
    # February: begins with January's 400, sells 200, collects 400 on 10 Feb; ends with 200, not yet due
    assert (feb["beginning"], feb["credit_sales"], feb["ending"], feb["ending_current"]) == (400, 200, 200, 200)
    assert feb["collected"] == 400 and feb["cei"] == pytest.approx(100 * 400 / (400 + 200 - 200))
    # March: begins 200, sells 300, collects 50; ends 450 of which March's 300 is current
    assert mar["collected"] == 50 and mar["cei"] == pytest.approx(100 * 50 / (200 + 300 - 300))
    assert str(mar["period_end"].date()) == "2024-03-31"
    with pytest.raises(pr.errors.ParameterError, match="before start"):
        kpi.collection_effectiveness(three_months, "2024-03-31", "2024-02-01")


def test_on_time_share_counts_partial_payments_as_late_and_only_invoices_due_in_the_window():
    invoices = [
        ("on-time", "c1", "EUR", "2024-05-01", "2024-06-01", 100.0),
        ("on-due-date", "c1", "EUR", "2024-05-01", "2024-06-02", 100.0),
        ("late", "c1", "EUR", "2024-05-01", "2024-06-01", 100.0),
        ("partial", "c1", "EUR", "2024-05-01", "2024-06-01", 100.0),
        ("unpaid", "c1", "EUR", "2024-05-01", "2024-06-01", 200.0),
        ("not-due", "c1", "EUR", "2024-06-01", "2024-07-01", 100.0),  # due after as_of: not judged
        ("old", "c1", "EUR", "2024-01-01", "2024-02-01", 100.0),  # due before the window
    ]
    payments = [
        ("on-time", "c1", "2024-05-30", 100.0),
        ("on-due-date", "c1", "2024-06-02", 100.0),
        ("late", "c1", "2024-06-05", 100.0),
        ("partial", "c1", "2024-05-30", 60.0),
        ("old", "c1", "2024-01-30", 100.0),
    ]
    got = kpi.on_time_share(_ledger(invoices, payments), AS_OF, window_days=90).loc["EUR"]
    assert got["invoices_due"] == 5 and got["paid_on_time"] == 2
    assert got["on_time_share"] == pytest.approx(2 / 5)
    assert got["amount_on_time_share"] == pytest.approx(200 / 600)


def test_promise_kept_rate_by_hand():
    invoices = [
        ("a", "c1", "EUR", "2024-05-01", "2024-05-31", 100.0),
        ("b", "c1", "EUR", "2024-05-01", "2024-05-31", 100.0),
        ("c", "c2", "EUR", "2024-05-01", "2024-05-31", 100.0),
        ("d", "c2", "EUR", "2024-05-01", "2024-05-31", 100.0),
    ]
    payments = [("a", "c1", "2024-06-10", 100.0), ("b", "c1", "2024-06-25", 100.0), ("d", "c2", "2024-06-08", 30.0)]
    contacts = [
        ("a", "c1", "2024-06-01", "promise_to_pay"),  # paid 10 June, within 14 days: kept
        ("b", "c1", "2024-06-01", "promise_to_pay"),  # paid 25 June: broken
        ("c", "c2", "2024-06-01", "no_answer"),  # not a promise
        ("c", "c2", "2024-06-25", "promise_to_pay"),  # deadline 9 July is after as_of: not judged
        (None, "c2", "2024-06-05", "promise_to_pay"),  # no invoice: the customer paid something on 8 June
    ]
    got = kpi.promise_kept_rate(_ledger(invoices, payments, contacts), AS_OF, grace_days=14).loc["EUR"]
    assert got["promises"] == 3 and got["kept"] == 2
    assert got["kept_rate"] == pytest.approx(2 / 3)


def test_a_promise_with_a_date_is_judged_on_that_date():
    invoices = [
        ("a", "c1", "EUR", "2024-05-01", "2024-05-31", 100.0),
        ("b", "c2", "EUR", "2024-05-01", "2024-05-31", 100.0),
    ]
    payments = [("a", "c1", "2024-06-08", 100.0), ("b", "c2", "2024-06-08", 100.0)]
    ledger = _ledger(
        invoices, payments, [("a", "c1", "2024-06-01", "promise_to_pay"), ("b", "c2", "2024-06-01", "promise_to_pay")]
    )
    contacts = ledger.contacts.assign(promised_date=pd.to_datetime(["2024-06-05", "2024-06-10"]))
    dated = pr.Ledger.from_frames(invoices=ledger.invoices, payments=ledger.payments, contacts=contacts)
    # undated both fall due 14 days on and were paid within them; dated, c1 paid 3 days after the day it named
    assert kpi.promise_kept_rate(ledger, AS_OF).loc["EUR", "kept"] == 2
    got = kpi.promise_kept_rate(dated, AS_OF).loc["EUR"]
    assert got["promises"] == 2 and got["kept"] == 1


def test_on_time_share_matches_the_true_probabilities_of_the_synthetic_world():
    ledger = pr.datasets.make_ledger(n_customers=800, seed=2)
    day = pd.Timestamp("2024-06-30")
    got = kpi.on_time_share(ledger, day, window_days=180)
    truth = ledger.truth.invoices.set_index("invoice_id")["p_late"]
    inv = ledger.invoices
    due = inv.loc[(inv["due_date"] <= day) & (inv["due_date"] > day - pd.Timedelta(days=180))]
    for currency, rows in due.groupby("currency"):
        p = truth.reindex(rows["invoice_id"]).to_numpy()
        expected = 1 - p.mean()
        se = np.sqrt((p * (1 - p)).sum()) / len(p)
        assert got.loc[currency, "invoices_due"] == len(rows)
        assert abs(got.loc[currency, "on_time_share"] - expected) < 4 * se + 1e-9, currency
    # and it ranks the true archetypes: reliable payers pay on time far more often than chronic ones
    arche = ledger.truth.archetype_at(day)
    per = kpi.on_time_share(ledger, day, 180, by="segment", segments=arche).groupby(level="segment")
    share = per["paid_on_time"].sum() / per["invoices_due"].sum()
    assert share["reliable"] > share["forgetful"] > share["chronic"]


@pytest.mark.parametrize("later", ["2024-07-31", "2024-12-31"])
def test_no_kpi_reads_anything_after_its_date(later):
    """The KPIs as of a date are the same whether the ledger holds later events or not."""
    ledger = pr.datasets.make_ledger(n_customers=200, seed=5)
    cut = ledger.as_of("2024-03-31")
    full = ledger.as_of(later)
    for func in (kpi.ageing, kpi.dso, kpi.on_time_share, kpi.promise_kept_rate, kpi.kpi_summary):
        pd.testing.assert_frame_equal(func(cut, "2024-03-31"), func(full, "2024-03-31"), obj=func.__name__)
    pd.testing.assert_frame_equal(
        kpi.collection_effectiveness(cut, "2024-01-01", "2024-03-31"),
        kpi.collection_effectiveness(full, "2024-01-01", "2024-03-31"),
    )
