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
from payrisk.features._streams import NEVER, window_median

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

    def _own_codes(self, inv: np.ndarray, mask: np.ndarray, codes: np.ndarray | None, k: int = 1) -> np.ndarray:
        """Per row and code: how many events in ``mask`` on the row's own invoice carry each code (rows x k)."""
        slot, n = self._own_slot
        s = slot[inv]
        keep = mask & (s >= 0)
        key = s[keep] * k + (0 if codes is None else codes[keep])
        counts = np.bincount(key, minlength=n * k).reshape(n, k)
        if n == 0:
            return np.zeros((len(self.c), k), dtype=np.int64)
        return np.where(self.has_own[:, None], counts[np.maximum(slot[self.own], 0)], 0)

    def _own_sum(self, kind: str, values: np.ndarray | None, lo_day: np.ndarray | None = None) -> np.ndarray:
        p = self.p
        inv, day = (p.pay_inv, p.pay_day) if kind == "payments" else (p.con_inv, p.con_day)
        keep = day <= self.T
        if lo_day is not None and len(lo_day):
            keep &= day > int(lo_day[0])
        if not self.has_own.any():
            return np.zeros(len(self.c), dtype=np.int64)
        slot, n = self._own_slot
        s = slot[inv]
        keep &= s >= 0
        w = None if values is None else np.asarray(values, dtype=np.float64)[keep]
        sums = np.bincount(s[keep], weights=w, minlength=n)[np.maximum(slot[self.own], 0)]
        if values is None or np.asarray(values).dtype.kind in "iub":
            sums = np.round(sums).astype(np.int64)
        return np.where(self.has_own, sums, 0)

    def _customer_total(self, cust: np.ndarray, day: np.ndarray, val: np.ndarray) -> np.ndarray:
        known = (day <= self.T) & (cust >= 0)
        sums = self._count(cust[known], val[known])
        return np.round(sums).astype(np.int64) if val.dtype.kind in "iub" else sums

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
                self.out[f"days_late_median_{w}d"] = window_median(g, paid, late_days, self.c, self.t, w)
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
            self.out["days_reminder_to_settlement_median"] = window_median(g, paid, gap, self.c, self.t, None)

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
        days = p.pay_day[known].astype("datetime64[D]")
        weekday = (p.pay_day[known] + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
        day_of_month = (days - days.astype("datetime64[M]")).astype(np.int64)
        on_time = np.zeros(len(p.pay_inv), bool)
        on_time[known] = True
        for name, codes, k in (("pay_weekday", weekday, 7), ("pay_day_of_month", day_of_month, 31)):
            counts = np.bincount(g * k + codes, minlength=self.size * k).reshape(self.size, k)[self.c]
            all_codes = np.zeros(len(p.pay_inv), np.int64)
            all_codes[known] = codes
            counts = counts - self._own_codes(p.pay_inv, on_time, all_codes, k)
            mode = counts.argmax(axis=1)
            top = counts[np.arange(len(mode)), mode]
            offset = 0 if name == "pay_weekday" else 1
            self.out[name] = np.where(n_pay > 0, mode + offset, np.nan)
            self.out[f"{name}_share"] = _div(top, n_pay)

    def _contacts(self) -> None:
        p = self.p
        cust_ok = p.con_cust >= 0
        year = cust_ok & (p.con_day <= self.T) & (p.con_day > self.T - 365)
        own_year = self._own_sum("contacts", None, lo_day=self.t - 365)
        self.out["n_reminders_365d"] = self._count(p.con_cust[year]) - own_year
        # answered: a payment on the same invoice within [sent, sent + RESPONSE_DAYS], known RESPONSE_DAYS later
        about = p.con_inv >= 0
        ps = p.own_payments
        g = np.where(about, p.con_inv, -1)
        answered = about & (ps.upto(g, p.con_day + RESPONSE_DAYS) - ps.upto(g, p.con_day - 1) > 0)
        known = about & cust_ok & (p.con_day + RESPONSE_DAYS <= self.T)
        for suffix, sel in [("", known)] + [
            (f"_{ch}", known & (p.con_channel == i)) for i, ch in enumerate(REMINDER_CHANNELS)
        ]:
            hit = sel & answered
            cnt = self._count(p.con_cust[sel]) - self._own_codes(p.con_inv, sel, None)[:, 0]
            ans = self._count(p.con_cust[hit]) - self._own_codes(p.con_inv, hit, None)[:, 0]
            self.out[f"reminder_response_7d{suffix}"] = _div(ans, cnt)
