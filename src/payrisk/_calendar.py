"""Day arithmetic on integer day numbers (days since 1970-01-01, a Thursday): weekdays, months, business days,
weekly and monthly pay runs, and public holidays per country. Shared by the synthetic world and the dunning
planners."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = [
    "NEVER",
    "add_months",
    "closed",
    "day_numbers",
    "direct_debit_day",
    "month",
    "month_start",
    "next_business",
    "next_payrun",
    "next_weekday",
    "prev_business",
    "prev_payrun",
    "prev_weekday",
    "to_datetime",
    "weekday",
]


def day_numbers(dates: object, missing: int | None = None) -> np.ndarray:
    """Dates (anything numpy reads as datetime64) as integer days since 1970-01-01; a missing date becomes
    ``missing`` when given (e.g. a day far in the future for "not paid yet").

    Examples
    --------
    >>> day_numbers(["1970-01-03", None], missing=99).tolist()
    [2, 99]
    """
    arr = np.asarray(dates, dtype="datetime64[D]")
    days = arr.astype(np.int64)
    if missing is not None:
        days[np.isnat(arr)] = missing
    return days


@lru_cache(maxsize=64)
def _holiday_days(country: str, year: int) -> frozenset[int]:
    import holidays

    try:
        calendar = holidays.country_holidays(country, years=[year])
    except NotImplementedError:
        return frozenset()
    epoch = np.datetime64("1970-01-01", "D")
    return frozenset(int((np.datetime64(d, "D") - epoch).astype(np.int64)) for d in calendar)


def closed(country: np.ndarray, day: np.ndarray) -> np.ndarray:
    """True where ``day`` is a weekend or a public holiday of the row's ``country`` (ISO alpha-2)."""
    day = np.asarray(day, dtype=np.int64)
    country = np.broadcast_to(np.asarray(country, dtype=object), day.shape)
    out = (day + 3) % 7 >= 5  # 1970-01-01 was a Thursday; Monday = 0
    years = day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    for code in np.unique(country.astype(str)):
        rows = country == code
        for year in np.unique(years[rows]):
            hol = _holiday_days(str(code), int(year))
            if hol:
                sel = rows & (years == year)
                out[sel] |= np.isin(day[sel], np.fromiter(hol, dtype=np.int64))
    return out


NS_PER_DAY = 86_400 * 10**9
NEVER = np.iinfo(np.int64).max // (2 * NS_PER_DAY)  #: sentinel day for "never"


def weekday(d: np.ndarray) -> np.ndarray:
    return (d + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0


def month_start(d: np.ndarray) -> np.ndarray:
    return d.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def add_months(month_start: np.ndarray, k: np.ndarray | int) -> np.ndarray:
    m = month_start.astype("datetime64[D]").astype("datetime64[M]") + np.asarray(k)
    return m.astype("datetime64[D]").astype(np.int64)


def month(d: np.ndarray) -> np.ndarray:
    return d.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1


def next_business(d: np.ndarray) -> np.ndarray:
    wd = weekday(d)
    return d + np.where(wd == 5, 2, np.where(wd == 6, 1, 0))


def prev_business(d: np.ndarray) -> np.ndarray:
    wd = weekday(d)
    return d - np.where(wd == 5, 1, np.where(wd == 6, 2, 0))


def direct_debit_day(issue: np.ndarray, due: np.ndarray) -> np.ndarray:
    """The day a direct debit is collected: the last business day on or before the due date (the due date itself
    when that is before the issue date).

    Examples
    --------
    >>> import numpy as np
    >>> due = np.array([19_728, 19_729])  # Saturday 2024-01-06, Sunday 2024-01-07
    >>> direct_debit_day(np.array([19_700, 19_729]), due).tolist()  # Friday; a Sunday invoice due the same day
    [19727, 19729]
    """
    back = prev_business(due)
    return np.where(back >= issue, back, due)


def next_weekday(d: np.ndarray, w: np.ndarray) -> np.ndarray:
    return d + (w - weekday(d)) % 7


def prev_weekday(d: np.ndarray, w: np.ndarray) -> np.ndarray:
    return d - (weekday(d) - w) % 7


def _payrun_in(month_start: np.ndarray, day: np.ndarray) -> np.ndarray:
    """The pay run of day-of-month ``day`` in the month starting at ``month_start``; a day past the month's end is
    its last day (the 31st of a 30-day month is the 30th)."""
    return month_start + np.minimum(day, add_months(month_start, 1) - month_start) - 1


def next_payrun(d: np.ndarray, day: np.ndarray) -> np.ndarray:
    """The first pay run on or after ``d`` (NaN where ``day`` is NaN)."""
    ms = month_start(d)
    this = _payrun_in(ms, day)
    return np.where(d <= this, this, _payrun_in(add_months(ms, 1), day))


def prev_payrun(d: np.ndarray, day: np.ndarray) -> np.ndarray:
    """The last pay run on or before ``d`` (NaN where ``day`` is NaN)."""
    ms = month_start(d)
    this = _payrun_in(ms, day)
    return np.where(d >= this, this, _payrun_in(add_months(ms, -1), day))


def to_datetime(days: np.ndarray) -> np.ndarray:
    """Integer days (with a sentinel of ``NEVER`` for missing) to datetime64[ns] with NaT."""
    out = days.astype("datetime64[D]").astype("datetime64[ns]")
    out[days >= NEVER] = np.datetime64("NaT")
    return out
