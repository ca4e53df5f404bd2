"""From a raw export to an accepted ledger with `payrisk map` then `payrisk validate`, no hand-written format: IBM's
receivables CSV as published, and a Dutch-style export (`;`, `1.234,56`, `dd-mm-jjjj`, Dutch headers, Windows
encoding)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

import payrisk as pr
from conftest import shared_data_dir

pytestmark = pytest.mark.xdist_group("cli")
IBM = shared_data_dir() / "ibm_accounts_receivable" / "WA_Fn-UseC_-Accounts-Receivable.csv"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "payrisk.cli", *args], capture_output=True, text=True, check=False)


@pytest.mark.skipif(not IBM.is_file(), reason=f"the IBM receivables file is not at {IBM}")
def test_ibm_receivables_as_published_reach_an_accepted_ledger(tmp_path):
    export = tmp_path / IBM.name
    shutil.copy(IBM, export)
    mapped = _run("map", str(export), "--out", str(tmp_path / "mapping.yaml"))
    assert mapped.returncode == 0, mapped.stderr
    mapping = yaml.safe_load((tmp_path / "mapping.yaml").read_text())
    assert mapping["columns"]["invoices"] == {
        "invoiceNumber": "invoice_id", "customerID": "customer_id", "InvoiceDate": "issue_date",
        "DueDate": "due_date", "InvoiceAmount": "amount", "SettledDate": "paid_date", "Disputed": "disputed",
    }  # fmt: skip
    assert set(mapping["date_formats"]["invoices"].values()) == {"%m/%d/%Y"}
    checked = _run("validate", str(export), "--mapping", str(tmp_path / "mapping.yaml"))
    assert checked.returncode == 0 and "all 2466 rows accepted" in checked.stdout, checked.stdout + checked.stderr
    raw = pd.read_csv(IBM, dtype=str)
    from payrisk._cli_io import load_ledger

    ledger = load_ledger(export, str(tmp_path / "mapping.yaml"))
    got = ledger.invoices.set_index("invoice_id").loc[raw["invoiceNumber"]]
    assert (got["issue_date"].to_numpy() == pd.to_datetime(raw["InvoiceDate"], format="%m/%d/%Y").to_numpy()).all()
    assert (got["amount"].to_numpy() == raw["InvoiceAmount"].astype(float).to_numpy()).all()
    assert int(got["disputed"].sum()) == int((raw["Disputed"] == "Yes").sum())  # 561 in the README


def dutch_export(path: Path) -> pd.DataFrame:
    """A Dutch accounting export of a synthetic world's invoices, as such packages write it."""
    inv = pr.datasets.make_ledger(n_customers=60, seed=4).as_of("2024-06-30").invoices

    def money(v: float) -> str:
        return f"{v:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")

    out = pd.DataFrame(
        {
            "Factuurnummer": inv["invoice_id"],
            "Debiteurnummer": inv["customer_id"],
            "Factuurdatum": inv["issue_date"].dt.strftime("%d-%m-%Y"),
            "Vervaldatum": inv["due_date"].dt.strftime("%d-%m-%Y"),
            "Bedrag": inv["amount"].map(money),
            "Valuta": inv["currency"],
            "Betaaldatum": inv["paid_date"].dt.strftime("%d-%m-%Y").fillna(""),
            "Omschrijving": "Levering café",
        }
    )
    out.to_csv(path, sep=";", index=False, encoding="cp1252")
    return inv


