"""The declarations of payrisk's tables: column kinds, table specifications, the column mapping and the
validation report (the engine that applies them is :mod:`payrisk.schema._validate`)."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from payrisk._safe_csv import to_safe_csv
from payrisk.errors import ParameterError, ValidationError

__all__ = [
    "INPUT_TABLES",
    "RULES",
    "TABLES",
    "ColumnKind",
    "ColumnMapping",
    "ColumnSpec",
    "TableSpec",
    "ValidationReport",
]


class ColumnKind(StrEnum):
    """How a column is parsed and stored.

    Examples
    --------
    >>> ColumnKind("money") is ColumnKind.MONEY, str(ColumnKind.DATE)
    (True, 'date')
    >>> TABLES["invoices"].column("due_date").kind == "date"
    True
    """

    ID = "id"  #: identifier, stored as text
    DATE = "date"  #: calendar date, stored as ``datetime64[ns]`` at midnight
    DATETIME = "datetime"  #: date and time, stored as ``datetime64[ns]``
    MONEY = "money"  #: amount in the row's currency, stored as float64
    NUMBER = "number"  #: a real number that is not money (a probability, days on average), stored as float64
    INT = "int"  #: whole number, stored as Int64 (nullable)
    BOOL = "bool"  #: yes/no, stored as bool
    TEXT = "text"  #: free text or a code, stored as text


class ColumnSpec(BaseModel):
    """One canonical column.

    Examples
    --------
    >>> spec = TABLES["invoices"].column("amount")
    >>> spec.kind.value, spec.required, spec.nullable
    ('money', True, False)
    >>> ColumnSpec(name="region", kind=ColumnKind.TEXT).required
    False
    """

    model_config = ConfigDict(frozen=True)

    name: str
    kind: ColumnKind
    required: bool = False  #: the column must be present (after mapping)
    nullable: bool = True  #: empty values are allowed in the column
    description: str = ""


class TableSpec(BaseModel):
    """One canonical table: its key and columns.

    Examples
    --------
    >>> invoices = TABLES["invoices"]
    >>> invoices.key, invoices.column_names[:3]
    (('invoice_id',), ['invoice_id', 'customer_id', 'issue_date'])
    >>> [c.name for c in invoices.columns if c.required]
    ['invoice_id', 'customer_id', 'issue_date', 'due_date', 'amount']
    """

    model_config = ConfigDict(frozen=True)

    name: str
    key: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    description: str = ""

    @property
    def column_names(self) -> list[str]:
        """Canonical column names in their canonical order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSpec:
        """The spec of column ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _c(name: str, kind: ColumnKind, desc: str, required: bool = False, nullable: bool = True) -> ColumnSpec:
    return ColumnSpec(name=name, kind=kind, required=required, nullable=nullable, description=desc)


K = ColumnKind
TABLES: dict[str, TableSpec] = {
    "customers": TableSpec(
        name="customers",
        key=("customer_id",),
        description="One row per customer (debtor) with optional static attributes.",
        columns=(
            _c("customer_id", K.ID, "Customer (debtor) identifier.", True, False),
            _c("name", K.TEXT, "Customer name."),
            _c("country", K.TEXT, "ISO 3166 country code (used for public holidays)."),
            _c("sector", K.TEXT, "Industry sector: a NACE or SIC code (e.g. `47.11`, `5411`) or a name."),
            _c("created_date", K.DATE, "Date the customer relationship started (accepted)."),
            _c("legal_form", K.TEXT, "Legal form, e.g. sole_trader, partnership, limited, plc (or BV, GmbH, SARL)."),
            _c("founded_date", K.DATE, "Date the business was founded (registered)."),
            _c("size_band", K.TEXT, "Employees or turnover band, e.g. `1-9`, `10-49`, `50-249`, `250+`."),
            _c("acquisition_channel", K.TEXT, "How the customer came, e.g. referral, sales, web, marketplace."),
            _c("requested_limit", K.MONEY, "Credit limit the customer asked for at acceptance."),
        ),
    ),
    "ratings": TableSpec(
        name="ratings",
        key=("customer_id", "source", "valid_from"),
        description="External (or internal) scores and ratings of a customer, dated: a rating exists from its "
        "`valid_from` date on and until the next one of the same source.",
        columns=(
            _c("customer_id", K.ID, "Customer rated.", True, False),
            _c("valid_from", K.DATE, "Date the rating was published (it does not exist before).", True, False),
            _c("source", K.TEXT, "Who rated, e.g. Graydon, Creditsafe, D&B, internal (`external` when empty)."),
            _c("score", K.NUMBER, "The score in the source's own scale; higher means safer."),
            _c("rating", K.TEXT, "The rating class, e.g. A, BB, 3."),
        ),
    ),
    "credit_limits": TableSpec(
        name="credit_limits",
        key=("customer_id", "valid_from"),
        description="Credit limits granted to a customer, dated: a limit holds from its `valid_from` date on until "
        "the next one.",
        columns=(
            _c("customer_id", K.ID, "Customer the limit is for.", True, False),
            _c("valid_from", K.DATE, "Date the limit took effect.", True, False),
            _c("credit_limit", K.MONEY, "The most the customer may owe (open invoices), 0 = no credit.", True, False),
            _c("currency", K.TEXT, "Currency of the limit."),
        ),
    ),
    "invoices": TableSpec(
        name="invoices",
        key=("invoice_id",),
        description="Invoices; rows with a negative amount are credit notes and move to `credit_notes`.",
        columns=(
            _c("invoice_id", K.ID, "Invoice number.", True, False),
            _c("customer_id", K.ID, "Customer the invoice is addressed to.", True, False),
            _c("issue_date", K.DATE, "Date the invoice was issued.", True, False),
            _c("due_date", K.DATE, "Date payment is due (or give `terms_days`).", True, False),
            _c("amount", K.MONEY, "Invoice amount in its currency (negative = credit note).", True, False),
            _c("currency", K.TEXT, "ISO 4217 currency code; `XXX` when unknown."),
            _c("paid_date", K.DATE, "Date the invoice was settled in full; empty while open."),
            _c("disputed", K.BOOL, "The invoice is or was disputed."),
            _c("disputed_date", K.DATE, "Date the dispute was raised (when known)."),
        ),
    ),
    "payments": TableSpec(
        name="payments",
        key=("payment_id",),
        description="Payments received; partial payments allowed; `invoice_id` empty = not allocated.",
        columns=(
            _c("payment_id", K.ID, "Payment identifier (generated from the row number when absent).", False, False),
            _c("customer_id", K.ID, "Paying customer (taken from the invoice when absent).", True, False),
            _c("invoice_id", K.ID, "Invoice the payment is allocated to."),
            _c("payment_date", K.DATE, "Value date of the payment.", True, False),
            _c("amount", K.MONEY, "Amount paid (positive).", True, False),
            _c("currency", K.TEXT, "Currency of the payment."),
        ),
    ),
    "plans": TableSpec(
        name="plans",
        key=("plan_id",),
        description="Payment plans (instalment arrangements).",
        columns=(
            _c("plan_id", K.ID, "Plan identifier.", True, False),
            _c("customer_id", K.ID, "Customer who agreed the plan.", True, False),
            _c("created_date", K.DATE, "Date the plan was agreed.", True, False),
            _c("n_installments", K.INT, "Number of instalments agreed."),
            _c("total_amount", K.MONEY, "Total amount of the plan."),
            _c("currency", K.TEXT, "Currency of the plan."),
        ),
    ),
    "installments": TableSpec(
        name="installments",
        key=("plan_id", "installment_no"),
        description="Scheduled instalments of payment plans and what was paid on them.",
        columns=(
            _c("plan_id", K.ID, "Plan the instalment belongs to.", True, False),
            _c("installment_no", K.INT, "Instalment number, 1 for the first.", True, False),
            _c("due_date", K.DATE, "Date the instalment is due.", True, False),
            _c("amount_due", K.MONEY, "Amount due on the instalment.", True, False),
            _c("paid_date", K.DATE, "Date of the (last) payment on the instalment; empty when unpaid."),
            _c("amount_paid", K.MONEY, "Amount paid on the instalment (0 when unpaid)."),
        ),
    ),
    "contacts": TableSpec(
        name="contacts",
        key=("contact_id",),
        description="Dunning contacts (reminders, calls, letters, legal steps).",
        columns=(
            _c("contact_id", K.ID, "Contact identifier (generated from the row number when absent).", False, False),
            _c("customer_id", K.ID, "Customer contacted.", True, False),
            _c("invoice_id", K.ID, "Invoice the contact is about (empty = customer level)."),
            _c("sent_at", K.DATETIME, "When the contact was made.", True, False),
            _c("channel", K.TEXT, "One of email, sms, letter, phone, legal.", True, False),
            _c("tone", K.TEXT, "One of mild, neutral, firm, strict."),
            _c("template", K.TEXT, "Template or script identifier."),
            _c("step", K.INT, "Step number in the dunning track."),
            _c("delivered", K.BOOL, "The contact reached the customer."),
            _c("bounced", K.BOOL, "The channel bounced (wrong address or number)."),
            _c("outcome", K.TEXT, "Recorded outcome, e.g. promise_to_pay, no_answer, refused."),
            _c("promised_date", K.DATE, "With outcome promise_to_pay: the day the customer promised to pay by."),
            _c("promised_amount", K.MONEY, "With outcome promise_to_pay: the amount promised (empty = all open)."),
        ),
    ),
}
del K
#: the tables a user gives, in the order they are read and validated (customers first: the others refer to them)
INPUT_TABLES: tuple[str, ...] = (
    "customers", "ratings", "credit_limits", "invoices", "payments", "plans", "installments", "contacts",
)  # fmt: skip

CHANNELS: tuple[str, ...] = ("email", "sms", "letter", "phone", "legal")
TONES: tuple[str, ...] = ("mild", "neutral", "firm", "strict")

#: Every validation rule: what it checks and how to fix a row it rejects.
RULES: dict[str, tuple[str, str]] = {
    "missing_value": ("a required value is empty", "fill in the value or remove the row"),
    "unparsable_date": (
        "the value is not a date in the expected format",
        "give the format, e.g. ColumnMapping(date_formats={'<table>': {'<column>': '%d/%m/%Y'}})",
    ),
    "unparsable_amount": (
        "the value is not a finite number",
        "use digits with '.' as decimal separator, or set ColumnMapping(decimal=',', thousands='.')",
    ),
    "implausible_amount": (
        "the amount lies beyond the plausible range (above max_amount, or below 1e-300 but not zero)",
        "correct the amount, or raise max_amount in the mapping",
    ),
    "implausible_date": (
        "the date lies before min_date or more than max_future_days after today",
        "correct the date, or widen min_date / max_future_days in the mapping",
    ),
    "malformed_record": (
        "the record does not split into the header's fields (a stray quote, or a field missing or too many)",
        "correct the line in the file: one field per column, and quotes around a field that holds the delimiter",
    ),
    "repeated_header": (
        "the record repeats the header (a page break of a report export), so it holds no values",
        "nothing to fix in the other records; export without page headers to keep the report clean",
    ),
    "debit_credit": (
        "the debit/credit indicator is neither debit (S, D, debit) nor credit (H, C, credit)",
        "map the indicator's values onto S/H, or leave the column out and sign the amounts",
    ),
    "unparsable_int": ("the value is not a whole number", "use a whole number"),
    "unparsable_bool": ("the value is not yes/no", "use one of true/false, yes/no, 1/0, y/n"),
    "duplicate_id": (
        "several rows share this id with different content",
        "keep one row per id; all conflicting rows were rejected",
    ),
    "duplicate_row": ("exact copy of an earlier row", "remove the copy; the first row was kept"),
    "due_before_issue": ("due date is before the issue date", "correct the due date or the issue date"),
    "paid_before_issue": ("paid date is before the issue date", "correct the paid date or the issue date"),
    "zero_amount": ("amount is zero", "remove the row or correct the amount"),
    "negative_amount": (
        "amount is negative",
        "book refunds and write-offs as credit notes (negative invoice rows), or correct the sign",
    ),
    "credit_note": (
        "negative invoice amount: kept as a credit note in ledger.credit_notes",
        "nothing to fix; credit notes are never mixed with invoices",
    ),
    "unknown_customer": ("customer id not in the customers table", "add the customer or correct the id"),
    "unknown_invoice": ("invoice id not among the accepted invoices", "add the invoice or correct the id"),
    "unknown_plan": ("plan id not among the accepted plans", "add the plan or correct the id"),
    "customer_mismatch": (
        "the payment's customer differs from the invoice's customer",
        "correct the customer id or the invoice id",
    ),
    "payment_before_issue": (
        "payment date is before the invoice's issue date",
        "correct the date, or book it as an unallocated payment (empty invoice_id)",
    ),
    "mixed_currency": (
        "the customer has amounts in several currencies and no conversion was given",
        "pass ColumnMapping(fx_rates={'EUR': 1.0, 'USD': 0.92, ...}) or split the customer per currency",
    ),
    "unknown_currency": ("currency has no rate in fx_rates", "add the currency to fx_rates"),
    "currency_mismatch": (
        "the payment's currency differs from the invoice's currency",
        "convert the payment into the invoice currency before loading",
    ),
    "over_payment": (
        "payments allocated to the invoice exceed its amount",
        "allocate the excess to another invoice or book it unallocated (empty invoice_id)",
    ),
    "paid_ahead": (
        "more was paid on the instalment than was due (paying ahead or settling early): kept, flagged",
        "nothing to fix if the customer paid ahead; otherwise correct amount_paid",
    ),
    "installment_no": ("instalment number must be 1 or more", "number instalments from 1"),
    "due_before_plan": ("instalment due date is before the plan was created", "correct the due date"),
    "unknown_channel": ("channel is not one of " + ", ".join(CHANNELS), "map your channel names onto these"),
    "unknown_tone": ("tone is not one of " + ", ".join(TONES), "map your tone names onto these"),
}


class ColumnMapping(BaseModel):
    """How the user's tables map onto the canonical ones.

    Attributes
    ----------
    columns : dict
        Per table, ``{user column: canonical column}``. A plain ``{table: {user: canonical}}`` dict given to
        :meth:`Ledger.from_frames` is read as this field.
    date_formats : dict
        Per table, ``{canonical column: strftime format}``, e.g. ``{"invoices": {"issue_date": "%m/%d/%Y"}}``.
        Without one, a column is read as ISO 8601 (``2024-06-30``), else in the one common format that reads
        every value (``1/26/2013``: a day above 12 settles month first); where several formats read every value
        (``03/04/2024``) the column is refused with the line to add, so a day/month mix-up cannot pass.
    decimal, thousands : str, optional
        Decimal and thousands separators of amounts given as text. Unset, they are read off the values
        (``1.234,56``: decimal comma); values that leave them open (only ``3.300``) are refused with the line to
        add, never read as 3.3 by guess. ``decimal`` and ``thousands`` must differ.
    files : dict
        Per table, the file that holds it when it is not ``<table>.csv``, relative to the data folder, e.g.
        ``{"invoices": "WA_Fn-UseC_-Accounts-Receivable.csv"}`` (the command; ``payrisk map`` writes it).
    sheets : dict
        Per table, the sheet of an Excel workbook (``.xlsx``) that holds it, e.g. ``{"invoices": "Open items"}``;
        without one, the workbook's only sheet or the one named after the table.
    sql : dict
        Per table, the database table or the query that holds it when reading from a database
        (:meth:`~payrisk.Ledger.from_sql`, ``payrisk validate postgresql://...``), e.g. ``{"invoices":
        "SELECT * FROM ar_open_items"}``.
    encoding, delimiter : str, optional
        How the CSV files of a data folder are written (the command); unset, payrisk reads them off the file
        (UTF-8 with or without a byte-order mark, else Windows-1252; ``,`` ``;`` tab or ``|``) and says so in the
        report.
    max_amount : float
        Amounts above this (absolute) are rejected as implausible (default 1e12), as are non-zero amounts below
        1e-300.
    min_date, max_future_days
        Dates before ``min_date`` (default 1900-01-01), and event dates more than ``max_future_days`` (default
        366) after today (due dates: five times that), are rejected as implausible.
    default_currency : str
        Currency of rows without one (``XXX`` = unknown, ISO 4217).
    fx_rates : dict, optional
        Rate of each currency into one base currency. Only with it may one customer hold several currencies;
        the ledger then gets an ``amount_base`` column.
    overpayment_tolerance : float
        Payments may exceed an invoice by this amount (rounding) before the over-payment rule fires.

    Examples
    --------
    >>> m = ColumnMapping.coerce({"invoices": {"InvoiceDate": "issue_date"}})
    >>> m.columns
    {'invoices': {'InvoiceDate': 'issue_date'}}
    """

    model_config = ConfigDict(extra="forbid")

    columns: dict[str, dict[str, str]] = Field(default_factory=dict)
    date_formats: dict[str, dict[str, str]] = Field(default_factory=dict)
    decimal: str | None = Field(default=None, min_length=1, max_length=1)
    thousands: str | None = Field(default=None, max_length=1)
    default_currency: str = "XXX"
    fx_rates: dict[str, float] | None = None
    overpayment_tolerance: float = Field(default=0.01, ge=0)
    files: dict[str, str] = Field(default_factory=dict)
    sheets: dict[str, str] = Field(default_factory=dict)
    sql: dict[str, str] = Field(default_factory=dict)
    encoding: str | None = None
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    max_amount: float = Field(default=1e12, gt=0)
    min_date: str = "1900-01-01"
    max_future_days: int = Field(default=366, ge=0)
    _syntax: str = PrivateAttr(default="python")

    @model_validator(mode="after")
    def _check_separators(self) -> ColumnMapping:
        if self.decimal is not None and self.decimal == self.thousands:
            raise ValueError(f"decimal and thousands are both {self.decimal!r}; they must differ")
        if self.fx_rates is not None and any(not (v > 0) for v in self.fx_rates.values()):
            raise ValueError("fx_rates must all be positive")
        try:
            pd.Timestamp(self.min_date)
        except (ValueError, TypeError):
            raise ValueError(f"min_date {self.min_date!r} is not a date (YYYY-MM-DD)") from None
        return self

    def example(self, **fields: Any) -> str:
        """The mapping setting ``fields`` in the syntax the user writes it in: a YAML or JSON line for a mapping
        file (the command), the ``mapping=`` argument for an API call given a dict or no mapping, and the
        constructor for one given a ``ColumnMapping``.

        Examples
        --------
        >>> ColumnMapping().example(decimal=",")
        "ColumnMapping(decimal=',')"
        >>> ColumnMapping.coerce({"decimal": ","}).example(date_formats={"invoices": {"due_date": "%d.%m.%Y"}})
        "mapping={'date_formats': {'invoices': {'due_date': '%d.%m.%Y'}}}"
        >>> ColumnMapping.coerce(None).example(columns={"invoices": {"Faellig": "due_date"}})  # the short form
        "mapping={'invoices': {'Faellig': 'due_date'}}"
        """
        if self._syntax == "yaml":
            return "; ".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in fields.items())
        if self._syntax == "json":
            return ", ".join(f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in fields.items())
        if self._syntax == "dict":
            short = set(fields) == {"columns"}  # {table: {your column: payrisk column}}, as coerce reads it
            return f"mapping={fields['columns'] if short else fields!r}"
        return "ColumnMapping(" + ", ".join(f"{k}={v!r}" for k, v in fields.items()) + ")"

    def in_syntax(self, syntax: str) -> ColumnMapping:
        """This mapping, its fixes written in ``syntax`` (``yaml``, ``json`` or ``python``)."""
        out = self.model_copy()
        out._syntax = syntax
        return out

    @classmethod
    def coerce(cls, mapping: ColumnMapping | Mapping[str, Any] | str | Path | None) -> ColumnMapping:
        """Build a mapping from a mapping object, a plain dict, or a JSON/YAML file path (its fixes are then
        written in the same syntax: :meth:`example`)."""
        if mapping is None:
            return cls().in_syntax("dict")
        if isinstance(mapping, ColumnMapping):
            return mapping
        if isinstance(mapping, str | Path):
            return cls.from_file(mapping)
        data = dict(mapping)
        if data and set(data) <= set(TABLES):  # the short form {table: {user: canonical}}
            data = {"columns": data}
        return cls.model_validate(data).in_syntax("dict")

    @classmethod
    def from_file(cls, path: str | Path) -> ColumnMapping:
        """Read a mapping from a JSON or YAML file (YAML needs PyYAML)."""
        from payrisk._text import read_text_file

        path = Path(path)
        text = read_text_file(path, "mapping", ParameterError)
        example = "invoices: {InvoiceDate: issue_date, DueDate: due_date}"
        if path.suffix.lower() in {".yaml", ".yml"}:
            import yaml

            try:
                data = yaml.safe_load(text) or {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f", line {mark.line + 1}" if mark is not None else ""
                problem = getattr(exc, "problem", None) or "not valid YAML"
                raise ParameterError(f"{path}{where}: {problem}; a mapping reads e.g. `{example}`.") from None
        else:
            try:
                data = json.loads(text) if text.strip() else {}
            except json.JSONDecodeError as exc:
                raise ParameterError(f"{path}, line {exc.lineno}: {exc.msg}; a mapping reads e.g. "
                                     '`{"invoices": {"InvoiceDate": "issue_date"}}`.') from None  # fmt: skip
        if not isinstance(data, dict):
            raise ParameterError(
                f"{path}: a mapping is a set of `table: {{your column: payrisk column}}` lines, e.g. `{example}`; "
                f"got a {type(data).__name__}."
            )
        try:
            return cls.coerce(data).in_syntax("yaml" if path.suffix.lower() in {".yaml", ".yml"} else "json")
        except PydanticValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ParameterError(f"{path}: {problems}.") from None

    @field_validator("files")
    @classmethod
    def _check_files(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(TABLES))
        if unknown:
            raise ValueError(f"files: unknown tables {unknown}; tables are {sorted(TABLES)}")
        return value

    @field_validator("columns", "date_formats", mode="before")
    @classmethod
    def _empty_sections(cls, value: Any) -> Any:
        """A table's section left with comments only (``invoices:`` and nothing under it, as ``payrisk map``
        writes where it found no column) is an empty one: what is then missing is said column by column."""
        if isinstance(value, Mapping):
            return {k: ({} if v is None else v) for k, v in value.items()}
        return value

    @field_validator("columns")
    @classmethod
    def _check_columns(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for table, cols in value.items():
            if table not in TABLES:
                raise ValueError(f"unknown table {table!r}; tables are {sorted(TABLES)}")
            known = set(TABLES[table].column_names) | (_DERIVED if table == "invoices" else set())
            for user, canonical in cols.items():
                if canonical not in known:
                    close = difflib.get_close_matches(canonical, sorted(known), n=1)
                    hint = f"; did you mean {close[0]!r}?" if close else ""
                    raise ValueError(
                        f"{table}: {user!r} is mapped onto {canonical!r}, which is not a canonical column "
                        f"of {table} (columns: {sorted(known)}){hint}"
                    )
            targets = list(cols.values())
            dups = sorted({t for t in targets if targets.count(t) > 1})
            if dups:
                raise ValueError(f"{table}: several user columns are mapped onto {dups}; map one each")
        return value


#: the column that carries the raw text of a file record that did not split into the header's fields
MALFORMED = "_malformed_record"

#: invoice source columns that validation consumes: payment terms in days, the date they count from (SAP ZFBDT)
#: and a debit/credit indicator (SAP SHKZG)
_DERIVED = {"terms_days", "baseline_date", "debit_credit"}

REPORT_COLUMNS = ["table", "row", "id", "column", "rule", "value", "action", "message", "fix"]


class ValidationReport:
    """Every row that validation rejected (or moved), with the table, column, rule, value and fix.

    Attributes
    ----------
    issues : pandas.DataFrame
        One row per (input row, rule): ``table``, ``row`` (0-based position in the input table; in a CSV
        file with a header the line number is ``row + 2``), ``id``, ``column``, ``rule``, ``value`` (as given),
        ``action`` (``rejected``; ``moved`` for credit notes; ``flagged`` for rows kept with a remark),
        ``message`` and ``fix``.
    counts : pandas.DataFrame
        Per table: ``input``, ``accepted``, ``rejected`` rows (``input == accepted + rejected``) and
        ``credit_notes`` (accepted rows that moved to the credit-note table).
    rejected : dict of pandas.DataFrame
        Per table, the rejected input rows exactly as given, with a ``rules`` column listing what they broke.
    inferred : pandas.DataFrame
        What payrisk read off the values where the mapping did not say: ``table``, ``column``, ``source`` (your
        column), ``read_as`` (a date format, the separators, the file's delimiter and encoding) and ``evidence``.

    Examples
    --------
    >>> import payrisk as pr
    >>> report = pr.datasets.make_ledger(n_customers=20, seed=0).report
    >>> bool((report.counts["input"] == report.counts["accepted"] + report.counts["rejected"]).all())
    True
    """

    def __init__(
        self,
        issues: pd.DataFrame | None = None,
        counts: pd.DataFrame | None = None,
        rejected: dict[str, pd.DataFrame] | None = None,
        inferred: pd.DataFrame | None = None,
    ) -> None:
        self.issues = issues if issues is not None else pd.DataFrame(columns=REPORT_COLUMNS)
        self.counts = (
            counts
            if counts is not None
            else pd.DataFrame(columns=["input", "accepted", "rejected", "credit_notes"]).rename_axis("table")
        )
        self.rejected = rejected or {}
        cols = ["table", "column", "source", "read_as", "evidence"]
        self.inferred = inferred if inferred is not None else pd.DataFrame(columns=cols)

    @property
    def ok(self) -> bool:
        """True when no row was rejected."""
        return int(self.counts["rejected"].sum()) == 0 if len(self.counts) else True

    @property
    def n_rejected(self) -> int:
        """Number of rejected input rows over all tables."""
        return int(self.counts["rejected"].sum()) if len(self.counts) else 0

    def summary(self) -> pd.DataFrame:
        """Issues grouped by table, column and rule: how many rows, a few example rows, and the fix."""
        if self.issues.empty:
            return pd.DataFrame(columns=["table", "column", "rule", "action", "rows", "examples", "fix"])
        g = self.issues.groupby(["table", "column", "rule", "action"], sort=False)
        out = g.agg(
            rows=("row", "size"),
            examples=("row", lambda r: ", ".join(map(str, list(r)[:5])) + (", ..." if len(r) > 5 else "")),
            fix=("fix", "first"),
        )
        return out.reset_index()

    def rejected_rows(self, table: str) -> pd.DataFrame:
        """The rejected input rows of ``table``, as given, with the rules they broke."""
        return self.rejected.get(table, pd.DataFrame())

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data (for JSON): ``ok``, ``rejected``, ``counts``, ``inferred`` and ``issues``.

        Examples
        --------
        >>> import payrisk as pr
        >>> doc = pr.datasets.make_ledger(n_customers=20, seed=0).report.to_dict()
        >>> doc["ok"], sorted(doc)
        (True, ['counts', 'inferred', 'issues', 'ok', 'rejected'])
        """
        issues = self.issues.astype(object).where(self.issues.notna(), None)
        return {
            "ok": self.ok,
            "rejected": self.n_rejected,
            "counts": [{"table": t, **{k: int(v) for k, v in r.items()}} for t, r in self.counts.iterrows()],
            "inferred": self.inferred.to_dict(orient="records"),
            "issues": issues.to_dict(orient="records"),
        }

    def to_csv(self, path: str | Path) -> Path:
        """Write :attr:`issues` as CSV that cannot smuggle spreadsheet formulas."""
        return to_safe_csv(self.issues, path)

    def raise_if_rejected(self) -> None:
        """Raise :class:`payrisk.errors.ValidationError` carrying this report when any row was rejected."""
        if not self.ok:
            raise ValidationError(str(self), report=self)

    def _read_as(self) -> list[str]:
        rows: Iterable[Any] = self.inferred.itertuples(index=False)  # named tuples of the report's str columns
        return [
            (f"  read {r.source}" if r.column == "(file)" else f"  read {r.table}.{r.column}"
             + (f" ({r.source})" if r.source != r.column else "")) + f": {r.read_as} ({r.evidence})"
            for r in rows
        ]  # fmt: skip

    def __str__(self) -> str:
        if self.ok and self.issues.empty:
            n = int(self.counts["input"].sum()) if len(self.counts) else 0
            return "\n".join([f"ValidationReport: all {n} rows accepted.", *self._read_as()])
        lines = [f"ValidationReport: {self.n_rejected} rows rejected.", *self._read_as()]
        for t, row in self.counts.iterrows():
            extra = f", {int(row['credit_notes'])} as credit notes" if row["credit_notes"] else ""
            lines.append(f"  {t}: {row['input']} in, {row['accepted']} accepted{extra}, {row['rejected']} rejected")
        summary: Iterable[Any] = self.summary().itertuples(index=False)  # named tuples: rule is a RULES key
        for r in summary:
            lines.append(
                f"  - {r.table}.{r.column}: {r.rule} ({RULES.get(r.rule, ('', ''))[0]}), {r.action} "
                f"{r.rows} rows (e.g. rows {r.examples}). Fix: {r.fix}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<ValidationReport rejected={self.n_rejected} issues={len(self.issues)}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ValidationReport):
            return NotImplemented
        return _frames_equal(self.issues, other.issues) and _frames_equal(self.counts, other.counts)

    __hash__ = None  # type: ignore[assignment]


def _frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if a.shape != b.shape or list(a.columns) != list(b.columns):
        return False
    if a.empty:
        return True
    return bool(a.reset_index(drop=True).astype(str).equals(b.reset_index(drop=True).astype(str)))


def suggest_columns(missing: str, available: Iterable[str]) -> list[str]:
    """User columns whose names resemble a canonical column (for the missing-column message).

    Examples
    --------
    >>> suggest_columns("due_date", ["DueDate", "Amount", "Invoice due"])
    ['DueDate', 'Invoice due']
    """

    def norm(s: str) -> str:
        return "".join(ch for ch in str(s).lower() if ch.isalnum())

    avail = list(available)
    by_norm = {norm(a): a for a in avail}
    target = norm(missing)
    hits = [by_norm[n] for n in difflib.get_close_matches(target, list(by_norm), n=3, cutoff=0.6)]
    words = [w for w in missing.split("_") if len(w) > 2]
    hits += [a for a in avail if a not in hits and any(w in norm(a) for w in words)]
    return hits[:3]
