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
