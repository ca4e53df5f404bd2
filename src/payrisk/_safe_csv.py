"""CSV export that cannot smuggle spreadsheet formulas (CWE-1236, OWASP "CSV injection")."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralise_cell(value: object) -> object:
    """Prefix a text cell that a spreadsheet would read as a formula with a single quote.

    Plain numbers written as text (``-12.5``) cannot run anything and are left alone.

    Examples
    --------
    >>> neutralise_cell("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise_cell("-12.5")
    '-12.5'
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (values and column names) are safe to open in a spreadsheet."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype):
            out[col] = s.map(neutralise_cell, na_action="ignore").astype(object)
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    if not isinstance(out.index, pd.RangeIndex):
        out.index = out.index.map(lambda v: neutralise_cell(v) if isinstance(v, str) else v)
    return out


def to_safe_csv(df: pd.DataFrame, path: str | Path, index: bool = False) -> Path:
    """Write ``df`` as UTF-8 CSV with formula-looking text cells neutralised; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    neutralise_frame(df).to_csv(path, index=index)
    return path
