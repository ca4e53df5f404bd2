"""The ledger: a company's payment history, validated, and readable as of any date.

:class:`Ledger` holds the canonical tables (customers, invoices, credit notes, payments, plans, instalments,
dunning contacts) as pandas DataFrames. :meth:`Ledger.as_of` returns the ledger as it was known at the end of
a day: later invoices, payments, instalment payments and contacts do not exist, invoices paid later are open,
and open amounts are recomputed from the payments known at that date.

Examples
--------
>>> import payrisk as pr
>>> ledger = pr.datasets.make_ledger(n_customers=50, start="2023-01-01", end="2023-12-31", seed=1)
>>> snap = ledger.as_of("2023-06-30")
>>> bool((snap.invoices["issue_date"] <= "2023-06-30").all())
True
>>> bool((snap.payments["payment_date"] <= "2023-06-30").all())
True
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from payrisk._compat import renamed
from payrisk._frame import isin, lookup, positions
from payrisk._manifest import check_digests, digests
from payrisk.errors import DataFileError, ParameterError, ValidationError
from payrisk.schema import DATE_DTYPE, TABLES, ColumnKind, ColumnMapping, ValidationReport, validate_tables

if TYPE_CHECKING:  # pragma: no cover
    from payrisk.datasets import Truth

__all__ = ["PROMISE_UNDATED_DAYS", "TABLE_NAMES", "Ledger", "LedgerSummary", "to_date"]

#: reads the truth folder of a saved synthetic world; set by :mod:`payrisk.datasets`, which owns the truth (the
#: ledger, a layer below, only carries it)
_TRUTH_READER: Callable[[Path], Truth] | None = None


def register_truth_reader(reader: Callable[[Path], Truth]) -> None:
    """Let :meth:`Ledger.read` read a synthetic world's truth folder with ``reader`` (called by payrisk.datasets)."""
    global _TRUTH_READER
    _TRUTH_READER = reader


#: A promise to pay recorded without a promised date falls due this many days after it was made.
PROMISE_UNDATED_DAYS = 14

TABLE_NAMES: tuple[str, ...] = (
    "customers",
    "ratings",
    "credit_limits",
    "invoices",
    "credit_notes",
    "payments",
    "plans",
    "installments",
    "contacts",
)
FORMAT_VERSION = 1
#: the tables of dated facts (a row holds from its valid_from); added after format version 1 was first written, so a
#: folder without them reads them as empty
_DATED_TABLES = ("ratings", "credit_limits")
_DERIVED = {"invoices": ["paid_amount", "open_amount"]}


def to_date(value: Any, name: str = "as_of") -> pd.Timestamp:
    """A calendar date (midnight) from a string, date or Timestamp; a clear error otherwise.

    Examples
    --------
    >>> to_date("2024-06-30")
    Timestamp('2024-06-30 00:00:00')
    """
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"The {name!r} parameter must be a date such as '2024-06-30'. Got {value!r}.") from exc
    if ts is pd.NaT or pd.isna(ts):
        raise ParameterError(f"The {name!r} parameter must be a date such as '2024-06-30'. Got {value!r}.")
    if ts.tzinfo is not None:
        ts = ts.tz_convert(None)
    return ts.normalize().as_unit("ns")


def _template(name: str) -> dict[str, str]:
    """Canonical columns of a ledger table and their dtypes, in order."""
    spec = TABLES["invoices" if name == "credit_notes" else name]
    cols: dict[str, str] = {}
    for c in spec.columns:
        cname = "credit_note_id" if (name == "credit_notes" and c.name == "invoice_id") else c.name
        cols[cname] = _dtype(c.kind)
    for extra in _DERIVED.get(name, []):
        cols[extra] = "float64"
    return cols


def _dtype(kind: ColumnKind) -> str:
    return {
        ColumnKind.ID: "str",
        ColumnKind.TEXT: "str",
        ColumnKind.DATE: DATE_DTYPE,
        ColumnKind.DATETIME: DATE_DTYPE,
        ColumnKind.MONEY: "float64",
        ColumnKind.NUMBER: "float64",
        ColumnKind.INT: "Int64",
        ColumnKind.BOOL: "bool",
    }[kind]


_TEMPLATES: dict[str, dict[str, str]] = {}


