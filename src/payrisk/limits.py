"""Credit limits and terms: the largest exposure a customer may run whose expected loss stays within the risk
appetite the user sets, the terms and security to offer with it, and the order-block check of ERP credit
management (would this order take the customer over its limit, and by how much).

Examples
--------
>>> import pandas as pd
>>> risk = pd.DataFrame({"customer_id": ["a", "b"], "p_problem_12m": [0.02, 0.45],
...                      "requested_limit": [50_000.0, 50_000.0], "cycle_days": [45.0, 45.0]})
>>> lim = recommend_limits(risk, appetite=500.0)
>>> lim["recommended_limit"].tolist(), lim["terms"].tolist()
([50000.0, 14000.0], ['standard terms', 'deposit'])
>>> lim.loc["b", "reason"].split(": ")[1]
'14,000 is the most whose expected loss over a 45-day cycle stays within 500; a deposit covers part of the exposure'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from payrisk.errors import ParameterError
from payrisk.ledger import Ledger, to_date

if TYPE_CHECKING:  # pragma: no cover
    from payrisk.acceptance import AcceptanceModel

__all__ = [
    "TERMS_BANDS",
    "limit_check",
    "limit_review",
    "limit_utilisation",
    "payment_cycle_days",
    "recommend_limits",
]

#: the terms and security to offer by P(a problem within a year): up to each bound, that offer
TERMS_BANDS: dict[str, float] = {
    "standard terms": 0.10,
    "shorter terms": 0.25,
    "direct debit": 0.40,
    "deposit": 0.60,
    "prepayment": 1.00,
}
_WHY = {
    "standard terms": "the usual terms",
    "shorter terms": "shorter terms (half the usual days) keep less money out at a time",
    "direct debit": "direct debit collects on the due date",
    "deposit": "a deposit covers part of the exposure",
    "prepayment": "the risk is too high for credit: prepayment only",
}


def payment_cycle_days(ledger: Ledger, as_of: Any, default_terms: float = 30.0) -> pd.Series:
    """Each customer's typical payment cycle in days, known at the end of ``as_of``: the median days from issue to
    settlement of its invoices settled in the last year, else its usual terms (median), else ``default_terms``.

    Examples
    --------
    >>> import payrisk as pr
    >>> cycle = payment_cycle_days(pr.datasets.make_ledger(n_customers=50, seed=0), "2024-06-30")
    >>> bool((cycle > 0).all())
    True
    """
    day = to_date(as_of, "as_of")
    snap = ledger.as_of(day)
    inv = snap.invoices.loc[snap.invoices["amount"] > 0]
    recent = inv.loc[inv["paid_date"].notna() & (inv["paid_date"] > day - pd.Timedelta(days=365))]
    took = (recent["paid_date"] - recent["issue_date"]).dt.days.clip(lower=1).groupby(recent["customer_id"]).median()
    terms = (inv["due_date"] - inv["issue_date"]).dt.days.clip(lower=0).groupby(inv["customer_id"]).median()
    ids = snap.customers["customer_id"]
    out = took.reindex(ids).fillna(terms.reindex(ids)).fillna(default_terms)
    return out.rename("cycle_days").rename_axis("customer_id").astype(np.float64)


def recommend_limits(
    risk: pd.DataFrame,
    appetite: float | Mapping[str, float] | pd.Series,
    lgd: float = 0.5,
    max_limit: float | None = None,
    round_to: float = 100.0,
    bands: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """A credit limit, terms and security per customer: the largest exposure whose expected loss over the
    customer's payment cycle stays within ``appetite``.

    Over a cycle of ``cycle_days`` the chance of a problem is ``1 - (1 - p)^(cycle_days / 365)`` with ``p`` the
    chance within a year; an exposure ``L`` then loses ``pd_cycle * lgd * L`` in expectation, so the limit is
    ``appetite / (pd_cycle * lgd)``, no more than the customer asked for (``requested_limit``, when given) and
    ``max_limit``, rounded down to ``round_to``. The terms follow ``p`` (:data:`TERMS_BANDS`: standard terms, shorter
    terms, direct debit, deposit, prepayment; prepayment means no credit: limit 0).

    Parameters
    ----------
    risk : DataFrame
        One row per customer: ``customer_id``, ``p_problem_12m`` (e.g. :meth:`AcceptanceModel.predict
        <payrisk.acceptance.AcceptanceModel.predict>`), ``cycle_days`` (:func:`payment_cycle_days`), optionally
        ``requested_limit`` and ``segment``.
    appetite : float, mapping or Series
        The expected loss the user accepts per customer and cycle, in money: one figure for the portfolio, a
        mapping per ``segment`` (the risk frame's column), or a Series per ``customer_id``.
    lgd : float, default 0.5
        Share of the exposure lost when a problem happens.
    max_limit : float, optional
    round_to : float, default 100
    bands : mapping, optional
        Offer name -> the highest ``p`` it is given at, in increasing order (default :data:`TERMS_BANDS`).

    Returns
    -------
    DataFrame
        Index ``customer_id``: ``p_problem_12m``, ``cycle_days``, ``pd_cycle``, ``appetite``,
        ``max_exposure`` (before caps), ``recommended_limit``, ``expected_loss`` (at that limit, never above the
        appetite), ``terms``, ``reason``.

    Examples
    --------
    >>> risk = pd.DataFrame({"customer_id": ["a", "b"], "p_problem_12m": [0.05, 0.30], "cycle_days": [60.0, 60.0],
    ...                      "segment": ["reliable", "struggling"]})
    >>> lim = recommend_limits(risk, appetite={"reliable": 400.0, "struggling": 200.0})
    >>> lim["recommended_limit"].tolist(), bool((lim["expected_loss"] <= lim["appetite"]).all())
    ([95200.0, 7000.0], True)
    """
    need = {"customer_id", "p_problem_12m", "cycle_days"}
    missing = sorted(need - set(risk.columns))
    if missing:
        raise ParameterError(
            f"recommend_limits: the risk frame lacks {missing}; give customer_id, p_problem_12m (AcceptanceModel"
            ".predict) and cycle_days (payment_cycle_days)."
        )
    if not 0 < lgd <= 1:
        raise ParameterError(f"recommend_limits: lgd must lie in (0, 1]; got {lgd}.")
    if round_to <= 0:
        raise ParameterError(f"recommend_limits: round_to must be positive; got {round_to}.")
    bands = dict(bands or TERMS_BANDS)
    cuts = np.array(list(bands.values()), dtype=np.float64)
    if len(cuts) == 0 or np.any(np.diff(cuts) <= 0) or cuts[-1] < 1.0:
        raise ParameterError(f"recommend_limits: bands must rise and end at 1.0; got {bands}.")
    p = risk["p_problem_12m"].to_numpy(dtype=np.float64)
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        bad = np.flatnonzero(np.isnan(p) | (p < 0) | (p > 1))[:5].tolist()
        raise ParameterError(f"recommend_limits: p_problem_12m must lie in [0, 1]; rows {bad} do not.")
    ids = risk["customer_id"].astype("str").to_numpy()
    if isinstance(appetite, pd.Series):
        a = appetite.reindex(ids).to_numpy(dtype=np.float64)
    elif isinstance(appetite, Mapping):
        if "segment" not in risk.columns:
            raise ParameterError("recommend_limits: an appetite per segment needs a segment column in the risk frame.")
        a = risk["segment"].map(dict(appetite)).to_numpy(dtype=np.float64)
    else:
        a = np.full(len(risk), float(appetite))
    if np.isnan(a).any() or (a < 0).any():
        bad = ids[np.isnan(a) | (a < 0)][:5].tolist()
        raise ParameterError(f"recommend_limits: no (or a negative) appetite for customers {bad}.")
    cycle = np.clip(risk["cycle_days"].to_numpy(dtype=np.float64), 1.0, None)
    pd_cycle = 1.0 - (1.0 - p) ** (cycle / 365.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        max_exposure = np.where(pd_cycle > 0, a / (pd_cycle * lgd), np.inf)
    cap = np.full(len(risk), np.inf if max_limit is None else float(max_limit))
    if "requested_limit" in risk.columns:
        cap = np.fmin(cap, risk["requested_limit"].to_numpy(dtype=np.float64))  # fmin: a missing request caps nothing
    offer = np.array(list(bands))[np.minimum(np.searchsorted(cuts, p, side="left"), len(cuts) - 1)]
    # rounded down (a hair of tolerance: 150 / 0.15 is 999.9999999 in floating point)
    limit = np.floor(np.minimum(max_exposure, cap) / round_to * (1 + 1e-12)) * round_to
    limit = np.where(np.isfinite(limit), limit, np.nan)
    limit = np.where(offer == "prepayment", 0.0, limit)
    out = pd.DataFrame(
        {
            "p_problem_12m": p, "cycle_days": cycle, "pd_cycle": pd_cycle, "appetite": a,
            "max_exposure": max_exposure, "recommended_limit": limit, "expected_loss": pd_cycle * lgd * limit,
            "terms": offer,
        },
        index=pd.Index(ids, name="customer_id"),
    )  # fmt: skip
    capped = np.isfinite(cap) & (cap < max_exposure)
    fmt = {"p": "{:.0%}", "money": "{:,.0f}", "days": "{:.0f}"}

    def say(values: np.ndarray, kind: str) -> np.ndarray:
        return pd.Series(values).map(fmt[kind].format).to_numpy(dtype=object)

    risk_text = "P(a problem within a year) " + say(p, "p") + ": "
    cycle_text = " over a " + say(cycle, "days") + "-day cycle"
    why = pd.Series(offer).map(_WHY).to_numpy(dtype=object)
    out["reason"] = np.select(
        [offer == "prepayment", capped],
        [
            risk_text + why,
            risk_text + "the limit asked for (" + say(limit, "money") + ") loses "
            + say(pd_cycle * lgd * limit, "money") + " in expectation" + cycle_text + ", within the appetite of "
            + say(a, "money") + "; " + why,
        ],
        default=risk_text + say(limit, "money") + " is the most whose expected loss" + cycle_text + " stays within "
        + say(a, "money") + "; " + why,
    )  # fmt: skip
    return out


def limit_check(ledger: Ledger, as_of: Any, orders: pd.DataFrame, limits: pd.Series | None = None) -> pd.DataFrame:
    """Would each new order take its customer over its credit limit, and by how much? The order-block check.

    A customer's exposure is its open invoices at the end of ``as_of`` (in the limit's currency, as in
    :func:`limit_utilisation`) plus the orders before this one in ``orders`` (in their order): each order is
    checked as if the earlier ones were accepted.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    orders : DataFrame
        ``customer_id`` and ``amount`` (positive), optionally ``order_id``.
    limits : Series, optional
        The limit per ``customer_id`` (e.g. ``recommend_limits(...)["recommended_limit"]``); default the latest
        ``credit_limits`` row on or before ``as_of``.

    Returns
    -------
    DataFrame
        In the order of ``orders``: ``order_id``, ``customer_id``, ``amount``, ``credit_limit``,
        ``exposure_before``, ``exposure_after``, ``headroom`` (limit minus exposure before), ``over_by`` (0 when
        within), ``blocked``, ``reason``. A customer without a limit is blocked (no credit granted yet).

    Examples
    --------
    >>> import pandas as pd, payrisk as pr
    >>> inv = pd.DataFrame({"invoice_id": ["1"], "customer_id": ["a"], "issue_date": ["2024-06-01"],
    ...                     "due_date": ["2024-07-01"], "amount": [800.0]})
    >>> lim = pd.DataFrame({"customer_id": ["a"], "valid_from": ["2024-01-01"], "credit_limit": [1000.0]})
    >>> ledger = pr.Ledger.from_frames(invoices=inv, credit_limits=lim)
    >>> orders = pd.DataFrame({"customer_id": ["a", "a"], "amount": [150.0, 100.0]})
    >>> limit_check(ledger, "2024-06-15", orders)[["exposure_after", "over_by", "blocked"]].values.tolist()
    [[950.0, 0.0, False], [1050.0, 50.0, True]]
    """
    day = to_date(as_of, "as_of")
    missing = sorted({"customer_id", "amount"} - set(orders.columns))
    if missing:
        raise ParameterError(f"limit_check: the orders lack {missing}; give customer_id and amount per order.")
    amount = pd.to_numeric(orders["amount"], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(amount) | (amount <= 0))
    if len(bad):
        raise ParameterError(
            f"limit_check: orders rows {bad[:5].tolist()} have no positive amount "
            f"(e.g. {orders['amount'].iloc[bad[0]]!r}); give each order's amount as a positive number."
        )
    ids = orders["customer_id"].astype("str")
    snap = ledger.as_of(day)
    held = _utilisation(snap)
    open_ = held["exposure"]
    if limits is None:
        limits = held["credit_limit"]
    limit = limits.reindex(ids).to_numpy(dtype=np.float64)
    earlier = pd.Series(amount).groupby(ids.to_numpy()).cumsum().to_numpy() - amount
    before = open_.reindex(ids).fillna(0.0).to_numpy() + earlier
    after = before + amount
    over = np.where(np.isnan(limit), after, np.maximum(after - np.nan_to_num(limit), 0.0))
    blocked = np.isnan(limit) | (over > 0)
    reason = np.where(
        np.isnan(limit), "no credit limit granted yet: set one before delivering on credit",
        np.where(blocked, "over the limit by " + pd.Series(over).map("{:,.2f}".format).to_numpy(), "within the limit"),
    )  # fmt: skip
    order_id = orders["order_id"].astype("str").to_numpy() if "order_id" in orders else np.arange(len(orders)) + 1
    return pd.DataFrame(
        {
            "order_id": order_id, "customer_id": ids.to_numpy(), "amount": amount, "credit_limit": limit,
            "exposure_before": before, "exposure_after": after, "headroom": limit - before, "over_by": over,
            "blocked": blocked, "reason": reason,
        },
        index=orders.index,
    )  # fmt: skip


def _granted(snap: Ledger) -> pd.DataFrame:
    """The limit in force per customer in a snapshot (its latest ``credit_limits`` row): ``credit_limit``,
    ``limit_since`` and ``limit_currency`` (empty when the row names none)."""
    rows = snap.credit_limits.sort_values(["customer_id", "valid_from"], kind="stable")
    last = rows.drop_duplicates("customer_id", keep="last").set_index("customer_id")
    currency = last["currency"] if "currency" in last.columns else pd.Series(None, index=last.index, dtype="str")
    return pd.DataFrame(
        {
            "credit_limit": last["credit_limit"].astype(np.float64),
            "limit_since": last["valid_from"],
            "limit_currency": currency.astype("str"),
        }
    ).rename_axis("customer_id")


def _utilisation(snap: Ledger, near: float = 0.9) -> pd.DataFrame:
    """:func:`limit_utilisation` on a snapshot (the ledger as of its day)."""
    granted = _granted(snap)
    inv = snap.invoices.loc[snap.invoices["open_amount"] > 0, ["customer_id", "currency", "open_amount"]]
    # the exposure counts the open invoices in the limit's currency (amounts are never summed across currencies)
    theirs = granted["limit_currency"].reindex(inv["customer_id"]).to_numpy()
    counts = pd.isna(theirs) | (theirs == inv["currency"].to_numpy())
    exposure = inv.loc[counts].groupby("customer_id")["open_amount"].sum()
    ids = granted.index.union(exposure.index)
    out = granted.reindex(ids)
    out["exposure"] = exposure.reindex(ids).fillna(0.0).to_numpy(dtype=np.float64)
    limit = out["credit_limit"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        used = np.where(limit > 0, out["exposure"].to_numpy() / limit, np.nan)
    out["utilisation"] = used
    out["over_by"] = np.where(np.isnan(limit), np.nan, np.maximum(out["exposure"].to_numpy() - limit, 0.0))
    out["status"] = np.select(
        [np.isnan(limit), out["over_by"].to_numpy() > 0, used >= near],
        ["no limit set", "over the limit", "near the limit"],
        default="within the limit",
    )
    return out.rename_axis("customer_id")


def limit_utilisation(ledger: Ledger, as_of: Any, near: float = 0.9) -> pd.DataFrame:
    """How much of its credit limit each customer uses at the end of ``as_of``, and who is over it.

    The limit is the latest ``credit_limits`` row on or before ``as_of``; the exposure is the customer's open
    invoices in the limit's currency (all of them when the limit names no currency).

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    near : float, default 0.9
        The utilisation from which a customer is "near the limit".

    Returns
    -------
    DataFrame
        Index ``customer_id`` (every customer with a limit or an open invoice): ``credit_limit`` (empty when none
        was set), ``limit_since``, ``limit_currency``, ``exposure``, ``utilisation`` (exposure / limit; empty
        without a positive limit), ``over_by`` (0 within the limit) and ``status``: over the limit, near the
        limit, within the limit or no limit set.

    Examples
    --------
    >>> import pandas as pd, payrisk as pr
    >>> inv = pd.DataFrame({"invoice_id": ["1", "2"], "customer_id": ["a", "b"], "issue_date": ["2024-06-01"] * 2,
    ...                     "due_date": ["2024-07-01"] * 2, "amount": [800.0, 300.0]})
    >>> lim = pd.DataFrame({"customer_id": ["a", "b"], "valid_from": ["2024-01-01"] * 2,
    ...                     "credit_limit": [1000.0, 250.0]})
    >>> u = limit_utilisation(pr.Ledger.from_frames(invoices=inv, credit_limits=lim), "2024-06-15")
    >>> u[["utilisation", "over_by", "status"]].values.tolist()
    [[0.8, 0.0, 'within the limit'], [1.2, 50.0, 'over the limit']]
    """
    if not 0 < near <= 1:
        raise ParameterError(f"limit_utilisation: near must lie in (0, 1]; got {near}.")
    return _utilisation(ledger.as_of(to_date(as_of, "as_of")), near)


def limit_review(
    ledger: Ledger,
    as_of: Any,
    model: AcceptanceModel,
    appetite: float | Mapping[str, float] | pd.Series = 500.0,
    lgd: float = 0.5,
    since: Any = None,
    fall: float = 0.3,
    review_days: int = 365,
) -> pd.DataFrame:
    """The customers whose recommended limit fell sharply since their last review, beside their limit in force.

    Each customer's limit is recommended (:func:`recommend_limits`, from the acceptance model's
    ``p_problem_12m`` and the customer's payment cycle) twice, each strictly with what was known on its day: at
    its last review and at ``as_of``. The last review is ``since`` when given, else the day the limit in force was
    set (its ``valid_from``) or the regular review ``review_days`` before ``as_of``, whichever is later.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    model : AcceptanceModel
        Fitted (:class:`payrisk.acceptance.AcceptanceModel`).
    appetite, lgd
        As in :func:`recommend_limits`.
    since : date-like, optional
        One review day for every customer.
    fall : float, default 0.3
        The relative fall of the recommended limit that counts as sharp.
    review_days : int, default 365
        Days between regular reviews (a year: limits are reviewed at least once a year).

    Returns
    -------
    DataFrame
        Index ``customer_id`` (every customer with a limit or an open invoice at ``as_of``), the columns of
        :func:`limit_utilisation` and ``reviewed_on``, ``p_then``, ``p_now`` (``p_problem_12m`` on each day),
        ``recommended_then``, ``recommended_now``, ``change`` (now / then - 1), ``fell_sharply`` (by ``fall`` or
        more), ``above_recommendation`` (the limit in force exceeds today's recommendation), ``to_review`` (fell
        sharply to below the limit in force or the exposure, whichever is larger: the customers to look at) and
        ``reason``; those to review first, the sharpest falls first.

    Examples
    --------
    >>> import payrisk as pr
    >>> from payrisk.acceptance import AcceptanceModel
    >>> ledger = pr.datasets.make_ledger(n_customers=300, seed=0)
    >>> model = AcceptanceModel(n_estimators=20).fit(ledger, "2024-06-30")
    >>> review = limit_review(ledger, "2024-09-30", model, appetite=300.0)
    >>> bool((review.loc[review["fell_sharply"], "change"] <= -0.3).all())
    True
    >>> bool(review["fell_sharply"][review["to_review"]].all())
    True
    """
    if not 0 < fall < 1:
        raise ParameterError(f"limit_review: fall must lie in (0, 1); got {fall}.")
    if review_days < 1:
        raise ParameterError(f"limit_review: review_days must be 1 or more; got {review_days}.")
    if isinstance(appetite, Mapping):
        raise ParameterError("limit_review: give one appetite, or a Series per customer_id; not one per segment.")
    day = to_date(as_of, "as_of")
    out = _utilisation(ledger.as_of(day))
    ids = out.index.to_numpy()
    if since is not None:
        start = to_date(since, "since")
        if start >= day:
            raise ParameterError(f"limit_review: since ({start.date()}) must lie before as_of ({day.date()}).")
        then = pd.Series(start, index=out.index)
    else:
        # the day the limit in force was set, or the regular review when that lies further back
        regular = day - pd.Timedelta(days=review_days)
        then = out["limit_since"].where(out["limit_since"] > regular).fillna(regular)
        then = then.where(then < day, regular)
    # both days scored in one pass, each row strictly with what was known on its day
    cutoffs = pd.DataFrame(
        {"customer_id": np.concatenate([ids, ids]), "as_of": np.concatenate([then, [day] * len(ids)])}
    )
    p = model.predict(ledger, cutoffs)["p_problem_12m"].to_numpy()
    # today's payment cycle on both days, so that the change is the change in the customer's risk
    cycle = payment_cycle_days(ledger, day).reindex(out.index).fillna(30.0).to_numpy()
    risk = pd.DataFrame({"customer_id": cutoffs["customer_id"], "p_problem_12m": p, "cycle_days": np.tile(cycle, 2)})
    lim = recommend_limits(risk.iloc[: len(ids)], appetite, lgd), recommend_limits(risk.iloc[len(ids) :], appetite, lgd)
    before, now = lim
    out["reviewed_on"] = then.to_numpy()
    out["p_then"] = before["p_problem_12m"].to_numpy()
    out["p_now"] = now["p_problem_12m"].to_numpy()
    out["recommended_then"] = before["recommended_limit"].to_numpy()
    out["recommended_now"] = now["recommended_limit"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(out["recommended_then"] > 0, out["recommended_now"] / out["recommended_then"] - 1, np.nan)
    out["change"] = change
    out["fell_sharply"] = np.nan_to_num(change, nan=0.0) <= -fall
    out["above_recommendation"] = (out["credit_limit"] > out["recommended_now"]).to_numpy(dtype=bool)
    # worth a look: the fall takes today's recommendation below what is granted or owed (a fall from 90,000 to
    # 60,000 of a customer granted 5,000 is noise in a small risk, not news)
    granted_or_owed = np.fmax(out["credit_limit"].to_numpy(dtype=np.float64), out["exposure"].to_numpy())
    out["to_review"] = out["fell_sharply"].to_numpy() & (out["recommended_now"].to_numpy() < granted_or_owed)
    money = lambda v: pd.Series(v).map("{:,.0f}".format).to_numpy()  # noqa: E731
    pct = lambda v: pd.Series(v).map("{:.0%}".format).to_numpy()  # noqa: E731
    fell = (
        "the recommended limit fell from " + money(out["recommended_then"]) + " to " + money(out["recommended_now"])
        + " (" + pct(change) + ") since the review of " + pd.to_datetime(then).dt.strftime("%Y-%m-%d").to_numpy()
        + ": P(a problem within a year) went from " + pct(out["p_then"]) + " to " + pct(out["p_now"])
    )  # fmt: skip
    above = "the limit in force (" + money(out["credit_limit"]) + ") exceeds today's recommendation"
    out["reason"] = np.where(out["fell_sharply"], fell, np.where(out["above_recommendation"], above, ""))
    return out.sort_values(["to_review", "fell_sharply", "change"], ascending=[False, False, True], kind="stable")
