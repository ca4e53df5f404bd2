"""The day a message goes out: an allowed weekday, no public holiday in the customer's country, and, where the
customer has a payment rhythm, the day that fits it (vectorised over customers)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from payrisk._compat import renamed
from payrisk.errors import ParameterError

__all__ = ["send_days"]


def _holiday_table(countries: np.ndarray, days: np.ndarray) -> np.ndarray:
    """rows x days: True where the day is a public holiday in the row's country (``holidays`` package)."""
    import holidays

    years = sorted({int(str(d)[:4]) for d in days})
    out = np.zeros((len(countries), len(days)), dtype=bool)
    unknown: dict[str, int] = {}
    for code in pd.unique(countries):
        try:
            calendar = holidays.country_holidays(str(code), years=years)
        except NotImplementedError:
            unknown[str(code)] = int((countries == code).sum())
            continue
        closed = np.array([d.astype(object) in calendar for d in days])
        out[countries == code] = closed
    if unknown:  # every unknown code at once, with how many accounts carry it
        listed = ", ".join(f"{c!r} ({n} account{'s' * (n != 1)})" for c, n in list(unknown.items())[:10])
        raise ParameterError(
            f"No public-holiday calendar for the country codes {listed}{' ...' if len(unknown) > 10 else ''}: "
            "use ISO 3166 alpha-2 codes (NL, DE, GB, ...) in customers.country (map your country column onto it), "
            "or plan without the holiday guard: timing: {skip_holidays: false} in the policy file (--policy)."
        )
    return out


@renamed(today="as_of")
def send_days(
    as_of: Any,
    timing: Any,
    country: np.ndarray,
    pay_weekday: np.ndarray | None = None,
    payrun_day: np.ndarray | None = None,
) -> np.ndarray:
    """The send day of each row (``datetime64[D]``), ``as_of`` or up to ``timing.max_wait_days`` later.

    A day is allowed when it is one of ``timing.weekdays`` and (with ``skip_holidays``) not a public holiday in
    the row's ``country``. With ``follow_rhythm``, a row with a payment weekday (0 = Monday, -1 = none) is sent on
    the first allowed such weekday, so the message arrives on the day the customer pays; a row with a pay-run
    day of the month (1-31, 0 = none) on the last allowed day before the next pay run, so it is on the desk when
    the run is prepared. When the rhythm day is not within ``max_wait_days``, or the row has no rhythm, the first
    allowed day. When no day in two weeks is allowed, ``as_of`` (and the row is not held back).

    Examples
    --------
    >>> from payrisk.dunning import Policy
    >>> t = Policy.default().timing
    >>> [str(d) for d in send_days("2024-10-03", t, np.array(["NL", "DE"]))]  # German Unity Day
    ['2024-10-03', '2024-10-04']
    >>> str(send_days("2024-10-01", t, np.array(["NL"]), pay_weekday=np.array([3]))[0])  # pays on Thursdays
    '2024-10-03'
    """
    start = np.datetime64(pd.Timestamp(as_of).date(), "D")
    n = len(country)
    days = start + np.arange(15)
    weekday = (days.astype(np.int64) - 4) % 7  # 1970-01-01 was a Thursday (3)
    allowed = np.broadcast_to(np.isin(weekday, timing.weekdays), (n, len(days))).copy()
    if timing.skip_holidays and n:
        code = np.where(pd.isna(country), timing.default_country, country).astype(str)
        allowed &= ~_holiday_table(np.char.upper(code), days)
    window = np.arange(len(days)) <= timing.max_wait_days
    fits = np.zeros((n, len(days)), dtype=bool)
    if timing.follow_rhythm and pay_weekday is not None:
        wd = np.asarray(pay_weekday, dtype=np.int64)
        fits |= (wd[:, None] >= 0) & (weekday[None, :] == wd[:, None])
    if timing.follow_rhythm and payrun_day is not None:
        fits |= _before_payrun(days, allowed, np.asarray(payrun_day, dtype=np.int64))
    fits &= allowed & window
    first_fit = np.where(fits.any(axis=1), fits.argmax(axis=1), -1)
    ok = allowed & window
    first_ok = np.where(ok.any(axis=1), ok.argmax(axis=1), np.where(allowed.any(axis=1), allowed.argmax(axis=1), 0))
    return days[np.where(first_fit >= 0, first_fit, first_ok)]


def _before_payrun(days: np.ndarray, allowed: np.ndarray, payrun_day: np.ndarray) -> np.ndarray:
    """rows x days: the last allowed day before the row's next pay-run day (day of month; 0 = no pay run)."""
    dom = pd.DatetimeIndex(days).day.to_numpy()
    is_run = (payrun_day[:, None] > 0) & (dom[None, :] == np.minimum(payrun_day[:, None], 28))
    first_run = np.where(is_run[:, 1:].any(axis=1), is_run[:, 1:].argmax(axis=1) + 1, -1)
    before = np.arange(len(days))[None, :] < first_run[:, None]
    candidate = allowed & before
    last = np.where(candidate.any(axis=1), candidate.shape[1] - 1 - candidate[:, ::-1].argmax(axis=1), -1)
    out = np.zeros_like(allowed)
    rows = np.flatnonzero(last >= 0)
    out[rows, last[rows]] = True
    return out
