"""Event streams queried at many cutoffs at once: the vectorised core of the point-in-time features.

A :class:`Stream` holds events of one kind sorted by (group, day), where the group is a customer, an invoice
or a plan code. A cutoff row asks for the events of its group up to its day: one ``searchsorted`` gives the
index range, prefix sums give counts and sums, a sparse table gives maxima. Nothing loops over rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.indexers import BaseIndexer

NEVER = 10**7  #: day number standing for "never" (far after any real date)
_OFF = 1 << 16  #: day offset so that days from 1900 on are positive in the packed key
_STRIDE = np.int64(1 << 24)  #: room per group in the packed (group, day) key


def to_days(values: pd.Series | np.ndarray, missing: int = NEVER) -> np.ndarray:
    """Dates as whole days since 1970-01-01 (int64); missing dates become ``missing``."""
    arr = np.asarray(values, dtype="datetime64[ns]")
    out = arr.astype("datetime64[D]").astype(np.int64)
    out[np.isnat(arr)] = missing
    return out


def _pack(group: np.ndarray, day: np.ndarray) -> np.ndarray:
    d = np.clip(np.asarray(day, dtype=np.int64) + _OFF, 0, _STRIDE - 1)
    return np.asarray(group, dtype=np.int64) * _STRIDE + d


class Stream:
    """Events sorted by (group, day); ``take`` reorders per-event arrays into that order."""

    def __init__(self, group: np.ndarray, day: np.ndarray) -> None:
        group = np.asarray(group, dtype=np.int64)
        day = np.asarray(day, dtype=np.int64)
        key = _pack(group, day)
        self.order = np.argsort(key, kind="stable")  # one int64 sort (radix) instead of a two-key lexsort
        self.group = group[self.order]
        self.day = day[self.order]
        self.key = key[self.order]
        self.n = len(self.key)
        self._starts: np.ndarray | None = None

    def take(self, values: np.ndarray) -> np.ndarray:
        """Per-event values in stream order."""
        return np.asarray(values)[self.order]

    def upto(self, group: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Index one past the last event of ``group`` dated on or before ``day``."""
        return np.searchsorted(self.key, _pack(group, day), side="right")

    def any_between(self, group: np.ndarray, after: np.ndarray, upto: np.ndarray) -> np.ndarray:
        """Whether ``group`` has an event dated in (after, upto]: one ``searchsorted``, then a look at the next
        event."""
        nxt = self.upto(group, after)
        if self.n == 0:
            return np.zeros(len(nxt), bool)
        return (nxt < self.n) & (self.key[np.minimum(nxt, self.n - 1)] <= _pack(group, upto))

    def start(self, group: np.ndarray) -> np.ndarray:
        """Index of the first event of ``group`` (from a per-group table built once)."""
        group = np.asarray(group, dtype=np.int64)
        top = int(max(group.max(initial=-1), self.group.max(initial=-1))) + 2
        if self._starts is None or len(self._starts) < top:
            self._starts = np.searchsorted(self.key, np.arange(-1, top, dtype=np.int64) * _STRIDE, side="left")
        return self._starts[group + 1]

    def prefix(self, values: np.ndarray) -> np.ndarray:
        """Prefix sums (length n + 1) of per-event values already in stream order."""
        values = np.asarray(values)
        dtype = np.int64 if np.issubdtype(values.dtype, np.integer) or values.dtype == bool else np.float64
        out = np.zeros(len(values) + 1, dtype=dtype)
        np.cumsum(values, out=out[1:])
        return out


class SparseMax:
    """Range maximum over a fixed array in O(1) per query after an O(n log n) build."""

    def __init__(self, values: np.ndarray) -> None:
        values = np.asarray(values)
        self.levels = [values]
        k = 1
        while (1 << k) <= len(values):
            prev = self.levels[-1]
            half = 1 << (k - 1)
            self.levels.append(np.maximum(prev[: len(prev) - half], prev[half:]))
            k += 1

    def query(self, lo: np.ndarray, hi: np.ndarray, empty: float = np.nan) -> np.ndarray:
        """max(values[lo:hi]) per query; ``empty`` where hi <= lo."""
        lo = np.asarray(lo, dtype=np.int64)
        hi = np.asarray(hi, dtype=np.int64)
        out = np.full(len(lo), empty, dtype=np.float64)
        ok = hi > lo
        if not ok.any():
            return out
        length = hi[ok] - lo[ok]
        k = np.floor(np.log2(length)).astype(np.int64)
        res = np.empty(len(length), dtype=np.float64)
        for level in np.unique(k):
            m = k == level
            arr = self.levels[level]
            a = lo[ok][m]
            b = hi[ok][m] - (1 << level)
            res[m] = np.maximum(arr[a], arr[b])
        out[ok] = res
        return out

    def first_above(self, lo: np.ndarray, hi: np.ndarray, threshold: np.ndarray) -> np.ndarray:
        """Smallest index j in [lo, hi) with values[j] > threshold (per query), or hi when there is none."""
        pos = np.asarray(lo, dtype=np.int64).copy()
        hi = np.asarray(hi, dtype=np.int64)
        for level in range(len(self.levels) - 1, -1, -1):
            step = 1 << level
            arr = self.levels[level]
            can = pos + step <= hi
            idx = np.flatnonzero(can)
            if len(idx) == 0:
                continue
            block_ok = arr[pos[idx]] <= threshold[idx]  # the whole block stays at or below the threshold
            pos[idx[block_ok]] += step
        return pos


