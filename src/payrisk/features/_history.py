"""The customer-history block: every customer feature for many (customer, cutoff day, own invoice) rows."""

from __future__ import annotations

from functools import cached_property
from typing import ClassVar

import numpy as np
import pandas as pd

from payrisk._frame import positions
from payrisk.features._registry import (
    EWM_HALFLIFE_DAYS,
    MISSED_GRACE_DAYS,
    REMINDER_CHANNELS,
    RESPONSE_DAYS,
    WINDOWS,
    feature_names,
)
from payrisk.features._streams import NEVER, SparseMax, Stream, to_days, walk_back, window_median
from payrisk.ledger import Ledger

_EPS_PAID = 0.005  #: an instalment counts as paid in full when amount_paid >= amount_due - this


def _cents(amount: pd.Series | np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(amount, dtype=np.float64) * 100).astype(np.int64)


_LOG_SCALE = 2.0**32  #: fixed-point scale of log amounts (resolution 2.3e-10)


def _fixed_log(amount: np.ndarray) -> np.ndarray:
    """log(amount) in fixed point (int64; amounts are positive, as validation guarantees)."""
    return np.rint(np.log(np.asarray(amount, dtype=np.float64)) * _LOG_SCALE).astype(np.int64)


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
        self.cust_index, self._table_cust = led._customer_codes()  # one factorisation, kept on the ledger
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

    def _load_payments(self) -> None:
        pay = self.ledger.payments
        self.pay_cust = self._table_cust["payments"]
        self.pay_day = to_days(pay["payment_date"])
        self.pay_inv = self.ledger._invoice_positions("payments")
        self.pay_cents = _cents(pay["amount"])
        self.pay_amount = pay["amount"].to_numpy(dtype=np.float64)

    def _load_contacts(self) -> None:
        con = self.ledger.contacts
        self.con_cust = self._table_cust["contacts"]
        self.con_day = to_days(con["sent_at"])
        self.con_inv = self.ledger._invoice_positions("contacts")
        self.con_channel = pd.Index(list(REMINDER_CHANNELS)).get_indexer(con["channel"]).astype(np.int64)

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

    # -- streams, built on first use --------------------------------------------------------------------
    @cached_property
    def issues(self) -> Stream:
        return Stream(self.inv_cust, self.inv_issue)

    @cached_property
    def settled(self) -> Stream:
        sel = np.flatnonzero(self.inv_paid < NEVER)
        s = Stream(self.inv_cust[sel], self.inv_paid[sel])
        s.inv = s.take(sel)  # type: ignore[attr-defined]
        return s

    @cached_property
    def payments(self) -> Stream:
        return Stream(self.pay_cust, self.pay_day)

    @cached_property
    def own_payments(self) -> Stream:
        return Stream(self.pay_inv, self.pay_day)

    @cached_property
    def contacts(self) -> Stream:
        return Stream(self.con_cust, self.con_day)

    @cached_property
    def own_contacts(self) -> Stream:
        return Stream(self.con_inv, self.con_day)

    @cached_property
    def payment_partial(self) -> np.ndarray:
        """Per payment: allocated, and its invoice stayed open after it (fixed, whatever the cutoff)."""
        alloc = self.pay_inv >= 0
        paid = np.where(alloc, self.inv_paid[np.maximum(self.pay_inv, 0)], NEVER)
        return alloc & (paid > self.pay_day)


def _get(arr: np.ndarray, idx: np.ndarray, valid: np.ndarray, fill: float) -> np.ndarray:
    """arr[idx] where valid, else fill (safe on empty arrays)."""
    out = np.full(len(idx), fill, dtype=np.float64)
    if len(arr) and valid.any():
        out[valid] = arr[idx[valid]]
    return out


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(len(num), np.nan)
    ok = den > 0
    out[ok] = num[ok] / den[ok]
    return out