def _conform(name: str, df: pd.DataFrame | None) -> pd.DataFrame:
    """Canonical columns (in canonical order, extras after) with canonical dtypes."""
    if name not in _TEMPLATES:
        _TEMPLATES[name] = _template(name)
    template = _TEMPLATES[name]
    if df is None:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in template.items()})
    out = df.reset_index(drop=True)
    changes = {}
    for col, dtype in template.items():
        if col not in out.columns:
            fill = False if dtype == "bool" else None
            changes[col] = pd.Series(fill, index=out.index).astype(dtype)  # type: ignore[call-overload]  # a dtype name
        elif out[col].dtype != dtype:
            changes[col] = out[col].astype(dtype)  # type: ignore[call-overload]  # a dtype name
    if changes:
        out = out.assign(**changes)
    cols = list(template) + [c for c in out.columns if c not in template]
    return out[cols] if list(out.columns) != cols else out


@dataclass
class LedgerSummary:
    """What a ledger holds, in numbers; ``print`` it for a readable overview."""

    figures: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The figures as a plain dict (JSON-friendly)."""
        return dict(self.figures)

    def __str__(self) -> str:
        width = max(len(k) for k in self.figures) if self.figures else 0
        return "\n".join(f"{k:<{width}}  {v}" for k, v in self.figures.items())

    __repr__ = __str__


class Ledger:
    """A company's payment history in canonical tables, readable as of a date.

    Build one with :meth:`from_frames` (validated user data), :func:`payrisk.datasets.make_ledger`
    (synthetic world with ground truth), a dataset loader, or :meth:`read`.

    Attributes
    ----------
    customers, ratings, credit_limits, invoices, credit_notes, payments, plans, installments, contacts : DataFrame
        The canonical tables (``ratings`` and ``credit_limits`` are dated: a row holds from its ``valid_from``).
        ``invoices`` carries two derived columns, ``paid_amount`` and ``open_amount``, computed from the payments
        known at :attr:`as_of_date`.
    report : ValidationReport
        What validation rejected when the ledger was built.
    truth : Truth or None
        Ground truth of a synthetic world (never used by features or models).
    as_of_date : pandas.Timestamp or None
        The date the ledger was cut at (end of that day), or None for the full history.
    meta : dict
        Provenance: source, how payments or paid dates were derived, notes from loaders.

    Examples
    --------
    >>> import pandas as pd
    >>> import payrisk as pr
    >>> inv = pd.DataFrame({"invoice_id": ["1", "2"], "customer_id": ["a", "a"],
    ...                     "issue_date": ["2024-01-01", "2024-02-01"], "due_date": ["2024-01-31", "2024-03-02"],
    ...                     "amount": [100.0, 200.0], "paid_date": ["2024-02-10", None]})
    >>> ledger = pr.Ledger.from_frames(invoices=inv)
    >>> ledger.as_of("2024-02-05").invoices["open_amount"].tolist()
    [100.0, 200.0]
    """

    def __init__(
        self,
        tables: Mapping[str, pd.DataFrame | None] | None = None,
        *,
        report: ValidationReport | None = None,
        truth: Truth | None = None,
        as_of_date: pd.Timestamp | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        tables = dict(tables or {})
        unknown = sorted(set(tables) - set(TABLE_NAMES))
        if unknown:
            raise ParameterError(f"unknown tables {unknown}; tables are {list(TABLE_NAMES)}")
        for name in TABLE_NAMES:
            setattr(self, name, _conform(name, tables.get(name)))
        self.report = report if report is not None else ValidationReport()
        self._truth: Truth | None = truth
        self._truth_pending: Callable[[], Truth] | None = None
        #: cached invoice positions of payments and contacts: {table: (invoices, rows, positions)}
        self._inv_at: dict[str, tuple[pd.DataFrame, pd.DataFrame, np.ndarray]] = {}
        self.as_of_date = as_of_date
        self.meta: dict[str, Any] = dict(meta or {})

    @property
    def truth(self) -> Truth | None:
        """Ground truth of a synthetic world (None for real data); a snapshot restricts it when first read."""
        if self._truth_pending is not None:
            self._truth, self._truth_pending = self._truth_pending(), None
        return self._truth

    @truth.setter
    def truth(self, value: Truth | None) -> None:
        self._truth, self._truth_pending = value, None

    customers: pd.DataFrame
    ratings: pd.DataFrame
    credit_limits: pd.DataFrame
    invoices: pd.DataFrame
    credit_notes: pd.DataFrame
    payments: pd.DataFrame
    plans: pd.DataFrame
    installments: pd.DataFrame
    contacts: pd.DataFrame

    # -- construction ------------------------------------------------------------------------------------
    @classmethod
    def from_sql(
        cls,
        source: Any,
        tables: Mapping[str, str] | None = None,
        mapping: ColumnMapping | Mapping[str, Any] | str | Path | None = None,
        strict: bool = False,
    ) -> Ledger:
        """Read and validate the ledger's tables from a SQL database, through SQLAlchemy.

        Parameters
        ----------
        source : str or SQLAlchemy Engine / Connection
            A database URL (``postgresql://user:password@host:5432/db``, ``sqlite:///ledger.db``,
            ``duckdb:///ledger.duckdb``, ...) or an open engine or connection.
        tables : dict, optional
            Per payrisk table, a table name or a query (``{"invoices": "SELECT * FROM ar_open_items WHERE
            company = 'NL01'"}``). Default: the mapping's ``sql`` entry, else the tables named ``invoices``,
            ``payments``, ... that the database has.
        mapping, strict
            As in :meth:`from_frames`.

        Returns
        -------
        Ledger

        Raises
        ------
        payrisk.errors.DataFileError
            The database cannot be reached or read, or lacks a table; the message shows the address with the
            password hidden.

        Examples
        --------
        >>> import sqlite3, tempfile, pathlib, pandas as pd
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "ledger.db"
        >>> with sqlite3.connect(path) as con:
        ...     _ = pd.DataFrame({"invoice_id": ["1"], "customer_id": ["a"], "issue_date": ["2024-01-01"],
        ...                       "due_date": ["2024-01-31"], "amount": [10.0]}).to_sql("invoices", con, index=False)
        >>> Ledger.from_sql(f"sqlite:///{path}").invoices["amount"].tolist()
        [10.0]
        """
        from payrisk._sql import read_sql_tables

        spec = ColumnMapping.coerce(mapping)
        frames = read_sql_tables(source, tables or spec.sql or None)
        get = frames.get
        ledger = cls.from_frames(
            customers=get("customers"), ratings=get("ratings"), credit_limits=get("credit_limits"),
            invoices=get("invoices"), payments=get("payments"), plans=get("plans"),
            installments=get("installments"), contacts=get("contacts"), mapping=spec, strict=strict,
        )  # fmt: skip
        ledger.meta["source"] = "from_sql"
        return ledger

    @classmethod
    def from_frames(
        cls,
        *,
        customers: pd.DataFrame | None = None,
        invoices: pd.DataFrame | None = None,
        payments: pd.DataFrame | None = None,
        plans: pd.DataFrame | None = None,
        installments: pd.DataFrame | None = None,
        contacts: pd.DataFrame | None = None,
        ratings: pd.DataFrame | None = None,
        credit_limits: pd.DataFrame | None = None,
        mapping: ColumnMapping | Mapping[str, Any] | str | Path | None = None,
        strict: bool = False,
        meta: dict[str, Any] | None = None,
    ) -> Ledger:
        """Validate user tables and build a ledger.

        Parameters
        ----------
        customers, invoices, payments, plans, installments, contacts : pandas.DataFrame, optional
            The user's tables; any may be absent. Negative invoice amounts become credit notes.
        ratings, credit_limits : pandas.DataFrame, optional
            Dated facts about customers: external scores or ratings (``customer_id``, ``valid_from``,
            ``source``, ``score``, ``rating``) and granted credit limits (``customer_id``, ``valid_from``,
            ``credit_limit``). Each holds from its ``valid_from`` date: :meth:`as_of` keeps only those published
            by then.
        mapping : ColumnMapping, dict or path, optional
            ``{table: {user column: canonical column}}`` or a full :class:`~payrisk.schema.ColumnMapping`.
        strict : bool, default False
            Raise :class:`payrisk.errors.ValidationError` (carrying the report) when any row is rejected,
            instead of returning a ledger of the accepted rows.
        meta : dict, optional
            Provenance to keep on the ledger.

        Returns
        -------
        Ledger
            Accepted rows; ``ledger.report`` lists every rejected one.

        Notes
        -----
        When invoices carry ``paid_date`` but no payments are given, one full payment per paid invoice is
        derived. When payments are given but invoices carry no ``paid_date``, an invoice counts as paid on the
        date its allocated payments first reach its amount. Without either, every invoice is open.

        Examples
        --------
        >>> import pandas as pd
        >>> import payrisk as pr
        >>> inv = pd.DataFrame({"invoice_id": ["1"], "customer_id": ["a"], "issue_date": ["2024-01-01"],
        ...                     "due_date": ["2023-12-01"], "amount": [10.0]})
        >>> pr.Ledger.from_frames(invoices=inv).report.issues["rule"].tolist()
        ['due_before_issue']
        """
        mapping = ColumnMapping.coerce(mapping)
        frames = {
            "customers": customers,
            "ratings": ratings,
            "credit_limits": credit_limits,
            "invoices": invoices,
            "payments": payments,
            "plans": plans,
            "installments": installments,
            "contacts": contacts,
        }
        tables, report = validate_tables({k: v for k, v in frames.items() if v is not None}, mapping)
        if strict and not report.ok:
            raise ValidationError(str(report), report=report)
        meta = dict(meta or {})
        meta.setdefault("source", "from_frames")
        tables = _derive(tables, mapping, meta)
        ledger = cls(tables, report=report, meta=meta)
        at = ledger.invoice_positions("payments")
        ledger.invoices = _with_open_amounts(ledger.invoices, ledger.payments, at)
        # index the references once, as a database would: every snapshot inherits them without hashing ids
        ledger._inv_at = {"payments": (ledger.invoices, ledger.payments, at)}
        ledger.invoice_positions("contacts")
        ledger.customer_codes()
        return ledger

    # -- slicing -----------------------------------------------------------------------------------------
    @renamed(date="as_of")
    def as_of(self, as_of: Any) -> Ledger:
        """The ledger as known at the end of ``as_of``.

        Invoices issued later, and payments, credit notes, plans, contacts, ratings and credit limits dated later, do
        not exist; invoices paid later are open; instalments paid later are unpaid; disputes raised later are not
        disputed yet; open amounts are recomputed from the payments known at the date.
        ``ledger.as_of(t).as_of(s)`` equals ``ledger.as_of(min(s, t))``; a snapshot asked for its own date or a
        later one is returned as it is.

        Parameters
        ----------
        as_of : str, date or Timestamp
            The cut-off day (inclusive).

        Returns
        -------
        Ledger

        Examples
        --------
        >>> import payrisk as pr
        >>> ledger = pr.datasets.make_ledger(n_customers=30, seed=3)
        >>> snap = ledger.as_of("2023-03-31")
        >>> bool(snap.invoices["paid_date"].dropna().le("2023-03-31").all())
        True
        """
        day = to_date(as_of)
        if self.as_of_date is not None and self.as_of_date <= day:
            return self  # already known only up to that day (or earlier): nothing to cut
        end = day + pd.Timedelta(days=1)

        # pandas copy-on-write: the filtered tables can take new columns without copying or touching self
        inv_keep = self.invoices["issue_date"].to_numpy() <= day.to_datetime64()
        inv = _rows(self.invoices, inv_keep)
        inv["paid_date"] = inv["paid_date"].where(inv["paid_date"] <= day)
        if inv["disputed_date"].notna().any():
            dated = inv["disputed_date"].notna()
            inv["disputed_date"] = inv["disputed_date"].where(inv["disputed_date"] <= day)
            inv["disputed"] = np.where(dated, inv["disputed_date"].notna(), inv["disputed"])
        pay_keep = (self.payments["payment_date"] <= day).to_numpy(dtype=bool, na_value=False)
        pay = _rows(self.payments, pay_keep)
        cn_keep = (self.credit_notes["issue_date"] <= day).to_numpy(dtype=bool, na_value=False)
        cn = _rows(self.credit_notes, cn_keep)
        plans_keep = (self.plans["created_date"] <= day).to_numpy(dtype=bool, na_value=False)
        plans = _rows(self.plans, plans_keep)
        ins = _rows(self.installments, isin(self.installments["plan_id"], plans["plan_id"]))
        later = ~(ins["paid_date"] <= day)
        ins["paid_date"] = ins["paid_date"].where(~later)
        ins["amount_paid"] = ins["amount_paid"].where(~later, 0.0)
        con_keep = (self.contacts["sent_at"] < end).to_numpy(dtype=bool, na_value=False)
        con = _rows(self.contacts, con_keep)
        # a rating or limit published after the day does not exist yet
        published = {
            t: _rows(getattr(self, t), (getattr(self, t)["valid_from"] <= day).to_numpy(dtype=bool, na_value=False))
            for t in _DATED_TABLES
        }
        # each payment's and contact's invoice in the snapshot, from this ledger's positions (no id hashing)
        new_position = np.cumsum(inv_keep) - 1
        at = {}
        for table, keep in (("payments", pay_keep), ("contacts", con_keep)):
            old = self.invoice_positions(table)[keep]
            found = old >= 0
            found[found] = inv_keep[old[found]]
            at[table] = np.where(found, new_position[np.maximum(old, 0)], -1)

        active = pd.Index(
            pd.concat(
                [inv["customer_id"], cn["customer_id"], pay["customer_id"], plans["customer_id"], con["customer_id"]],
                ignore_index=True,
            ).unique()
        )
        cust = self.customers
        created = cust["created_date"]
        keep = ((created <= day) | (created.isna() & isin(cust["customer_id"], active))).to_numpy(dtype=bool)
        known = _rows(cust, keep)
        # ... and only of the customers known then (a prospect's rating before its acceptance belongs to it later)
        published = {t: _rows(f, isin(f["customer_id"], known["customer_id"])) for t, f in published.items()}
        tables = {
            "customers": known,
            **published,
            "invoices": _with_open_amounts(inv, pay, at["payments"]),
            "credit_notes": cn,
            "payments": pay,
            "plans": plans,
            "installments": ins,
            "contacts": con,
        }
        snap = Ledger(tables, report=self.report, as_of_date=day, meta=self.meta)
        # _conform keeps the row order: the positions still hold
        snap._inv_at = {t: (snap.invoices, getattr(snap, t), a) for t, a in at.items()}
        index, codes = self.customer_codes()
        kept = dict(zip(_CUSTOMER_TABLES, (keep, inv_keep, pay_keep, plans_keep, con_keep, cn_keep), strict=True))
        snap._cust_at = (snap._customer_tables(), index, {t: codes[t][kept[t]] for t in _CUSTOMER_TABLES})
        truth = self.truth
        if truth is not None:  # restricted only when read: scoring never needs it
            snap._truth_pending = functools.partial(truth.restrict, tables)
        return snap

    # -- views -------------------------------------------------------------------------------------------
    def _customer_tables(self) -> tuple[pd.DataFrame, ...]:
        return tuple(getattr(self, t) for t in _CUSTOMER_TABLES)

    def customer_codes(self) -> tuple[pd.Index, dict[str, np.ndarray]]:
        """Every table's customer ids as codes into one index (-1 for a missing id): one factorisation per
        ledger, kept while the tables are the same objects; snapshots inherit it by masking. For vectorised
        per-customer sums (``np.bincount``) across tables without joining on ids.

        Examples
        --------
        >>> import payrisk as pr
        >>> ledger = pr.datasets.make_ledger(n_customers=20, seed=0)
        >>> index, codes = ledger.customer_codes()
        >>> bool((index[codes["invoices"]] == ledger.invoices["customer_id"].to_numpy()).all())
        True
        """
        tables = self._customer_tables()
        cached = self.__dict__.get("_cust_at")
        if cached is None or any(a is not b for a, b in zip(cached[0], tables, strict=True)):
            columns = [t["customer_id"] for t in tables]
            codes, uniques = pd.factorize(pd.concat(columns, ignore_index=True))
            bounds = np.cumsum([0] + [len(c) for c in columns])
            by_table = {
                t: codes[a:b].astype(np.int64)
                for t, a, b in zip(_CUSTOMER_TABLES, bounds[:-1], bounds[1:], strict=True)
            }
            cached = self._cust_at = (tables, pd.Index(uniques, dtype="str"), by_table)
        return cached[1], cached[2]

    def invoice_positions(self, table: str) -> np.ndarray:
        """Position in ``invoices`` of the invoice of each row of ``table`` ("payments" or "contacts"); -1 where
        unallocated or unknown. One hash join per ledger, kept while the tables are the same objects; snapshots
        inherit it by integer remapping.

        Examples
        --------
        >>> import payrisk as pr
        >>> ledger = pr.datasets.make_ledger(n_customers=20, seed=0)
        >>> at = ledger.invoice_positions("payments")
        >>> paid = ledger.payments["invoice_id"].to_numpy()
        >>> bool((ledger.invoices["invoice_id"].to_numpy()[at[at >= 0]] == paid[at >= 0]).all())
        True
        """
        rows = getattr(self, table)
        cached = self._inv_at.get(table)
        if cached is None or cached[0] is not self.invoices or cached[1] is not rows:
            cached = (self.invoices, rows, positions(rows["invoice_id"], self.invoices["invoice_id"]))
            self._inv_at[table] = cached
        return cached[2]

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """All tables by canonical name."""
        return {name: getattr(self, name) for name in TABLE_NAMES}

    @property
    def end_date(self) -> pd.Timestamp | None:
        """The as-of date, or the last date seen in the ledger for the full history."""
        if self.as_of_date is not None:
            return self.as_of_date
        dates = [
            self.invoices["issue_date"].max(),
            self.invoices["paid_date"].max(),
            self.payments["payment_date"].max(),
            self.credit_notes["issue_date"].max(),
            self.plans["created_date"].max(),
            self.installments["paid_date"].max(),
            self.contacts["sent_at"].max(),
        ]
        dates = [d for d in dates if pd.notna(d)]
        return max(dates).normalize() if dates else None

    def open_invoices(self) -> pd.DataFrame:
        """Invoices not settled at :attr:`as_of_date` (or at the end of the data)."""
        return self.invoices.loc[self.invoices["open_amount"] > 0].reset_index(drop=True)

    def promises(self, undated_days: int = PROMISE_UNDATED_DAYS) -> pd.DataFrame:
        """The promises to pay on record: ``contacts`` rows whose ``outcome`` is ``promise_to_pay``, each with the day
        it falls due.

        The one definition every part of payrisk reads (the promise-kept KPI, the account worklist, the dunning
        plan's promise guard, the customer portal of ``payrisk serve``): a promise falls due on its
        ``promised_date``, or, when the collector recorded none, ``undated_days`` after the day it was made.
        Read it on a snapshot (``ledger.as_of(day).promises()``) to see only the promises made by that day.

        Parameters
        ----------
        undated_days : int, default 14
            When a promise without a ``promised_date`` falls due, in days after it was made.

        Returns
        -------
        DataFrame
            One row per promise, oldest first: ``contact_id``, ``customer_id``, ``invoice_id`` (empty for a
            promise about the whole account), ``made`` (the day), ``due`` (the day it falls due), ``dated``
            (the customer named the day) and ``promised_amount`` (empty: all that is open).

        Examples
        --------
        >>> import payrisk as pr
        >>> promises = pr.datasets.make_ledger(n_customers=50, seed=0).as_of("2024-06-30").promises()
        >>> bool((promises["due"] >= promises["made"]).all() and promises["made"].le("2024-06-30").all())
        True
        """
        if undated_days < 0:
            raise ParameterError(f"promises: undated_days must be 0 or more; got {undated_days}.")
        con = self.contacts
        con = con.loc[(con["outcome"] == "promise_to_pay").to_numpy(dtype=bool, na_value=False)]
        con = con.sort_values("sent_at", kind="stable")
        made = con["sent_at"].dt.normalize()
        promised = con["promised_date"]  # canonical columns: always there, empty when the source has none
        return pd.DataFrame(
            {
                "contact_id": con["contact_id"],
                "customer_id": con["customer_id"],
                "invoice_id": con["invoice_id"],
                "made": made,
                "due": promised.fillna(made + pd.Timedelta(days=undated_days)),
                "dated": promised.notna(),
                "promised_amount": con["promised_amount"].astype("float64"),
            }
        ).reset_index(drop=True)

    def summary(self) -> LedgerSummary:
        """Counts, periods, open items and lateness in one readable block.

        Examples
        --------
        >>> import payrisk as pr
        >>> s = pr.datasets.make_ledger(n_customers=40, seed=2).summary()
        >>> s.to_dict()["customers"] > 0
        True
        """
        inv = self.invoices
        end = self.end_date
        settled = inv["paid_date"].notna()
        late = (inv["paid_date"] > inv["due_date"]) & settled
        days_late = (inv["paid_date"] - inv["due_date"]).dt.days.where(late)
        open_inv = inv.loc[inv["open_amount"] > 0]
        overdue = open_inv.loc[open_inv["due_date"] < end] if end is not None else open_inv.iloc[:0]
        by_cur = open_inv.groupby("currency")["open_amount"].sum()
        f: dict[str, Any] = {
            "source": self.meta.get("source", "unknown"),
            "as of": str(self.as_of_date.date()) if self.as_of_date is not None else "full history",
            "period": _period(inv["issue_date"]),
            "customers": len(self.customers),
            "invoices": len(inv),
            "currencies": ", ".join(sorted(inv["currency"].dropna().unique())) or "-",
            "open invoices": len(open_inv),
            "open amount": ", ".join(f"{c} {v:,.2f}" for c, v in by_cur.items()) or "0",
            "overdue invoices": len(overdue),
            "settled invoices": int(settled.sum()),
            "paid late (share of settled)": f"{late.sum() / max(int(settled.sum()), 1):.1%}",
            "median days late (late ones)": float(days_late.median()) if late.any() else 0.0,
            "disputed invoices": int(inv["disputed"].sum()),
            "credit notes": len(self.credit_notes),
            "payments": len(self.payments),
            "partial payments": int((self.payments.groupby("invoice_id").size() > 1).sum()),
            "plans": len(self.plans),
            "instalments": len(self.installments),
            "contacts": len(self.contacts),
            "ratings": len(self.ratings),
            "credit limits": len(self.credit_limits),
            "rejected input rows": self.report.n_rejected,
        }
        return LedgerSummary(f)

    # -- persistence -------------------------------------------------------------------------------------
    def write(self, path: str | Path) -> Path:
        """Write the ledger to a folder: one Parquet file per table plus ``ledger.json``.

        The round trip ``Ledger.read(path)`` gives back equal tables, report, truth and metadata.

        Examples
        --------
        >>> import tempfile, payrisk as pr
        >>> ledger = pr.datasets.make_ledger(n_customers=20, seed=0)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     same = pr.Ledger.read(ledger.write(d + "/ledger")) == ledger
        >>> same
        True
        """
        from payrisk._version import __version__

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for name in TABLE_NAMES:
            getattr(self, name).to_parquet(path / f"{name}.parquet", index=False)
        self.report.issues.to_parquet(path / "report_issues.parquet", index=False)
        self.report.counts.reset_index().to_parquet(path / "report_counts.parquet", index=False)
        rejected = {}
        for table, rows in self.report.rejected.items():
            rows.reset_index(names="input_index").astype("str").to_parquet(
                path / f"rejected_{table}.parquet", index=False
            )
            rejected[table] = len(rows)
        if self.truth is not None:
            self.truth.write(path / "truth")
        doc = {
            "format": "payrisk-ledger",
            "format_version": FORMAT_VERSION,
            "payrisk_version": __version__,
            "as_of_date": None if self.as_of_date is None else str(self.as_of_date.date()),
            "tables": {n: len(getattr(self, n)) for n in TABLE_NAMES},
            "rejected": rejected,
            "meta": self.meta,
            "truth": self.truth is not None,
            # every file of the folder (tables, report, truth): an edit, a missing or an added file is refused
            "sha256": digests(path, ("ledger.json",)),
        }
        (path / "ledger.json").write_text(json.dumps(doc, indent=2, default=str), encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: str | Path) -> Ledger:
        """Read a ledger folder written by :meth:`write`; refuses folders it did not write.

        Examples
        --------
        >>> import payrisk as pr
        >>> pr.Ledger.read("/nonexistent")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        payrisk.errors.DataFileError: /nonexistent/ledger.json: not found ...
        """
        path = Path(path)
        doc_path = path / "ledger.json"
        if not doc_path.is_file():
            raise DataFileError(f"{doc_path}: not found; is {path} a folder written by Ledger.write()?")
        try:
            doc = json.loads(doc_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataFileError(f"{doc_path}: not valid JSON ({exc})") from exc
        if doc.get("format") != "payrisk-ledger" or doc.get("format_version") != FORMAT_VERSION:
            raise DataFileError(
                f"{doc_path}: format {doc.get('format')!r} version {doc.get('format_version')!r} is not a "
                f"payrisk ledger of format version {FORMAT_VERSION}"
            )
        check_digests(path, dict(doc.get("sha256", {})), ("ledger.json",), DataFileError, "ledger.json")
        tables = {}
        for name in TABLE_NAMES:
            f = path / f"{name}.parquet"
            if name in _DATED_TABLES and name not in doc["tables"]:
                continue  # written before the table existed: empty
            if not f.is_file():
                raise DataFileError(f"{f}: table file missing from the ledger folder")
            df = pd.read_parquet(f)
            if len(df) != doc["tables"].get(name):
                raise DataFileError(
                    f"{f}: {len(df)} rows but ledger.json records {doc['tables'].get(name)}; the folder was "
                    "modified after it was written"
                )
            tables[name] = df
        counts = pd.read_parquet(path / "report_counts.parquet").set_index("table")
        issues = pd.read_parquet(path / "report_issues.parquet")
        rejected = {
            t: pd.read_parquet(path / f"rejected_{t}.parquet").set_index("input_index") for t in doc["rejected"]
        }
        truth = None
        if doc.get("truth"):
            if _TRUTH_READER is None:  # pragma: no cover - payrisk's __init__ imports payrisk.datasets
                raise DataFileError(f"{path}: holds a synthetic world's truth; import payrisk.datasets to read it")
            truth = _TRUTH_READER(path / "truth")
        as_of = None if doc["as_of_date"] is None else to_date(doc["as_of_date"])
        return cls(
            tables,
            report=ValidationReport(issues=issues, counts=counts, rejected=rejected),
            truth=truth,
            as_of_date=as_of,
            meta=doc.get("meta", {}),
        )

    # -- comparison --------------------------------------------------------------------------------------
    def equals(self, other: Ledger) -> bool:
        """True when every table (values and dtypes), the as-of date and the report are equal."""
        if not isinstance(other, Ledger) or self.as_of_date != other.as_of_date:
            return False
        for name in TABLE_NAMES:
            a, b = getattr(self, name), getattr(other, name)
            try:
                pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
            except AssertionError:
                return False
        return self.report == other.report

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Ledger):
            return NotImplemented
        return self.equals(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        at = "full history" if self.as_of_date is None else f"as of {self.as_of_date.date()}"
        return (
            f"<Ledger {at}: {len(self.customers)} customers, {len(self.invoices)} invoices, "
            f"{len(self.payments)} payments, {len(self.plans)} plans, {len(self.contacts)} contacts>"
        )


def _period(dates: pd.Series) -> str:
    if dates.notna().any():
        return f"{dates.min().date()} .. {dates.max().date()}"
    return "-"


def _derive(tables: dict[str, pd.DataFrame], mapping: ColumnMapping, meta: dict[str, Any]) -> dict:
    """Fill what the user did not give: payments from paid dates, paid dates from payments, customers."""
    inv = tables.get("invoices")
    pay = tables.get("payments")
    if inv is not None:
        has_paid = "paid_date" in inv.columns
        if pay is None and has_paid:
            paid = inv.loc[inv["paid_date"].notna()]
            tables["payments"] = pd.DataFrame(
                {
                    "payment_id": paid["invoice_id"].radd("PAY-").to_numpy(),
                    "customer_id": paid["customer_id"].to_numpy(),
                    "invoice_id": paid["invoice_id"].to_numpy(),
                    "payment_date": paid["paid_date"].to_numpy(),
                    "amount": paid["amount"].to_numpy(),
                    "currency": paid["currency"].to_numpy(),
                }
            )
            meta.setdefault("payments_source", "derived: one full payment per paid invoice (invoices.paid_date)")
        elif pay is not None and not has_paid:
            inv = inv.copy()
            inv["paid_date"] = _paid_dates_from_payments(inv, pay, mapping.overpayment_tolerance)
            tables["invoices"] = inv
            meta.setdefault("paid_date_source", "derived: date allocated payments first reach the amount")
    if mapping.fx_rates is not None:
        for name in ("invoices", "credit_notes"):
            if name in tables:
                t = tables[name]
                t["amount_base"] = t["amount"] * t["currency"].map(mapping.fx_rates).astype(float)
        meta["fx_rates"] = dict(mapping.fx_rates)
    if "customers" not in tables:
        with_ids = ("invoices", "credit_notes", "payments", "plans", "contacts")  # canonical, parsed as text
        ids = [tables[n]["customer_id"] for n in with_ids if n in tables and "customer_id" in tables[n].columns]
        uniq = pd.unique(pd.concat(ids, ignore_index=True)) if ids else np.array([], dtype=object)
        tables["customers"] = pd.DataFrame({"customer_id": pd.Series(uniq, dtype="str")})
        meta.setdefault("customers_source", "derived from the ids in the other tables")
    return tables


def _paid_dates_from_payments(inv: pd.DataFrame, pay: pd.DataFrame, tol: float) -> pd.Series:
    p = pay.loc[pay["invoice_id"].notna(), ["invoice_id", "payment_date", "amount"]]
    p = p.sort_values(["invoice_id", "payment_date"], kind="stable")
    cum = p.groupby("invoice_id", sort=False)["amount"].cumsum()
    reach = cum >= lookup(p["invoice_id"], inv.set_index("invoice_id")["amount"]) - tol
    first = p.loc[reach].drop_duplicates("invoice_id").set_index("invoice_id")["payment_date"]
    return lookup(inv["invoice_id"], first).astype(DATE_DTYPE)


_CUSTOMER_TABLES = ("customers", "invoices", "payments", "plans", "contacts", "credit_notes")


def _rows(frame: pd.DataFrame, keep: Any) -> pd.DataFrame:
    """The rows of ``frame`` where ``keep``: a new frame sharing the columns (copy-on-write) when every row is
    kept, as in a snapshot at the ledger's own end, so that a snapshot of a large ledger costs no second copy."""
    keep = np.asarray(keep, dtype=bool)
    return frame.copy(deep=False) if keep.all() else frame.loc[keep]


def _with_open_amounts(inv: pd.DataFrame, pay: pd.DataFrame, at: np.ndarray) -> pd.DataFrame:
    """Add ``paid_amount`` and ``open_amount`` from the payments known (all of ``pay``, at invoice positions
    ``at``; -1: unallocated, or an invoice not in this table) and the paid dates."""
    inv = inv.reset_index(drop=True)
    weights = pay["amount"].to_numpy(dtype=float)
    paid_amount = np.bincount(at + 1, weights=weights, minlength=len(inv) + 1)[1:] if len(pay) else np.zeros(len(inv))
    amount = inv["amount"].to_numpy(dtype=float)
    settled = inv["paid_date"].notna().to_numpy()
    paid_amount = np.where(settled, amount, np.minimum(paid_amount, amount))
    inv["paid_amount"] = paid_amount
    inv["open_amount"] = np.round(amount - paid_amount, 10)
    return inv
