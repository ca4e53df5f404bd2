"""Tables from a SQL database through SQLAlchemy (private; behind :meth:`payrisk.Ledger.from_sql` and the command's
``payrisk validate postgresql://...``). Any database SQLAlchemy has a driver for: PostgreSQL, SQLite, DuckDB,
SQL Server, MySQL, ..."""

from __future__ import annotations

import decimal
import importlib.util
from collections.abc import Mapping
from typing import Any

import pandas as pd

from payrisk.errors import DataFileError, ParameterError
from payrisk.schema import INPUT_TABLES

__all__ = ["is_url", "read_sql_tables", "sql_engine"]

_TABLES = INPUT_TABLES
_DRIVERS = {"postgresql": "psycopg[binary]", "mysql": "pymysql", "mssql": "pyodbc", "duckdb": "duckdb-engine",
            "oracle": "oracledb"}  # fmt: skip


def is_url(source: object) -> bool:
    """True for a database URL (``postgresql://...``, ``sqlite:///file.db``), not a path."""
    return isinstance(source, str) and "://" in source and not source.lower().startswith("file://")


def _engine(source: Any) -> tuple[Any, str]:
    """A SQLAlchemy engine or connection for ``source`` and its address with the password hidden."""
    try:
        import sqlalchemy as sa
    except ImportError:
        raise ParameterError(
            "reading from a database needs SQLAlchemy: pip install 'payrisk[sql]' (and the database's driver)."
        ) from None
    if not isinstance(source, str):
        url = getattr(getattr(source, "engine", source), "url", None)
        return source, url.render_as_string(hide_password=True) if url is not None else repr(source)
    try:
        url = sa.engine.make_url(source)
    except (sa.exc.ArgumentError, ValueError):
        raise ParameterError(
            f"{source!r} is not a database URL; write it as dialect://user:password@host:port/database, e.g. "
            "postgresql://credit:secret@db.example.com:5432/ledger or sqlite:///ledger.db."
        ) from None
    shown = url.render_as_string(hide_password=True)
    # postgresql:// means psycopg2 to SQLAlchemy; take psycopg (3) where only that one is installed
    only_psycopg3 = importlib.util.find_spec("psycopg2") is None and importlib.util.find_spec("psycopg") is not None
    if url.drivername == "postgresql" and only_psycopg3:
        url = url.set(drivername="postgresql+psycopg")
    try:
        return sa.create_engine(url), shown
    except (ImportError, sa.exc.NoSuchModuleError) as exc:
        package = _DRIVERS.get(url.get_backend_name(), "the database's SQLAlchemy driver")
        raise ParameterError(
            f"{shown}: no driver for {url.drivername!r} ({exc}); install it: pip install {package}."
        ) from None


def sql_engine(source: Any) -> tuple[Any, str]:
    """A SQLAlchemy engine (or the connection given) for a database URL, and its address with the password
    hidden; a missing SQLAlchemy or driver is a :class:`ParameterError` naming what to install."""
    return _engine(source)


def _floats(frame: pd.DataFrame) -> pd.DataFrame:
    """Exact decimals (NUMERIC columns) as floats: payrisk reads them as numbers, not as text to be parsed."""
    for col in frame.columns:
        s = frame[col]
        if s.dtype == object:
            values = s.dropna()
            if len(values) and all(isinstance(v, decimal.Decimal) for v in values.iloc[:100]):
                frame[col] = pd.to_numeric(s, errors="coerce").astype(float).where(s.notna())
    return frame


def read_sql_tables(source: Any, tables: Mapping[str, str] | None = None) -> dict[str, pd.DataFrame]:
    """The ledger's tables from a database: per table a table name or a query (``SELECT ...``); without
    ``tables``, the tables named after payrisk's (``invoices``, ``payments``, ...) that the database has."""
    import sqlalchemy as sa

    engine, shown = _engine(source)
    unknown = sorted(set(tables or {}) - set(_TABLES))
    if unknown:
        raise ParameterError(f"unknown tables {unknown}; tables are {list(_TABLES)}.")
    try:
        con = engine.connect()
    except sa.exc.SQLAlchemyError as exc:
        raise DataFileError(f"{shown}: cannot connect ({_first_line(exc)}); check the address, the user and password, "
                            "and that the server runs.") from None  # fmt: skip
    with con:
        present = sa.inspect(con).get_table_names()
        wanted = dict(tables) if tables else {t: t for t in _TABLES if t in present}
        if "invoices" not in wanted:
            raise DataFileError(
                f"{shown}: no invoices table (tables: {present[:20]}); name it, e.g. sql: {{invoices: ar_open_items}} "
                "in the mapping, or a query: sql: {invoices: 'SELECT * FROM ar_open_items'}."
            )
        out = {}
        for table, what in wanted.items():
            query = what.strip()
            statement: sa.TextClause | sa.Select[Any]
            if query.split(None, 1)[0].lower() in ("select", "with"):
                statement = sa.text(query)
            elif query in present:  # a plain SELECT: no reflection of the table's types, which drivers differ on
                statement = sa.select(sa.text("*")).select_from(sa.table(query))
            else:
                raise DataFileError(
                    f"{shown}: no table {query!r} for {table} (tables: {present[:20]}); name one of them, or give "
                    "a SELECT query."
                )
            try:
                out[table] = _floats(pd.read_sql_query(statement, con))
            except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:
                raise DataFileError(
                    f"{shown}: the database refused the query for {table} ({_first_line(exc)})."
                ) from None
    return out


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or (exc.__cause__ if isinstance(exc, pd.errors.DatabaseError) else None) or exc
    orig = getattr(orig, "orig", None) or orig
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
