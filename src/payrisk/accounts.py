"""The account-level worklist: one row per customer (and currency) with what is open and overdue, the invoices
behind it, its segment, the next dunning action or the guard that blocked it, its promise to pay, its disputes and
its credit limit in use, in order of the expected loss of the account.

A collector works accounts, not invoices: the invoice-level worklist of :meth:`RiskEngine.score
<payrisk.engine.RiskEngine.score>` puts one customer's many invoices in many places; this table rolls them up
(amounts are never summed across currencies: a customer billed in two currencies has two rows).

Examples
--------
>>> import payrisk as pr
>>> ledger = pr.datasets.make_ledger(n_customers=150, seed=0)
>>> engine = pr.RiskEngine(n_estimators=30, reasons_top_n=20, forecast_weeks=0).fit(ledger, "2024-03-31")
>>> worklist = engine.score(ledger, "2024-06-30")
>>> acc = account_worklist(ledger, worklist, "2024-06-30")
>>> bool(acc["customer_id"].is_unique), acc["account_rank"].tolist()[:3]
(True, [1, 2, 3])
>>> bool((acc["overdue_amount"] <= acc["open_amount"] + 1e-9).all())
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from payrisk._priority import rank_and_shade
from payrisk.errors import ParameterError
from payrisk.ledger import PROMISE_UNDATED_DAYS, to_date
from payrisk.schema import check_worklist

if TYPE_CHECKING:  # pragma: no cover
    from payrisk.ledger import Ledger

__all__ = ["ACCOUNT_COLUMNS", "account_worklist"]

#: the account worklist's columns, in their order
ACCOUNT_COLUMNS = [
    "account_rank", "customer_id", "currency", "open_amount", "overdue_amount", "n_invoices", "n_overdue",
    "max_days_overdue", "expected_loss", "red", "band", "segment", "segment_why", "p_problem_90d", "alert",
    "credit_limit", "limit_utilisation", "next_action", "blocked_by", "promise", "promise_status",
    "disputed_invoices", "disputed_amount", "first_invoice", "reasons",
]  # fmt: skip
_NEEDS = ("customer_id", "currency", "open_amount", "days_overdue", "expected_loss", "priority_rank", "segment")
_CUSTOMER_LEVEL = ("segment", "segment_why", "p_problem_90d", "alert", "credit_limit", "limit_utilisation")


def account_worklist(
    ledger: Ledger,
    worklist: pd.DataFrame,
    as_of: Any,
    actions: pd.DataFrame | None = None,
    promise_days: int = 30,
    grace_days: int = PROMISE_UNDATED_DAYS,
) -> pd.DataFrame:
    """One row per customer and currency of the worklist, most expected loss first.

    Parameters
    ----------
    ledger : Ledger
        Read for the promises to pay (``contacts`` with outcome ``promise_to_pay``) and the disputes
        (``invoices.disputed_date``) known at the end of ``as_of``.
    worklist : DataFrame
        :meth:`RiskEngine.score <payrisk.engine.RiskEngine.score>` (index ``invoice_id``).
    as_of : date-like
        The worklist's day.
    actions : DataFrame, optional
        :func:`payrisk.dunning.plan_actions` for the same day: the next action per customer, or the guard that
        blocked it.
    promise_days : int, default 30
        A promise made in this many days before ``as_of`` is shown.
    grace_days : int, default 14
        A promise without a promised date (``contacts.promised_date``) is due this many days after it was made
        (as in :func:`payrisk.kpi.promise_kept_rate`).

    Returns
    -------
    DataFrame
        :data:`ACCOUNT_COLUMNS`: ``account_rank`` (1 = act first, by the account's summed ``expected_loss``; ties
        by days overdue, then amount), ``open_amount``, ``overdue_amount``, ``n_invoices``, ``n_overdue``,
        ``max_days_overdue``, ``red`` and ``band`` (over accounts, as the worklist's over invoices), the customer's
        segment, early warning and credit limit in use, ``next_action`` ("step by channel (tone), date"),
        ``blocked_by`` (the guards that blocked its actions, when none goes out), ``promise`` (the latest promise
        to pay, in words) and ``promise_status`` (open, kept, broken; empty without one), ``disputed_invoices``
        and ``disputed_amount`` (open and disputed), ``first_invoice`` (its most urgent invoice) and
        ``reasons`` (of the first of its invoices that has them).

    Examples
    --------
    >>> import pandas as pd, payrisk as pr
    >>> inv = pd.DataFrame({"invoice_id": ["1", "2"], "customer_id": ["a", "a"], "issue_date": ["2024-05-01"] * 2,
    ...                     "due_date": ["2024-06-01", "2024-07-15"], "amount": [700.0, 300.0]})
    >>> worklist = pd.DataFrame({"customer_id": ["a", "a"], "currency": "EUR", "open_amount": [700.0, 300.0],
    ...                          "days_overdue": [29, 0], "expected_loss": [90.0, 10.0], "priority_rank": [1, 2],
    ...                          "segment": "forgetful"}, index=pd.Index(["1", "2"], name="invoice_id"))
    >>> acc = account_worklist(pr.Ledger.from_frames(invoices=inv), worklist, "2024-06-30")
    >>> acc[["customer_id", "open_amount", "overdue_amount", "n_invoices", "first_invoice"]].values.tolist()
    [['a', 1000.0, 700.0, 2, '1']]
    """
    check_worklist(worklist, _NEEDS, "account_worklist")
    if promise_days < 0 or grace_days < 0:
        raise ParameterError(
            f"account_worklist: promise_days and grace_days must be 0 or more; got {promise_days}, {grace_days}."
        )
    day = to_date(as_of, "as_of")
    snap = ledger.as_of(day)
    rows = worklist.sort_values("priority_rank", kind="stable").reset_index()
    rows = rows.rename(columns={rows.columns[0]: "invoice_id"})
    rows["overdue"] = rows["days_overdue"].to_numpy() > 0
    rows["overdue_amount"] = np.where(rows["overdue"], rows["open_amount"].to_numpy(dtype=np.float64), 0.0)
    disputed = snap.invoices.set_index("invoice_id")["disputed_date"].reindex(rows["invoice_id"]).to_numpy()
    rows["disputed"] = pd.notna(disputed) & (disputed <= np.datetime64(day))
    rows["disputed_amount"] = np.where(rows["disputed"], rows["open_amount"].to_numpy(dtype=np.float64), 0.0)
    g = rows.groupby(["customer_id", "currency"], sort=False)  # in priority order: first() is the most urgent
    out = pd.DataFrame(
        {
            "open_amount": g["open_amount"].sum(),
            "overdue_amount": g["overdue_amount"].sum(),
            "n_invoices": g.size(),
            "n_overdue": g["overdue"].sum(),
            "max_days_overdue": g["days_overdue"].max(),
            "expected_loss": g["expected_loss"].sum(),
            "disputed_invoices": g["disputed"].sum(),
            "disputed_amount": g["disputed_amount"].sum(),
            "first_invoice": g["invoice_id"].first(),
        }
    )
    for col in _CUSTOMER_LEVEL:
        out[col] = g[col].first() if col in rows.columns else np.nan
    said = rows["reasons"].where(rows["reasons"].astype("str") != "") if "reasons" in rows.columns else None
    out["reasons"] = (said.groupby([rows["customer_id"], rows["currency"]], sort=False).first() if said is not None
                      else pd.Series(dtype=object)).reindex(out.index).fillna("")  # fmt: skip
    out = out.reset_index()
    ranked = rank_and_shade(
        out["expected_loss"].to_numpy(dtype=np.float64),
        out["max_days_overdue"].to_numpy(dtype=np.float64),
        out["open_amount"].to_numpy(dtype=np.float64),
    )
    out["account_rank"], out["red"], out["band"] = ranked["priority_rank"], ranked["red"], ranked["band"]
    ids = out["customer_id"]
    out["next_action"], out["blocked_by"] = _actions(actions, ids)
    out["promise"], out["promise_status"] = _promises(snap, rows, ids, day, promise_days, grace_days)
    out = out.sort_values("account_rank", kind="stable").reset_index(drop=True)
    return out[ACCOUNT_COLUMNS]


def _actions(actions: pd.DataFrame | None, ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Per customer: its action to send ("step by channel (tone), Mon 05 Jan"), else the guards that blocked it."""
    empty = np.full(len(ids), "", dtype=object)
    if actions is None or actions.empty:
        return empty, empty.copy()
    missing = sorted({"customer_id", "status", "step", "channel", "tone", "send_at", "blocked_by"} - set(actions))
    if missing:
        raise ParameterError(
            f"account_worklist: the actions lack {missing}; pass what payrisk.dunning.plan_actions returns."
        )
    sent = actions.loc[actions["status"] == "send"].drop_duplicates("customer_id").set_index("customer_id")
    when = pd.to_datetime(sent["send_at"]).dt.strftime("%a %d %b")
    text = sent["step"].astype("str") + " by " + sent["channel"] + " (" + sent["tone"].astype("str") + "), " + when
    blocked = actions.loc[actions["status"] == "blocked"]
    why = blocked.groupby("customer_id")["blocked_by"].agg(lambda s: "; ".join(dict.fromkeys(s.astype("str"))))
    nxt = text.reindex(ids).fillna("").to_numpy(dtype=object)
    stop = why.reindex(ids).fillna("").to_numpy(dtype=object)
    return nxt, np.where(nxt == "", stop, "")


def _promises(
    snap: Any, rows: pd.DataFrame, ids: pd.Series, day: pd.Timestamp, promise_days: int, grace_days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per customer: its latest promise to pay made in the last ``promise_days``, in words, and its status."""
    empty = np.full(len(ids), "", dtype=object)
    p = snap.promises(undated_days=grace_days)
    p = p.loc[(p["made"] > day - pd.Timedelta(days=promise_days)).to_numpy(dtype=bool)]
    p = p.drop_duplicates("customer_id", keep="last").set_index("customer_id")  # oldest first: the latest speaks
    if p.empty:
        return empty, empty.copy()
    by = p["due"]
    amount = p["promised_amount"]
    # still open: the promised invoice (or, for a promise about the account, any overdue invoice) is in the worklist
    open_ids = set(rows["invoice_id"])
    overdue_customers = set(rows.loc[rows["overdue"], "customer_id"])
    inv = p["invoice_id"]
    still = np.where(inv.notna(), inv.isin(open_ids), p.index.isin(overdue_customers))
    status = np.where(~still, "kept", np.where(by.to_numpy() >= np.datetime64(day), "open", "broken"))
    what = amount.map(lambda v: "" if pd.isna(v) else f"{v:,.0f} ").fillna("")
    words = (
        "promised " + what + "by " + by.dt.strftime("%Y-%m-%d") + " (on " + p["made"].dt.strftime("%Y-%m-%d")
        + np.where(inv.notna(), ", invoice " + inv.astype("str"), ", the account") + ")"
    )  # fmt: skip
    return (
        pd.Series(words, index=p.index).reindex(ids).fillna("").to_numpy(dtype=object),
        pd.Series(status, index=p.index).reindex(ids).fillna("").to_numpy(dtype=object),
    )
