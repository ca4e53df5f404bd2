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
