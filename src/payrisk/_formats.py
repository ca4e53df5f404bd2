"""How the values of a column are written: the date format and the decimal and thousands separators of amounts,
inferred only where the values leave exactly one reading (private; vectorised over the distinct values)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "DATE_FORMATS",
    "Reading",
    "Separators",
    "date_part",
    "infer_date_format",
    "infer_separators",
    "parse_dates",
    "settle_date_formats",
]

_DAY_FIRST = ("%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%y", "%d/%m/%y", "%d.%m.%y", "%d%m%Y", "%d%m%y")
_MONTH_FIRST = ("%m-%d-%Y", "%m/%d/%Y", "%m.%d.%Y", "%m-%d-%y", "%m/%d/%y", "%m%d%Y", "%m%d%y")
_YEAR_FIRST = ("%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y/%d/%m", "%y%m%d")
_NAMED = ("%d-%b-%Y", "%d %b %Y", "%d-%b-%y", "%b %d, %Y", "%d %B %Y", "%B %d, %Y")
#: the formats tried when a date column is not ISO 8601 (each also with a time of day after it)
DATE_FORMATS: tuple[str, ...] = (*_DAY_FIRST, *_MONTH_FIRST, *_YEAR_FIRST, *_NAMED)
_TIMES = (" %H:%M", " %H:%M:%S", "T%H:%M:%S", " %I:%M %p", " %I:%M:%S %p")


@dataclass(frozen=True)
class Reading:
    """What a column's values were read as: ``value`` (a date format, or ``decimal=, thousands=``), and why."""

    value: str | None
    evidence: str
    candidates: tuple[str, ...] = ()
    #: True when the format (or each candidate) reads every value
    complete: bool = False
    #: False when formats of another day and month order read the values to the same dates (``05/05/2023``): the
    #: column is read, but says nothing of the order the table's other date columns are written in
    telling: bool = True


def parse_dates(values: pd.Series, fmt: str) -> pd.Series:
    """``values`` read with ``fmt`` (``A|B``: with A, else with B, for dates with and without a time of day);
    what does not read is missing."""
    first, *others = fmt.split("|")
    out = pd.to_datetime(values, format=first, errors="coerce")
    for f in others:
        out = out.fillna(pd.to_datetime(values, format=f, errors="coerce"))
    return out


def _parses(values: pd.Series, fmt: str) -> pd.Series:
    """``values`` read with ``fmt`` for inference: a reading that puts a date before 1900 or after 2200 does not
    count (``930705`` is 5 July 1993 as %y%m%d, not 9 March 705 as %d%m%Y)."""
    out = parse_dates(values, fmt)
    return out.where((out >= pd.Timestamp("1900-01-01")) & (out <= pd.Timestamp("2200-12-31")))


def date_part(fmt: str) -> str:
    """The date of a format without its time of day: ``%d/%m/%Y %H:%M|%d/%m/%Y`` -> ``%d/%m/%Y``."""
    fmt = fmt.split("|")[0]
    for t in _TIMES:
        if fmt.endswith(t):
            return fmt[: -len(t)]
    return fmt


def infer_date_format(values: pd.Series) -> Reading:
    """The one format that reads every value, ``ISO8601`` first; ambiguous when several read all of them and
    disagree on a date (``03/04/2024``: March or April), none when no format reads them all (the format that reads
    most is given as the candidate).

    Examples
    --------
    >>> infer_date_format(pd.Series(["1/26/2013", "2/3/2013"])).value
    '%m/%d/%Y'
    >>> infer_date_format(pd.Series(["03/04/2024", "05/06/2024"])).candidates
    ('%d/%m/%Y', '%m/%d/%Y')
    """
    uniq = pd.Series(values.dropna().unique(), dtype=object).astype(str)
    if uniq.empty:
        return Reading("ISO8601", "no values", complete=True)
    iso = _parses(uniq, "ISO8601")
    if iso.notna().all():
        return Reading("ISO8601", "ISO 8601 (2024-06-30)", complete=True)
    timed = uniq.str.contains(":", regex=False).any()
    formats = [f + t for f in DATE_FORMATS for t in _TIMES] if timed else list(DATE_FORMATS)
    if timed:  # a column may mix dates with and without a time of day
        formats = [*DATE_FORMATS, *formats]
    parsed = {f: _parses(uniq, f) for f in formats}
    counts = {f: int(p.notna().sum()) for f, p in parsed.items()}
    counts["ISO8601"] = int(iso.notna().sum())
    parsed["ISO8601"] = iso
    if timed:  # dates with and without a time: combine each date format with its timed forms
        for f in DATE_FORMATS:
            for t in _TIMES:
                both = parsed[f].fillna(parsed[f + t])
                key = f"{f}|{f + t}"
                parsed[key], counts[key] = both, int(both.notna().sum())
    best = max(counts.values())
    top = [f for f, n in counts.items() if n == best and best > 0]
    # formats that read the same values to the same dates are one reading (e.g. %d/%m/%Y and %d/%m/%Y %H:%M)
    distinct: dict[tuple, str] = {}
    for f in top:
        distinct.setdefault(tuple(parsed[f].fillna(pd.Timestamp(0)).to_numpy()), f)
    choice = sorted(distinct.values(), key=len)
    example = _telling(uniq, parsed, choice)
    n = len(uniq)
    if best == n and len(choice) == 1:
        telling = len({date_part(f) for f in top if f != "ISO8601"}) <= 1
        return Reading(choice[0], f"the only format that reads all {n} distinct values{example}", complete=True,
                       telling=telling)  # fmt: skip
    if best == n:
        return Reading(None, f"{len(choice)} formats read all {n} distinct values, to different dates",
                       tuple(choice), complete=True)  # fmt: skip
    if len(choice) == 1 or "ISO8601" in choice:
        pick = choice[0] if len(choice) == 1 else "ISO8601"
        return Reading(pick, f"no format reads all {n} distinct values; {pick} reads the most ({best})")
    return Reading(None, f"no format reads all {n} distinct values; {len(choice)} read {best} each, to different "
                   "dates", tuple(choice))  # fmt: skip