def test_a_dutch_export_reaches_an_accepted_ledger_with_map_then_validate(tmp_path):
    export = tmp_path / "openstaande_posten.csv"
    inv = dutch_export(export)
    assert (inv["amount"] >= 1000).any()  # thousands separators are in the file
    mapped = _run("map", str(export), "--out", str(tmp_path / "mapping.yaml"))
    assert mapped.returncode == 0, mapped.stderr
    mapping = yaml.safe_load((tmp_path / "mapping.yaml").read_text())
    assert mapping["decimal"] == "," and mapping["thousands"] == "." and mapping["delimiter"] == ";"
    assert mapping["encoding"] == "cp1252"
    checked = _run("validate", str(export), "--mapping", str(tmp_path / "mapping.yaml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    from payrisk._cli_io import load_ledger

    ledger = load_ledger(export, str(tmp_path / "mapping.yaml"))
    got = ledger.invoices.set_index("invoice_id").loc[inv["invoice_id"]]
    assert (got["amount"].round(2).to_numpy() == inv["amount"].round(2).to_numpy()).all()
    assert (got["due_date"].to_numpy() == inv["due_date"].to_numpy()).all()
    assert (got["Omschrijving"] == "Levering café").all()  # the Windows encoding read right


def test_map_refuses_to_guess_and_says_what_to_settle(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(
        "Rechnungsnummer;Kunde;Rechnungsdatum;Fälligkeitsdatum;Betrag\nR1;K1;03.04.2024;05.06.2024;3.300\n"
    )
    mapped = _run("map", str(export))
    assert mapped.returncode == 0
    text = mapped.stdout
    assert '# decimal: ","' in text and "# issue_date" in text  # both left open, commented out, with why
    assert "Rechnungsnummer" in text and "Fälligkeitsdatum" in text
    refused = _run("validate", str(export))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr


def test_an_excel_workbook_is_read_sheet_by_name(tmp_path, capsys):
    from payrisk._cli_io import load_ledger
    from payrisk.cli import main

    inv = pr.datasets.make_ledger(n_customers=40, seed=6).as_of("2024-06-30").invoices.head(50)
    book = tmp_path / "debiteuren.xlsx"
    sheet = pd.DataFrame({"Factuurnummer": inv["invoice_id"], "Klant": inv["customer_id"],
                          "Factuurdatum": inv["issue_date"], "Vervaldatum": inv["due_date"].dt.strftime("%d-%m-%Y"),
                          "Bedrag": inv["amount"].round(2)})  # fmt: skip
    with pd.ExcelWriter(book) as xl:
        pd.DataFrame({"note": ["exported 2024-06-30"]}).to_excel(xl, sheet_name="Info", index=False)
        sheet.to_excel(xl, sheet_name="Open posten", index=False)
    assert main(["--quiet", "map", str(book), "--out", str(tmp_path / "m.yaml")]) == 2  # two sheets: which?
    assert "Open posten" in capsys.readouterr().err
    mapping = (
        "sheets: {invoices: Open posten}\n"
        + "files: {invoices: debiteuren.xlsx}\n"
        + (
            "columns: {invoices: {Factuurnummer: invoice_id, Klant: customer_id, Factuurdatum: issue_date, "
            "Vervaldatum: due_date, Bedrag: amount}}\n"
        )
    )
    (tmp_path / "m.yaml").write_text(mapping)
    assert main(["--quiet", "validate", str(book), "--mapping", str(tmp_path / "m.yaml")]) == 0
    ledger = load_ledger(book, str(tmp_path / "m.yaml"))
    got = ledger.invoices.set_index("invoice_id").loc[inv["invoice_id"]]
    assert (got["due_date"].to_numpy() == inv["due_date"].to_numpy()).all()  # text dates, read day first
    assert (got["issue_date"].to_numpy() == inv["issue_date"].to_numpy()).all()  # Excel's own dates
    assert (got["amount"].to_numpy() == inv["amount"].round(2).to_numpy()).all()
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    assert main(["--quiet", "validate", str(tmp_path / "broken.xlsx")]) == 2
    assert "not a readable Excel workbook" in capsys.readouterr().err


def test_sap_fi_ar_line_items_sign_and_due_date(tmp_path):
    """SAP FI-AR customer line items (BSID/BSAD fields) as an SE16N export writes them: German dates and decimal
    commas, positive amounts with the debit/credit indicator SHKZG, due date = baseline ZFBDT + ZBD1T days."""
    from payrisk._cli_io import load_ledger

    export = tmp_path / "bsid.csv"
    export.write_text(
        "KUNNR;BELNR;BLDAT;ZFBDT;ZBD1T;WRBTR;WAERS;SHKZG;AUGDT\n"
        "0000100001;1800000001;15.01.2024;20.01.2024;30;1.190,00;EUR;S;\n"
        "0000100001;1800000002;16.01.2024;16.01.2024;14;250,50;EUR;S;01.02.2024\n"
        "0000100002;1700000003;17.01.2024;17.01.2024;0;99,00;EUR;H;\n",
        encoding="utf-8",
    )
    mapped = _run("map", str(export), "--out", str(tmp_path / "m.yaml"))
    assert mapped.returncode == 0, mapped.stderr
    cols = yaml.safe_load((tmp_path / "m.yaml").read_text())["columns"]["invoices"]
    assert cols == {"KUNNR": "customer_id", "BELNR": "invoice_id", "BLDAT": "issue_date", "ZFBDT": "baseline_date",
                    "ZBD1T": "terms_days", "WRBTR": "amount", "WAERS": "currency", "SHKZG": "debit_credit",
                    "AUGDT": "paid_date"}  # fmt: skip
    checked = _run("validate", str(export), "--mapping", str(tmp_path / "m.yaml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    ledger = load_ledger(export, str(tmp_path / "m.yaml"))
    inv = ledger.invoices.set_index("invoice_id")
    assert inv.loc["1800000001", "due_date"] == pd.Timestamp("2024-02-19")  # 20.01 + 30 days, not 15.01 + 30
    assert inv.loc["1800000001", "amount"] == 1190.0 and inv.loc["1800000002", "amount"] == 250.5
    assert ledger.credit_notes["credit_note_id"].tolist() == ["1700000003"]  # H: a credit
    assert ledger.credit_notes["amount"].tolist() == [-99.0]


def test_odoo_invoices_map_by_their_field_names(tmp_path):
    """Odoo's account.move list exported to CSV (field names as the ORM has them)."""
    export = tmp_path / "account_move.csv"
    export.write_text(
        "name,partner_id,invoice_date,invoice_date_due,amount_total_signed,amount_residual,currency_id,payment_state\n"
        "INV/2024/00001,Azure Interior,2024-03-01,2024-03-31,1250.00,0.00,EUR,paid\n"
        "INV/2024/00002,Deco Addict,2024-03-05,2024-04-04,830.40,830.40,EUR,not_paid\n"
        "RINV/2024/00001,Deco Addict,2024-03-09,2024-03-09,-120.00,0.00,EUR,paid\n",
        encoding="utf-8",
    )
    mapped = _run("map", str(export), "--out", str(tmp_path / "m.yaml"))
    assert mapped.returncode == 0, mapped.stderr
    cols = yaml.safe_load((tmp_path / "m.yaml").read_text())["columns"]["invoices"]
    assert {cols[k] for k in ("name", "partner_id", "invoice_date", "invoice_date_due", "amount_total_signed",
                              "currency_id")} == {"invoice_id", "customer_id", "issue_date", "due_date", "amount",
                                                  "currency"}  # fmt: skip
    assert cols["name"] == "invoice_id" and cols["amount_total_signed"] == "amount"
    checked = _run("validate", str(export), "--mapping", str(tmp_path / "m.yaml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_business_central_customer_ledger_entries(tmp_path):
    """Microsoft Dynamics 365 Business Central's Cust. Ledger Entries exported to Excel/CSV (field captions as the
    page shows them); the map warns that the export mixes payments with invoices."""
    export = tmp_path / "cust_ledger_entries.csv"
    export.write_text(
        "Entry No.,Posting Date,Document Type,Document No.,Customer No.,Document Date,Due Date,Currency Code,Amount,"
        "Remaining Amount,Closed at Date\n"
        "101,2024-03-01,Invoice,PS-INV103001,10000,2024-03-01,2024-03-31,,1250.00,0.00,2024-03-29\n"
        "102,2024-03-05,Invoice,PS-INV103002,20000,2024-03-05,2024-04-04,EUR,830.40,830.40,\n"
        "103,2024-03-29,Payment,G02001,10000,2024-03-29,2024-03-29,,-1250.00,0.00,2024-03-29\n",
        encoding="utf-8",
    )
    mapped = _run("map", str(export))
    assert mapped.returncode == 0, mapped.stderr
    cols = yaml.safe_load(mapped.stdout)["columns"]["invoices"]
    assert cols == {"Document No.": "invoice_id", "Customer No.": "customer_id", "Document Date": "issue_date",
                    "Due Date": "due_date", "Amount": "amount", "Currency Code": "currency",
                    "Closed at Date": "paid_date"}  # fmt: skip
    assert "WARNING Document Type" in mapped.stdout and "'Payment'" in mapped.stdout