class History:
    """Customer features for rows (customer code, cutoff day, own invoice position or -1)."""

    def __init__(self, prep: Prepared, cust: np.ndarray, day: np.ndarray, own: np.ndarray) -> None:
        self.p = prep
        self.c = np.asarray(cust, dtype=np.int64)
        self.t = np.asarray(day, dtype=np.int64)
        self.own = np.asarray(own, dtype=np.int64)
        self.has_own = self.own >= 0
        self.own_issue = self._own_value(prep.inv_issue, NEVER).astype(np.int64)
        self.own_issued = self.has_own & (self.own_issue <= self.t)
        self.out: dict[str, np.ndarray] = {}
        self.names: set[str] | None = None
        self._done: set[str] = set()
        self._upto: dict[tuple[int, int], tuple[Stream, np.ndarray]] = {}

    def _own_value(self, arr: np.ndarray, fill: float) -> np.ndarray:
        """``arr`` at each row's own invoice, ``fill`` for rows without one (safe when there are no invoices)."""
        return _get(arr, self.own, self.has_own, fill)

    _BLOCKS: ClassVar[dict[str, tuple[str, ...]]] = {
        "_issues": ("tenure_days", "n_invoices", "days_since_last_invoice", "share_disputed"),
        "_settled": ("n_settled", "share_late", "days_late", "lateness_trend", "days_reminder"),
        "_open": ("open_amount", "n_open", "n_overdue", "overdue_amount", "max_days_overdue"),
        "_payments": ("days_since_last_payment", "n_payments", "share_partial_payments", "pay_"),
        "_contacts": ("n_reminders_365d", "reminder_response"),
        "_plans": ("n_credit_notes_365d", "n_plans", "n_installments_missed"),
    }

    def ensure(self, block: str) -> None:
        """Run a block of features once (builders call it for the values they reuse)."""
        if block not in self._done:
            self._done.add(block)
            getattr(self, block)()

    def wants(self, name: str) -> bool:
        """Whether feature ``name`` was asked for."""
        return self.names is None or name in self.names

    def frame(self, names: list[str] | None = None) -> pd.DataFrame:
        """The customer features (all, or ``names`` only) as a DataFrame in row order."""
        self.names = None if names is None else set(names)
        wanted = feature_names("customer") if names is None else [n for n in feature_names("customer") if n in names]
        for block, prefixes in self._BLOCKS.items():
            if any(n.startswith(prefixes) for n in wanted):
                self.ensure(block)
        return pd.DataFrame({name: self.out[name].astype(np.float64) for name in wanted})

    def upto(self, stream: Stream, offset: int = 0) -> np.ndarray:
        """``stream.upto(rows' customers, rows' cutoff + offset)``, memoised for this set of rows."""
        key = (id(stream), offset)
        if key not in self._upto:
            self._upto[key] = (stream, stream.upto(self.c, self.t + offset))  # keep the stream alive with it
        return self._upto[key][1]

    def _own_sum(self, kind: str, values: np.ndarray | None, lo_day: np.ndarray | None = None) -> np.ndarray:
        """Sum (or count) of the own invoice's ``kind`` events ("payments" or "contacts") in (lo_day, t]; 0 for
        rows without an own invoice."""
        stream = self.p.own_payments if kind == "payments" else self.p.own_contacts
        g = np.where(self.has_own, self.own, -1)
        hi = stream.upto(g, self.t)
        lo = stream.start(g) if lo_day is None else stream.upto(g, lo_day)
        pre = stream.prefix(np.ones(stream.n, np.int64) if values is None else stream.take(values))
        return np.where(self.has_own & (g >= 0), pre[hi] - pre[np.minimum(lo, hi)], 0)

    # -- invoices issued -----------------------------------------------------------------------------------
    def _issues(self) -> None:
        p, s = self.p, self.p.issues
        first, hi = s.start(self.c), self.upto(s, 0)
        n = hi - first - self.own_issued
        self.out["n_invoices"] = n
        inv_pos = (
            s.take(np.arange(len(p.inv_issue)))
            if self.wants("days_since_last_invoice") or self.wants("tenure_days")
            else None
        )
        if self.wants("days_since_last_invoice"):
            last = walk_back(hi - 1, first, inv_pos, self.own)
            self.out["days_since_last_invoice"] = self.t - _get(s.day, last, last >= 0, np.nan)
        if self.wants("tenure_days"):  # the first other invoice (skip the own one if it comes first), or created
            skip = (first < hi) & (_get(inv_pos, first, first < hi, -1) == self.own)
            idx = np.where(skip, first + 1, first)
            first_issue = _get(s.day, idx, idx < hi, NEVER).astype(np.int64)
            created = p.cust_created[self.c]
            start = np.minimum(first_issue, np.where(created <= self.t, created, NEVER))
            self.out["tenure_days"] = np.where(start < NEVER, self.t - start, np.nan)
        if self.wants("share_disputed"):
            disputed = Stream(p.inv_cust, np.maximum(p.inv_issue, p.inv_dispute_day))
            dpre = disputed.prefix(disputed.take(p.inv_dispute_day < NEVER))
            own_disp = self.own_issued & (self._own_value(p.inv_dispute_day, NEVER) <= self.t)
            n_disp = dpre[disputed.upto(self.c, self.t)] - dpre[disputed.start(self.c)] - own_disp
            self.out["share_disputed"] = _div(n_disp, n)

    @cached_property
    def log_amount_mean(self) -> np.ndarray:
        """Mean log amount of the other invoices issued on or before the cutoff (the 'usual' amount)."""
        p, s = self.p, self.p.issues
        first, hi = s.start(self.c), self.upto(s, 0)
        # fixed point, like the cents of the amounts: a window's sum is then exact, whatever rows come before it
        # in the stream, so a customer's features do not depend on the other customers (Dask partitions)
        logs = s.prefix(s.take(_fixed_log(p.inv_amount)))
        own_log = np.where(self.own_issued, _fixed_log(self._own_value(p.inv_amount, 1.0)), 0)
        return _div((logs[hi] - logs[first] - own_log) / _LOG_SCALE, hi - first - self.own_issued)

    @cached_property
    def invoiced_365(self) -> np.ndarray:
        """Amount of the other invoices issued in the 365 days up to the cutoff."""
        p, s = self.p, self.p.issues
        hi, lo365 = self.upto(s, 0), self.upto(s, -365)
        amt = s.prefix(s.take(p.inv_cents))
        own_in_year = self.own_issued & (self.own_issue > self.t - 365)
        own_cents = np.where(own_in_year, self._own_value(p.inv_cents, 0), 0)
        return (amt[hi] - amt[lo365] - own_cents) / 100.0

    # -- settled invoices (the own invoice is open at its cutoff, so it never appears here) ---------------
    def _settled(self) -> None:
        p, s = self.p, self.p.settled
        inv = s.inv
        late_days = (p.inv_paid - p.inv_due)[inv]
        first, hi = s.start(self.c), self.upto(s, 0)
        cnt = s.prefix(np.ones(s.n, np.int64))
        tot = s.prefix(late_days)
        late = s.prefix(late_days > 0)
        n = cnt[hi] - cnt[first]
        self.out["n_settled"] = n
        self.out["share_late"] = _div(late[hi] - late[first], n)
        self.out["days_late_mean"] = _div(tot[hi] - tot[first], n)
        windowed = any(
            self.wants(f"{k}_{w}d")
            for k in ("n_settled", "days_late_mean", "share_late", "days_late_max")
            for w in WINDOWS
        )
        smax = SparseMax(late_days.astype(np.float64)) if windowed or self.wants("days_late_max") else None
        if smax is not None:
            self.out["days_late_max"] = smax.query(first, hi)
        for w in WINDOWS:
            if windowed or self.wants("lateness_trend"):
                lo = self.upto(s, -w)
                nw = cnt[hi] - cnt[lo]
                self.out[f"n_settled_{w}d"] = nw
                self.out[f"days_late_mean_{w}d"] = _div(tot[hi] - tot[lo], nw)
                self.out[f"share_late_{w}d"] = _div(late[hi] - late[lo], nw)
                if smax is not None:
                    self.out[f"days_late_max_{w}d"] = smax.query(lo, hi)
            if self.wants(f"days_late_median_{w}d"):
                self.out[f"days_late_median_{w}d"] = window_median(s.group, s.day, late_days, self.c, self.t, w)
        if self.wants("lateness_trend"):
            self.out["lateness_trend"] = self.out[f"days_late_mean_{WINDOWS[0]}d"] - self.out["days_late_mean"]
        if self.wants("days_late_ewm"):
            self._ewm(s, late_days, n, hi)
        self._reminder_to_settlement(s, inv)

    def _ewm(self, s: Stream, late_days: np.ndarray, n: np.ndarray, hi: np.ndarray) -> None:
        """Exponentially weighted mean: weights 0.5 ** ((t - paid) / halflife), accumulated per customer."""
        first_day = s.day[s.start(s.group)] if s.n else np.zeros(0, np.int64)  # per customer, for scale
        weight = np.exp2((s.day - first_day) / EWM_HALFLIFE_DAYS)
        wsum = pd.Series(weight).groupby(s.group).cumsum().to_numpy()
        wvsum = pd.Series(weight * late_days).groupby(s.group).cumsum().to_numpy()
        last = hi - 1
        ok = (n > 0) & (last >= 0)
        ewm = np.full(len(self.t), np.nan)
        ewm[ok] = wvsum[last[ok]] / wsum[last[ok]]
        self.out["days_late_ewm"] = ewm

    def _reminder_to_settlement(self, s: Stream, inv: np.ndarray) -> None:
        p = self.p
        # days from the last reminder to settlement (known at the paid date)
        if not self.wants("days_reminder_to_settlement_median"):
            return
        cs = self.p.own_contacts
        paid = p.inv_paid[inv]
        lastc = cs.upto(inv, paid) - 1
        has = (lastc >= cs.start(inv)) & (lastc >= 0)
        gap = paid - _get(cs.day, lastc, has, np.nan)
        self.out["days_reminder_to_settlement_median"] = window_median(s.group, s.day, gap, self.c, self.t, None)

    # -- open and overdue invoices (cents, so sums are exact) --------------------------------------------
    def _open(self) -> None:
        p = self.p
        has_paid = p.inv_paid < NEVER
        late = p.inv_paid > p.inv_due
        pay_alloc = p.pay_inv >= 0
        pinv = np.maximum(p.pay_inv, 0)
        inv_paid_of_pay = np.where(pay_alloc, p.inv_paid[pinv], NEVER)
        inv_due_of_pay = np.where(pay_alloc, p.inv_due[pinv], NEVER)
        pay_late = pay_alloc & late[pinv]

        def total(*parts: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]) -> np.ndarray:
            """Sum over (customer, selection, day, value, sign) parts of the events of each row's customer
            dated up to its cutoff day."""
            cust = np.concatenate([c[sel] for c, sel, _, _, _ in parts])
            day = np.concatenate([d[sel] for _, sel, d, _, _ in parts])
            val = np.concatenate([sign * v[sel] for _, sel, _, v, sign in parts])
            return self._customer_total(cust, day, val)

        ones = np.ones(len(p.inv_cust), np.int64)
        every = np.ones(len(p.inv_cust), bool)
        n_open = total((p.inv_cust, every, p.inv_issue, ones, 1), (p.inv_cust, has_paid, p.inv_paid, ones, -1))
        corr = pay_alloc & (inv_paid_of_pay < NEVER)
        open_c = total(
            (p.inv_cust, every, p.inv_issue, p.inv_cents, 1),
            (p.inv_cust, has_paid, p.inv_paid, p.inv_cents, -1),
            (p.pay_cust, pay_alloc, p.pay_day, p.pay_cents, -1),
            (p.pay_cust, corr, np.maximum(p.pay_day, inv_paid_of_pay), p.pay_cents, 1),
        )
        late_paid = late & has_paid
        n_over = total((p.inv_cust, late, p.inv_due + 1, ones, 1), (p.inv_cust, late_paid, p.inv_paid, ones, -1))
        corr_late = pay_late & (inv_paid_of_pay < NEVER)
        over_c = total(
            (p.inv_cust, late, p.inv_due + 1, p.inv_cents, 1),
            (p.inv_cust, late_paid, p.inv_paid, p.inv_cents, -1),
            (p.pay_cust, pay_late, np.maximum(p.pay_day, inv_due_of_pay + 1), p.pay_cents, -1),
            (p.pay_cust, corr_late, np.maximum(p.pay_day, inv_paid_of_pay), p.pay_cents, 1),
        )
        self._set_open(n_open, open_c, n_over, over_c)

    def _set_open(self, n_open: np.ndarray, open_c: np.ndarray, n_over: np.ndarray, over_c: np.ndarray) -> None:
        """The open and overdue features from the customer totals (cents) with the own invoice taken out (it is
        open at its cutoff), then the oldest overdue invoice."""
        p = self.p
        own_paid_c = self._own_sum("payments", p.pay_cents)
        own_open_c = np.where(self.own_issued, self._own_value(p.inv_cents, 0) - own_paid_c, 0)
        own_over = self.own_issued & (self._own_value(p.inv_due, NEVER) < self.t)
        self.own_paid_cents = own_paid_c
        self.out["n_open"] = n_open - self.own_issued
        self.out["open_amount"] = (open_c - own_open_c) / 100.0
        self.out["n_overdue"] = n_over - own_over
        self.out["overdue_amount"] = (over_c - np.where(own_over, own_open_c, 0)) / 100.0
        self._oldest_overdue()

    def _customer_total(self, cust: np.ndarray, day: np.ndarray, val: np.ndarray) -> np.ndarray:
        """Sum of ``val`` over the events of each row's customer dated up to its cutoff day."""
        st = Stream(cust, day)
        pre = st.prefix(st.take(val))
        return pre[st.upto(self.c, self.t)] - pre[st.start(self.c)]

    def _oldest_overdue(self) -> None:
        """max_days_overdue: the first invoice in due order with due < t and paid > t (not the own one)."""
        p = self.p
        st = Stream(p.inv_cust, p.inv_due)
        inv_pos = st.take(np.arange(len(p.inv_due)))
        smax = SparseMax(st.take(p.inv_paid).astype(np.float64))
        lo, hi = st.start(self.c), st.upto(self.c, self.t - 1)
        j = smax.first_above(lo, hi, self.t.astype(np.float64))
        is_own = (j < hi) & (_get(inv_pos, j, j < hi, -1) == self.own)
        j2 = smax.first_above(np.where(is_own, j + 1, j), hi, self.t.astype(np.float64))
        j = np.where(is_own, j2, j)
        found = j < hi
        self.out["max_days_overdue"] = self.t - _get(st.day, j, found, np.nan)

    # -- payments ----------------------------------------------------------------------------------------
    def _payments(self) -> None:
        p, s = self.p, self.p.payments
        first, hi = s.start(self.c), self.upto(s, 0)
        owner = s.take(p.pay_inv)
        last = walk_back(hi - 1, first, owner, np.where(self.has_own, self.own, -2))  # -1 = unallocated
        self.out["days_since_last_payment"] = self.t - _get(s.day, last, last >= 0, np.nan)
        own_n = self._own_sum("payments", None)
        if self.wants("share_partial_payments"):
            alloc = s.prefix(s.take(p.pay_inv >= 0))
            part = s.prefix(s.take(p.payment_partial))
            own_part = self._own_sum("payments", p.payment_partial)
            self.out["share_partial_payments"] = _div(
                part[hi] - part[first] - own_part, alloc[hi] - alloc[first] - own_n
            )
        n_pay = hi - first - own_n
        self.out["n_payments"] = n_pay
        if not any(self.wants(n) for n in ("pay_weekday", "pay_day_of_month")):
            return
        dates = pd.to_datetime(p.pay_day, unit="D")
        for name, codes, k in (
            ("pay_weekday", np.asarray(dates.day_of_week, dtype=np.int64), 7),
            ("pay_day_of_month", np.asarray(dates.day, dtype=np.int64) - 1, 31),
        ):
            ow = p.own_payments
            g = np.where(self.has_own, self.own, -1)
            own_hi, own_lo = ow.upto(g, self.t), ow.start(g)
            codes_s, codes_o = s.take(codes), ow.take(codes)
            counts = np.zeros((len(hi), k), dtype=np.int64)
            for c in range(k):  # one prefix count per code (7 or 31), never per row
                pre = s.prefix(codes_s == c)
                opre = ow.prefix(codes_o == c)
                counts[:, c] = pre[hi] - pre[first] - np.where(self.has_own, opre[own_hi] - opre[own_lo], 0)
            self._set_mode(name, counts, n_pay)

    def _set_mode(self, name: str, counts: np.ndarray, n_pay: np.ndarray) -> None:
        """The most frequent payment weekday (0 = Monday) or day of month (1..31) and its share of payments."""
        mode = counts.argmax(axis=1)
        top = counts[np.arange(len(mode)), mode]
        offset = 0 if name == "pay_weekday" else 1
        self.out[name] = np.where(n_pay > 0, mode + offset, np.nan)
        self.out[f"{name}_share"] = _div(top, n_pay)

    # -- contacts ----------------------------------------------------------------------------------------
    def _contacts(self) -> None:
        p, s = self.p, self.p.contacts
        hi = s.upto(self.c, self.t)
        lo = s.upto(self.c, self.t - 365)
        own_year = self._own_sum("contacts", None, lo_day=self.t - 365)
        self.out["n_reminders_365d"] = hi - lo - own_year
        # answered: a payment on the same invoice within [sent, sent + RESPONSE_DAYS]
        about = p.con_inv >= 0
        ps = p.own_payments
        g = np.where(about, p.con_inv, -1)
        n_pay = ps.upto(g, p.con_day + RESPONSE_DAYS) - ps.upto(g, p.con_day - 1)
        answered = about & (n_pay > 0)
        known_day = p.con_day + RESPONSE_DAYS
        rs = Stream(p.con_cust[about], known_day[about])
        own_rs = Stream(p.con_inv[about], known_day[about])
        g_own = np.where(self.has_own, self.own, -1)
        for suffix, sel in [("", np.ones(len(p.con_day), bool))] + [
            (f"_{ch}", p.con_channel == i) for i, ch in enumerate(REMINDER_CHANNELS)
        ]:
            m = sel[about]
            cnt = rs.prefix(rs.take(m))
            ans = rs.prefix(rs.take(m & answered[about]))
            h, f = rs.upto(self.c, self.t), rs.start(self.c)
            ocnt = own_rs.prefix(own_rs.take(m))
            oans = own_rs.prefix(own_rs.take(m & answered[about]))
            oh, of = own_rs.upto(g_own, self.t), own_rs.start(g_own)
            own_cnt = np.where(self.has_own, ocnt[oh] - ocnt[of], 0)
            own_ans = np.where(self.has_own, oans[oh] - oans[of], 0)
            self.out[f"reminder_response_7d{suffix}"] = _div(ans[h] - ans[f] - own_ans, cnt[h] - cnt[f] - own_cnt)

    # -- credit notes and plans -------------------------------------------------------------------------
    def _plans(self) -> None:
        p = self.p
        cn = Stream(p.cn_cust, p.cn_day)
        self.out["n_credit_notes_365d"] = cn.upto(self.c, self.t) - cn.upto(self.c, self.t - 365)
        pl = Stream(p.plan_cust, p.plan_created)
        self.out["n_plans"] = pl.upto(self.c, self.t) - pl.start(self.c)
        ins_cust = np.where(p.ins_plan >= 0, p.plan_cust[np.maximum(p.ins_plan, 0)], -1)
        sel = p.ins_missed & (p.ins_plan >= 0)
        ms = Stream(ins_cust[sel], p.ins_due[sel] + MISSED_GRACE_DAYS)
        self.out["n_installments_missed"] = ms.upto(self.c, self.t) - ms.start(self.c)
