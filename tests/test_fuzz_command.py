"""Fuzz through the command, not only the API: malformed exports and mapping files (tests/fuzz_inputs.py) run
through `payrisk validate` and `payrisk score`. Each ends in exit code 0, 1 or 2 with no traceback; the report
counts every record (input = accepted + rejected = the file's records); no row written clean is lost or changed;
no row written with a junk value is accepted."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import payrisk as pr
from fuzz_inputs import make_case, write_case
from payrisk._cli_io import load_ledger
from payrisk.cli import main

pytestmark = pytest.mark.xdist_group("cli")


def check_case(case, folder: Path, capsys) -> str:
    """Run one case through `payrisk validate`; returns how it ended (ok / rejected / refused), asserting the
    contract on the way."""
    _, mapping = write_case(case, folder)
    args = ["--quiet", "validate", str(folder)] + (["--mapping", str(mapping)] if mapping else [])
    code = main(args)
    out = capsys.readouterr()
    assert code in (0, 1, 2), (code, out.err, case.content[:400])
    assert "Traceback" not in out.err and "internal error" not in out.err, out.err
    if code == 2:
        assert out.err.strip().startswith("payrisk validate:") and len(out.err) > 40, out.err  # says what to fix
        return "refused"
    ledger = load_ledger(folder, str(mapping) if mapping else None)
    counts = ledger.report.counts.loc["invoices"]
    assert counts["input"] == counts["accepted"] + counts["rejected"] == case.records, (counts, case.content)
    accepted = pd.concat(
        [ledger.invoices.set_index("invoice_id")["amount"], ledger.credit_notes.set_index("credit_note_id")["amount"]]
    )
    assert not set(accepted.index) & case.junk, (set(accepted.index) & case.junk, case.content)  # no junk accepted
    missing = set(case.clean) - set(accepted.index)
    assert not missing, (missing, ledger.report.issues.to_string(), case.content)  # no clean row lost
    want = pd.Series(case.clean, dtype=float)
    assert ((accepted.reindex(want.index) - want).abs() < 0.005).all(), case.content  # nor changed
    return "ok" if code == 0 else "rejected"


@settings(max_examples=120, suppress_health_check=[HealthCheck.function_scoped_fixture])  # capsys: read each run
@given(st.randoms(use_true_random=False))
def test_validate_never_crashes_loses_or_misreads_a_row(tmp_path_factory, capsys, rnd):
    case = make_case(random.Random(rnd.random()))
    folder = tmp_path_factory.mktemp("fuzz")
    try:
        check_case(case, folder / "data", capsys)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzzmodel")
    from payrisk._cli_io import write_tables

    write_tables(pr.datasets.make_ledger(n_customers=80, seed=5), root / "data")
    assert main(["--quiet", "fit", str(root / "data"), "--as-of", "2024-03-31", "--out", str(root / "model"),
                 "--trees", "20"]) == 0  # fmt: skip
    return root / "model"


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.randoms(use_true_random=False))
def test_score_plan_and_fit_on_a_malformed_export_are_a_result_or_an_input_error_never_a_crash(
    model, tmp_path_factory, capsys, rnd
):
    case = make_case(random.Random(rnd.random()))
    folder = tmp_path_factory.mktemp("fuzzscore")
    try:
        _, mapping = write_case(case, folder / "data")
        extra = ["--mapping", str(mapping)] if mapping else []
        data = str(folder / "data")
        for args in (
            ["score", data, "--model", str(model), "--as-of", "2024-12-31", "--format", "json"],
            ["plan", data, "--model", str(model), "--as-of", "2024-12-31", "--format", "json"],
            ["fit", data, "--as-of", "2024-12-31", "--out", str(folder / "m"), "--trees", "5"],
        ):
            code = main(["--quiet", *args, *extra])
            out = capsys.readouterr()
            assert code in (0, 2), (args[0], code, out.err, case.content[:400])
            assert "Traceback" not in out.err and "internal error" not in out.err, (args[0], out.err)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.randoms(use_true_random=False), st.sampled_from(["parquet", "xlsx"]))
def test_parquet_and_excel_exports_never_crash_or_lose_a_row(tmp_path_factory, capsys, rnd, kind):
    """The same damaged tables as typed files: a Parquet or Excel table whose columns mix text, numbers, dates
    and junk (what a spreadsheet or a careless export writes)."""
    import csv
    import io

    case = make_case(random.Random(rnd.random()))
    text = case.content.decode("utf-8-sig", errors="replace")
    sep = max([",", ";", "\t", "|"], key=lambda d: text.split("\n", 1)[0].count(d))
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=sep) if r]
    header, body = rows[0], [r + [""] * (len(rows[0]) - len(r)) for r in rows[1:]]
    assume(kind != "parquet" or len(set(header)) == len(header))  # a Parquet file cannot hold a repeated column
    frame = pd.DataFrame([r[: len(header)] for r in body], columns=header)
    mixed = rnd.random() < 0.5  # numbers as numbers where they parse, text where they do not: object columns
    if mixed and "amount" in frame.columns:
        frame["amount"] = [_number(v) if rnd.random() < 0.5 else v for v in frame["amount"]]
    folder = tmp_path_factory.mktemp("typed") / "data"
    folder.mkdir()
    try:
        if kind == "parquet":
            if mixed and "amount" in frame.columns:  # a typed column: numbers, junk as missing
                frame["amount"] = pd.to_numeric(frame["amount"].astype(str), errors="coerce")
            frame.to_parquet(folder / "invoices.parquet")
        else:
            frame.to_excel(folder / "invoices.xlsx", index=False)
    except Exception as exc:  # the writer refused the frame: the test's own fault, not payrisk's
        pytest.fail(f"could not write the {kind} file: {exc}")
    code = main(["--quiet", "validate", str(folder)])
    out = capsys.readouterr()
    assert code in (0, 1, 2), (code, out.err)
    assert "Traceback" not in out.err and "internal error" not in out.err, out.err
    if code in (0, 1):
        ledger = load_ledger(folder)
        counts = ledger.report.counts.loc["invoices"]
        assert counts["input"] == counts["accepted"] + counts["rejected"] == len(frame)


def _number(text: str) -> object:
    """A value as a spreadsheet stores it: a number where the text is one, else the text."""
    try:
        return float(text)
    except ValueError:
        return text
