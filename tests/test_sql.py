"""The ledger from a SQL database (SQLAlchemy): SQLite and DuckDB files, and a real PostgreSQL server (the one
.ci/run starts; $PAYRISK_TEST_POSTGRES names another), through the API and the command."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import payrisk as pr
from payrisk.errors import DataFileError, ParameterError

pytestmark = pytest.mark.xdist_group("sql")
POSTGRES = os.environ.get("PAYRISK_TEST_POSTGRES", "postgresql+psycopg://postgres:payrisk@localhost:5432/payrisk_test")


@pytest.fixture(scope="module")
def world() -> pr.Ledger:
    return pr.datasets.make_ledger(n_customers=60, seed=8).as_of("2024-06-30")


def _write(world: pr.Ledger, engine: sa.Engine, schema: str | None = None) -> None:
    """The world's tables into the database, with the database's own types (dates as DATE, amounts as
    NUMERIC(14, 3): three decimals, to prove payrisk reads numbers as numbers, not as text)."""
    inv = pd.concat([world.invoices, world.credit_notes.rename(columns={"credit_note_id": "invoice_id"})])
    inv = inv.drop(columns=["paid_amount", "open_amount"], errors="ignore")
    types = {"amount": sa.Numeric(14, 3), "issue_date": sa.Date(), "due_date": sa.Date(), "paid_date": sa.Date()}
    with engine.begin() as con:
        inv.to_sql("invoices", con, schema=schema, index=False, dtype=types)
        world.payments.to_sql("payments", con, schema=schema, index=False, dtype={"amount": sa.Numeric(14, 3)})
        world.customers.to_sql("customers", con, schema=schema, index=False)


def _same(ledger: pr.Ledger, world: pr.Ledger) -> None:
    assert ledger.report.ok, str(ledger.report)
    a = ledger.invoices.set_index("invoice_id").sort_index()
    b = world.invoices.set_index("invoice_id").sort_index()
    assert a.index.equals(b.index)
    np.testing.assert_allclose(a["amount"], b["amount"].round(3))
    assert (a["due_date"].to_numpy() == b["due_date"].to_numpy()).all()
    assert sorted(ledger.credit_notes["credit_note_id"]) == sorted(world.credit_notes["credit_note_id"])
    assert len(ledger.payments) == len(world.payments)


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb"])
def test_a_database_file_reads_as_the_same_ledger(world, tmp_path, dialect):
    url = f"{dialect}:///{tmp_path / ('ledger.' + dialect)}"
    engine = sa.create_engine(url)
    _write(world, engine)
    engine.dispose()
    _same(pr.Ledger.from_sql(url), world)
    # a query with the team's own names, mapped back
    query = "SELECT invoice_id AS factuurnummer, customer_id AS debiteur, issue_date, due_date, amount FROM invoices"
    names = {"invoices": {"factuurnummer": "invoice_id", "debiteur": "customer_id"}}
    mapped = pr.Ledger.from_sql(url, {"invoices": query}, mapping=names)
    assert len(mapped.invoices) == len(world.invoices) and mapped.report.ok


def test_postgresql_server(world):
    try:
        engine = sa.create_engine(POSTGRES, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
    except Exception as exc:
        pytest.skip(f"no PostgreSQL server at {sa.engine.make_url(POSTGRES).render_as_string()}: "
                    f"{type(exc).__name__}; .ci/run starts one")  # fmt: skip
    schema = f"payrisk_{uuid.uuid4().hex[:8]}"
    with engine.begin() as con:
        con.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        _write(world, engine, schema)
        queries = {t: f"SELECT * FROM {schema}.{t}" for t in ("invoices", "payments", "customers")}
        _same(pr.Ledger.from_sql(POSTGRES, queries), world)
        mapping = "sql:\n" + "".join(f"  {t}: 'SELECT * FROM {schema}.{t}'\n" for t in queries)
        path = f"/tmp/{schema}.yaml"
        with open(path, "w") as fh:
            fh.write(mapping)
        out = subprocess.run([sys.executable, "-m", "payrisk.cli", "validate", POSTGRES, "--mapping", path],
                             capture_output=True, text=True, check=False)  # fmt: skip
        assert out.returncode == 0 and "0 rows rejected" in out.stdout, out.stdout + out.stderr
        wrong = sa.engine.make_url(POSTGRES).set(password="not-the-password").render_as_string(hide_password=False)
        bad = subprocess.run([sys.executable, "-m", "payrisk.cli", "validate", wrong], capture_output=True,
                             text=True, check=False)  # fmt: skip
        assert bad.returncode == 2 and "Traceback" not in bad.stderr and "not-the-password" not in bad.stderr
        assert "***" in bad.stderr  # the address is shown, the password hidden
    finally:
        with engine.begin() as con:
            con.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()


def test_database_errors_are_input_errors_that_say_what_to_fix(world, tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    engine = sa.create_engine(url)
    _write(world, engine)
    engine.dispose()
    with pytest.raises(DataFileError, match=r"no table 'open_items' for invoices \(tables: \["):
        pr.Ledger.from_sql(url, {"invoices": "open_items"})
    with pytest.raises(DataFileError, match="refused the query"):
        pr.Ledger.from_sql(url, {"invoices": "SELECT nope FROM invoices"})
    with pytest.raises(ParameterError, match="not a database URL"):
        pr.Ledger.from_sql("postgresql://:::")
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    with pytest.raises(DataFileError, match="no invoices table"):
        pr.Ledger.from_sql(empty)
    out = subprocess.run([sys.executable, "-m", "payrisk.cli", "validate", f"sqlite:///{tmp_path / 'empty.db'}"],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert out.returncode == 2 and "no invoices table" in out.stderr and "Traceback" not in out.stderr
