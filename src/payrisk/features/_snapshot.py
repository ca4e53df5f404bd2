"""The customer-history block when every row shares one cutoff day (a scoring run, a date cutoff).

With one cutoff, "the events of the row's customer up to its day" is a mask on the event tables, and every
count, sum and maximum is a ``bincount`` or ``maximum.at`` over customer codes: no sort by (customer, day), no
``searchsorted`` per row. The own invoice is left out as in :class:`History`: sums subtract the own invoice's
events; "the latest event of another invoice" keeps, per customer, the best value and the best value of any
other invoice. The multi-cutoff :class:`History` stays the reference; the tests hold both to the same naive
definitions.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from payrisk.features._history import History, Prepared, _div
from payrisk.features._registry import EWM_HALFLIFE_DAYS, REMINDER_CHANNELS, RESPONSE_DAYS, WINDOWS
from payrisk.features._streams import NEVER, Stream

_NOBODY = np.iinfo(np.int64).min


def history(prep: Prepared, cust: np.ndarray, day: np.ndarray, own: np.ndarray) -> History:
    """The history block for these rows: the one-day kernel when every row has the same cutoff day."""
    day = np.asarray(day, dtype=np.int64)
    one_day = len(day) > 0 and bool((day == day[0]).all())
    return (SnapshotHistory if one_day else History)(prep, cust, day, own)


def _group_max(group: np.ndarray, value: np.ndarray, size: int) -> np.ndarray:
    out = np.full(size, -np.inf)
    np.maximum.at(out, group, value)
    return out


def _top_two(group: np.ndarray, owner: np.ndarray, value: np.ndarray, size: int) -> tuple[np.ndarray, ...]:
    """Per group: the largest value, the owner holding it, and the largest value of any other owner."""
    best = _group_max(group, value, size)
    holder = np.full(size, _NOBODY, dtype=np.int64)
    at = value == best[group]
    np.maximum.at(holder, group[at], owner[at])
    other = owner != holder[group]
    return best, holder, _group_max(group[other], value[other], size)


def _group_median(group: np.ndarray, days: np.ndarray, size: int) -> np.ndarray:
    """Per group, the median of its non-missing whole-day values (NaN for none).

    (group, days) are packed in one int64 key and sorted: no argsort, no groupby.
    """
    ok = ~np.isnan(days)
    g = group[ok].astype(np.int64)
    key = (g << 32) + (days[ok].astype(np.int64) + 2**31)
    key.sort()
    v = ((key & 0xFFFFFFFF) - 2**31).astype(np.float64)
    n = np.bincount(g, minlength=size)
    start = np.cumsum(n) - n
    out = np.full(size, np.nan)
    has = n > 0
    out[has] = (v[start[has] + (n[has] - 1) // 2] + v[start[has] + n[has] // 2]) / 2
    return out


def _finite(values: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values), values, np.nan)


class SnapshotHistory(History):
    """:class:`History` for rows that all share one cutoff day."""

    def __init__(self, prep: Prepared, cust: np.ndarray, day: np.ndarray, own: np.ndarray) -> None:
        super().__init__(prep, cust, day, own)
        self.T = int(self.t[0])
        self.size = max(len(prep.cust_index), int(self.c.max(initial=-1)) + 1)

    # -- reductions over customers and over the rows' own invoices --------------------------------------------
    def _count(self, group: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Per row: the number (or the sum of ``weights``) of the given events of its customer."""
        w = None if weights is None else np.asarray(weights, dtype=np.float64)
        return np.bincount(group, weights=w, minlength=self.size)[self.c]

    def _max(self, group: np.ndarray, value: np.ndarray) -> np.ndarray:
        return _finite(_group_max(group, np.asarray(value, dtype=np.float64), self.size)[self.c])

    def _best_other(self, group: np.ndarray, owner: np.ndarray, value: np.ndarray) -> np.ndarray:
        """Per row: the largest ``value`` among its customer's events not owned by its own invoice (-inf if none)."""
        best, holder, second = _top_two(group, owner, np.asarray(value, dtype=np.float64), self.size)
        own = np.where(self.has_own, self.own, -2)  # -1 owns unallocated events, -2 nothing
        return np.where(holder[self.c] == own, second[self.c], best[self.c])

    @cached_property
    def _own_slot(self) -> tuple[np.ndarray, int]:
        """Invoice position -> slot of the distinct own invoices (-1 for the others), and their number."""
        owners = np.unique(self.own[self.has_own])
        slot = np.full(len(self.p.inv_issue) + 1, -1, dtype=np.int64)  # the extra last slot absorbs position -1
        slot[owners] = np.arange(len(owners))
        return slot, len(owners)

    def _own_events(self, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the ``kind`` events ("payments" or "contacts") on the rows' own invoices, and the slot of
        their invoice (a few among millions: every own-invoice sum below reads only these)."""
        cache = self.__dict__.setdefault("_own_event_cache", {})
        if kind not in cache:
            inv = self.p.pay_inv if kind == "payments" else self.p.con_inv
            slot = self._own_slot[0][inv]
            idx = np.flatnonzero(slot >= 0)
            cache[kind] = (idx, slot[idx])
        return cache[kind]

    def _own_table(
        self,
        kind: str,
        weights: np.ndarray | None = None,
        codes: np.ndarray | None = None,
        k: int = 1,
        mask: np.ndarray | None = None,
        after: int | None = None,
    ) -> np.ndarray:
        """Per row and code (rows x k): the number (or sum of ``weights``) of the ``kind`` events on the row's own
        invoice dated in (after, T], in ``mask`` if given, by ``codes`` (per event, 0..k-1) if given."""
        p = self.p
        idx, s = self._own_events(kind)
        day = (p.pay_day if kind == "payments" else p.con_day)[idx]
        keep = (day <= self.T) & (True if after is None else day > after) & (True if mask is None else mask[idx])
        idx, s = idx[keep], s[keep]
        key = s * k + (0 if codes is None else codes[idx])
        w = None if weights is None else np.asarray(weights, dtype=np.float64)[idx]
        slot, n = self._own_slot
        if n == 0:
            return np.zeros((len(self.c), k))
        table = np.bincount(key, weights=w, minlength=n * k).reshape(n, k)
        return np.where(self.has_own[:, None], table[np.maximum(slot[self.own], 0)], 0)

    def _own_sum(self, kind: str, values: np.ndarray | None, lo_day: np.ndarray | None = None) -> np.ndarray:
        after = int(lo_day[0]) if lo_day is not None and len(lo_day) else None
        sums = self._own_table(kind, weights=values, after=after)[:, 0]
        exact = values is None or np.asarray(values).dtype.kind in "iub"
        return np.round(sums).astype(np.int64) if exact else sums

    def _cents(self, group: np.ndarray, cents: np.ndarray) -> np.ndarray:
        return np.round(self._count(group, cents)).astype(np.int64)

    # -- the blocks ------------------------------------------------------------------------------------------
    def _issues(self) -> None:
        p = self.p
        issued = np.flatnonzero((p.inv_issue <= self.T) & (p.inv_cust >= 0))
        g, issue = p.inv_cust[issued], p.inv_issue[issued]
        n = self._count(g) - self.own_issued
        self.out["n_invoices"] = n
        if self.wants("days_since_last_invoice"):
            self.out["days_since_last_invoice"] = self.t - _finite(self._best_other(g, issued, issue))
        if self.wants("tenure_days"):
            first = -self._best_other(g, issued, -issue)
            first_issue = np.where(np.isfinite(first), first, NEVER).astype(np.int64)
            created = p.cust_created[self.c]
            start = np.minimum(first_issue, np.where(created <= self.t, created, NEVER))
            self.out["tenure_days"] = np.where(start < NEVER, self.t - start, np.nan)
        if self.wants("share_disputed"):
            disputed = p.inv_dispute_day[issued] <= self.T
            own_disp = self.own_issued & (self._own_value(p.inv_dispute_day, NEVER) <= self.t)
            self.out["share_disputed"] = _div(self._count(g[disputed]) - own_disp, n)

    @cached_property
    def log_amount_mean(self) -> np.ndarray:
        p = self.p
        issued = (p.inv_issue <= self.T) & (p.inv_cust >= 0)
        g = p.inv_cust[issued]
        own_log = np.where(self.own_issued, np.log(self._own_value(p.inv_amount, 1.0)), 0.0)
        return _div(self._count(g, np.log(p.inv_amount[issued])) - own_log, self._count(g) - self.own_issued)

    @cached_property
    def invoiced_365(self) -> np.ndarray:
        p = self.p
        year = (p.inv_issue <= self.T) & (p.inv_issue > self.T - 365) & (p.inv_cust >= 0)
        own_in_year = self.own_issued & (self.own_issue > self.t - 365)
        own_cents = np.where(own_in_year, self._own_value(p.inv_cents, 0), 0)
        return (np.round(self._count(p.inv_cust[year], p.inv_cents[year])) - own_cents) / 100.0

    def _settled(self) -> None:
        p = self.p
        inv = np.flatnonzero((p.inv_paid <= self.T) & (p.inv_cust >= 0))
        g, paid = p.inv_cust[inv], p.inv_paid[inv]
        late_days = (paid - p.inv_due[inv]).astype(np.float64)
        n = self._count(g)
        self.out["n_settled"] = n
        self.out["share_late"] = _div(self._count(g, late_days > 0), n)
        self.out["days_late_mean"] = _div(self._count(g, late_days), n)
        windowed = any(
            self.wants(f"{k}_{w}d")
            for k in ("n_settled", "days_late_mean", "share_late", "days_late_max")
            for w in WINDOWS
        )
        maxima = windowed or self.wants("days_late_max")
        if maxima:
            self.out["days_late_max"] = self._max(g, late_days)
        for w in WINDOWS:
            if windowed or self.wants("lateness_trend"):
                m = paid > self.T - w
                nw = self._count(g[m])
                self.out[f"n_settled_{w}d"] = nw
                self.out[f"days_late_mean_{w}d"] = _div(self._count(g[m], late_days[m]), nw)
                self.out[f"share_late_{w}d"] = _div(self._count(g[m], late_days[m] > 0), nw)
                if maxima:
                    self.out[f"days_late_max_{w}d"] = self._max(g[m], late_days[m])
            if self.wants(f"days_late_median_{w}d"):
                m = paid > self.T - w
                self.out[f"days_late_median_{w}d"] = _group_median(g[m], late_days[m], self.size)[self.c]
        if self.wants("lateness_trend"):
            self.out["lateness_trend"] = self.out[f"days_late_mean_{WINDOWS[0]}d"] - self.out["days_late_mean"]
        if self.wants("days_late_ewm"):
            weight = np.exp2((paid - self.T) / EWM_HALFLIFE_DAYS)
            self.out["days_late_ewm"] = _div(self._count(g, weight * late_days), self._count(g, weight))
        if self.wants("days_reminder_to_settlement_median"):
            about = np.flatnonzero(p.con_inv >= 0)
            before = about[p.con_day[about] <= p.inv_paid[p.con_inv[about]]]
            last = np.full(len(p.inv_paid), -np.inf)
            np.maximum.at(last, p.con_inv[before], p.con_day[before].astype(np.float64))
            gap = _finite(paid - last[inv])
            self.out["days_reminder_to_settlement_median"] = _group_median(g, gap, self.size)[self.c]

    def _open(self) -> None:
        p, T = self.p, self.T
        is_open = (p.inv_issue <= T) & (p.inv_paid > T) & (p.inv_cust >= 0)
        is_over = is_open & (p.inv_due < T)
        # payments made so far on invoices still open (a payment on a settled invoice is inside its settlement)
        pinv = np.maximum(p.pay_inv, 0)
        paid = (p.pay_inv >= 0) & (p.pay_day <= T) & (p.pay_cust >= 0) & (p.inv_paid[pinv] > T)
        paid_over = paid & (p.inv_due[pinv] < T)
        g, pg = p.inv_cust, p.pay_cust
        self._set_open(
            self._count(g[is_open]),
            self._cents(g[is_open], p.inv_cents[is_open]) - self._cents(pg[paid], p.pay_cents[paid]),
            self._count(g[is_over]),
            self._cents(g[is_over], p.inv_cents[is_over]) - self._cents(pg[paid_over], p.pay_cents[paid_over]),
        )

    def _oldest_overdue(self) -> None:
        p = self.p
        over = np.flatnonzero((p.inv_due < self.T) & (p.inv_paid > self.T) & (p.inv_cust >= 0))
        first_due = -self._best_other(p.inv_cust[over], over, -p.inv_due[over])
        self.out["max_days_overdue"] = self.t - _finite(first_due)

    def _payments(self) -> None:
        p = self.p
        known = np.flatnonzero((p.pay_day <= self.T) & (p.pay_cust >= 0))
        g, inv = p.pay_cust[known], p.pay_inv[known]
        last = self._best_other(g, inv, p.pay_day[known])
        self.out["days_since_last_payment"] = self.t - _finite(last)
        own_n = self._own_sum("payments", None)
        if self.wants("share_partial_payments"):
            own_part = self._own_sum("payments", p.payment_partial)
            alloc, part = self._count(g, inv >= 0), self._count(g, p.payment_partial[known])
            self.out["share_partial_payments"] = _div(part - own_part, alloc - own_n)
        n_pay = self._count(g) - own_n
        self.out["n_payments"] = n_pay
        if not any(self.wants(n) for n in ("pay_weekday", "pay_day_of_month")):
            return
        days = p.pay_day.astype("datetime64[D]")
        weekday = (p.pay_day + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
        day_of_month = (days - days.astype("datetime64[M]")).astype(np.int64)
        for name, codes, k in (("pay_weekday", weekday, 7), ("pay_day_of_month", day_of_month, 31)):
            counts = np.bincount(g * k + codes[known], minlength=self.size * k).reshape(self.size, k)[self.c]
            counts = counts - self._own_table("payments", codes=codes, k=k).astype(np.int64)
            self._set_mode(name, counts, n_pay)

    def _contacts(self) -> None:
        p = self.p
        cust_ok = p.con_cust >= 0
        year = cust_ok & (p.con_day <= self.T) & (p.con_day > self.T - 365)
        own_year = self._own_sum("contacts", None, lo_day=self.t - 365)
        self.out["n_reminders_365d"] = self._count(p.con_cust[year]) - own_year
        # answered: a payment on the same invoice within [sent, sent + RESPONSE_DAYS], known RESPONSE_DAYS later
        known = np.flatnonzero((p.con_inv >= 0) & cust_ok & (p.con_day + RESPONSE_DAYS <= self.T))
        inv, sent = p.con_inv[known], p.con_day[known]
        dunned = np.zeros(len(p.inv_issue) + 1, bool)  # the extra last slot absorbs position -1
        dunned[inv] = True
        pay = np.flatnonzero(dunned[p.pay_inv] & (p.pay_day <= self.T))  # only payments that can answer
        ps = Stream(p.pay_inv[pay], p.pay_day[pay])
        answered = ps.upto(inv, sent + RESPONSE_DAYS) - ps.upto(inv, sent - 1) > 0
        # per customer and channel (0: any other channel, then REMINDER_CHANNELS): reminders and answered ones
        k = len(REMINDER_CHANNELS) + 1
        code = p.con_channel[known] + 1
        g = p.con_cust[known]
        mask = np.zeros(len(p.con_inv), bool)
        mask[known] = True
        codes = np.zeros(len(p.con_inv), np.int64)
        codes[known] = code
        hit = mask.copy()
        hit[known] = answered
        sent_n = np.bincount(g * k + code, minlength=self.size * k).reshape(self.size, k)[self.c]
        answered_n = np.bincount(g[answered] * k + code[answered], minlength=self.size * k).reshape(self.size, k)
        sent_n = sent_n - self._own_table("contacts", codes=codes, k=k, mask=mask)
        answered_n = answered_n[self.c] - self._own_table("contacts", codes=codes, k=k, mask=hit)
        self.out["reminder_response_7d"] = _div(answered_n.sum(axis=1), sent_n.sum(axis=1))
        for i, ch in enumerate(REMINDER_CHANNELS, start=1):
            self.out[f"reminder_response_7d_{ch}"] = _div(answered_n[:, i], sent_n[:, i])
