"""The multi-cutoff kernel: the customer-history primitives for rows with any cutoff days.

An event table is sorted once by (customer, day) into a :class:`Stream`; each row finds the end of its
customer's events up to its day with one ``searchsorted``, and counts and sums come from prefix sums (integers
stay integers, so sums are exact), maxima from a sparse table, medians from a rolling median over the merged
stream of events and rows. A state (an open invoice) enters the stream at its start with its value and leaves
at its end with the value negated. The own invoice's events are found in a second stream sorted by invoice.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from payrisk.features._kernel import Kernel
from payrisk.features._prepared import Events, Prepared, ValueKey, _get
from payrisk.features._streams import NEVER, SparseMax, Stream, walk_back, window_median

__all__ = ["History", "Prepared"]


class History(Kernel):
    """Customer features for rows (customer code, cutoff day, own invoice position or -1), any cutoffs."""

    # -- the sorted views of a table, kept with it ---------------------------------------------------------------
    def _points(self, ev: Events, by_owner: bool = False) -> Stream:
        """The events sorted by (customer, day), or by (owner, day)."""
        cache = self._cache(ev)
        key = ("points", by_owner)
        if key not in cache:
            group = ev.owner if by_owner else ev.cust
            assert group is not None
            cache[key] = Stream(group, ev.day)
        return cache[key]

    def _changes(self, ev: Events, by_owner: bool = False) -> tuple[Stream, np.ndarray, np.ndarray]:
        """States as changes sorted by (customer or owner, day): the start of each, then the end of those that
        end; with the state behind each change and its sign (+1, -1)."""
        cache = self._cache(ev)
        key = ("changes", by_owner)
        if key not in cache:
            assert ev.end is not None
            group = ev.owner if by_owner else ev.cust
            assert group is not None
            ended = np.flatnonzero(ev.end < NEVER)
            src = np.concatenate([np.arange(ev.n), ended])
            sign = np.concatenate([np.ones(ev.n, np.int64), -np.ones(len(ended), np.int64)])
            s = Stream(group[src], np.concatenate([ev.day, ev.end[ended]]))
            cache[key] = (s, s.take(src), s.take(sign))
        return cache[key]

    def _upto(self, ev: Events, stream: Stream, offset: int = 0, group: np.ndarray | None = None) -> np.ndarray:
        """``stream.upto(rows' customers (or group), rows' cutoff + offset)``, kept with the table."""
        cache = self._cache(ev)
        key = ("upto", id(stream), offset)  # the stream lives in the same cache
        if key not in cache:
            cache[key] = stream.upto(self.c if group is None else group, self.t + offset)
        return cache[key]

    def _owners(self, ev: Events, s: Stream) -> np.ndarray:
        """The owner of each event, in stream order."""
        cache = self._cache(ev)
        if "owners" not in cache:
            assert ev.owner is not None
            cache["owners"] = s.take(ev.owner)
        return cache["owners"]

    # -- sums --------------------------------------------------------------------------------------------------
    def _range_sum(self, ev: Events, values: ValueKey, window: int | None, by_owner: bool) -> np.ndarray:
        """Sum over the events of each row's customer (or own invoice) that count at its cutoff."""
        group = np.where(self.has_own, self.own, -1) if by_owner else None
        if ev.end is None:
            s, src, sign = self._points(ev, by_owner), None, None
        elif window is None:
            s, src, sign = self._changes(ev, by_owner)
        else:
            raise NotImplementedError("a window over states")
        hi = self._upto(ev, s, 0, group)
        lo = s.start(self.c if group is None else group) if window is None else self._upto(ev, s, -window, group)
        if by_owner:
            lo = np.minimum(lo, hi)
        if values is None and sign is None:
            return hi - lo
        cache = self._cache(ev)
        key = ("prefix", by_owner, values)
        pre = cache.get(key)
        if pre is None:
            vals = ev.values(values)
            if vals is None:
                assert sign is not None
                pre = s.prefix(sign)
            else:
                vals = s.take(vals) if src is None else vals[src]
                vals = vals.astype(np.int64) if vals.dtype == bool else vals
                pre = s.prefix(vals if sign is None else vals * sign)
            if not isinstance(values, tuple):  # named columns are kept; codes are not
                cache[key] = pre
        return pre[hi] - pre[lo]

    def _sum(self, ev: Events, values: ValueKey, window: int | None) -> np.ndarray:
        return self._range_sum(ev, values, window, by_owner=False)

    def _own_sum(self, ev: Events, values: ValueKey, window: int | None) -> np.ndarray:
        return np.where(self.has_own, self._range_sum(ev, values, window, by_owner=True), 0)

    def _window(self, ev: Events, window: int | None) -> tuple[Stream, np.ndarray, np.ndarray]:
        s = self._points(ev)
        hi = self._upto(ev, s, 0)
        lo = s.start(self.c) if window is None else self._upto(ev, s, -window)
        return s, lo, hi

    # -- maxima, medians, weighted means --------------------------------------------------------------------
    def _maximum(self, ev: Events, values: str, window: int | None) -> np.ndarray:
        s, lo, hi = self._window(ev, window)
        cache = self._cache(ev)
        key = ("sparse_max", values)
        if key not in cache:
            vals = ev.values(values)
            assert vals is not None
            cache[key] = SparseMax(s.take(vals).astype(np.float64))
        return cache[key].query(lo, hi)

    def _median(self, ev: Events, values: str, window: int | None) -> np.ndarray:
        s = self._points(ev)
        vals = ev.values(values)
        assert vals is not None
        return window_median(s.group, s.day, s.take(vals), self.c, self.t, window)

    def _ewm(self, ev: Events, values: str, halflife: float) -> np.ndarray:
        """Weights 0.5 ** ((t - day) / halflife) are proportional to 2 ** ((day - first day) / halflife): the
        weighted sums accumulate per customer, and the mean at the row's last event is its value."""
        s, first, hi = self._window(ev, None)
        vals = ev.values(values)
        assert vals is not None
        first_day = s.day[s.start(s.group)] if s.n else np.zeros(0, np.int64)  # per customer, for scale
        weight = np.exp2((s.day - first_day) / halflife)
        wsum = pd.Series(weight).groupby(s.group).cumsum().to_numpy()
        wvsum = pd.Series(weight * s.take(vals)).groupby(s.group).cumsum().to_numpy()
        last = hi - 1
        ok = (hi > first) & (last >= 0)
        out = np.full(len(self.t), np.nan)
        out[ok] = wvsum[last[ok]] / wsum[last[ok]]
        return out

    # -- the latest and earliest event of another invoice ------------------------------------------------------
    def _latest(self, ev: Events) -> np.ndarray:
        if ev.end is not None:
            raise NotImplementedError("the latest of states")
        s, first, hi = self._window(ev, None)
        if ev.owner is None:
            last = np.where(hi - 1 >= first, hi - 1, -1)
        else:
            last = walk_back(hi - 1, first, self._owners(ev, s), self.own_key)
        return _get(s.day, last, last >= 0, np.nan)

    def _earliest(self, ev: Events) -> np.ndarray:
        s, first, hi = self._window(ev, None)
        if ev.end is None:  # the first event (skip the own one if it comes first)
            skip = np.zeros(len(first), bool)
            if ev.owner is not None:
                skip = (first < hi) & (_get(self._owners(ev, s), first, first < hi, -3) == self.own_key)
            idx = np.where(skip, first + 1, first)
            return _get(s.day, idx, idx < hi, np.nan)
        # the first state in start order still on at t (not ended by it), skipping the own one
        smax, tf = SparseMax(s.take(ev.end).astype(np.float64)), self.t.astype(np.float64)
        j = smax.first_above(first, hi, tf)
        if ev.owner is not None:
            is_own = (j < hi) & (_get(self._owners(ev, s), j, j < hi, -3) == self.own_key)
            j = np.where(is_own, smax.first_above(np.where(is_own, j + 1, j), hi, tf), j)
        return _get(s.day, j, j < hi, np.nan)
