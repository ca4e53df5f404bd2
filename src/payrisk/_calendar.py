"""Business days: weekends and public holidays per country, on integer day numbers (days since 1970-01-01)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["closed", "day_numbers"]


def day_numbers(dates: object) -> np.ndarray:
    """Dates (anything numpy reads as datetime64) as integer days since 1970-01-01."""
    return np.asarray(dates, dtype="datetime64[D]").astype(np.int64)


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
