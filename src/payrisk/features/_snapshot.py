"""The one-day kernel: the customer-history primitives when every row shares one cutoff day (a scoring run).

With one cutoff ``T``, "the events of the row's customer that count at its day" is a mask on the event table,
and every count, sum and maximum is a ``bincount`` or ``maximum.at`` over customer codes: no sort by
(customer, day), no ``searchsorted`` per row. The own invoice is left out as in :class:`History`: sums subtract
the own invoice's events; "the latest event of another invoice" keeps, per customer, the best value and the
best value of any other invoice. The features are the same definitions (``_customer.py``) as for
:class:`History`; the tests hold both kernels to the same naive definitions and to each other.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from payrisk.features._history import History
from payrisk.features._kernel import Kernel
from payrisk.features._prepared import Events, Prepared, ValueKey, _div, exact

__all__ = ["SnapshotHistory", "history", "one_day"]

_NOBODY = np.iinfo(np.int64).min


def history(
    prep: Prepared, cust: np.ndarray, day: np.ndarray, own: np.ndarray, customers: tuple[int, int] | None = None
) -> Kernel:
    """The history block for these rows: the one-day kernel when every row has the same cutoff day."""
    day = np.asarray(day, dtype=np.int64)
    return (SnapshotHistory if one_day(day) else History)(prep, cust, day, own, customers)


def one_day(day: np.ndarray) -> bool:
    """Whether every row has the same cutoff day (the one-day kernel's case)."""
    return len(day) > 0 and bool((day == day[0]).all())


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


class SnapshotHistory(Kernel):
    """Customer features for rows that all share one cutoff day."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # Kernel's parameters
        super().__init__(*args, **kwargs)
        self.T = int(self.t[0])
        self.size = max(len(self.p.cust_index), int(self.c.max(initial=-1)) + 1)

    # -- which events count at T ---------------------------------------------------------------------------
    def _counting(self, ev: Events, window: int | None) -> np.ndarray:
        """Indices of the events of known customers that count at T (dated in (T - window, T] if window)."""

        cache = self._cache(ev)
        if ("counting", window) not in cache:
            keep = (ev.day <= self.T) & (ev.cust >= 0)
            if window is not None:
                keep &= ev.day > self.T - window
            if ev.end is not None:
                keep &= ev.end > self.T
            cache["counting", window] = np.flatnonzero(keep)
        return cache["counting", window]

    def _per_row(self, group: np.ndarray, weights: np.ndarray | None, is_exact: bool) -> np.ndarray:
        """Per row: the number (or the sum of ``weights``) of the given events of its customer."""
        w = None if weights is None else np.asarray(weights, dtype=np.float64)
        sums = np.bincount(group, weights=w, minlength=self.size)[self.c]
        return np.round(sums).astype(np.int64) if is_exact and w is not None else sums

    def _sum(self, ev: Events, values: ValueKey, window: int | None) -> np.ndarray:
        sel = self._counting(ev, window)
        vals = ev.values(values)
        return self._per_row(ev.cust[sel], None if vals is None else vals[sel], exact(vals))

    # -- the rows' own invoices: a few events among millions ----------------------------------------------------
    @cached_property
    def _own_slot(self) -> tuple[np.ndarray, int]:
        """Invoice position -> slot of the distinct own invoices (-1 for the others), and their number."""
        owners = np.unique(self.own[self.has_own])
        slot = np.full(len(self.p.inv_issue) + 1, -1, dtype=np.int64)  # the extra last slot absorbs position -1
        slot[owners] = np.arange(len(owners))
        return slot, len(owners)

    def _own_events(self, ev: Events) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the events on the rows' own invoices, and the slot of their invoice."""

        cache = self._cache(ev)
        if "own_events" not in cache:
            assert ev.owner is not None
            slot = self._own_slot[0][ev.owner]
            idx = np.flatnonzero(slot >= 0)
            cache["own_events"] = (idx, slot[idx])
        return cache["own_events"]

    def _own_table(
        self, ev: Events, values: ValueKey, window: int | None, codes: np.ndarray | None = None, k: int = 1
    ) -> np.ndarray:
        """Per row and code (rows x k): the number (or sum of ``values``) of the own invoice's events that count
        at T, by ``codes`` (per event, 0..k-1) if given."""
        idx, s = self._own_events(ev)
        day = ev.day[idx]
        keep = day <= self.T
        if window is not None:
            keep &= day > self.T - window
        if ev.end is not None:
            keep &= ev.end[idx] > self.T
        idx, s = idx[keep], s[keep]
        key = s * k + (0 if codes is None else codes[idx])
        vals = ev.values(values)
        w = None if vals is None else vals[idx].astype(np.float64)
        slot, n = self._own_slot
        if n == 0:
            return np.zeros((len(self.c), k), dtype=np.int64 if exact(vals) else np.float64)
        table = np.bincount(key, weights=w, minlength=n * k).reshape(n, k)
        if w is not None and exact(vals):
            table = np.round(table).astype(np.int64)
        return np.where(self.has_own[:, None], table[np.maximum(slot[self.own], 0)], 0)

    def _own_sum(self, ev: Events, values: ValueKey, window: int | None) -> np.ndarray:
        return self._own_table(ev, values, window)[:, 0]

    def _code_totals(self, ev: Events, codes: str, k: int, values: ValueKey) -> np.ndarray:
        """One bincount over (customer, code) for all the codes at once."""
        sel = self._counting(ev, None)
        code = ev.values(codes)
        vals = ev.values(values)
        assert code is not None
        if vals is not None and vals.dtype == bool:  # a flag selects events
            sel = sel[vals[sel]]
            vals = None
        w = None if vals is None else vals[sel].astype(np.float64)
        table_ = np.bincount(ev.cust[sel] * k + code[sel], weights=w, minlength=self.size * k)
        if w is not None and exact(vals):
            table_ = np.round(table_).astype(np.int64)
        counts = table_.reshape(self.size, k)[self.c]
        if ev.owner is None:
            return counts
        if ev.by_owner is not None:
            return counts - np.stack([self.own_total(ev.name, ("code", codes, c, values)) for c in range(k)], axis=1)
        return counts - self._own_table(ev, values, None, codes=code, k=k)

    # -- maxima, medians, weighted means --------------------------------------------------------------------
    def _maximum(self, ev: Events, values: str, window: int | None) -> np.ndarray:
        sel = self._counting(ev, window)
        vals = ev.values(values)
        assert vals is not None
        return _finite(_group_max(ev.cust[sel], vals[sel].astype(np.float64), self.size)[self.c])

    def _median(self, ev: Events, values: str, window: int | None) -> np.ndarray:
        sel = self._counting(ev, window)
        vals = ev.values(values)
        assert vals is not None
        return _group_median(ev.cust[sel], vals[sel].astype(np.float64), self.size)[self.c]

    def _ewm(self, ev: Events, values: str, halflife: float) -> np.ndarray:
        sel = self._counting(ev, None)
        vals = ev.values(values)
        assert vals is not None
        g = ev.cust[sel]
        weight = np.exp2((ev.day[sel] - self.T) / halflife)
        return _div(self._per_row(g, weight * vals[sel], False), self._per_row(g, weight, False))

    # -- the latest and earliest event of another invoice ------------------------------------------------------
    def _best_other(self, ev: Events, value: np.ndarray) -> np.ndarray:
        """Per row: the largest ``value`` among the counting events of its customer not owned by its own invoice
        (-inf if none)."""
        sel = self._counting(ev, None)
        g, v = ev.cust[sel], np.asarray(value[sel], dtype=np.float64)
        if ev.owner is None:
            return _group_max(g, v, self.size)[self.c]
        best, holder, second = _top_two(g, ev.owner[sel], v, self.size)
        return np.where(holder[self.c] == self.own_key, second[self.c], best[self.c])

    def _latest(self, ev: Events) -> np.ndarray:
        if ev.end is not None:
            raise NotImplementedError("the latest of states")
        return _finite(self._best_other(ev, ev.day))

    def _earliest(self, ev: Events) -> np.ndarray:
        return _finite(-self._best_other(ev, -ev.day))
