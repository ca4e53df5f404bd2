"""What a customer-history kernel offers the feature definitions: aggregates of event tables per cutoff row.

A row is (customer code ``c``, cutoff day ``t``, own invoice position ``own`` or -1). Every primitive
aggregates the events of the row's customer that count at ``t`` (see :class:`~payrisk.features._prepared.Events`)
and leaves the row's own invoice out. Two kernels implement the primitives: :class:`History` (any cutoffs:
sorted streams, ``searchsorted`` and prefix sums) and :class:`SnapshotHistory` (one cutoff day for all rows:
masks and ``bincount``). The features themselves are written once, against these primitives, in
``_customer.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from payrisk.features._customer import DEFINITIONS
from payrisk.features._prepared import Events, Prepared, ValueKey, exact
from payrisk.features._registry import feature_names


def _plain(ev: Events) -> Events:
    if ev.owner is not None or ev.end is not None:
        raise NotImplementedError(f"{ev.name}: this aggregate reads only tables of events without an owner")
    return ev


#: tables whose derived structures and results a kernel keeps at once: the features of a table come together in
#: the registry, so this bounds memory to a few tables' worth with little recomputation
KEEP_TABLES = 3


class Kernel:
    """Customer features for rows (customer code, cutoff day, own invoice position or -1).

    ``kernel[name]`` is the feature ``name`` (computed on first use, with what it needs); ``frame`` gives
    several as a DataFrame. Subclasses implement the underscored primitives. What a kernel derives from an event
    table (sorted streams, prefix sums, aggregates) is kept for the ``KEEP_TABLES`` tables used last; a later use
    of another table computes it again.

    Parameters
    ----------
    prep : Prepared
        The ledger as arrays.
    cust, day, own : ndarray
        Per row: customer code, cutoff day number and own invoice position (-1 for none).
    customers : (int, int), optional
        The rows' customers all have codes in ``[first, stop)``: the kernel reads only their events (a block of
        customers, so that what it derives is the block's size, not the ledger's).
    """

    def __init__(
        self,
        prep: Prepared,
        cust: np.ndarray,
        day: np.ndarray,
        own: np.ndarray,
        customers: tuple[int, int] | None = None,
    ) -> None:
        self.p = prep
        self.customers = customers
        self.c = np.asarray(cust, dtype=np.int64)
        self.t = np.asarray(day, dtype=np.int64)
        self.own = np.asarray(own, dtype=np.int64)
        self.has_own = self.own >= 0
        #: the row's own invoice as an event owner; -2 owns nothing (-1 owns unallocated payments)
        self.own_key = np.where(self.has_own, self.own, -2)
        self._memo: dict[Any, Any] = {}
        self._tables: dict[str, dict[Any, Any]] = {}  # per table, least recently used first

    # -- features ------------------------------------------------------------------------------------------
    def __getitem__(self, name: str) -> np.ndarray:
        return self.once(("feature", name), lambda: np.asarray(DEFINITIONS[name](self)))

    def frame(self, names: list[str] | None = None) -> pd.DataFrame:
        """The customer features (all, or ``names`` only) as a DataFrame in row order."""
        chosen = None if names is None else set(names)
        wanted = [n for n in feature_names("customer") if chosen is None or n in chosen]
        return pd.DataFrame({name: np.asarray(self[name], dtype=np.float32) for name in wanted})

    def once(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()``, kept under ``key`` for these rows (for definitions that share an intermediate)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def _table(self, table: str) -> tuple[Events, dict[Any, Any]]:
        """The event table and what this kernel keeps of it (built if not kept), made the most recent; the least
        recent beyond KEEP_TABLES let go."""
        cache = self._tables.pop(table, None)
        if cache is None:
            events = self.p.events(table)
            cache = {"events": events if self.customers is None else events.within(*self.customers)}
        self._tables[table] = cache
        while len(self._tables) > KEEP_TABLES:
            del self._tables[next(iter(self._tables))]
        return cache["events"], cache

    def _events(self, table: str) -> Events:
        return self._table(table)[0]

    def _cache(self, ev: Events) -> dict[Any, Any]:
        return self._table(ev.name)[1]

    def _once(self, table: str, key: Any, compute: Callable[[Events], Any]) -> Any:
        """``compute(events)``, kept with the table's other structures."""
        ev, cache = self._table(table)
        if key not in cache:
            cache[key] = compute(ev)
        return cache[key]

    # -- the primitives (kept per table; the kernels implement the underscored versions) ---------------------
    def total(self, table: str, values: ValueKey = None, window: int | None = None) -> np.ndarray:
        """Per row: the number of its customer's ``table`` events that count at ``t`` (or the sum of column
        ``values``), only those dated in (t - window, t] if ``window``; the own invoice's events left out.
        Integer (exact) for counts, flags and integer columns."""
        return self._once(
            table,
            ("total", values, window),
            lambda ev: self._sum(ev, values, window) - self.own_total(table, values, window),
        )

    def own_total(self, table: str, values: ValueKey = None, window: int | None = None) -> np.ndarray:
        """Per row: the same over the own invoice's ``table`` events alone (0 for rows without one)."""
        ev = self._events(table)
        if ev.owner is None:
            return np.zeros(len(self.c), dtype=np.int64 if exact(ev.values(values)) else np.float64)
        if ev.by_owner is not None:
            return self._own_event(ev, values, window)
        return self._own_sum(ev, values, window)

    def code_totals(self, table: str, codes: str, k: int, values: ValueKey = None) -> np.ndarray:
        """Per row and code (rows x k): ``total`` of the events whose column ``codes`` (0..k-1) is that code.

        Not kept (rows x k can be large): a definition keeps what it derives with ``once``.
        """
        return self._code_totals(self._events(table), codes, k, values)

    def maximum(self, table: str, values: str, window: int | None = None) -> np.ndarray:
        """Per row: the largest ``values`` of those events (NaN for none). Tables without owners only."""
        return self._once(table, ("maximum", values, window), lambda ev: self._maximum(_plain(ev), values, window))

    def median(self, table: str, values: str, window: int | None = None) -> np.ndarray:
        """Per row: the median of the non-missing ``values`` of those events (NaN for none)."""
        return self._once(table, ("median", values, window), lambda ev: self._median(_plain(ev), values, window))

    def ewm(self, table: str, values: str, halflife: float) -> np.ndarray:
        """Per row: the mean of ``values`` weighted by 0.5 ** ((t - day) / halflife) (NaN for no event)."""
        return self._once(table, ("ewm", values, halflife), lambda ev: self._ewm(_plain(ev), values, halflife))

    def latest(self, table: str) -> np.ndarray:
        """Per row: the day of the customer's latest ``table`` event that counts at ``t``, not the own
        invoice's (NaN for none). Tables of events, not states."""
        return self._once(table, ("latest",), self._latest)

    def earliest(self, table: str) -> np.ndarray:
        """Per row: the day of the customer's earliest ``table`` event (or state) that counts at ``t``, not the
        own invoice's (NaN for none)."""
        return self._once(table, ("earliest",), self._earliest)

    # -- shared pieces ------------------------------------------------------------------------------------------
    def _own_event(self, ev: Events, values: ValueKey, window: int | None) -> np.ndarray:
        """The own invoice's event of a one-per-invoice table when it counts at ``t``: its value, else 0."""
        assert ev.by_owner is not None
        idx = ev.by_owner[np.where(self.has_own, self.own, -1)]
        has = idx >= 0
        i = np.maximum(idx, 0)
        day = ev.day[i] if ev.n else np.zeros(len(idx), np.int64)
        counts = has & (day <= self.t)
        if window is not None:
            counts &= day > self.t - window
        if ev.end is not None and ev.n:
            counts &= ev.end[i] > self.t
        vals = ev.values(values)
        if vals is None:
            return counts.astype(np.int64)
        v = vals[i] if ev.n else np.zeros(len(idx), vals.dtype)
        return np.where(counts, v, 0).astype(np.int64 if exact(vals) else np.float64)

    def _code_totals(self, ev: Events, codes: str, k: int, values: ValueKey) -> np.ndarray:
        """One total per code (a column built on the fly, never kept)."""
        out = [
            self._sum(ev, ("code", codes, c, values), None) - self.own_total(ev.name, ("code", codes, c, values))
            for c in range(k)
        ]
        return np.stack(out, axis=1) if out else np.zeros((len(self.c), 0), np.int64)

    # -- implemented by the kernels ------------------------------------------------------------------------
    def _sum(self, ev: Events, values: ValueKey, window: int | None) -> np.ndarray:
        """Per row: the sum over its customer's events that count at ``t`` (own invoice included)."""
        raise NotImplementedError

    def _own_sum(self, ev: Events, values: ValueKey, window: int | None) -> np.ndarray:
        """Per row: the sum over the own invoice's events that count at ``t`` (many per invoice)."""
        raise NotImplementedError

    def _maximum(self, ev: Events, values: str, window: int | None) -> np.ndarray:
        raise NotImplementedError

    def _median(self, ev: Events, values: str, window: int | None) -> np.ndarray:
        raise NotImplementedError

    def _ewm(self, ev: Events, values: str, halflife: float) -> np.ndarray:
        raise NotImplementedError

    def _latest(self, ev: Events) -> np.ndarray:
        raise NotImplementedError

    def _earliest(self, ev: Events) -> np.ndarray:
        raise NotImplementedError
