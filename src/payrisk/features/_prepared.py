"""The ledger as arrays (:class:`Prepared`) and as customer events (:class:`Events`), each converted on first use.

Every customer feature reads one or more event tables (``EVENT_TABLES``): issued invoices, settled invoices,
open and overdue invoices, payments, contacts, answered reminders, credit notes, plans and missed instalments.
An event belongs to a customer and is dated; a *state* (an open invoice, a payment on one) also ends. Both
kernels read the same tables, so a per-event value (days late, a payment's weekday) is defined once here.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from payrisk._frame import positions
from payrisk.features._registry import MISSED_GRACE_DAYS, REMINDER_CHANNELS, RESPONSE_DAYS
from payrisk.features._streams import NEVER, Stream, to_days
from payrisk.ledger import Ledger

_EPS_PAID = 0.005  #: an instalment counts as paid in full when amount_paid >= amount_due - this
LOG_SCALE = 2.0**32  #: fixed-point scale of log amounts (resolution 2.3e-10)


def _cents(amount: pd.Series | np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(amount, dtype=np.float64) * 100).astype(np.int64)


def _fixed_log(amount: np.ndarray) -> np.ndarray:
    """log(amount) in fixed point (int64; amounts are positive, as validation guarantees).

    A window's sum is then exact whatever events come before it in a stream, so a customer's features do not
    depend on the other customers (Dask partitions).
    """
    return np.rint(np.log(np.asarray(amount, dtype=np.float64)) * LOG_SCALE).astype(np.int64)


def _get(arr: np.ndarray, idx: np.ndarray, valid: np.ndarray, fill: float) -> np.ndarray:
    """arr[idx] where valid, else fill (safe on empty arrays)."""
    out = np.full(len(idx), fill, dtype=np.float64)
    if len(arr) and valid.any():
        out[valid] = arr[idx[valid]]
    return out


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den is not positive."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(len(num), np.nan)
    ok = den > 0
    out[ok] = num[ok] / den[ok]
    return out


#: a per-event value: a column name, or ``("code", column, code, column or None)`` for "column == code"
#: (times the second column), built on the fly
ValueKey = str | tuple[Any, ...] | None


class Events:
    """One kind of customer event as arrays.

    An event of customer ``cust`` counts for a cutoff row of that customer at day ``t`` when ``day <= t``, and,
    for a state, ``t < end``. ``owner`` is the invoice an event belongs to (-1 for none): the row's own invoice
    never contributes, so its events are left out. ``one_per_invoice`` marks tables with at most one event per
    invoice (the own event is then found by a lookup instead of a search). ``columns`` holds the per-event
    values, each computed on first use.

    Parameters
    ----------
    cust, day : ndarray
        Customer code and day number of each event.
    end : ndarray, optional
        Day the state ends (``NEVER``: still on); absent for events that count from their day on.
    owner : ndarray, optional
        Invoice position of each event (-1 for none); absent when the own invoice cannot be among them.
    n_invoices : int
        Number of invoices (for ``one_per_invoice`` tables).
    one_per_invoice : bool
        At most one event per invoice.
    columns : dict
        Column name -> function returning the per-event values.
    """

    def __init__(
        self,
        cust: np.ndarray,
        day: np.ndarray,
        *,
        end: np.ndarray | None = None,
        owner: np.ndarray | None = None,
        n_invoices: int = 0,
        one_per_invoice: bool = False,
        columns: dict[str, Callable[[], np.ndarray]] | None = None,
    ) -> None:
        self.cust = np.asarray(cust, dtype=np.int64)
        self.day = np.asarray(day, dtype=np.int64)
        self.end = None if end is None else np.asarray(end, dtype=np.int64)
        self.owner = None if owner is None else np.asarray(owner, dtype=np.int64)
        self.n = len(self.day)
        self.by_owner: np.ndarray | None = None  #: invoice position -> its event (-1 none; last slot for -1)
        if one_per_invoice and self.owner is not None:
            self.by_owner = np.full(n_invoices + 1, -1, dtype=np.int64)
            self.by_owner[self.owner] = np.arange(self.n)
        self._columns = dict(columns or {})
        self._values: dict[str, np.ndarray] = {}
        self.name = ""  #: the table's name in ``EVENT_TABLES``

    def within(self, first: int, stop: int) -> Events:
        """The events of the customers with codes ``first`` to ``stop - 1`` only (a block of customers: every
        customer feature reads its own customer's events), the per-event values cut the same way on use."""
        keep = np.flatnonzero((self.cust >= first) & (self.cust < stop))
        sub = Events(
            self.cust[keep],
            self.day[keep],
            end=None if self.end is None else self.end[keep],
            owner=None if self.owner is None else self.owner[keep],
            n_invoices=0 if self.by_owner is None else len(self.by_owner) - 1,
            one_per_invoice=self.by_owner is not None,
            columns={key: functools.partial(_cut, self, key, keep) for key in self._columns},
        )
        sub.name = self.name
        return sub

    def values(self, key: ValueKey) -> np.ndarray | None:
        """The per-event values of ``key`` (None: every event counts 1)."""
        if key is None:
            return None
        if isinstance(key, tuple):
            _, column, code, weight = key
            hit = self.values(column) == code
            w = self.values(weight)
            return hit if w is None else np.where(hit, w, 0)
        if key not in self._values:
            self._values[key] = np.asarray(self._columns[key]())
        return self._values[key]


def _cut(events: Events, key: str, keep: np.ndarray) -> np.ndarray:
    values = events.values(key)
    assert values is not None
    return values[keep]


def exact(values: np.ndarray | None) -> bool:
    """Whether sums of these values are whole numbers (counts, flags, cents, fixed-point logs)."""
    return values is None or values.dtype.kind in "iub"


class Prepared:
    """A ledger as integer arrays (customer codes, day numbers, cents), each table converted on first use."""

    _LOADERS: ClassVar[dict[str, tuple[str, ...]]] = {
        "_load_payments": ("pay_cust", "pay_day", "pay_inv", "pay_cents", "pay_amount"),
        "_load_contacts": ("con_cust", "con_day", "con_inv", "con_channel"),
        "_load_credit_notes": ("cn_cust", "cn_day"),
        "_load_plans": (
            "plan_index",
            "plan_cust",
            "plan_created",
            "ins_plan",
            "ins_no",
            "ins_due",
            "ins_paid",
            "ins_amount_due",
            "ins_amount_paid",
            "ins_full",
            "ins_missed",
        ),
        "_load_created": ("cust_created",),
    }

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = led = ledger
        self.cust_index, self._table_cust = led.customer_codes()  # one factorisation, kept on the ledger
        inv = led.invoices
        self.inv_index = pd.Index(inv["invoice_id"])
        self.inv_cust = self._table_cust["invoices"]
        self.inv_issue = to_days(inv["issue_date"])
        self.inv_due = to_days(inv["due_date"])
        self.inv_paid = to_days(inv["paid_date"])
        self.inv_amount = inv["amount"].to_numpy(dtype=np.float64)
        self.inv_cents = _cents(self.inv_amount)
        dated = to_days(inv["disputed_date"])
        flag = inv["disputed"].to_numpy(dtype=bool)
        undated = flag & (dated == NEVER)
        #: the day from which a dispute is visible: its date, or always for an undated flag
        self.inv_dispute_day = np.where(undated, -NEVER, np.where(flag | (dated < NEVER), dated, NEVER))

    def __getattr__(self, name: str) -> np.ndarray:
        for loader, names in self._LOADERS.items():
            if name in names:
                getattr(self, loader)()
                return self.__dict__[name]
        raise AttributeError(name)

    def load_all(self) -> None:
        """Convert every table now (before threads share this object: each table once)."""
        for loader in self._LOADERS:
            getattr(self, loader)()
        _ = self.pay_inv_paid, self.payment_partial

    def _load_payments(self) -> None:
        pay = self.ledger.payments
        self.pay_cust = self._table_cust["payments"]
        self.pay_day = to_days(pay["payment_date"])
        self.pay_inv = self.ledger.invoice_positions("payments")
        self.pay_cents = _cents(pay["amount"])
        self.pay_amount = pay["amount"].to_numpy(dtype=np.float64)

    def _load_contacts(self) -> None:
        con = self.ledger.contacts
        self.con_cust = self._table_cust["contacts"]
        self.con_day = to_days(con["sent_at"])
        self.con_inv = self.ledger.invoice_positions("contacts")
        self.con_channel = pd.Index(list(REMINDER_CHANNELS)).get_indexer(pd.Index(con["channel"])).astype(np.int64)

    def _load_credit_notes(self) -> None:
        cn = self.ledger.credit_notes
        self.cn_cust = self._table_cust["credit_notes"]
        self.cn_day = to_days(cn["issue_date"])

    def _load_plans(self) -> None:
        plans, ins = self.ledger.plans, self.ledger.installments
        self.plan_index = pd.Index(plans["plan_id"])
        self.plan_cust = self._table_cust["plans"]
        self.plan_created = to_days(plans["created_date"])
        self.ins_plan = positions(ins["plan_id"], self.plan_index)
        self.ins_no = ins["installment_no"].to_numpy(dtype=np.float64, na_value=np.nan)
        self.ins_due = to_days(ins["due_date"])
        self.ins_paid = to_days(ins["paid_date"])
        self.ins_amount_due = ins["amount_due"].to_numpy(dtype=np.float64)
        self.ins_amount_paid = ins["amount_paid"].to_numpy(dtype=np.float64)
        full = self.ins_amount_paid >= self.ins_amount_due - _EPS_PAID
        self.ins_full = full & (self.ins_paid < NEVER)
        self.ins_missed = ~(self.ins_full & (self.ins_paid <= self.ins_due + MISSED_GRACE_DAYS))

    def _load_created(self) -> None:
        cust = self.ledger.customers
        self.cust_created = np.full(len(self.cust_index), NEVER, dtype=np.int64)
        codes = self._table_cust["customers"]
        known = codes >= 0
        self.cust_created[codes[known]] = to_days(cust["created_date"])[known]

    def cust_codes(self, ids: pd.Series) -> np.ndarray:
        """Customer codes (positions in ``cust_index``); -1 for unknown ids."""
        return positions(ids, self.cust_index)

    def inv_codes(self, ids: pd.Series) -> np.ndarray:
        """Invoice positions; -1 for empty or unknown ids (unallocated payments, customer-level contacts)."""
        return positions(ids, self.inv_index)

    def events(self, name: str) -> Events:
        """The event table ``name`` (a key of ``EVENT_TABLES``), built anew: a kernel keeps the tables it uses
        last."""
        ev = EVENT_TABLES[name](weakref.proxy(self))  # lazy columns see the arrays through a weak proxy: no cycle
        ev.name = name
        return ev

    @functools.cached_property
    def pay_inv_paid(self) -> np.ndarray:
        """Per payment: the paid day of its invoice (``NEVER`` when open or unallocated)."""
        return np.where(self.pay_inv >= 0, self.inv_paid[np.maximum(self.pay_inv, 0)], NEVER)

    @functools.cached_property
    def payment_partial(self) -> np.ndarray:
        """Per payment: allocated, and its invoice stayed open after it (fixed, whatever the cutoff)."""
        return (self.pay_inv >= 0) & (self.pay_inv_paid > self.pay_day)


# -- the event tables ----------------------------------------------------------------------------------------
def _issues(p: Prepared) -> Events:
    """Invoices, from their issue day."""
    n = len(p.inv_issue)
    return Events(
        p.inv_cust,
        p.inv_issue,
        owner=np.arange(n),
        n_invoices=n,
        one_per_invoice=True,
        columns={"cents": lambda: p.inv_cents, "log_amount": lambda: _fixed_log(p.inv_amount)},
    )


def _disputes(p: Prepared) -> Events:
    """Disputed invoices, from the later of their issue day and the day the dispute is visible."""
    d = np.flatnonzero(p.inv_dispute_day < NEVER)
    day = np.maximum(p.inv_issue, p.inv_dispute_day)[d]
    return Events(p.inv_cust[d], day, owner=d, n_invoices=len(p.inv_issue), one_per_invoice=True)


def _reminder_gap(p: Prepared, inv: np.ndarray) -> np.ndarray:
    """Per settled invoice: paid day minus the day of its last contact sent on or before it (NaN: none)."""
    about = np.flatnonzero(p.con_inv >= 0)
    before = about[p.con_day[about] <= p.inv_paid[p.con_inv[about]]]
    last = np.full(len(p.inv_paid), -np.inf)
    np.maximum.at(last, p.con_inv[before], p.con_day[before].astype(np.float64))
    gap = p.inv_paid[inv] - last[inv]
    return np.where(np.isfinite(gap), gap, np.nan)


def _settled(p: Prepared) -> Events:
    """Invoices paid in full, from their paid day (an open invoice, such as a row's own, is never among them)."""
    inv = np.flatnonzero(p.inv_paid < NEVER)
    days_late = (p.inv_paid - p.inv_due)[inv]
    return Events(
        p.inv_cust[inv],
        p.inv_paid[inv],
        columns={
            "days_late": lambda: days_late,
            "late": lambda: days_late > 0,
            "reminder_gap": lambda: _reminder_gap(p, inv),
        },
    )


def _open(p: Prepared) -> Events:
    """Invoices while open: from the issue day to the paid day."""
    n = len(p.inv_issue)
    return Events(
        p.inv_cust,
        p.inv_issue,
        end=p.inv_paid,
        owner=np.arange(n),
        n_invoices=n,
        one_per_invoice=True,
        columns={"cents": lambda: p.inv_cents},
    )


def _overdue(p: Prepared) -> Events:
    """Invoices while overdue: from the day after the due date to the paid day."""
    late = np.flatnonzero(p.inv_paid > p.inv_due)
    return Events(
        p.inv_cust[late],
        p.inv_due[late] + 1,
        end=p.inv_paid[late],
        owner=late,
        n_invoices=len(p.inv_issue),
        one_per_invoice=True,
        columns={"cents": lambda: p.inv_cents[late]},
    )


def _fell_due(p: Prepared) -> Events:
    """Invoices from the day after their due date, when it is known whether they were paid by it (``late``: paid
    after it, or not yet)."""
    n = len(p.inv_issue)
    late = p.inv_paid > p.inv_due
    return Events(
        p.inv_cust,
        p.inv_due + 1,
        owner=np.arange(n),
        n_invoices=n,
        one_per_invoice=True,
        columns={"late": lambda: late},
    )


def _paid_on(p: Prepared, overdue: bool) -> Events:
    """Payments on an invoice while it is open (``overdue``: while it is overdue): from the payment day (or the
    day the invoice became overdue, if later) to the invoice's paid day."""
    paid = p.pay_inv_paid
    if overdue:
        due = np.where(p.pay_inv >= 0, p.inv_due[np.maximum(p.pay_inv, 0)], NEVER)
        pay = np.flatnonzero(paid > due)  # allocated to an invoice settled late or still open
        start = np.maximum(p.pay_day[pay], due[pay] + 1)
    else:
        pay = np.flatnonzero(p.pay_inv >= 0)
        start = p.pay_day[pay]
    end = np.maximum(p.pay_day[pay], paid[pay])
    return Events(p.pay_cust[pay], start, end=end, owner=p.pay_inv[pay], columns={"cents": lambda: p.pay_cents[pay]})


def _payments(p: Prepared) -> Events:
    """Payments, allocated to an invoice or not."""
    days = p.pay_day.astype("datetime64[D]")
    return Events(
        p.pay_cust,
        p.pay_day,
        owner=p.pay_inv,
        columns={
            "cents": lambda: p.pay_cents,
            "allocated": lambda: p.pay_inv >= 0,
            "partial": lambda: p.payment_partial,
            "weekday": lambda: (p.pay_day + 3) % 7,  # 1970-01-01 was a Thursday (Monday = 0)
            "day_of_month": lambda: (days - days.astype("datetime64[M]")).astype(np.int64),  # 0 = the 1st
        },
    )


def _answered(p: Prepared, about: np.ndarray) -> np.ndarray:
    """Per contact about an invoice: a payment on that invoice within [sent, sent + RESPONSE_DAYS]."""
    inv, sent = p.con_inv[about], p.con_day[about]
    dunned = np.zeros(len(p.inv_issue) + 1, bool)  # the extra last slot absorbs position -1
    dunned[inv] = True
    pay = np.flatnonzero(dunned[p.pay_inv])  # only payments that can answer
    ps = Stream(p.pay_inv[pay], p.pay_day[pay])
    return ps.any_between(inv, sent - 1, sent + RESPONSE_DAYS)


def _responses(p: Prepared) -> Events:
    """Contacts about an invoice, from the day their answer is known (RESPONSE_DAYS after sending)."""
    about = np.flatnonzero(p.con_inv >= 0)
    return Events(
        p.con_cust[about],
        p.con_day[about] + RESPONSE_DAYS,
        owner=p.con_inv[about],
        columns={
            "answered": lambda: _answered(p, about),
            "channel": lambda: p.con_channel[about] + 1,  # 0: another channel, then REMINDER_CHANNELS
        },
    )


def _missed_installments(p: Prepared) -> Events:
    """Plan instalments missed, from MISSED_GRACE_DAYS after their due date."""
    sel = np.flatnonzero(p.ins_missed & (p.ins_plan >= 0))
    return Events(p.plan_cust[p.ins_plan[sel]], p.ins_due[sel] + MISSED_GRACE_DAYS)


#: every event table the customer features read, by name
EVENT_TABLES: dict[str, Callable[[Prepared], Events]] = {
    "issues": _issues,
    "disputes": _disputes,
    "settled": _settled,
    "open": _open,
    "overdue": _overdue,
    "fell_due": _fell_due,
    "paid_while_open": lambda p: _paid_on(p, overdue=False),
    "paid_while_overdue": lambda p: _paid_on(p, overdue=True),
    "payments": _payments,
    "contacts": lambda p: Events(p.con_cust, p.con_day, owner=p.con_inv),
    "responses": _responses,
    "credit_notes": lambda p: Events(p.cn_cust, p.cn_day),
    "plans": lambda p: Events(p.plan_cust, p.plan_created),
    "missed_installments": _missed_installments,
}
