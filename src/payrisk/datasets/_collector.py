"""The world's true response to a collector's action (one definition, read by the generator, the truth and the
collection replay). Vectorised over rows; days are integer day numbers (days since 1970-01-01)."""

from __future__ import annotations

import numpy as np

from payrisk._calendar import closed
from payrisk._calendar import weekday as _weekday
from payrisk.datasets._params import ARCHETYPES, COLLECTOR_CHANNELS, COLLECTOR_TONES, CollectorResponse, WorldParams

__all__ = ["closed"]


def timed(rhythm: np.ndarray, weekday: np.ndarray, payrun_day: np.ndarray, day: np.ndarray, window: int) -> np.ndarray:
    """True where an action on ``day`` meets the customer's rhythm: its payment weekday, or the ``window`` days
    up to its pay-run day of the month."""
    day = np.asarray(day, dtype=np.int64)
    on_weekday = (np.asarray(rhythm) == "weekday") & (_weekday(day) == np.asarray(weekday))
    dom = (day.astype("datetime64[D]") - day.astype("datetime64[D]").astype("datetime64[M]")).astype(np.int64) + 1
    to_run = np.asarray(payrun_day) - dom
    on_run = (np.asarray(rhythm) == "payrun") & (to_run >= 0) & (to_run <= window)
    return on_weekday | on_run


def auto_contacts_7d(params: WorldParams, days_overdue: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Automatic reminders of the world's track sent in the 7 days up to ``days_overdue`` (inclusive)."""
    d = np.asarray(days_overdue, dtype=np.int64)
    count = np.zeros(d.shape, dtype=np.int64)
    for offset, channel, _ in params.steps:
        hit = (d >= offset) & (d - offset < 7)
        if channel == "legal":
            hit &= np.asarray(amount) >= params.legal_min_amount
        count += hit
    return count


def response_probability(
    p: CollectorResponse,
    archetype: np.ndarray,
    channel: np.ndarray,
    tone: np.ndarray,
    days_overdue: np.ndarray,
    earlier: np.ndarray,
    contacts_7d: np.ndarray,
    is_timed: np.ndarray,
    is_closed: np.ndarray,
) -> np.ndarray:
    """The true chance that an action is answered with a payment (before the cure factor for never-payers)."""
    arche = _codes(archetype, ARCHETYPES)
    ch = _codes(channel, COLLECTOR_CHANNELS)
    tn = _codes(tone, COLLECTOR_TONES)
    base = np.array([p.base[a] for a in ARCHETYPES])[arche]
    reach = np.array([p.reach[c] * (1 - p.bounce[c]) for c in COLLECTOR_CHANNELS])[ch]
    tone_table = np.array([[p.tone[t][a] for a in ARCHETYPES] for t in COLLECTOR_TONES])
    fade = np.array([p.fade_days[a] for a in ARCHETYPES])[arche]
    d = np.maximum(np.asarray(days_overdue, dtype=float), 0.0)
    u = base * reach * tone_table[tn, arche] * np.exp(-d / fade)
    u = u * p.repeat_decay ** np.asarray(earlier, dtype=float)
    u = u * p.fatigue ** np.maximum(np.asarray(contacts_7d, dtype=float) - p.fatigue_free, 0.0)
    u = u * (1 + p.timing_boost * np.asarray(is_timed, dtype=float))
    return np.where(np.asarray(is_closed, dtype=bool), 0.0, np.minimum(u, p.max_response))


def cure_factor(p: CollectorResponse, archetype: np.ndarray) -> np.ndarray:
    return np.array([p.cure[a] for a in ARCHETYPES])[_codes(archetype, ARCHETYPES)]


def response_days(p: CollectorResponse, channel: np.ndarray) -> np.ndarray:
    return np.array([p.response_days[c] for c in COLLECTOR_CHANNELS])[_codes(channel, COLLECTOR_CHANNELS)]


def _codes(values: np.ndarray, vocab: tuple[str, ...]) -> np.ndarray:
    values = np.asarray(values)
    if values.dtype.kind in "iu":
        return values.astype(np.int64)
    out = np.full(values.shape, -1, dtype=np.int64)
    for i, name in enumerate(vocab):
        out[values == name] = i
    if (out < 0).any():
        bad = sorted(set(np.asarray(values)[out < 0].astype(str)))[:3]
        raise ValueError(f"unknown values {bad}; expected one of {vocab}")
    return out
