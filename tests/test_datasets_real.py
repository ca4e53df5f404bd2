"""Loaders of the public real datasets in ../shared/data (skipped when the folder is absent)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import payrisk as pr
from payrisk.datasets import (
    DATASETS,
    load_berka,
    load_dataset,
    load_home_credit,
    load_ibm_ar,
    load_loan_collections,
    load_taiwan_credit,
)
from payrisk.errors import DataFileError, ParameterError

pytestmark = pytest.mark.realdata

DATA = Path(os.environ.get("PAYRISK_DATA") or Path(__file__).resolve().parents[1].parent / "shared" / "data")
NS = np.dtype("datetime64[ns]")


@pytest.fixture(scope="module")
def root() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"../shared/data not found: {DATA} (set PAYRISK_DATA to the data folder)")
    return DATA


@pytest.fixture(scope="module")
def ibm(root: Path) -> pr.Ledger:
    return load_ibm_ar(root / "ibm_accounts_receivable")


@pytest.fixture(scope="module")
def berka(root: Path) -> pr.Ledger:
    return load_berka(root / "berka_pkdd99")


@pytest.fixture(scope="module")
def home(root: Path) -> pr.Ledger:
    return load_home_credit(root / "home_credit_installments_sample")


@pytest.fixture(scope="module")
def taiwan(root: Path) -> pr.Ledger:
    return load_taiwan_credit(root / "uci_credit_card_taiwan")


@pytest.fixture(scope="module")
def loans(root: Path) -> pr.Ledger:
    return load_loan_collections(root / "loan_payments_collections")


def _balanced(ledger: pr.Ledger) -> None:
    c = ledger.report.counts
    assert (c["input"] == c["accepted"] + c["rejected"]).all()


def _date_columns_are_ns(ledger: pr.Ledger) -> None:
    for name, df in ledger.tables.items():
        for col in df.columns:
            if col.endswith("_date"):
                assert df[col].dtype == NS, (name, col, df[col].dtype)


# -- IBM ---------------------------------------------------------------------------------------------------
def test_ibm_counts_all_accepted(ibm: pr.Ledger) -> None:
    c = ibm.report.counts
    assert c.loc["invoices", ["input", "accepted", "rejected"]].tolist() == [2466, 2466, 0]
    assert c.loc["customers", ["input", "accepted", "rejected"]].tolist() == [100, 100, 0]
    assert ibm.report.ok and ibm.report.issues.empty
    assert len(ibm.invoices) == 2466 and len(ibm.customers) == 100
    assert len(ibm.payments) == 2466  # derived: one full payment per settled invoice
    assert np.allclose(ibm.payments.set_index("invoice_id")["amount"], ibm.invoices.set_index("invoice_id")["amount"])
    assert ibm.meta["source"] == "ibm_accounts_receivable"


def test_ibm_columns_dtypes_and_no_leakage(ibm: pr.Ledger) -> None:
    _date_columns_are_ns(ibm)
    for df in ibm.tables.values():
        assert not {"DaysLate", "DaysToSettle"} & set(df.columns)
    assert ibm.invoices["invoice_id"].str.len().eq(10).all()  # zero-padded ids kept as text
    assert ibm.invoices["invoice_id"].str.startswith("0").any()
    assert ibm.invoices["channel"].value_counts().to_dict() == {"Paper": 1263, "Electronic": 1203}
    assert int(ibm.invoices["disputed"].sum()) == 561
    assert ibm.invoices["disputed_date"].isna().all()
    assert (ibm.invoices["currency"] == "XXX").all()
    assert ((ibm.invoices["due_date"] - ibm.invoices["issue_date"]).dt.days == 30).all()
    assert ibm.customers["country"].isin(["391", "406", "770", "897", "818"]).all()
    assert ibm.customers["paperless_date"].notna().all()
    notes = " ".join(ibm.meta["notes"])
    assert "DaysLate" in notes and "Disputed" in notes


def test_ibm_late_share_matches_the_file(ibm: pr.Ledger, root: Path) -> None:
    inv = ibm.invoices
    late = (inv["paid_date"] > inv["due_date"]).sum()
    raw = pd.read_csv(root / "ibm_accounts_receivable" / "WA_Fn-UseC_-Accounts-Receivable.csv")
    assert late == int((raw["DaysLate"] > 0).sum()) == 877
    assert late / len(inv) == pytest.approx(877 / 2466)


def test_ibm_as_of_censors_open_items(ibm: pr.Ledger) -> None:
    snap = ibm.as_of("2013-09-30")
    assert len(snap.invoices) == 2258
    assert len(snap.open_invoices()) == 88


# -- Berka -------------------------------------------------------------------------------------------------
def test_berka_plans(berka: pr.Ledger) -> None:
    _balanced(berka)
    assert berka.report.ok
    plans = berka.plans
    assert len(plans) == 682 and plans["plan_id"].is_unique
    assert plans["status"].value_counts().to_dict() == {"C": 403, "A": 203, "D": 45, "B": 31}
    assert (plans["finished"] == plans["status"].isin(["A", "B"])).all()
    assert (plans["kept"] == plans["status"].isin(["A", "C"])).all()
    assert plans["created_date"].min() == pd.Timestamp("1993-07-05")
    assert plans["created_date"].max() == pd.Timestamp("1998-12-08")
    assert set(plans["n_installments"].astype(int)) == {12, 24, 36, 48, 60}
    assert np.allclose(plans["total_amount"], plans["installment_amount"] * plans["n_installments"].astype(float))
    assert (plans["currency"] == "CZK").all()
    assert berka.installments.empty  # paid dates need trans.asc, which is not available
    _date_columns_are_ns(berka)


def test_berka_customers(berka: pr.Ledger, root: Path) -> None:
    cust = berka.customers.set_index("customer_id")
    assert len(cust) == 4500 and cust.index.is_unique
    assert cust["statement_frequency"].value_counts().to_dict() == {
        "monthly": 4167,
        "weekly": 240,
        "after_transaction": 93,
    }
    # client 1 (birth_number 706213, owner of account 1): a woman born 1970-12-13
    assert cust.loc["1", "sex"] == "F"
    assert cust.loc["1", "birth_date"] == pd.Timestamp("1970-12-13")
    assert int(cust["n_cards"].sum()) == 892
    assert cust.loc[cust["district_id"] == 69, "unemployment_1995"].isna().all()
    assert cust["avg_salary"].notna().all()
    # the UVER standing order equals the loan instalment (within rounding) on every loan account
    plans = berka.plans.set_index("customer_id")
    uver = cust.loc[plans.index, "order_uver"]
    assert (np.abs(uver - plans["installment_amount"]) <= 0.5).all()
    order = pd.read_csv(root / "berka_pkdd99" / "order.asc", sep=";")
    sipo = order.loc[order["k_symbol"].str.strip() == "SIPO", "amount"].sum()
    assert cust["order_sipo"].sum() == pytest.approx(sipo)
    # every plan's customer exists and loans come after the account opened
    assert plans["created_date"].gt(cust.loc[plans.index, "created_date"]).all()


# -- Home Credit -------------------------------------------------------------------------------------------
def test_home_credit_aggregation_and_counts(home: pr.Ledger, root: Path) -> None:
    _balanced(home)
    raw = pd.read_csv(root / "home_credit_installments_sample" / "installments_payments_sample.csv")
    key = ["SK_ID_PREV", "NUM_INSTALMENT_NUMBER"]
    n_dup = int(raw.duplicated(key).sum())
    assert n_dup == 19
    c = home.report.counts
    assert c.loc["installments", "input"] == len(raw) - n_dup == 19_981
    assert home.meta["rows_aggregated"] == n_dup
    assert c.loc["plans", "input"] == c.loc["plans", "accepted"] == raw["SK_ID_PREV"].nunique() == 16_651
    assert len(home.customers) == home.customers["customer_id"].nunique() == raw["SK_ID_CURR"].nunique()
    assert set(home.report.issues["rule"]) <= {"paid_ahead", "zero_amount"}
    flagged = home.report.issues[home.report.issues["rule"] == "paid_ahead"]
    assert (flagged["action"] == "flagged").all() and len(flagged) > 0
    assert c.loc["installments", "rejected"] == int(home.report.issues["action"].eq("rejected").sum())
    assert "due_before_plan" not in set(home.report.issues["rule"])
    assert not home.installments.duplicated(["plan_id", "installment_no"]).any()
    _date_columns_are_ns(home)


def test_home_credit_values(home: pr.Ledger, root: Path) -> None:
    ins = home.installments.set_index(["plan_id", "installment_no"])
    anchor = pd.Timestamp("2020-01-01")
    # split payment: two payments toward one instalment
    row = ins.loc[("1001338", 6)]
    assert row["amount_paid"] == pytest.approx(1679.85 + 16.38)
    assert row["amount_due"] == pytest.approx(1696.23)
    assert row["due_date"] == anchor - pd.Timedelta(days=2768)
    assert row["paid_date"] == anchor - pd.Timedelta(days=2744)  # the last payment
    assert row["n_payment_rows"] == 2
    # one payment recorded under two calendar versions: parts summed, payment counted once
    row = ins.loc[("1301343", 1)]
    assert row["amount_due"] == pytest.approx(49500.0) and row["amount_paid"] == pytest.approx(49500.0)
    # unpaid instalments: no paid date, nothing paid
    unpaid = home.installments["paid_date"].isna()
    assert unpaid.sum() == 4 and (home.installments.loc[unpaid, "amount_paid"] == 0).all()
    plans = home.plans.set_index("plan_id")
    assert plans["created_date_estimated"].all()
    raw = pd.read_csv(root / "home_credit_installments_sample" / "installments_payments_sample.csv")
    first_due = raw.groupby("SK_ID_PREV")["DAYS_INSTALMENT"].min()  # over all rows, rejected ones included
    first_due.index = first_due.index.astype("str")
    expected = anchor + pd.to_timedelta(first_due - 30, unit="D")
    assert (plans["created_date"] == expected.reindex(plans.index)).all()


def test_home_credit_anchor(root: Path) -> None:
    ledger = load_home_credit(root / "home_credit_installments_sample", anchor="2021-01-01")
    assert ledger.installments["due_date"].max() == pd.Timestamp("2020-12-31")  # DAYS_INSTALMENT max is -1
    with pytest.raises(ParameterError):
        load_home_credit(root / "home_credit_installments_sample", anchor="not a date")


# -- Taiwan ------------------------------------------------------------------------------------------------
def test_taiwan_counts_match_the_csv(taiwan: pr.Ledger, root: Path) -> None:
    _balanced(taiwan)
    raw = pd.read_csv(root / "uci_credit_card_taiwan" / "UCI_Credit_Card.csv")
    bills = raw[[f"BILL_AMT{k}" for k in range(1, 7)]].to_numpy()
    paid = raw[[f"PAY_AMT{k}" for k in range(1, 7)]].to_numpy()
    n_zero, n_neg = int((bills == 0).sum()), int((bills < 0).sum())
    c = taiwan.report.counts
    assert len(taiwan.customers) == c.loc["customers", "accepted"] == 30_000
    assert c.loc["invoices", "input"] == 180_000
    assert c.loc["invoices", "rejected"] == n_zero
    assert c.loc["invoices", "credit_notes"] == len(taiwan.credit_notes) == n_neg
    assert len(taiwan.invoices) == 180_000 - n_zero - n_neg
    issues = taiwan.report.issues
    assert (issues.loc[issues["action"] == "rejected", "rule"] == "zero_amount").all()
    assert (issues["rule"] == "zero_amount").sum() == n_zero
    assert (issues["rule"] == "credit_note").sum() == n_neg
    assert len(taiwan.payments) == c.loc["payments", "accepted"] == int((paid > 0).sum())
    assert taiwan.meta["dropped_zero_payments"] == int((paid == 0).sum())
    assert taiwan.payments["invoice_id"].isna().all()
    assert taiwan.customers["default_next_month"].mean() == pytest.approx(0.2212, abs=1e-4)
    _date_columns_are_ns(taiwan)


def test_taiwan_statement_unrolling(taiwan: pr.Ledger) -> None:
    inv = taiwan.invoices.set_index("invoice_id")
    sep = inv.loc["1-2005-09"]  # customer 1: BILL_AMT1 3913, PAY_0 2
    assert sep["amount"] == 3913 and sep["pay_status"] == 2
    assert sep["issue_date"] == pd.Timestamp("2005-09-30")
    assert sep["due_date"] == pd.Timestamp("2005-10-25")  # assumed 25 days
    assert inv.loc["1-2005-07", "amount"] == 689  # BILL_AMT3 = July
    assert inv.loc["2-2005-04", "issue_date"] == pd.Timestamp("2005-04-30")  # suffix 6 = April
    assert inv.loc["2-2005-04", "amount"] == 3261 and inv.loc["2-2005-04", "pay_status"] == 2
    assert pd.isna(sep["paid_date"])
    assert set(taiwan.invoices["issue_date"].dt.month) == {4, 5, 6, 7, 8, 9}
    pay = taiwan.payments.set_index("payment_id")
    assert pay.loc["PAY-1-2005-08", "amount"] == 689  # PAY_AMT2 of customer 1
    assert pay.loc["PAY-1-2005-08", "payment_date"] == pd.Timestamp("2005-08-31")
    assert (taiwan.invoices["currency"] == "TWD").all() and (taiwan.payments["currency"] == "TWD").all()


# -- loan collections --------------------------------------------------------------------------------------
def test_loan_collections(loans: pr.Ledger) -> None:
    _balanced(loans)
    assert loans.report.ok
    inv = loans.invoices
    assert len(inv) == 500 and (inv["invoice_id"] == inv["customer_id"]).all()
    open_ = inv["paid_date"].isna()
    assert open_.sum() == 100
    assert (inv.loc[open_, "loan_status"] == "COLLECTION").all()
    assert (inv["loan_status"] == "COLLECTION").sum() == 100
    assert len(loans.open_invoices()) == 100
    assert len(loans.payments) == 400
    assert loans.meta["snapshot_date"] == "2016-12-08"
    snapshot = pd.Timestamp(loans.meta["snapshot_date"])
    for df in loans.tables.values():
        for col in df.columns:
            if pd.api.types.is_datetime64_any_dtype(df[col]):
                assert not (df[col] > snapshot).any(), col
    # every open loan: due_date + past_due_days is the snapshot date
    due_plus = inv.loc[open_, "due_date"] + pd.to_timedelta(inv.loc[open_, "past_due_days"], unit="D")
    assert (due_plus == snapshot).all()
    assert set(loans.customers.columns) >= {"age", "education", "gender"}
    _date_columns_are_ns(loans)


# -- dispatch and errors -----------------------------------------------------------------------------------
def test_load_dataset_dispatch(root: Path) -> None:
    assert set(DATASETS) == {p.name for p in root.iterdir() if p.is_dir()}
    ledger = load_dataset("loan_payments_collections", root)
    assert ledger.meta["source"] == "loan_payments_collections" and len(ledger.invoices) == 500
    with pytest.raises(ParameterError, match="unknown dataset"):
        load_dataset("no_such_dataset", root)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_missing_folder_is_a_data_file_error(name: str, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / name
    with pytest.raises(DataFileError, match="folder not found") as exc:
        DATASETS[name](missing)
    assert str(missing) in str(exc.value) and name in str(exc.value)
    with pytest.raises(DataFileError, match="folder not found"):
        load_dataset(name, tmp_path)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_missing_file_is_a_data_file_error(name: str, tmp_path: Path) -> None:
    (tmp_path / name).mkdir()
    with pytest.raises(DataFileError, match="not found; expected") as exc:
        load_dataset(name, tmp_path)
    assert str(tmp_path / name) in str(exc.value)
