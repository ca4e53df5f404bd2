"""What customers and collectors report back: promises to pay, disputes, changed or bounced addresses, payment-plan
requests; validated, stored once per idempotency key, and applied to the ledger point in time.

A report is a pydantic model (:class:`PromiseToPay`, :class:`Dispute`, :class:`ContactChange`,
:class:`PlanRequest`). :class:`FeedbackStore` keeps them in payrisk's own table ``payrisk_feedback``: in the
ledger's SQL database when the ledger comes from one, else in an embedded SQLite file beside the data folder
(``<data>/payrisk_feedback.sqlite``); the user's tables are never altered. :func:`apply_feedback` returns the
ledger with the reports in its tables, each dated the day it was made, so that the next score and plan see them:

- a promise to pay is a ``contacts`` row with outcome ``promise_to_pay``, ``promised_date`` and
  ``promised_amount`` (the dunning plan pauses the invoice's, or the customer's, track until that date);
- a dispute sets the invoice's ``disputed`` and ``disputed_date`` (the plan no longer duns it);
- a bounced address is a ``contacts`` row with ``bounced`` (the plan falls back to another channel); a changed
  address a delivered row on the channel (the channel is usable again);
- a payment-plan request is a ``contacts`` row with outcome ``plan_requested``, for the collector.

The rows payrisk adds carry a template starting with ``reported:``; the contact-pressure guards of the plan do not
count them as contacts made.

Examples
--------
>>> import payrisk as pr
>>> from payrisk.feedback import Dispute, FeedbackStore, apply_feedback
>>> ledger = pr.datasets.make_ledger(n_customers=20, seed=0)
>>> store = FeedbackStore("sqlite://")  # in memory; a file or the ledger's database in use
>>> invoice = ledger.invoices["invoice_id"].iloc[0]
>>> report = Dispute(invoice_id=invoice, reason="goods damaged", made_on="2024-03-01")
>>> record, created = store.record(report, key="k-1", ledger=ledger)
>>> again, created_again = store.record(report, key="k-1", ledger=ledger)  # a retry records nothing twice
>>> created, created_again, len(store.records())
(True, False, 1)
>>> seen = apply_feedback(ledger, store)
>>> seen.invoices.set_index("invoice_id").loc[invoice, "disputed_date"]
Timestamp('2024-03-01 00:00:00')
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from payrisk.errors import ConflictError, ParameterError, UnknownIdError

if TYPE_CHECKING:  # pragma: no cover
    from payrisk.ledger import Ledger

__all__ = [
    "FEEDBACK_FILE",
    "FEEDBACK_TABLE",
    "REPORTED",
    "ContactChange",
    "Dispute",
    "FeedbackRecord",
    "FeedbackStore",
    "PlanRequest",
    "PromiseToPay",
    "apply_feedback",
    "check_references",
]

#: the template prefix of the contacts rows that record what a customer reported
REPORTED = "reported:"
#: payrisk's own table (in the ledger's database or the embedded file)
FEEDBACK_TABLE = "payrisk_feedback"
#: the embedded database beside a data folder
FEEDBACK_FILE = "payrisk_feedback.sqlite"

Channel = Literal["email", "sms", "letter", "phone"]


class _Report(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    kind: ClassVar[str]
    made_on: dt.date | None = Field(
        default=None, description="The day the customer or collector reported it (default: the day it is recorded)."
    )

    def resolved(self, today: dt.date) -> dict[str, Any]:
        """The report as stored: JSON values, ``made_on`` filled in."""
        out = self.model_dump(mode="json")
        out["made_on"] = out["made_on"] or today.isoformat()
        return out


class PromiseToPay(_Report):
    """A promise to pay: the customer (or one of its invoices) will pay ``amount`` by ``promised_date``.

    Examples
    --------
    >>> PromiseToPay(customer_id="C1", amount=1200, promised_date="2024-08-15").promised_date
    datetime.date(2024, 8, 15)
    """

    kind: ClassVar[str] = "promise"
    customer_id: str = Field(min_length=1, max_length=200, description="The customer who promised.")
    invoice_id: str | None = Field(default=None, max_length=200, description="The invoice, if the promise is for one.")
    amount: float = Field(gt=0, allow_inf_nan=False, description="The amount promised, in the invoice's currency.")
    promised_date: dt.date = Field(description="The day the customer promised to pay by.")
    channel: Channel = Field(default="email", description="How it came in (a portal or a chatbot counts as email).")

    @model_validator(mode="after")
    def _not_before_made(self) -> PromiseToPay:
        if self.made_on is not None and self.promised_date < self.made_on:
            raise ValueError("promised_date lies before made_on: a promise is to pay on a later day")
        return self


class Dispute(_Report):
    """A dispute of an invoice: the plan no longer duns it from the day it was made.

    Examples
    --------
    >>> Dispute(invoice_id="INV-1", reason="goods damaged").reason
    'goods damaged'
    """

    kind: ClassVar[str] = "dispute"
    invoice_id: str = Field(min_length=1, max_length=200, description="The disputed invoice.")
    reason: str = Field(min_length=3, max_length=2000, description="Why the customer disputes it, in its words.")


class ContactChange(_Report):
    """A changed address (``new_address``) or a bounced one (``bounced``) on a channel.

    Examples
    --------
    >>> ContactChange(customer_id="C1", channel="email", bounced=True).bounced
    True
    """

    kind: ClassVar[str] = "contact_change"
    customer_id: str = Field(min_length=1, max_length=200, description="The customer.")
    channel: Channel = Field(description="The channel whose address changed or bounced.")
    new_address: str | None = Field(default=None, min_length=3, max_length=500, description="The new address.")
    bounced: bool = Field(default=False, description="The channel's address bounced.")

    @model_validator(mode="after")
    def _one_of(self) -> ContactChange:
        if (self.new_address is None) == (not self.bounced):
            raise ValueError("give either new_address (a changed address) or bounced: true (a bounced one)")
        return self


class PlanRequest(_Report):
    """A request for a payment plan: ``n_instalments`` or ``instalment_amount`` (one of them), from ``first_date``.

    Examples
    --------
    >>> PlanRequest(customer_id="C1", n_instalments=6, first_date="2024-09-01").n_instalments
    6
    """

    kind: ClassVar[str] = "plan_request"
    customer_id: str = Field(min_length=1, max_length=200, description="The customer asking.")
    n_instalments: int | None = Field(default=None, ge=2, le=60, description="The number of instalments asked.")
    instalment_amount: float | None = Field(default=None, gt=0, allow_inf_nan=False, description="Or the amount "
                                            "per instalment.")  # fmt: skip
    first_date: dt.date = Field(description="The day of the first instalment.")

    @model_validator(mode="after")
    def _one_of(self) -> PlanRequest:
        if (self.n_instalments is None) == (self.instalment_amount is None):
            raise ValueError("give either n_instalments or instalment_amount, not both or neither")
        return self


KINDS: dict[str, type[_Report]] = {c.kind: c for c in (PromiseToPay, Dispute, ContactChange, PlanRequest)}


class FeedbackRecord(BaseModel):
    """One stored report: its idempotency key, kind, when it was recorded, and the report (``made_on`` filled in).

    Examples
    --------
    >>> FeedbackRecord(key="k", kind="dispute", recorded_at="2024-03-01T10:00:00", report={}).kind
    'dispute'
    """

    key: str
    kind: Literal["promise", "dispute", "contact_change", "plan_request"]
    recorded_at: dt.datetime
    report: dict[str, Any]


def check_references(report: _Report, ledger: Ledger) -> None:
    """Refuse a report whose customer or invoice the ledger does not hold (:class:`~payrisk.errors.UnknownIdError`
    naming the field and the fix), or whose invoice belongs to another customer.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=10, seed=0)
    >>> try:
    ...     check_references(Dispute(invoice_id="nope", reason="not ours"), ledger)
    ... except LookupError as exc:
    ...     print(exc.field)
    invoice_id
    """
    what = report.kind
    customer = getattr(report, "customer_id", None)
    invoice = getattr(report, "invoice_id", None)
    inv = ledger.invoices
    if customer is not None:
        known = pd.concat([ledger.customers["customer_id"], inv["customer_id"]]).astype(str)
        if not known.eq(customer).any():
            example = known.iloc[0] if len(known) else "C000001"
            raise UnknownIdError(
                f"{what}: customer_id {customer!r} is not a customer of the ledger (its customers or invoices "
                f"table); send the id as the ledger writes it, e.g. {example!r}.",
                field="customer_id",
            )
    if invoice is not None:
        hit = inv.loc[inv["invoice_id"].astype(str) == invoice, "customer_id"]
        if hit.empty:
            raise UnknownIdError(
                f"{what}: invoice_id {invoice!r} is not an invoice of the ledger (its invoices table); send the id "
                "as the ledger writes it" + ("" if customer is None else ", or leave it out for a promise on the "
                "customer's whole open balance") + ".",
                field="invoice_id",
            )  # fmt: skip
        if customer is not None and str(hit.iloc[0]) != customer:
            raise UnknownIdError(
                f"{what}: invoice_id {invoice!r} belongs to customer {hit.iloc[0]!r}, not to customer_id "
                f"{customer!r}; send the invoice's own customer, or leave invoice_id out.",
                field="invoice_id",
            )


class FeedbackStore:
    """Reports stored once per idempotency key in payrisk's table ``payrisk_feedback`` (SQLAlchemy).

    Parameters
    ----------
    target : str or Path
        A database URL (``postgresql://...``, ``sqlite:///ledger.db``: the ledger's own database) or the path of
        an embedded SQLite file (created when the first report is recorded). See :meth:`for_source`.

    Examples
    --------
    >>> store = FeedbackStore("sqlite://")
    >>> store.version()
    0
    """

    def __init__(self, target: str | Path) -> None:
        from payrisk._sql import is_url

        self.target = target
        self._url = str(target) if is_url(str(target)) else None
        self._path = None if self._url is not None else Path(target)
        self._engine: Any = None
        self._table: Any = None
        self._lock = threading.Lock()

    @classmethod
    def for_source(cls, source: str | Path, target: str | Path | None = None) -> FeedbackStore:
        """The store of a ledger source: ``target`` when given, else the source's database (a URL) or
        ``payrisk_feedback.sqlite`` in the data folder (beside the file, for a single file).

        Examples
        --------
        >>> FeedbackStore.for_source("sqlite:///ledger.db").target
        'sqlite:///ledger.db'
        >>> Path(FeedbackStore.for_source("data/invoices.csv").target).name
        'payrisk_feedback.sqlite'
        """
        from payrisk._sql import is_url

        if target is not None:
            return cls(target)
        if is_url(str(source)):
            return cls(str(source))
        folder = Path(source)
        folder = folder if folder.is_dir() or not folder.suffix else folder.parent
        return cls(folder / FEEDBACK_FILE)

    def __repr__(self) -> str:
        return f"FeedbackStore({self.where!r})"

    @property
    def where(self) -> str:
        """Where the reports are stored (a URL's password hidden)."""
        if self._path is not None:
            return str(self._path)
        from payrisk._sql import sql_engine

        return str(sql_engine(self._url)[1]) if self._engine is None else self._engine.url.render_as_string()

    def _connect(self, create: bool) -> Any:
        """The table (created if missing when ``create``), or None where nothing was stored yet."""
        if self._table is not None:
            return self._table
        if self._path is not None and not create and not self._path.is_file():
            return None
        from payrisk._sql import sql_engine

        try:
            import sqlalchemy as sa
        except ImportError:  # pragma: no cover - sql_engine says the same first
            raise ParameterError("storing feedback needs SQLAlchemy: pip install 'payrisk[serve]'.") from None
        if self._engine is None:
            if self._path is not None:
                self._path.parent.mkdir(parents=True, exist_ok=True)
            url = self._url if self._url is not None else f"sqlite:///{self._path}"
            self._engine = sql_engine(url)[0]
        meta = sa.MetaData()
        table = sa.Table(
            FEEDBACK_TABLE,
            meta,
            sa.Column("key", sa.String(200), primary_key=True),
            sa.Column("seq", sa.Integer, nullable=False),
            sa.Column("kind", sa.String(32), nullable=False),
            sa.Column("recorded_at", sa.String(32), nullable=False),
            sa.Column("request", sa.Text, nullable=False),
            sa.Column("report", sa.Text, nullable=False),
        )
        if not create and not sa.inspect(self._engine).has_table(FEEDBACK_TABLE):
            return None
        meta.create_all(self._engine, tables=[table], checkfirst=True)  # payrisk's table only
        self._table = table
        return table

    def record(
        self, report: _Report, key: str, ledger: Ledger | None = None, now: dt.datetime | None = None
    ) -> tuple[FeedbackRecord, bool]:
        """Store ``report`` under ``key`` once; returns the stored record and whether it was stored now.

        The same key with the same report returns the record stored first (a retried request records nothing
        twice); the same key with another report raises :class:`~payrisk.errors.ConflictError`. With ``ledger``
        the report's ids are checked first (:func:`check_references`).
        """
        import sqlalchemy as sa

        key = _check_key(key)
        if ledger is not None:
            check_references(report, ledger)
        now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        request = json.dumps({"kind": report.kind, **report.model_dump(mode="json", exclude_unset=True)},
                             sort_keys=True)  # fmt: skip
        with self._lock:
            table = self._connect(create=True)
            with self._engine.begin() as con:
                found = con.execute(sa.select(table).where(table.c.key == key)).mappings().first()
                if found is None:
                    seq = con.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() + 1
                    resolved = json.dumps(report.resolved(now.date()), sort_keys=True)
                    row = {"key": key, "seq": seq, "kind": report.kind, "recorded_at": now.isoformat(),
                           "request": request, "report": resolved}  # fmt: skip
                    con.execute(table.insert().values(**row))
                    return _record(row), True
        if found["request"] != request:
            raise ConflictError(
                f"Idempotency-Key {key!r} was used on {found['recorded_at'][:10]} for another {found['kind']} "
                f"report; a retry must send the same body. Send a new key for a new report."
            )
        return _record(found), False

    def records(self) -> list[FeedbackRecord]:
        """Every stored report, in the order recorded."""
        with self._lock:
            table = self._connect(create=False)
            if table is None:
                return []
            import sqlalchemy as sa

            with self._engine.connect() as con:
                rows = con.execute(sa.select(table).order_by(table.c.seq)).mappings().all()
        return [_record(r) for r in rows]

    def version(self) -> int:
        """The number of stored reports: it grows with every report recorded (a cache key)."""
        with self._lock:
            table = self._connect(create=False)
            if table is None:
                return 0
            import sqlalchemy as sa

            with self._engine.connect() as con:
                return int(con.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _check_key(key: str) -> str:
    key = (key or "").strip()
    if not 1 <= len(key) <= 200 or not key.isprintable():
        raise ParameterError(
            "Idempotency-Key must be 1 to 200 printable characters (e.g. a UUID the client makes once per report "
            f"and sends again on a retry); got {key[:40]!r}."
        )
    return key


def _record(row: Any) -> FeedbackRecord:
    return FeedbackRecord(key=row["key"], kind=row["kind"], recorded_at=row["recorded_at"],
                          report=json.loads(row["report"]))  # fmt: skip


def apply_feedback(ledger: Ledger, feedback: FeedbackStore | list[FeedbackRecord] | None) -> Ledger:
    """The ledger with the stored reports in its tables, each dated the day it was made (see the module's text);
    ``ledger`` itself is not changed, and without reports it is returned as it is.

    Parameters
    ----------
    ledger : Ledger
        The whole ledger (not a snapshot): ``ledger.as_of(day)`` of the result sees a report from the day it was
        made.
    feedback : FeedbackStore or list of FeedbackRecord or None

    Returns
    -------
    Ledger

    Examples
    --------
    >>> import pandas as pd, payrisk as pr
    >>> inv = pd.DataFrame({"invoice_id": ["1"], "customer_id": ["C1"], "issue_date": ["2024-06-01"],
    ...                     "due_date": ["2024-07-01"], "amount": [800.0]})
    >>> ledger = pr.Ledger.from_frames(invoices=inv)
    >>> store = FeedbackStore("sqlite://")
    >>> _ = store.record(Dispute(invoice_id="1", reason="wrong price", made_on="2024-07-05"), "key-1", ledger=ledger)
    >>> apply_feedback(ledger, store).invoices["disputed_date"].dt.strftime("%Y-%m-%d").tolist()
    ['2024-07-05']
    """
    from payrisk.ledger import Ledger

    records = feedback.records() if isinstance(feedback, FeedbackStore) else list(feedback or [])
    if not records:
        return ledger
    invoices = ledger.invoices.copy()
    rows = []
    for rec in records:
        r = rec.report
        made = pd.Timestamp(r["made_on"])
        row: dict[str, Any] = {"contact_id": f"reported|{rec.key}", "customer_id": r.get("customer_id"),
                               "invoice_id": r.get("invoice_id"), "sent_at": made, "channel": "email",
                               "delivered": True, "bounced": False}  # fmt: skip
        if rec.kind == "promise":
            row |= {"channel": r["channel"], "outcome": "promise_to_pay", "promised_amount": r["amount"],
                    "promised_date": pd.Timestamp(r["promised_date"])}  # fmt: skip
        elif rec.kind == "dispute":
            at = invoices["invoice_id"] == r["invoice_id"]
            if not at.any():
                continue
            earlier = invoices.loc[at, "disputed_date"].min()
            invoices.loc[at, "disputed_date"] = made if pd.isna(earlier) else min(earlier, made)
            invoices.loc[at, "disputed"] = True
            row |= {"customer_id": invoices.loc[at, "customer_id"].iloc[0], "outcome": "disputed"}
        elif rec.kind == "contact_change":
            bounced = bool(r["bounced"])
            row |= {"channel": r["channel"], "bounced": bounced, "delivered": not bounced,
                    "outcome": "bounced" if bounced else "address_changed"}  # fmt: skip
        else:
            row |= {"outcome": "plan_requested"}
        row["template"] = REPORTED + row["outcome"]
        rows.append(row)
    old = ledger.contacts
    new = pd.DataFrame(rows).reindex(columns=old.columns)
    new = new.astype({c: old[c].dtype for c in old.columns if old[c].dtype != bool})
    new = new.astype(dict.fromkeys(("delivered", "bounced"), bool))
    contacts = pd.concat([old, new], ignore_index=True) if len(old) else new
    tables = {**ledger.tables, "invoices": invoices, "contacts": contacts}
    meta = {**ledger.meta, "feedback": len(records)}
    return Ledger(tables, report=ledger.report, truth=ledger.truth, as_of_date=ledger.as_of_date, meta=meta)
