"""CSV export that cannot smuggle spreadsheet formulas (CWE-1236, OWASP "CSV injection")."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "\uff1d", "\uff0b", "\uff0d", "\uff20")  # and full-width
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_LEADING_SPACE = " \u00a0\u2007\u202f\u3000\f\v"


def neutralise_cell(value: object) -> object:
    """Prefix a text cell that a spreadsheet would read as a formula with a single quote.

    Plain numbers written as text (``-12.5``) cannot run anything and are left alone.

    Examples
    --------
    >>> neutralise_cell("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise_cell("-12.5")
    '-12.5'
    >>> neutralise_cell("\u00a0=1+1"), neutralise_cell("\uff1dSUM(A1)")
    ("'\xa0=1+1", "'\uff1dSUM(A1)")
    """
    if not isinstance(value, str):
        return value
    # a spreadsheet skips leading spaces (no-break ones too) before it looks for a formula
    head = value.lstrip(_LEADING_SPACE)
    if (value.startswith(_FORMULA_START) or head.startswith(_FORMULA_START)) and not _PLAIN_NUMBER.match(head):
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


#: how a CSV is written: ``standard`` (UTF-8, ``,``, decimal point) or ``excel-eu`` (what Excel opens right in
#: Dutch, German and French settings: a UTF-8 byte-order mark, ``;`` between fields, decimal comma)
CSV_DIALECTS = {"standard": {"sep": ",", "decimal": ".", "encoding": "utf-8"},
                "excel-eu": {"sep": ";", "decimal": ",", "encoding": "utf-8-sig"}}  # fmt: skip


def to_safe_csv(df: pd.DataFrame, path: str | Path, index: bool = False, dialect: str = "standard") -> Path:
    """Write ``df`` as CSV with formula-looking text cells neutralised, in ``dialect`` (``standard`` or
    ``excel-eu``); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    d = CSV_DIALECTS[dialect]
    neutralise_frame(df).to_csv(path, index=index, sep=d["sep"], decimal=d["decimal"], encoding=d["encoding"])
    return path
