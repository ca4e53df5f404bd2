"""Every validation rule: a bad input, the rejected row, and the content of the report or error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import payrisk as pr
from payrisk.errors import ColumnMissingError, PayriskError, ValidationError


def build(frames: dict[str, pd.DataFrame], **kw) -> pr.Ledger:
    return pr.Ledger.from_frames(**frames, **kw)


def issues_of(ledger: pr.Ledger, table: str) -> pd.DataFrame:
    iss = ledger.report.issues
    return iss[iss["table"] == table]


def assert_conserved(ledger: pr.Ledger, frames: dict[str, pd.DataFrame]) -> None:
    """input == accepted + rejected for every table, and accepted rows are all in the ledger."""
    counts = ledger.report.counts
    for name, df in frames.items():
        row = counts.loc[name]
        assert row["input"] == len(df)
        assert row["accepted"] + row["rejected"] == row["input"]
        assert len(ledger.report.rejected_rows(name)) == row["rejected"]
    inv = counts.loc["invoices"]
    assert len(ledger.invoices) + len(ledger.credit_notes) == inv["accepted"]
    assert len(ledger.credit_notes) == inv["credit_notes"]


def test_valid_tables_are_accepted_whole(frames):
    ledger = build(frames)
    assert ledger.report.ok
    assert ledger.report.issues.empty
    assert_conserved(ledger, frames)
    assert ledger.contacts["channel"].tolist() == ["email"]  # normalised case
    assert ledger.invoices["issue_date"].dtype == "datetime64[ns]"
    assert ledger.invoices["amount"].dtype == "float64"


def test_missing_required_column_names_column_and_mapping(frames):
    inv = frames["invoices"].rename(columns={"due_date": "DueDate"})
    with pytest.raises(ColumnMissingError) as err:
        pr.Ledger.from_frames(invoices=inv)
    msg = str(err.value)
    assert "invoices" in msg and "'due_date'" in msg
    assert "mapping={'invoices': {'DueDate': 'due_date'}}" in msg
    fixed = pr.Ledger.from_frames(invoices=inv, mapping={"invoices": {"DueDate": "due_date"}})
    assert len(fixed.invoices) == 3


def test_mapping_to_unknown_canonical_column_is_refused():
    with pytest.raises(ValueError, match="did you mean 'due_date'"):
        pr.ColumnMapping.coerce({"invoices": {"DueDate": "due_dat"}})


def test_mapping_naming_absent_user_column(frames):
    with pytest.raises(ColumnMissingError, match="Nope"):
        pr.Ledger.from_frames(invoices=frames["invoices"], mapping={"invoices": {"Nope": "currency"}})


def test_terms_days_instead_of_due_date(frames):
    inv = frames["invoices"].drop(columns="due_date").assign(terms_days=[30, 30, "x"])
    ledger = pr.Ledger.from_frames(invoices=inv)
    assert ledger.invoices["due_date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-31", "2024-02-09"]
    assert issues_of(ledger, "invoices")["rule"].tolist() == ["unparsable_int"]


def test_missing_value(frames):
    frames["invoices"].loc[1, "customer_id"] = "  "
    ledger = build(frames)
    iss = issues_of(ledger, "invoices")
    assert iss[["row", "column", "rule"]].values.tolist() == [[1, "customer_id", "missing_value"]]
    assert "I2" not in ledger.invoices["invoice_id"].tolist()
    # the payment on the rejected invoice is rejected too, with a rule that says why
    pay = issues_of(ledger, "payments")
    assert pay[["id", "rule"]].values.tolist() == [["P2", "unknown_invoice"]]
    assert_conserved(ledger, frames)


def test_conflicting_duplicate_ids_reject_all_copies(frames):
    extra = frames["invoices"].iloc[[0]].assign(amount=999.0)
    frames["invoices"] = pd.concat([frames["invoices"], extra], ignore_index=True)
    ledger = build(frames)
    iss = issues_of(ledger, "invoices")
    assert sorted(iss.loc[iss["rule"] == "duplicate_id", "row"]) == [0, 3]
    assert "I1" not in ledger.invoices["invoice_id"].tolist()
    assert_conserved(ledger, frames)


def test_exact_duplicate_row_keeps_the_first(frames):
    frames["invoices"] = pd.concat([frames["invoices"], frames["invoices"].iloc[[1]]], ignore_index=True)
    ledger = build(frames)
    iss = issues_of(ledger, "invoices")
    assert iss[["row", "rule"]].values.tolist() == [[3, "duplicate_row"]]
    assert ledger.invoices["invoice_id"].tolist().count("I2") == 1
    assert_conserved(ledger, frames)


def test_due_before_issue_and_paid_before_issue(frames):
    frames["invoices"].loc[0, "due_date"] = "2023-12-01"
    frames["invoices"].loc[2, "paid_date"] = "2024-01-15"
    frames.pop("payments")
    ledger = build(frames)
    iss = issues_of(ledger, "invoices")
    assert iss[["row", "rule", "value"]].values.tolist() == [
        [0, "due_before_issue", "2023-12-01"],
        [2, "paid_before_issue", "2024-01-15"],
    ]
    assert ledger.invoices["invoice_id"].tolist() == ["I2"]


def test_unparsable_dates_need_an_explicit_format(frames):
    frames["invoices"]["issue_date"] = ["01/01/2024", "2024-01-10", "2024-13-45"]
    ledger = build(frames)
    iss = issues_of(ledger, "invoices")
    assert iss[["row", "rule", "value"]].values.tolist() == [
        [0, "unparsable_date", "01/01/2024"],
        [2, "unparsable_date", "2024-13-45"],
    ]
    assert "date_formats" in iss["fix"].iloc[0]
    # with the format, the day-first date is read; ISO dates then need the same format
    frames["invoices"]["issue_date"] = ["01/01/2024", "10/01/2024", "01/02/2024"]
    ledger = build(frames, mapping={"date_formats": {"invoices": {"issue_date": "%d/%m/%Y"}}})
    assert ledger.report.ok
    assert ledger.invoices["issue_date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-01-10", "2024-02-01"]


def test_out_of_range_date_is_rejected_not_crashing(frames):
    frames["invoices"].loc[1, "due_date"] = "9999-12-31"
    ledger = build(frames)
    assert issues_of(ledger, "invoices")[["row", "rule"]].values.tolist() == [[1, "implausible_date"]]


def test_unparsable_amount_and_separators(frames):
    frames["invoices"]["amount"] = ["100", "two hundred", "inf"]
    ledger = build(frames)
    iss = issues_of(ledger, "invoices")
    assert iss[["row", "rule", "value"]].values.tolist() == [
        [1, "unparsable_amount", "two hundred"],
        [2, "unparsable_amount", "inf"],
    ]
    frames["invoices"]["amount"] = ["€ 1.234,50", "(200,00)", "50"]
    ledger = build(frames, mapping={"decimal": ",", "thousands": "."})
    assert ledger.invoices["amount"].tolist() == [1234.5, 50.0]
    assert ledger.credit_notes["amount"].tolist() == [-200.0]


def test_zero_amount_rejected(frames):
    frames["invoices"].loc[2, "amount"] = 0.0
    ledger = build(frames)
    assert issues_of(ledger, "invoices")[["row", "rule"]].values.tolist() == [[2, "zero_amount"]]


def test_negative_amount_is_a_credit_note_never_an_invoice(frames):
    cn = pd.DataFrame(
        {
            "invoice_id": ["CN1"],
            "customer_id": ["c1"],
            "issue_date": ["2024-01-20"],
            "due_date": [None],
            "amount": [-30.0],
            "currency": ["EUR"],
            "paid_date": [None],
        }
    )
    frames["invoices"] = pd.concat([frames["invoices"], cn], ignore_index=True)
    ledger = build(frames)
    assert "CN1" not in ledger.invoices["invoice_id"].tolist()
    assert ledger.credit_notes[["credit_note_id", "amount"]].values.tolist() == [["CN1", -30.0]]
    assert ledger.report.ok  # moved, not rejected
    moved = ledger.report.issues
    assert moved[["row", "rule", "action"]].values.tolist() == [[3, "credit_note", "moved"]]
    assert_conserved(ledger, frames)


def test_negative_payment_rejected(frames):
    frames["payments"].loc[1, "amount"] = -5.0
    ledger = build(frames)
    assert issues_of(ledger, "payments")[["id", "rule"]].values.tolist() == [["P2", "negative_amount"]]


def test_references_to_unknown_invoice_customer_plan(frames):
    frames["payments"].loc[0, "invoice_id"] = "NOPE"
    frames["invoices"].loc[2, "customer_id"] = "c9"
    frames["installments"].loc[1, "plan_id"] = "PL9"
    frames["contacts"].loc[0, "invoice_id"] = "I7"
    ledger = build(frames)
    got = ledger.report.issues[["table", "id", "rule"]].values.tolist()
    assert ["invoices", "I3", "unknown_customer"] in got
    assert ["payments", "P1", "unknown_invoice"] in got
    assert ["payments", "P3", "unknown_invoice"] in got  # its invoice was rejected
    assert ["installments", "PL9/2", "unknown_plan"] in got
    assert ["contacts", "", "unknown_invoice"] in got
    assert_conserved(ledger, frames)


def test_installments_without_plans_table(frames):
    ledger = pr.Ledger.from_frames(installments=frames["installments"])
    assert ledger.report.counts.loc["installments", "rejected"] == 2
    assert "plans=" in ledger.report.issues["message"].iloc[0]


def test_payment_customer_mismatch_and_before_issue(frames):
    frames["payments"].loc[2, "customer_id"] = "c1"
    frames["payments"].loc[1, "payment_date"] = "2024-01-05"
    ledger = build(frames)
    got = issues_of(ledger, "payments")[["id", "rule"]].values.tolist()
    assert got == [["P2", "payment_before_issue"], ["P3", "customer_mismatch"]]


def test_payment_customer_taken_from_invoice_when_absent(frames):
    pay = frames["payments"].drop(columns="customer_id")
    ledger = pr.Ledger.from_frames(invoices=frames["invoices"], payments=pay)
    assert ledger.payments["customer_id"].tolist() == ["c1", "c1", "c2"]


def test_mixed_currency_without_conversion(frames):
    frames["invoices"].loc[1, "currency"] = "usd"
    frames["invoices"] = pd.concat(
        [frames["invoices"], frames["invoices"].iloc[[0]].assign(invoice_id="I4")], ignore_index=True
    )
    frames.pop("payments")
    ledger = build(frames)
    iss = issues_of(ledger, "invoices")
    assert iss[["id", "rule", "value"]].values.tolist() == [["I2", "mixed_currency", "usd"]]
    assert "fx_rates" in iss["fix"].iloc[0]
    converted = build(frames, mapping={"fx_rates": {"EUR": 1.0, "USD": 0.5}})
    assert converted.report.ok
    assert converted.invoices.set_index("invoice_id").loc["I2", "amount_base"] == pytest.approx(100.0)
    unknown = build(frames, mapping={"fx_rates": {"EUR": 1.0}})
    assert issues_of(unknown, "invoices")["rule"].tolist() == ["unknown_currency"]


def test_over_payment_rejects_the_payment_that_pushes_over(frames):
    extra = pd.DataFrame(
        {
            "payment_id": ["P4"],
            "customer_id": ["c1"],
            "invoice_id": ["I2"],
            "payment_date": ["2024-02-20"],
            "amount": [150.0],
        }
    )
    frames["payments"] = pd.concat([frames["payments"], extra], ignore_index=True)
    ledger = build(frames)
    assert issues_of(ledger, "payments")[["id", "rule"]].values.tolist() == [["P4", "over_payment"]]
    # a rounding cent is tolerated
    frames["payments"].loc[3, "amount"] = 120.01
    assert build(frames).report.ok


def test_contacts_unknown_channel_and_tone(frames):
    frames["contacts"] = pd.concat(
        [frames["contacts"], frames["contacts"].assign(channel="pigeon", tone="furious")], ignore_index=True
    )
    ledger = build(frames)
    assert issues_of(ledger, "contacts")[["row", "rule"]].values.tolist() == [
        [1, "unknown_channel"],
        [1, "unknown_tone"],
    ]
    assert ledger.report.counts.loc["contacts", "rejected"] == 1


def test_strict_raises_with_the_report(frames):
    frames["invoices"].loc[0, "amount"] = 0
    with pytest.raises(ValidationError) as err:
        build(frames, strict=True)
    assert err.value.report is not None
    assert err.value.report.issues["rule"].tolist()[0] == "zero_amount"
    assert "invoices.amount: zero_amount" in str(err.value)
    assert isinstance(err.value, ValueError) and isinstance(err.value, PayriskError)


def test_rejected_rows_are_returned_as_given(frames):
    frames["invoices"]["amount"] = [100.0, "abc", 50.0]
    ledger = build(frames)
    rows = ledger.report.rejected_rows("invoices")
    assert rows["invoice_id"].tolist() == ["I2"]
    assert rows["amount"].tolist() == ["abc"]
    assert rows["rules"].tolist() == ["unparsable_amount"]
    assert rows.index.tolist() == [1]


def test_report_summary_and_text(frames):
    frames["invoices"].loc[[0, 2], "amount"] = 0
    report = build(frames).report
    summ = report.summary()
    assert summ[["table", "rule", "rows"]].values.tolist()[0] == ["invoices", "zero_amount", 2]
    text = str(report)
    assert "invoices.amount: zero_amount" in text and "rows 0, 2" in text


def test_report_csv_is_formula_safe(frames, tmp_path):
    frames["invoices"]["amount"] = [100.0, '=HYPERLINK("http://evil")', "@SUM(A1)"]
    path = build(frames).report.to_csv(tmp_path / "report.csv")
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    values = back.loc[back["table"] == "invoices", "value"].tolist()
    assert values == ['\'=HYPERLINK("http://evil")', "'@SUM(A1)"]
    assert not any(v.startswith(("=", "+", "@")) for col in back for v in back[col])


def test_payments_derived_from_paid_dates_when_absent(frames):
    ledger = pr.Ledger.from_frames(invoices=frames["invoices"])
    assert ledger.payments[["invoice_id", "amount"]].values.tolist() == [["I1", 100.0], ["I3", 50.0]]
    assert "derived" in ledger.meta["payments_source"]


def test_paid_dates_derived_from_payments_when_absent(frames):
    inv = frames["invoices"].drop(columns="paid_date")
    ledger = pr.Ledger.from_frames(invoices=inv, payments=frames["payments"])
    paid = ledger.invoices.set_index("invoice_id")["paid_date"]
    assert str(paid["I1"].date()) == "2024-02-05"
    assert pd.isna(paid["I2"])  # 80 of 200 paid: still open
    assert ledger.invoices.set_index("invoice_id").loc["I2", "open_amount"] == pytest.approx(120.0)


def test_bool_parsing(frames):
    frames["invoices"]["disputed"] = ["yes", "No", "maybe"]
    ledger = build(frames)
    assert issues_of(ledger, "invoices")[["row", "rule"]].values.tolist() == [[2, "unparsable_bool"]]
    assert ledger.invoices["disputed"].tolist() == [True, False]


def test_numeric_ids_are_read_as_text(frames):
    frames["invoices"]["invoice_id"] = [1001.0, 1002.0, np.nan]
    frames.pop("payments")
    frames.pop("contacts")
    ledger = build(frames)
    assert ledger.invoices["invoice_id"].tolist() == ["1001", "1002"]
    assert issues_of(ledger, "invoices")["rule"].tolist() == ["missing_value"]


def test_unknown_table_name_is_refused():
    with pytest.raises(PayriskError, match="unknown tables"):
        pr.schema.validate_tables({"invoice": pd.DataFrame()})


def test_rules_catalogue_has_fixes():
    for rule, (desc, fix) in pr.schema.RULES.items():
        assert desc and fix, rule
