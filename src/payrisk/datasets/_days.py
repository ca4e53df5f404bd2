"""Integer day arithmetic (days since 1970-01-01, a Thursday) used by the synthetic world (private)."""

from __future__ import annotations

import numpy as np

_NS_PER_DAY = 86_400 * 10**9
_NEVER = np.iinfo(np.int64).max // (2 * _NS_PER_DAY)  #: sentinel day for "never"


def _weekday(d: np.ndarray) -> np.ndarray:
    return (d + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0


def _month_start(d: np.ndarray) -> np.ndarray:
    return d.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _add_months(month_start: np.ndarray, k: np.ndarray | int) -> np.ndarray:
    m = month_start.astype("datetime64[D]").astype("datetime64[M]") + np.asarray(k)
    return m.astype("datetime64[D]").astype(np.int64)


def _month(d: np.ndarray) -> np.ndarray:
    return d.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1


def _next_business(d: np.ndarray) -> np.ndarray:
    wd = _weekday(d)
    return d + np.where(wd == 5, 2, np.where(wd == 6, 1, 0))


def _prev_business(d: np.ndarray) -> np.ndarray:
    wd = _weekday(d)
    return d - np.where(wd == 5, 1, np.where(wd == 6, 2, 0))


def _next_weekday(d: np.ndarray, w: np.ndarray) -> np.ndarray:
    return d + (w - _weekday(d)) % 7


def _prev_weekday(d: np.ndarray, w: np.ndarray) -> np.ndarray:
    return d - (_weekday(d) - w) % 7


def _next_payrun(d: np.ndarray, day: np.ndarray) -> np.ndarray:
    ms = _month_start(d)
    this = ms + day - 1
    return np.where(d <= this, this, _add_months(ms, 1) + day - 1)


def _prev_payrun(d: np.ndarray, day: np.ndarray) -> np.ndarray:
    ms = _month_start(d)
    this = ms + day - 1
    return np.where(d >= this, this, _add_months(ms, -1) + day - 1)


def _to_datetime(days: np.ndarray) -> np.ndarray:
    """Integer days (with a sentinel of ``_NEVER`` for missing) to datetime64[ns] with NaT."""
    out = days.astype("datetime64[D]").astype("datetime64[ns]")
    out[days >= _NEVER] = np.datetime64("NaT")
    return out
