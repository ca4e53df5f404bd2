"""The README's promises, the docs' rule table, the demo, and the safe CSV export."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import payrisk as pr
from payrisk._safe_csv import neutralise_cell, to_safe_csv
from payrisk.demo import main

ROOT = Path(__file__).resolve().parents[1]


def test_readme_shows_the_two_commands_first():
    text = (ROOT / "README.md").read_text()
    first_block = text.split("```bash", 1)[1].split("```", 1)[0]
    assert "make demo" in first_block and "make test" in first_block
    assert "make_ledger(n_customers=500, seed=1); print(l.summary())" in text


def test_docs_list_every_validation_rule_and_column():
    text = (ROOT / "docs" / "validation.md").read_text()
    for rule in pr.schema.RULES:
        assert f"`{rule}`" in text, rule
    for table in pr.schema.TABLES.values():
        for col in table.columns:
            assert f"`{col.name}`" in text, (table.name, col.name)


def test_demo_runs_on_synthetic_and_real_data(capsys):
    from conftest import shared_data_dir

    assert main(["--customers", "80", "--data", str(shared_data_dir())]) == 0
    out = capsys.readouterr().out
    assert "Synthetic world" in out and "as of                         2024-06-30" in out
    if shared_data_dir().is_dir():
        assert "ibm_accounts_receivable" in out and "ValidationReport" in out


def test_neutralise_cell_covers_every_formula_start():
    for start in ("=", "+", "-", "@", "\t", "\r", " =", "\u00a0=", "\u3000+", "\uff1d", "\uff0b", "\uff0d", "\uff20"):
        assert neutralise_cell(start + "cmd|' /C calc'!A0").startswith("'"), repr(start)
    assert neutralise_cell("-12.50") == "-12.50"
    assert neutralise_cell("plain") == "plain"
    assert neutralise_cell(3.5) == 3.5


def test_safe_csv_neutralises_headers_values_and_keeps_numbers(tmp_path):
    df = pd.DataFrame({"=evil": ["=1+1", "ok"], "amount": [-5.0, 3.0]})
    back = pd.read_csv(to_safe_csv(df, tmp_path / "x.csv"), dtype=str)
    assert list(back.columns) == ["'=evil", "amount"]
    assert back["'=evil"].tolist() == ["'=1+1", "ok"]
    assert back["amount"].tolist() == ["-5.0", "3.0"]


def test_features_page_embeds_the_registry_table():
    text = (ROOT / "docs" / "features.md").read_text()
    assert pr.features.registry_markdown() in text, "run `make docs-tables` after changing the registry"