class _Bounds(BaseIndexer):
    """Rolling windows given by their start and end positions (pandas' rolling over variable windows, in C)."""

    def __init__(self, start: np.ndarray, end: np.ndarray) -> None:
        super().__init__()
        self.start, self.end = start.astype(np.int64), end.astype(np.int64)

    def get_window_bounds(
        self, num_values: int = 0, min_periods: int | None = None, center: bool | None = None,
        closed: str | None = None, step: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        return self.start, self.end


def window_median(
    ev_group: np.ndarray,
    ev_day: np.ndarray,
    ev_value: np.ndarray,
    row_group: np.ndarray,
    row_day: np.ndarray,
    window_days: int | None,
) -> np.ndarray:
    """Median of event values with day in (row_day - window, row_day] of the row's group (all days if None).

    Cutoff rows are merged into the event stream as value-less pseudo-events placed after the events of the
    same day, and pandas' rolling median (a skip list in C) runs over each group.
    """
    if len(row_day) == 0:
        return np.zeros(0)
    # only events that can fall in some row's window matter: a scoring run at one date skips years of history
    ev_group, ev_day, ev_value = (np.asarray(a) for a in (ev_group, ev_day, ev_value))
    keep = ev_day <= np.max(row_day)
    if window_days is not None:
        keep &= ev_day > np.min(row_day) - window_days
    keep &= np.isin(ev_group, np.unique(row_group))
    ev_group, ev_day, ev_value = ev_group[keep], ev_day[keep], ev_value[keep]
    row_day = np.asarray(row_day)
    n_ev, n_rows = len(ev_day), len(row_day)
    group = np.concatenate([np.asarray(ev_group, np.int64), np.asarray(row_group, np.int64)])
    day = np.concatenate([np.asarray(ev_day, np.int64), np.asarray(row_day, np.int64)])
    is_row = np.concatenate([np.zeros(n_ev, np.int8), np.ones(n_rows, np.int8)])
    value = np.concatenate([np.asarray(ev_value, np.float64), np.full(n_rows, np.nan)])
    order = np.lexsort((is_row, day, group))
    # one rolling pass over all groups: each position's window starts at the first event of its group inside
    # (day - window, day] (or at its group's first event), found on the packed key group * span + day
    span = int(day.max() - day.min()) + (window_days or 0) + 1
    key = (group[order] - group.min()) * span + (day[order] - day.min())
    floor = (key // span) * span  # the group's first possible key
    lowest = floor if window_days is None else np.maximum(floor, key - (window_days - 1))
    bounds = _Bounds(np.searchsorted(key, lowest, side="left"), np.arange(1, len(key) + 1, dtype=np.int64))
    out_sorted = pd.Series(value[order]).rolling(bounds, min_periods=1).median().to_numpy()
    result = np.empty(n_ev + n_rows)
    result[order] = out_sorted
    return result[n_ev:]


def walk_back(last: np.ndarray, first: np.ndarray, ev_owner: np.ndarray, own: np.ndarray) -> np.ndarray:
    """From index ``last`` step back while the event belongs to ``own``; -1 when none is left (>= first)."""
    idx = np.asarray(last, dtype=np.int64).copy()
    idx[idx < first] = -1
    active = np.flatnonzero(idx >= 0)
    while len(active):
        hit = ev_owner[idx[active]] == own[active]
        active = active[hit]
        if len(active) == 0:
            break
        idx[active] -= 1
        gone = idx[active] < first[active]
        idx[active[gone]] = -1
        active = active[~gone]
    return idx
