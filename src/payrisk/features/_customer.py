"""The customer features, each defined once: a function of a kernel, for every kernel and every set of rows.

A definition reads the event tables of ``_prepared.py`` through the kernel's primitives (``k.total``,
``k.maximum``, ``k.median``, ``k.ewm``, ``k.latest``, ``k.earliest``, ``k.code_totals``), the rows' customer
codes ``k.c`` and cutoff days ``k.t``, and other features as ``k["name"]``. Adding a customer feature is one
registry entry (``_registry.py``: name, definition, unit, reason phrases) and one function here::

    @feature("n_invoices_90d")
    def _n_invoices_90d(k: Kernel) -> np.ndarray:
        return k.total("issues", window=90)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from payrisk._calendar import next_payrun, next_weekday
from payrisk.features._prepared import LOG_SCALE, _div
from payrisk.features._registry import EWM_HALFLIFE_DAYS, REMINDER_CHANNELS, WINDOWS
from payrisk.features._streams import NEVER

if TYPE_CHECKING:
    from payrisk.features._kernel import Kernel

Definition = Callable[["Kernel"], np.ndarray]

#: customer feature name -> its definition
DEFINITIONS: dict[str, Definition] = {}


def feature(name: str) -> Callable[[Definition], Definition]:
    """Register ``fn`` as the definition of customer feature ``name`` (a name in the registry)."""

    def register(fn: Definition) -> Definition:
        if name in DEFINITIONS:
            raise ValueError(f"customer feature {name!r} is defined twice")
        DEFINITIONS[name] = fn
        return fn

    return register


# -- quantities the invoice and plan features reuse ----------------------------------------------------------
def usual_log_amount(k: Kernel) -> np.ndarray:
    """Mean log amount of the other invoices issued on or before the cutoff (the 'usual' amount)."""
    return _div(k.total("issues", "log_amount") / LOG_SCALE, k.total("issues"))


def invoiced_365(k: Kernel) -> np.ndarray:
    """Amount of the other invoices issued in the 365 days up to the cutoff."""
    return k.total("issues", "cents", window=365) / 100.0


# -- invoices issued -----------------------------------------------------------------------------------------
@feature("tenure_days")
def _tenure_days(k: Kernel) -> np.ndarray:
    first = k.earliest("issues")
    created = k.p.cust_created[k.c]
    start = np.minimum(np.where(np.isnan(first), NEVER, first), np.where(created <= k.t, created, NEVER))
    return np.where(start < NEVER, k.t - start, np.nan)


@feature("n_invoices")
def _n_invoices(k: Kernel) -> np.ndarray:
    return k.total("issues")


@feature("days_since_last_invoice")
def _days_since_last_invoice(k: Kernel) -> np.ndarray:
    return k.t - k.latest("issues")


@feature("share_disputed")
def _share_disputed(k: Kernel) -> np.ndarray:
    return _div(k.total("disputes"), k.total("issues"))


# -- settled invoices ----------------------------------------------------------------------------------------
@feature("n_settled")
def _n_settled(k: Kernel) -> np.ndarray:
    return k.total("settled")


@feature("share_late")
def _share_late(k: Kernel) -> np.ndarray:
    return _div(k.total("settled", "late"), k.total("settled"))


@feature("days_late_mean")
def _days_late_mean(k: Kernel) -> np.ndarray:
    return _div(k.total("settled", "days_late"), k.total("settled"))


@feature("days_late_max")
def _days_late_max(k: Kernel) -> np.ndarray:
    return k.maximum("settled", "days_late")


def _windowed(w: int) -> None:
    """The features of the invoices settled in the last ``w`` days."""
    feature(f"days_late_mean_{w}d")(lambda k: _div(k.total("settled", "days_late", w), k.total("settled", None, w)))
    feature(f"days_late_median_{w}d")(lambda k: k.median("settled", "days_late", w))
    feature(f"days_late_max_{w}d")(lambda k: k.maximum("settled", "days_late", w))
    feature(f"share_late_{w}d")(lambda k: _div(k.total("settled", "late", w), k.total("settled", None, w)))
    feature(f"n_settled_{w}d")(lambda k: k.total("settled", None, w))


for _w in WINDOWS:
    _windowed(_w)


@feature("days_late_ewm")
def _days_late_ewm(k: Kernel) -> np.ndarray:
    return k.ewm("settled", "days_late", EWM_HALFLIFE_DAYS)


@feature("lateness_trend")
def _lateness_trend(k: Kernel) -> np.ndarray:
    return k[f"days_late_mean_{WINDOWS[0]}d"] - k["days_late_mean"]


@feature("days_reminder_to_settlement_median")
def _days_reminder_to_settlement_median(k: Kernel) -> np.ndarray:
    return k.median("settled", "reminder_gap")


# -- open and overdue invoices (cents, so sums are exact) ----------------------------------------------------
@feature("open_amount")
def _open_amount(k: Kernel) -> np.ndarray:
    return (k.total("open", "cents") - k.total("paid_while_open", "cents")) / 100.0


@feature("n_open")
def _n_open(k: Kernel) -> np.ndarray:
    return k.total("open")


@feature("n_overdue")
def _n_overdue(k: Kernel) -> np.ndarray:
    return k.total("overdue")


@feature("overdue_amount")
def _overdue_amount(k: Kernel) -> np.ndarray:
    return (k.total("overdue", "cents") - k.total("paid_while_overdue", "cents")) / 100.0


@feature("max_days_overdue")
def _max_days_overdue(k: Kernel) -> np.ndarray:
    return k.t - (k.earliest("overdue") - 1)  # an overdue state starts the day after the due date


# -- invoices that fell due: paid by their due date or not, whether settled yet or not --------------------------
@feature("n_late_due_90d")
def _n_late_due_90d(k: Kernel) -> np.ndarray:
    return k.total("fell_due", "late", 90)


@feature("share_late_due_90d")
def _share_late_due_90d(k: Kernel) -> np.ndarray:
    return _div(k.total("fell_due", "late", 90), k.total("fell_due", None, 90))


# -- payments ------------------------------------------------------------------------------------------------
@feature("days_since_last_payment")
def _days_since_last_payment(k: Kernel) -> np.ndarray:
    return k.t - k.latest("payments")


@feature("n_payments")
def _n_payments(k: Kernel) -> np.ndarray:
    return k.total("payments")


@feature("share_partial_payments")
def _share_partial_payments(k: Kernel) -> np.ndarray:
    return _div(k.total("payments", "partial"), k.total("payments", "allocated"))


def _mode(k: Kernel, codes: str, n_codes: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """The most frequent payment code (ties to the smallest) plus ``offset``, and its share of payments."""

    def compute() -> tuple[np.ndarray, np.ndarray]:
        counts = k.code_totals("payments", codes, n_codes)
        mode = counts.argmax(axis=1)
        n_pay = k.total("payments")
        top = counts[np.arange(len(mode)), mode]
        return np.where(n_pay > 0, mode + offset, np.nan), _div(top, n_pay)

    return k.once(("mode", codes), compute)


feature("pay_weekday")(lambda k: _mode(k, "weekday", 7, 0)[0])
feature("pay_weekday_share")(lambda k: _mode(k, "weekday", 7, 0)[1])
feature("pay_day_of_month")(lambda k: _mode(k, "day_of_month", 31, 1)[0])
feature("pay_day_of_month_share")(lambda k: _mode(k, "day_of_month", 31, 1)[1])


@feature("days_to_pay_weekday")
def _days_to_pay_weekday(k: Kernel) -> np.ndarray:
    return next_weekday(k.t, _mode(k, "weekday", 7, 0)[0]) - k.t


@feature("days_to_pay_day")
def _days_to_pay_day(k: Kernel) -> np.ndarray:
    return next_payrun(k.t, _mode(k, "day_of_month", 31, 1)[0]) - k.t


# -- contacts ------------------------------------------------------------------------------------------------
@feature("n_reminders_365d")
def _n_reminders_365d(k: Kernel) -> np.ndarray:
    return k.total("contacts", window=365)


def _response(k: Kernel, channel: int | None) -> np.ndarray:
    """Share of the contacts known to be answered or not that were answered (``channel``: 1 + its index in
    REMINDER_CHANNELS; None: any channel)."""
    n_codes = len(REMINDER_CHANNELS) + 1
    sent, answered = k.once(
        "responses",
        lambda: (
            k.code_totals("responses", "channel", n_codes),
            k.code_totals("responses", "channel", n_codes, "answered"),
        ),
    )
    if channel is None:
        return _div(answered.sum(axis=1), sent.sum(axis=1))
    return _div(answered[:, channel], sent[:, channel])


def _by_channel(channel: int | None) -> None:
    suffix = "" if channel is None else f"_{REMINDER_CHANNELS[channel - 1]}"
    feature(f"reminder_response_7d{suffix}")(lambda k: _response(k, channel))


for _channel in (None, *range(1, len(REMINDER_CHANNELS) + 1)):
    _by_channel(_channel)


# -- credit notes and plans ----------------------------------------------------------------------------------
@feature("n_credit_notes_365d")
def _n_credit_notes_365d(k: Kernel) -> np.ndarray:
    return k.total("credit_notes", window=365)


@feature("n_plans")
def _n_plans(k: Kernel) -> np.ndarray:
    return k.total("plans")


@feature("n_installments_missed")
def _n_installments_missed(k: Kernel) -> np.ndarray:
    return k.total("missed_installments")
