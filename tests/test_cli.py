"""The payrisk command: every subcommand on a small world, clear exit codes, machine-readable output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import payrisk as pr
from payrisk._cli_io import read_folder, write_tables
from payrisk.cli import main

pytestmark = pytest.mark.xdist_group("cli")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    write_tables(pr.datasets.make_ledger(n_customers=200, seed=0), root / "data")
    assert main(["--quiet", "fit", str(root / "data"), "--as-of", "2024-03-31", "--out", str(root / "model"),
                 "--trees", "40"]) == 0  # fmt: skip
    return root


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "payrisk.cli", *args], capture_output=True, text=True, check=False)


def test_every_command_has_help_with_an_example(capsys):
    for command in ("demo", "validate", "fit", "score", "warn", "forecast", "plan", "report", "benchmark"):
        assert main([command, "--help"]) == 0
        out = capsys.readouterr().out
        assert f"payrisk {command}" in out and "Example:" in out
    assert _run("--help").returncode == 0  # and as a program


def test_usage_and_input_errors_exit_2_with_what_to_fix(tmp_path):
    assert _run("score").returncode == 2  # missing arguments
    out = _run("validate", str(tmp_path))
    assert out.returncode == 2 and "invoices.csv" in out.stderr and "Traceback" not in out.stderr


HEADER = b"invoice_id,customer_id,issue_date,due_date,amount,currency\n"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"  \n\n", "the file is empty"),
        (b"PK\x03\x04\x14\x00 a workbook saved as .csv", "Excel workbook"),
        (b"\x00\x01\x02binary\x00", "not text"),
    ],
    ids=["empty", "blank", "xlsx-named-csv", "binary"],
)
def test_unreadable_table_files_are_input_errors_with_the_fix(tmp_path, content, expected):
    (tmp_path / "invoices.csv").write_bytes(content)
    out = _run("validate", str(tmp_path))
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr and "invoices.csv" in out.stderr and expected in out.stderr


def test_a_windows_export_is_read_in_its_encoding_and_the_report_says_so(tmp_path):
    (tmp_path / "invoices.csv").write_bytes(HEADER + b"I1,Caf\xe9 M\xfcller,2024-01-01,2024-01-31,100.0,EUR\n")
    out = _run("validate", str(tmp_path))
    assert out.returncode == 0 and "encoding cp1252" in out.stdout, out.stderr
    ledger = pr.Ledger.from_frames(**read_folder(tmp_path))
    assert ledger.invoices["customer_id"].tolist() == ["Café Müller"]  # read right
    said = _run("validate", str(tmp_path), "--encoding", "utf-8")  # told UTF-8: refused at its line, not guessed
    assert said.returncode == 2 and "line 2" in said.stderr and "--encoding cp1252" in said.stderr
    bad = _run("validate", str(tmp_path), "--encoding", "klingon")
    assert bad.returncode == 2 and "not an encoding" in bad.stderr


def test_excel_unicode_text_reads_as_utf16(tmp_path):
    text = "invoice_id\tcustomer_id\tissue_date\tdue_date\tamount\r\nI1\tCafé\t2024-01-01\t2024-01-31\t1,5\r\n"
    (tmp_path / "invoices.csv").write_bytes(text.encode("utf-16"))  # what Excel's "Unicode text" writes
    out = _run("validate", str(tmp_path))
    assert out.returncode == 0 and "encoding utf-16" in out.stdout, out.stdout + out.stderr
    ledger = pr.Ledger.from_frames(**read_folder(tmp_path))
    assert ledger.invoices["customer_id"].tolist() == ["Café"] and ledger.invoices["amount"].tolist() == [1.5]


@pytest.mark.parametrize("title", [0, 2])
@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_broken_records_become_report_rows_with_their_lines_and_nothing_is_lost(tmp_path, sep, title):
    lines = [
        *["Open items, all customers", "printed 30.06.2024"][:title],
        "invoice_id,customer_id,issue_date,due_date,amount",
        "I1,C1,2024-01-01,2024-01-31,100.5",
        'I2,"C2,2024-01-01,2024-01-31,1.5',  # a stray quote swallows the next line
        "I3,C3,2024-01-01,2024-01-31,2.5",
        "I4,C4,2024-01-01",  # a short record
        "I5,C5,2024-01-01,2024-01-31,3.5,extra",  # a long one
        "I6,C6,2024-01-01,2024-01-31,4.5",
    ]
    (tmp_path / "invoices.csv").write_text("\n".join(lines).replace(",", sep) + "\n")
    out = _run("validate", str(tmp_path), "--out", str(tmp_path / "rejected.csv"))
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    ledger = pr.Ledger.from_frames(**read_folder(tmp_path))
    counts = ledger.report.counts.loc["invoices"]
    assert counts["input"] == 6 and counts["accepted"] == 3 and counts["rejected"] == 3  # one record a line
    assert sorted(ledger.invoices["invoice_id"]) == ["I1", "I3", "I6"]  # the line after the stray quote is kept
    rejected = pd.read_csv(tmp_path / "rejected.csv", dtype=str)
    assert set(rejected["rule"]) == {"malformed_record"}
    # the lines of the file as it is: a title above the header counts
    assert [m.split(":")[1].strip() for m in rejected["message"]] == [f"line {k + title}" for k in (3, 5, 6)]


def test_a_title_above_the_header_is_skipped_and_said_in_csv_and_excel(tmp_path):
    title = ["Offene Posten;;;;", "Stand: 30.06.2024;;;;", ""]
    rows = ["Belegnummer;Kunde;Belegdatum;Nettofälligkeit;Betrag", "1;K1;01.02.2024;02.03.2024;1.234,56",
            "2;K1;05.02.2024;06.03.2024;1.234,56-", "3;K2;15.02.2024;16.03.2024;99,00"]  # fmt: skip
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns:\n  invoices: {Belegnummer: invoice_id, Kunde: customer_id, Belegdatum: issue_date, "
        "Nettofälligkeit: due_date, Betrag: amount}\ndate_formats:\n  invoices: {issue_date: '%d.%m.%Y', "
        "due_date: '%d.%m.%Y'}\n"
    )
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    (csv_dir / "invoices.csv").write_text("\n".join(title + rows) + "\n", encoding="utf-8")
    out = _run("validate", str(csv_dir), "--mapping", str(mapping))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "header on line 4" in out.stdout and "Offene Posten / Stand: 30.06.2024" in out.stdout
    ledger = pr.Ledger.from_frames(**read_folder(csv_dir), mapping=str(mapping))
    amounts = sorted([*ledger.invoices["amount"], *ledger.credit_notes["amount"]])
    assert amounts == [-1234.56, 99.0, 1234.56]  # SAP's trailing minus: a credit note
    xl_dir = tmp_path / "xlsx"
    xl_dir.mkdir()
    grid = [["Open items report", *[None] * 4], ["printed 2024-06-30", *[None] * 4], [None] * 5]
    grid += [r.split(";") for r in rows]
    pd.DataFrame(grid).to_excel(xl_dir / "invoices.xlsx", header=False, index=False)
    out = _run("validate", str(xl_dir), "--mapping", str(mapping))
    assert out.returncode == 0 and "header on row 4" in out.stdout, out.stdout + out.stderr
    assert len(pr.Ledger.from_frames(**read_folder(xl_dir), mapping=str(mapping)).invoices) == 2


def test_a_header_repeated_at_a_page_break_is_said_and_sways_nothing(tmp_path):
    header = "Factuurnummer;Debiteur;Factuurdatum;Vervaldatum;Bedrag"
    rows = [f"F{k};D{k % 3};{k + 13}-03-2024;{k + 13}-04-2024;{k},50" for k in range(6)]
    (tmp_path / "invoices.csv").write_text("\n".join([header, *rows[:3], header, *rows[3:]]) + "\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns:\n  invoices: {Factuurnummer: invoice_id, Debiteur: customer_id, Factuurdatum: issue_date, "
        "Vervaldatum: due_date, Bedrag: amount}\n"
    )
    out = _run("validate", str(tmp_path), "--mapping", str(mapping), "--out", str(tmp_path / "rejected.csv"))
    assert out.returncode == 1 and "repeated_header" in out.stdout, out.stdout + out.stderr
    ledger = pr.Ledger.from_frames(**read_folder(tmp_path), mapping=str(mapping))
    counts = ledger.report.counts.loc["invoices"]
    assert counts["input"] == 7 and counts["accepted"] == 6 and counts["rejected"] == 1
    assert set(ledger.report.issues["rule"]) == {"repeated_header"}  # the dates and amounts read without doubt
    assert sorted(ledger.invoices["amount"]) == [k + 0.5 for k in range(6)]


def test_the_delimiter_is_read_off_the_header_not_off_decimal_commas(tmp_path):
    """Every record holds one decimal comma, so a comma splits more lines alike than the pipe does when records
    are broken; the header settles it."""
    rows = [
        f"I{k}|C{k}|2024-01-{k + 10}|2024-02-{k + 10}|{k}23,50" + ("|extra" if k % 3 == 0 else "") for k in range(9)
    ]
    (tmp_path / "invoices.csv").write_text("\n".join(["invoice_id|customer_id|issue_date|due_date|amount", *rows]))
    ledger = pr.Ledger.from_frames(**read_folder(tmp_path))
    assert ledger.report.counts.loc["invoices", "accepted"] == 6 and ledger.invoices["amount"].min() == 123.5


def test_a_proposed_mapping_that_found_no_column_says_what_is_missing_in_its_own_syntax(tmp_path):
    (tmp_path / "invoices.csv").write_text("Col1;Col2;Col3;Col4;Col5\nR1;K1;2024-01-01;2024-01-31;10\n")
    mapping = tmp_path / "m.yaml"
    assert _run("map", str(tmp_path / "invoices.csv"), "--out", str(mapping)).returncode == 0
    out = _run("validate", str(tmp_path), "--mapping", str(mapping))
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    # a table's section with comments only is an empty mapping, not a type error of the file
    assert "valid dictionary" not in out.stderr and "is missing" in out.stderr
    assert 'columns: {"invoices": {' in out.stderr  # the fix as a line of the mapping file


def test_a_header_is_never_skipped_by_guess(tmp_path):
    """Rows above the widest row that fill more than half its fields are not a title: the file is read as it is
    (here the first line is the header and the records carry an extra, unnamed field: each is rejected)."""
    text = "invoice_id,customer_id,issue_date,due_date,amount\n" + "".join(
        f"I{k},C{k},2024-01-01,2024-01-31,{k}.5,x,y\n" for k in range(5)
    )
    (tmp_path / "invoices.csv").write_text(text)
    out = _run("validate", str(tmp_path))
    assert out.returncode == 1 and "header on" not in out.stdout, out.stdout + out.stderr
    ledger = pr.Ledger.from_frames(**read_folder(tmp_path))
    assert ledger.report.counts.loc["invoices", "input"] == 5 and ledger.report.counts.loc["invoices", "rejected"] == 5


def test_validate_reports_rejected_rows_and_exits_1(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    pd.DataFrame(
        {"invoice_id": ["1", "2"], "customer_id": ["a", "a"], "issue_date": ["2024-01-01", "2024-02-01"],
         "due_date": ["2024-01-31", "2023-01-01"], "amount": ["100", "=1+1"]}
    ).to_csv(data / "invoices.csv", index=False)  # fmt: skip
    out = _run("validate", str(data), "--out", str(tmp_path / "rejected.csv"))
    assert out.returncode == 1 and "rejected" in out.stdout
    rejected = pd.read_csv(tmp_path / "rejected.csv", dtype=str)
    assert len(rejected) >= 1 and not rejected.apply(lambda c: c.str.startswith("=").any()).any()


def test_score_forecast_and_plan_write_machine_readable_output(folder, capsys):
    common = [str(folder / "data"), "--model", str(folder / "model"), "--as-of", "2024-04-30"]
    assert main(["--quiet", "score", *common, "--format", "json"]) == 0
    worklist = pd.DataFrame(json.loads(capsys.readouterr().out))
    assert {"invoice_id", "p_late", "priority_rank", "reasons"} <= set(worklist.columns)
    assert worklist["priority_rank"].is_monotonic_increasing
    assert main(["--quiet", "forecast", *common, "--format", "parquet", "--out", str(folder / "fc.parquet")]) == 0
    periods = pd.read_parquet(folder / "fc.parquet")
    assert (periods["low"] <= periods["expected"]).all() and (periods["expected"] <= periods["high"]).all()
    assert main(["--quiet", "plan", *common, "--format", "csv", "--out", str(folder / "actions.csv")]) == 0
    actions = pd.read_csv(folder / "actions.csv")
    assert set(actions["status"]) <= {"send", "blocked"} and actions["customer_id"].notna().all()


def test_warn_lists_the_alerts_with_reasons_and_every_customer_with_all(folder, capsys):
    common = [str(folder / "data"), "--model", str(folder / "model"), "--as-of", "2024-04-30", "--format", "json"]
    assert main(["warn", *common, "--all"]) == 0
    captured = capsys.readouterr()
    every = pd.DataFrame(json.loads(captured.out))
    engine = pr.RiskEngine.load(folder / "model")
    expected = engine.early_warning(pr.Ledger.from_frames(**read_folder(folder / "data")), "2024-04-30")
    assert every["customer_id"].tolist() == expected.index.tolist()  # the alerts first, then by the chance
    assert (every["alert"] == (every["p_problem_90d"] >= engine.alert_level) & ~every["problem_now"]).all()
    assert f"{int(every['alert'].sum())} of {len(every)} customers in business alerted" in captured.err
    # by default the alerts only, each with its reasons; a lower level alerts on more customers
    assert main(["--quiet", "warn", *common, "--alert-level", "0.05"]) == 0
    alerts = pd.DataFrame(json.loads(capsys.readouterr().out))
    low = every.loc[(every["p_problem_90d"] >= 0.05) & ~every["problem_now"]]
    assert len(alerts) == len(low) > every["alert"].sum() and (alerts["reasons"].str.len() > 0).all()
    assert main(["warn", *common, "--alert-level", "30"]) == 2
    assert "--alert-level must be a probability" in capsys.readouterr().err
    engine.problem_model_ = None  # a book with too few problems to learn from: said, not an empty list
    engine.save(folder / "no_warning")
    assert main(["warn", str(folder / "data"), "--model", str(folder / "no_warning"), "--as-of", "2024-04-30"]) == 2
    assert "has no early warning" in capsys.readouterr().err


def test_report_is_one_self_contained_file_with_the_worklist(folder):
    out = folder / "report.html"
    args = [str(folder / "data"), "--model", str(folder / "model"), "--as-of", "2024-04-30", "--out", str(out)]
    assert main(["--quiet", "report", *args]) == 0
    text = out.read_text()
    assert 'id="worklist"' in text and 'id="accounts"' in text and "data:image/png;base64," in text
    assert "<script src" not in text and text.count("<script>") == 1  # one inline script, nothing loaded
    assert "http://" not in text and "https://" not in text  # nothing is fetched from the network
    worklist = pd.read_csv(out.with_name("worklist.csv"))
    table = text.split('<table id="worklist">')[1].split("</table>")[0]
    assert table.count("<tr style=") == min(100, len(worklist))
    assert 'id="kpis"' in text and "DSO" in text  # the KPIs credit managers report


def test_a_bug_is_exit_3_not_a_finding(tmp_path, monkeypatch, capsys):
    import payrisk.cli as cli

    def broken(args):
        raise KeyError("boom")

    monkeypatch.setattr(cli, "cmd_validate", broken)
    monkeypatch.delenv("PAYRISK_DEBUG", raising=False)
    assert cli.main(["validate", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "internal error" in err and "--debug" in err and "Traceback" not in err
    with pytest.raises(KeyError):  # --debug shows the bug itself, before or after the command's name
        cli.main(["--debug", "validate", str(tmp_path)])
    with pytest.raises(KeyError):
        cli.main(["validate", "--debug", str(tmp_path)])


def test_version_and_no_file_written_over_without_overwrite(folder, tmp_path, capsys):
    import payrisk.cli as cli

    with pytest.raises(SystemExit) as exc:
        cli._parser().parse_args(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"payrisk {pr.__version__}"
    out = tmp_path / "worklist.csv"
    out.write_text("keep me\n")
    common = [str(folder / "data"), "--model", str(folder / "model"), "--as-of", "2024-04-30"]
    assert main(["--quiet", "score", *common, "--format", "csv", "--out", str(out)]) == 2
    assert out.read_text() == "keep me\n" and "--overwrite" in capsys.readouterr().err
    assert main(["--quiet", "fit", str(folder / "data"), "--as-of", "2024-03-31", "--out", str(folder / "model")]) == 2
    assert main(["--quiet", "score", *common, "--format", "csv", "--out", str(out), "--overwrite"]) == 0
    assert pd.read_csv(out)["invoice_id"].notna().all()


def test_plan_record_and_plan_again_the_same_day_plans_nothing_twice(tmp_path):
    day = "2024-05-31"
    world = pr.datasets.make_ledger(n_customers=300, seed=1)
    data = write_tables(world.as_of(day), tmp_path / "data")  # a team's export on the day: nothing after it
    assert main(["--quiet", "fit", str(data), "--as-of", "2024-03-31", "--out", str(tmp_path / "model"),
                 "--trees", "30"]) == 0  # fmt: skip
    plan = [str(data), "--model", str(tmp_path / "model"), "--as-of", day, "--format", "csv"]
    assert main(["--quiet", "plan", *plan, "--out", str(tmp_path / "first.csv")]) == 0
    first = pd.read_csv(tmp_path / "first.csv", dtype=str)
    sent = first.loc[first["status"] == "send"]
    assert len(sent) >= 5 and (pd.to_datetime(sent["send_at"]) > pd.Timestamp(day) + pd.Timedelta(days=1)).any()
    before = len(pd.read_csv(data / "contacts.csv"))
    assert main(["--quiet", "record", str(data), "--actions", str(tmp_path / "first.csv")]) == 0
    contacts = pd.read_csv(data / "contacts.csv", dtype=str)
    n_new = sent["invoice_ids"].str.split(",").str.len().sum()
    assert len(contacts) == before + n_new and contacts["contact_id"].is_unique
    assert main(["--quiet", "record", str(data), "--actions", str(tmp_path / "first.csv")]) == 0  # again: no-op
    assert len(pd.read_csv(data / "contacts.csv")) == before + n_new
    assert main(["--quiet", "plan", *plan, "--out", str(tmp_path / "again.csv")]) == 0
    again = pd.read_csv(tmp_path / "again.csv", dtype=str)
    resent = again.loc[again["status"] == "send"]
    assert not set(resent["action_id"]) & set(sent["action_id"])

    def pairs(actions: pd.DataFrame) -> set[tuple[str, str]]:
        inv = actions.assign(invoice_id=actions["invoice_ids"].str.split(",")).explode("invoice_id")
        return set(zip(inv["invoice_id"], inv["template"].str.split("+").str[0], strict=True))

    assert not pairs(resent) & pairs(sent)  # no invoice gets the same dunning step twice
    assert not set(resent["customer_id"]) & set(sent["customer_id"])  # nor its customer a second contact today
    ledger = pr.Ledger.from_frames(**read_folder(data))
    assert ledger.report.ok and len(ledger.contacts) == before + n_new  # the recorded file still validates


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("bad.yaml", b"invoices: [\n", "line 2"),
        ("latin.yaml", b"\xe9: x\n", "line 1"),
        ("list.yaml", b"[1, 2]\n", "got a list"),
        ("wrong.yaml", b"invoices: {Nope: nonsense}\n", "not a canonical column"),
        ("bad.json", b'{"invoices": \n', "line 2"),
        ("missing.yaml", None, "cannot read the mapping file"),
    ],
)
def test_a_bad_mapping_file_is_an_input_error_with_its_line(tmp_path, name, content, expected):
    (tmp_path / "invoices.csv").write_bytes(HEADER + b"I1,C1,2024-01-01,2024-01-31,100.0,EUR\n")
    if content is not None:
        (tmp_path / name).write_bytes(content)
    out = _run("validate", str(tmp_path), "--mapping", str(tmp_path / name))
    assert out.returncode == 2 and "Traceback" not in out.stderr and name in out.stderr and expected in out.stderr


def test_validate_writes_the_report_as_json_to_stdout(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "invoices.csv").write_text(
        "invoice_id;customer_id;issue_date;due_date;amount\nI1;C1;31-01-2024;01-03-2024;1.234,50\nI2;C1;x;y;0\n"
    )
    out = _run("validate", str(data), "--format", "json")
    assert out.returncode == 1, out.stderr
    doc = json.loads(out.stdout)
    assert doc["ok"] is False and doc["counts"] == [
        {"table": "invoices", "input": 2, "accepted": 1, "rejected": 1, "credit_notes": 0}
    ]
    assert {"delimiter ';'", "dates as %d-%m-%Y"} <= {r["read_as"] for r in doc["inferred"]}
    assert {i["row"] for i in doc["issues"]} == {1}


def test_a_model_left_out_is_said_not_silent(tmp_path, capsys):
    from payrisk.errors import PayriskWarning

    world = pr.datasets.make_ledger(n_customers=150, seed=3)
    with pytest.warns(PayriskWarning, match="left out"):
        pr.RiskEngine(n_estimators=10, reasons_top_n=0).fit(world, "2023-06-30")
    write_tables(world, tmp_path / "data")
    assert main(["fit", str(tmp_path / "data"), "--as-of", "2023-06-30", "--out", str(tmp_path / "m"),
                 "--trees", "10"]) == 0  # fmt: skip
    assert "payrisk fit: note: the" in capsys.readouterr().err


def test_credit_notes_survive_the_data_folder_round_trip(tmp_path):
    world = pr.datasets.make_ledger(n_customers=120, seed=2)
    assert len(world.credit_notes) > 0
    back = pr.Ledger.from_frames(**read_folder(write_tables(world, tmp_path / "data")))
    assert back.report.ok
    assert sorted(back.credit_notes["credit_note_id"]) == sorted(world.credit_notes["credit_note_id"])
    assert back.credit_notes["amount"].sum() == pytest.approx(world.credit_notes["amount"].sum())
    assert len(back.invoices) == len(world.invoices)


def test_csv_for_excel_in_european_settings(folder, tmp_path):
    out = tmp_path / "worklist.csv"
    common = [str(folder / "data"), "--model", str(folder / "model"), "--as-of", "2024-04-30"]
    assert main(["--quiet", "score", *common, "--format", "csv", "--csv-dialect", "excel-eu", "--out", str(out)]) == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.split(b"\n")[0].count(b";") > 5  # BOM, ';' between fields
    back = pd.read_csv(out, sep=";", decimal=",", encoding="utf-8-sig")
    plain = pd.read_csv(tmp_path / "w.csv") if main(["--quiet", "score", *common, "--format", "csv", "--out",
                                                     str(tmp_path / "w.csv")]) == 0 else None  # fmt: skip
    assert plain is not None and back["p_late"].round(6).equals(plain["p_late"].round(6))  # decimal commas read back


def test_options_are_refused_in_their_own_names_before_any_work(folder, capsys):
    common = [str(folder / "data"), "--model", str(folder / "model"), "--as-of", "2024-04-30"]
    for command in ("score", "warn", "forecast", "plan"):
        assert main([command, *common, "--format", "parquet"]) == 2
        err = capsys.readouterr().err
        assert "--format parquet needs --out FILE" in err and "alerted" not in err  # refused before the work
    assert (
        main(["fit", str(folder / "data"), "--as-of", "2024-03-31", "--out", str(folder / "m0"), "--trees", "0"]) == 2
    )
    assert "--trees must be a whole number of 1 or more" in capsys.readouterr().err and not (folder / "m0").exists()


def test_accept_gives_decisions_limits_terms_and_reasons_per_prospect(folder, tmp_path, capsys):
    world = pr.datasets.make_ledger(n_customers=4000, seed=3)
    data = write_tables(world.as_of("2023-12-31"), tmp_path / "data")
    fit = [str(data), "--as-of", "2023-12-31", "--trees", "30"]
    plain = folder / "model"  # a model folder without an acceptance model
    assert main(["--quiet", "fit", *fit, "--out", str(tmp_path / "model"), "--acceptance"]) == 0
    pr.RiskEngine.load(tmp_path / "model")  # the engine's manifest covers the acceptance model inside it
    later = world.customers.loc[world.customers["created_date"] > "2024-01-01"].head(25)
    prospects = later.drop(columns=["created_date"])
    prospects.to_csv(tmp_path / "prospects.csv", index=False, sep=";", decimal=",")  # an EU export
    ratings = world.ratings.loc[world.ratings["customer_id"].isin(later["customer_id"])]
    ratings = pd.concat([ratings, ratings.head(1).assign(customer_id="NOBODY")])  # one row of an unknown customer
    ratings.to_csv(tmp_path / "ratings.csv", index=False)
    args = ["accept", str(tmp_path / "prospects.csv"), "--ratings", str(tmp_path / "ratings.csv"), "--as-of",
            "2024-06-30", "--format", "csv", "--out"]  # fmt: skip
    assert main([*args, str(tmp_path / "decisions.csv"), "--model", str(tmp_path / "model")]) == 0
    err = capsys.readouterr().err
    assert "1 input rows were rejected" in err and "25 prospects:" in err
    out = pd.read_csv(tmp_path / "decisions.csv")
    assert out["customer_id"].tolist() == prospects["customer_id"].tolist()
    assert set(out["decision"]) <= {"accept", "accept with security", "prepayment only"}
    assert (out.loc[out["decision"] == "prepayment only", "recommended_limit"] == 0).all()
    assert (out["recommended_limit"] <= prospects["requested_limit"].to_numpy() + 1e-9).all()
    assert out["reason"].str.startswith("P(a problem within a year)").all()
    quiet = out["reason_1"].isna()  # nothing raises the risk of the safest prospects
    assert quiet.mean() < 0.2 and (out.loc[quiet, "p_problem_12m"] <= out["p_problem_12m"].median()).all()
    # the same prospects scored by the library agree with the command
    model = pr.acceptance.AcceptanceModel.load(tmp_path / "model" / "acceptance")
    led = pr.Ledger.from_frames(customers=prospects, ratings=ratings.iloc[:-1])
    p = model.predict(led, pd.DataFrame({"customer_id": prospects["customer_id"], "as_of": pd.Timestamp("2024-06-30")}))
    assert (abs(out["p_problem_12m"].to_numpy() - p["p_problem_12m"].to_numpy()) < 1e-9).all()
    # a model without an acceptance model is refused with the fix; so is a bad appetite
    assert main([*args, str(tmp_path / "d2.csv"), "--model", str(plain)]) == 2
    assert "--acceptance" in capsys.readouterr().err
    assert main([*args, str(tmp_path / "d3.csv"), "--model", str(tmp_path / "model"), "--lgd", "2"]) == 2
    # the limits in use: over or near the limit, and the reviews the acceptance model makes possible
    limits = [str(data), "--as-of", "2023-12-31", "--format", "csv", "--out"]
    assert main(["limits", *limits, str(tmp_path / "limits.csv"), "--model", str(tmp_path / "model")]) == 0
    err = capsys.readouterr().err
    shown = pd.read_csv(tmp_path / "limits.csv", parse_dates=["reviewed_on"])
    review = pr.limits.limit_review(world.as_of("2023-12-31"), "2023-12-31", model)
    wanted = review.loc[review["status"].isin(["over the limit", "near the limit"]) | review["to_review"]]
    assert shown["customer_id"].tolist() == wanted.index.tolist() and shown["to_review"].any()
    assert f"{int(review['to_review'].sum()):,} to review" in err
    assert main(["--quiet", "limits", *limits, str(tmp_path / "l2.csv"), "--model", str(plain), "--all"]) == 0
    every = pd.read_csv(tmp_path / "l2.csv")  # no acceptance model: the utilisation only, every customer
    assert len(every) == len(review) and "to_review" not in every and set(every["status"]) >= {"over the limit"}
    assert (
        main(["limits", *limits, str(tmp_path / "l3.csv"), "--model", str(tmp_path / "model"), "--appetite", "-1"]) == 2
    )
    assert "--appetite must be 0 or more" in capsys.readouterr().err and not (tmp_path / "l3.csv").exists()
