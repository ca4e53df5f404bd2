"""Dates and amounts as exports write them: read right where the values leave one reading, refused with the line
to add where they leave several, never guessed."""

from __future__ import annotations

import ast
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import payrisk as pr
from payrisk._formats import infer_date_format, infer_separators
from payrisk.errors import ParameterError

FORMATS = ["%m/%d/%Y", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%b-%Y", "%m-%d-%y", "%d.%m.%y"]


def invoices(issue: list[str], amount: list[str] | None = None, **cols: list[str]) -> pd.DataFrame:
    n = len(issue)
    due = cols.pop("due_date", issue)
    return pd.DataFrame({"invoice_id": [f"I{i}" for i in range(n)], "customer_id": "C1", "issue_date": issue,
                         "due_date": due, "amount": amount or ["10.5"] * n, **cols})  # fmt: skip


@given(
    days=st.lists(
        st.dates(pd.Timestamp("1990-01-01").date(), pd.Timestamp("2025-12-31").date()), min_size=1, max_size=30
    ),
    fmt=st.sampled_from(FORMATS),
)
def test_a_date_column_in_any_common_format_is_read_exactly_or_refused(days, fmt):
    text = [pd.Timestamp(d).strftime(fmt) for d in days]
    reading = infer_date_format(pd.Series(text))
    if reading.value is not None:  # read: then exactly the dates written, whatever the format
        assert reading.complete
        from payrisk._formats import parse_dates

        assert parse_dates(pd.Series(text), reading.value).dt.date.tolist() == days
    else:  # refused: only when another format reads every value too, to other dates
        assert reading.complete and fmt in reading.candidates and len(reading.candidates) >= 2
    if any(d.day > 12 for d in days) and "%y" not in fmt and fmt != "%Y/%m/%d":
        assert reading.value == fmt  # a day above 12 settles day-first against month-first


def test_ibm_style_dates_are_read_and_the_report_says_how():
    ledger = pr.Ledger.from_frames(invoices=invoices(["1/26/2013", "2/3/2013"], due_date=["2/25/2013", "3/5/2013"]))
    assert ledger.report.ok
    assert ledger.invoices["issue_date"].dt.strftime("%Y-%m-%d").tolist() == ["2013-01-26", "2013-02-03"]
    read = ledger.report.inferred.set_index("column")["read_as"]
    assert read["issue_date"] == "dates as %m/%d/%Y" and "1/26/2013" in str(ledger.report)


def test_an_ambiguous_date_column_is_refused_with_the_line_to_add(tmp_path):
    frame = invoices(["03/04/2024", "05/06/2024"])
    with pytest.raises(ParameterError, match=r"mapping=\{'date_formats': \{'invoices': \{'issue_date': '%d/%m/%Y'"):
        pr.Ledger.from_frames(invoices=frame)  # the API: its mapping= argument
    with pytest.raises(ParameterError) as refused:  # a mapping given as a ColumnMapping: the fix in its syntax
        pr.Ledger.from_frames(invoices=frame, mapping=pr.schema.ColumnMapping(decimal="."))
    fix = re.search(r"ColumnMapping\(date_formats=(\{.*?\}\})\)", str(refused.value)).group(1)
    mapping = pr.schema.ColumnMapping(date_formats=ast.literal_eval(fix))
    with pytest.raises(ParameterError, match=r"invoices.due_date.*ColumnMapping\(date_formats="):  # the next column
        pr.Ledger.from_frames(invoices=frame, mapping=mapping)
    mapping.date_formats["invoices"]["due_date"] = "%d/%m/%Y"
    assert pr.Ledger.from_frames(invoices=frame, mapping=mapping).invoices["issue_date"].dt.month.tolist() == [4, 6]
    data = tmp_path / "data"
    data.mkdir()
    frame.to_csv(data / "invoices.csv", index=False)
    (tmp_path / "m.yaml").write_text("decimal: '.'\n")
    from payrisk.cli import main

    assert main(["validate", str(data), "--mapping", str(tmp_path / "m.yaml")]) == 2  # the command: YAML syntax
    settled = pr.Ledger.from_frames(
        invoices=invoices(["03/04/2024", "05/06/2024"], due_date=["30/04/2024", "30/06/2024"])
    )
    assert settled.invoices["issue_date"].dt.month.tolist() == [4, 6]  # the due dates settle it: day first
    # a column whose every day equals its month ("05/05/2023") reads alike either way: it settles nothing
    # (found by the command fuzz: it once settled the due dates day first and lost a clean row as due_before_issue)
    same = invoices(["05/05/2023", "07/07/2023"], due_date=["06/04/2023", "08/06/2023"])
    with pytest.raises(ParameterError, match=r"invoices.due_date: the dates read in 2 formats"):
        pr.Ledger.from_frames(invoices=same)
    assert infer_date_format(pd.Series(["05/05/2023"])).telling is False
    assert infer_date_format(pd.Series(["31/05/2023"])).telling is True


def test_ambiguous_dates_name_yaml_in_the_command(tmp_path, capsys):
    from payrisk.cli import main

    data = tmp_path / "data"
    data.mkdir()
    invoices(["03/04/2024", "05/06/2024"]).to_csv(data / "invoices.csv", index=False)
    assert main(["validate", str(data)]) == 2
    err = capsys.readouterr().err
    assert 'date_formats: {"invoices": {"issue_date": "%d/%m/%Y"}}' in err and "ColumnMapping" not in err


@given(
    values=st.lists(
        st.decimals(min_value=-(10**7), max_value=10**7, places=2, allow_nan=False), min_size=1, max_size=20
    ),
    style=st.sampled_from([(".", ","), (",", "."), (",", " "), (".", ""), (".", "'"), (".", "\u2019")]),
    minus=st.sampled_from(["-{}", "{}-", "({})"]),
)
def test_amounts_in_any_locale_are_read_exactly_or_refused(values, style, minus):
    """Any locale's separators (Swiss 1'234.50 too), and negatives as most tools write them, SAP's trailing
    minus (``1.234,56-``) and the accountant's brackets (``(1.234,56)``) included."""
    decimal, thousands = style
    text = []
    for v in values:
        whole, frac = f"{abs(v):,.2f}".split(".")
        number = whole.replace(",", thousands) + decimal + frac
        text.append(minus.format(number) if v < 0 else number)
    frame = invoices(["2024-01-01"] * len(text), text)
    try:
        ledger = pr.Ledger.from_frames(invoices=frame)
    except ParameterError as exc:  # only when the values leave the separator open
        assert "decimal separator open" in str(exc)
        return
    got = pd.concat([ledger.invoices["amount"], ledger.credit_notes["amount"]]).sort_values().to_numpy()
    want = np.sort([float(v) for v in values if v != 0])
    assert np.allclose(got, want)


def test_three_digits_after_one_separator_is_never_read_by_guess():
    with pytest.raises(ParameterError, match=r"3\.300") as refused:
        pr.Ledger.from_frames(invoices=invoices(["2024-01-01"], ["3.300"]))
    fixes = re.findall(r"mapping=(\{[^}]*\})", str(refused.value))  # the lines to paste, as the API takes them
    read = [
        pr.Ledger.from_frames(invoices=invoices(["2024-01-01"], ["3.300"]), mapping=ast.literal_eval(f)) for f in fixes
    ]
    assert sorted(r.invoices["amount"].iloc[0] for r in read) == [3.3, 3300.0]
    one = pr.Ledger.from_frames(invoices=invoices(["2024-01-01"] * 2, ["3.300", "12,50"]))  # a comma settles it
    assert sorted(one.invoices["amount"]) == [12.5, 3300.0]
    said = pr.Ledger.from_frames(invoices=invoices(["2024-01-01"], ["3.300"]), mapping={"decimal": "."})
    assert said.invoices["amount"].tolist() == [3.3]
    assert infer_separators(pd.Series(["1,5", "2.5"])).decimal is None  # the values disagree


def test_separators_must_differ_and_groups_must_be_groups():
    with pytest.raises(Exception, match="must differ"):
        pr.schema.ColumnMapping(decimal=",", thousands=",")
    frame = invoices(["2024-01-01"] * 3, ["1.234,56", "1.5", "7,25"])
    with pytest.raises(ParameterError, match="the values disagree"):  # 1.5 reads with a point, 7,25 with a comma
        pr.Ledger.from_frames(invoices=frame)
    ledger = pr.Ledger.from_frames(invoices=frame, mapping={"decimal": ",", "thousands": "."})
    rejected = ledger.report.issues
    assert rejected[["row", "rule"]].values.tolist() == [[1, "unparsable_amount"]]  # 1.5 is no group of three
    assert sorted(ledger.invoices["amount"]) == [7.25, 1234.56]


def test_implausible_amounts_and_dates_are_rejected_with_their_rule():
    frame = invoices(["2024-01-01", "2024-01-02", "1850-01-01", "2024-01-04"], ["1e308", "1e-320", "10", "10"])
    frame.loc[3, "issue_date"] = (pd.Timestamp.today() + pd.Timedelta(days=400)).strftime("%Y-%m-%d")
    ledger = pr.Ledger.from_frames(invoices=frame)
    rules = ledger.report.issues.set_index("row")["rule"].to_dict()
    assert rules == {0: "implausible_amount", 1: "implausible_amount", 2: "implausible_date", 3: "implausible_date"}
    roomy = pr.Ledger.from_frames(invoices=frame.iloc[:1], mapping={"max_amount": 1e309})
    assert roomy.report.ok


def test_a_currency_code_in_the_amount_is_refused_as_such_and_the_rest_is_read():
    frame = invoices(["2024-01-01"] * 3, ["EUR 1.234,56", "1.234,56 EUR", "12,50"])
    ledger = pr.Ledger.from_frames(invoices=frame)
    assert ledger.invoices["amount"].tolist() == [12.5]  # the plain amount is read with the file's comma
    issues = ledger.report.issues
    bad = issues.loc[issues["rule"] == "unparsable_amount"]
    assert len(bad) == 2 and sorted(bad["row"]) == [0, 1] and "currency code ('EUR 1.234,56')" in bad["fix"].iloc[0]
    assert ledger.report.counts.loc["invoices", "input"] == 3 and ledger.report.counts.loc["invoices", "rejected"] == 2
