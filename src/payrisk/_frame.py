"""Small, fast DataFrame helpers shared by the modules (private)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def _arrow(values: Any) -> pa.Array | pa.ChunkedArray:
    if isinstance(values, pd.Series | pd.Index):
        values = values.array
    return pa.array(values) if not isinstance(values, pa.Array | pa.ChunkedArray) else values


def isin(values: Any, known: Any) -> np.ndarray:
    """Boolean array: which of ``values`` occur in ``known`` (missing values never do).

    Hash-based through Arrow, an order of magnitude faster than ``Series.isin`` on Arrow strings.

    Examples
    --------
    >>> isin(pd.Series(["a", "b", None], dtype="str"), pd.Series(["b"], dtype="str")).tolist()
    [False, True, False]
    """
    v = _arrow(values)
    k = _arrow(known)
    if isinstance(k, pa.ChunkedArray):
        k = k.combine_chunks()
    k = k.drop_null() if hasattr(k, "drop_null") else pc.drop_null(k)
    if len(v) == 0:
        return np.zeros(0, dtype=bool)
    if not v.type.equals(k.type):
        try:
            k = k.cast(v.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return pd.Series(np.asarray(values, dtype=object)).isin(list(np.asarray(known, dtype=object))).to_numpy()
    out = pc.is_in(v, value_set=k)
    return np.asarray(out.to_numpy(zero_copy_only=False), dtype=bool) & ~np.asarray(
        pc.is_null(v).to_numpy(zero_copy_only=False), dtype=bool
    )


def lookup(keys: Any, table: pd.Series) -> pd.Series:
    """``table`` (a Series indexed by unique ids) read at ``keys``; missing where a key is absent.

    Unlike ``Series.map(table)`` it keeps the dtype of ``table`` when ``table`` is empty.

    Examples
    --------
    >>> amounts = pd.Series([10.0, 20.0], index=pd.Index(["a", "b"], dtype="str"))
    >>> lookup(pd.Series(["b", "x"], dtype="str"), amounts).tolist()
    [20.0, nan]
    """
    if table.index.has_duplicates:
        table = table[~table.index.duplicated(keep="first")]
    idx = (
        keys if isinstance(keys, pd.Index) else pd.Index(np.asarray(keys) if not isinstance(keys, pd.Series) else keys)
    )
    out = table.reindex(idx)
    if isinstance(keys, pd.Series):
        out.index = keys.index
    else:
        out = out.reset_index(drop=True)
    return out


def positions(values: Any, index_values: Any) -> np.ndarray:
    """Position of each of ``values`` in ``index_values`` (first occurrence), -1 where absent or missing.

    A hash lookup in Arrow (``pyarrow.compute.index_in``), several times faster than ``Index.get_indexer`` on
    Arrow strings.

    Examples
    --------
    >>> positions(pd.Series(["b", "x", None], dtype="str"), pd.Series(["a", "b"], dtype="str")).tolist()
    [1, -1, -1]
    """
    v = _arrow(values)
    k = _arrow(index_values)
    if isinstance(k, pa.ChunkedArray):
        k = k.combine_chunks()
    if len(v) == 0:
        return np.zeros(0, dtype=np.int64)
    if not v.type.equals(k.type):
        try:
            k = k.cast(v.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return pd.Index(np.asarray(index_values, dtype=object)).get_indexer(np.asarray(values, dtype=object))
    out = pc.fill_null(pc.index_in(v, value_set=k), -1)
    return np.asarray(out.to_numpy(zero_copy_only=False), dtype=np.int64)


class DayIntervals:
    """Day intervals ``[start, end)`` per group, asked how many cover a day or begin in a span (vectorised).

    Days are whole numbers (e.g. days since 1970-01-01); groups are non-negative integer codes below 2**22.

    Examples
    --------
    >>> iv = DayIntervals(np.array([0, 0, 1]), np.array([10, 30, 5]), np.array([20, 40, 6]))
    >>> iv.covering(np.array([0, 0, 1]), np.array([15, 25, 5])).tolist()
    [1, 0, 1]
    >>> iv.starting(np.array([0, 0]), np.array([0, 10]), np.array([10, 30])).tolist()  # starts in (after, upto]
    [1, 1]
    >>> iv.next_start(np.array([0, 1]), np.array([10, 5])).tolist()  # the first start after the day (or -1)
    [1, -1]
    """

    _STRIDE = np.int64(1) << 40
    _OFFSET = np.int64(1) << 39

    def __init__(self, group: np.ndarray, start: np.ndarray, end: np.ndarray) -> None:
        group = np.asarray(group, dtype=np.int64)
        start = np.asarray(start, dtype=np.int64)
        order = np.lexsort((start, group))
        self.order = order  #: positions of the intervals sorted by (group, start): what ``next_start`` returns
        self._starts = self._key(group[order], start[order])
        self._ends = np.sort(self._key(group, np.asarray(end, dtype=np.int64)))

    def _key(self, group: np.ndarray, day: np.ndarray) -> np.ndarray:
        day = np.clip(np.asarray(day, dtype=np.int64), -self._OFFSET, self._OFFSET - 1) + self._OFFSET
        return np.asarray(group, dtype=np.int64) * self._STRIDE + day

    def _count(self, keys: np.ndarray, group: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Intervals of each ``group`` whose key (start or end) is on or before ``day``."""
        first = np.searchsorted(keys, np.asarray(group, dtype=np.int64) * self._STRIDE, side="left")
        return np.searchsorted(keys, self._key(group, day), side="right") - first

    def covering(self, group: np.ndarray, day: np.ndarray) -> np.ndarray:
        """How many of each group's intervals cover ``day`` (start <= day < end)."""
        return self._count(self._starts, group, day) - self._count(self._ends, group, day)

    def starting(self, group: np.ndarray, after: np.ndarray, upto: np.ndarray) -> np.ndarray:
        """How many of each group's intervals start in ``(after, upto]``."""
        return self._count(self._starts, group, upto) - self._count(self._starts, group, after)

    def next_start(self, group: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Position (into ``order``) of each group's first interval starting after ``day``; -1 where none."""
        at = np.searchsorted(self._starts, self._key(group, day), side="right")
        ok = at < len(self._starts)
        ok[ok] = self._starts[at[ok]] // self._STRIDE == np.asarray(group, dtype=np.int64)[ok]
        return np.where(ok, at, -1)