def settle_date_formats(readings: dict) -> dict:
    """The readings of a table's date columns, each open one settled where exactly one of its candidates is the
    format (the date part) the table's other columns were read in: ``03/04/2024`` beside ``31/12/2024``."""
    settled = {date_part(r.value) for r in readings.values() if r.value and r.value != "ISO8601" and r.telling}
    out = {}
    for key, r in readings.items():
        agree = [f for f in r.candidates if date_part(f) in settled] if r.value is None else []
        out[key] = (Reading(agree[0], f"{r.evidence}; the table's other date columns settle it", complete=r.complete)
                    if len(agree) == 1 else r)  # fmt: skip
    return out


def _telling(uniq: pd.Series, parsed: dict[str, pd.Series], choice: list[str]) -> str:
    """An example value that settles the format: of the values it reads, one that the fewest other formats read
    (``31-12-2024``, which no month-first format reads)."""
    if len(choice) != 1:
        return ""
    others = [p.notna().to_numpy() for f, p in parsed.items() if f != choice[0] and "|" not in f]
    readers = np.sum(others, axis=0) if others else np.zeros(len(uniq))
    ok = parsed[choice[0]].notna().to_numpy()
    if not ok.any():
        return ""
    pick = int(np.argmin(np.where(ok, readers, np.inf)))
    return f" (e.g. {uniq.iloc[pick]!r})"


@dataclass(frozen=True)
class Separators:
    """The decimal and thousands separators of a table's amounts (``decimal`` None: the values leave it open)."""

    decimal: str | None
    thousands: str | None
    evidence: str


def infer_separators(values: pd.Series) -> Separators:
    """The decimal and thousands separators of amounts written as text, from what the values show: a separator
    followed by other than three digits is a decimal one (``12,5`` ``12.50``), one that repeats or comes first of
    two different ones groups thousands (``1.234.567`` ``1.234,56``). ``1.234`` alone is ambiguous.

    Examples
    --------
    >>> s = infer_separators(pd.Series(["1.234,56", "12,50"]))
    >>> s.decimal, s.thousands
    (',', '.')
    >>> infer_separators(pd.Series(["3.300", "1.250"])).decimal is None
    True
    >>> infer_separators(pd.Series(["1'234.50", "12.50"])).thousands  # Swiss grouping
    "'"
    """
    t = pd.Series(values.dropna().unique(), dtype=object).astype(str)
    found = _infer_separators(t)
    # an apostrophe between digit groups is a thousands separator (Swiss 1'234.50, also written 1’234.50)
    if found.decimal is not None and found.thousands is None and t.str.contains(r"\d['’]\d{3}(?!\d)").any():
        return Separators(found.decimal, "'", f"{found.evidence}; the apostrophe groups thousands")
    return found


def _infer_separators(t: pd.Series) -> Separators:
    t = t.str.replace(r"[\s\u00a0\u202f€$£¥']|^\(|\)$|^[+-]|-$|[A-Z]{3}$|^[A-Z]{3}", "", regex=True)
    t = t.loc[t.str.contains(r"[.,]", regex=True) & t.str.fullmatch(r"[\d.,]+")]
    if t.empty:
        return Separators(".", None, "no separators in the values")
    # positions and counts without regular expressions: one pass of Arrow's string kernels each
    dot, com = t.str.rfind(".").to_numpy(), t.str.rfind(",").to_numpy()
    length = t.str.len().to_numpy()
    n_dot = length - t.str.replace(".", "", regex=False).str.len().to_numpy()
    n_com = length - t.str.replace(",", "", regex=False).str.len().to_numpy()
    both = (n_dot > 0) & (n_com > 0)
    last_is_comma = com > dot
    tail = length - np.maximum(dot, com) - 1
    # a decimal comma: the last separator is ',' before other than three digits or after a '.', or '.' repeats
    comma = (last_is_comma & ((tail != 3) | both)) | (n_dot > 1)
    point = (~last_is_comma & ((tail != 3) | both)) | (n_com > 1)
    if comma.any() and point.any():
        a, b = t[comma].iloc[0], t[point].iloc[0]
        return Separators(None, None, f"the values disagree: {a!r} reads with a decimal comma, {b!r} with a point")
    if comma.any() or point.any():
        dec, other = (",", ".") if comma.any() else (".", ",")
        grouped = bool(t.str.contains(other, regex=False).any())
        return Separators(dec, other if grouped else None, f"e.g. {t[comma if dec == ',' else point].iloc[0]!r}")
    ex = t.iloc[0]  # every separator stands before exactly three digits: 1.234 or 1,234
    return Separators(None, None, f"{ex!r} reads as {ex.replace(',', '').replace('.', '')} (thousands separator) "
                      f"or as {ex.replace(',', '.')} (decimal separator)")  # fmt: skip
