"""Collections by what acting changes: the account-level gain of each action, a plan within the team's daily
capacity per channel, and a replay of the synthetic world that scores any planner by the cash it brings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from payrisk.dunning._response import ARMS, ResponseModel
from payrisk.errors import ParameterError

__all__ = ["Capacity", "allocate", "gain_planner", "oracle_planner", "rule_planner", "simulate_collections"]


class Capacity(BaseModel):
    """What the collections team can do in a day, per channel, and what one action costs (in effort units, e.g.
    minutes of a collector's time or money).

    Examples
    --------
    >>> cap = Capacity.share_of(4_000, 0.02)  # 2% of 4,000 overdue accounts a day
    >>> cap.per_day, cap.cost["phone"] > cap.cost["sms"]
    ({'phone': 40, 'sms': 20, 'letter': 20}, True)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    per_day: dict[str, int] = Field(default_factory=lambda: {"phone": 40, "sms": 20, "letter": 20})
    cost: dict[str, float] = Field(default_factory=lambda: {"phone": 6.0, "sms": 0.5, "letter": 2.0})
    #: an account is not contacted again within this many days
    min_gap_days: int = Field(default=7, ge=0)

    @classmethod
    def share_of(cls, accounts: int, share: float, mix: Mapping[str, float] | None = None, **kw: Any) -> Capacity:
        """A daily capacity of ``share`` of ``accounts``, split over the channels by ``mix`` (default half calls,
        a quarter SMS, a quarter letters)."""
        mix = dict(mix or {"phone": 0.5, "sms": 0.25, "letter": 0.25})
        total = share * accounts
        return cls(per_day={c: round(total * w) for c, w in mix.items()}, **kw)


def allocate(candidates: pd.DataFrame, capacity: Capacity) -> pd.DataFrame:
    """The best action per account within the daily capacity per channel: greedy by expected value.

    Every account offers its most valuable action on a channel with room; each channel takes the most valuable
    offers it can hold; accounts left over offer their next channel, until the capacity or the candidates run
    out. With a capacity per channel every slot is used either way, so slots go by value; ``gain_per_effort``
    (value per unit of ``capacity.cost``) is reported beside it for a team whose budget is its time.

    Parameters
    ----------
    candidates : DataFrame
        One row per account and candidate action: ``customer_id``, ``channel``, ``tone``, ``value`` (expected
        extra cash).

    Returns
    -------
    DataFrame
        The chosen rows (one per account at most, no channel over its capacity), ``gain_per_effort`` added,
        most valuable first. Rows with no positive value are never chosen.

    Examples
    --------
    >>> c = pd.DataFrame({"customer_id": ["a", "a", "b"], "channel": ["phone", "sms", "phone"],
    ...                   "tone": "firm", "value": [60.0, 10.0, 30.0]})
    >>> allocate(c, Capacity(per_day={"phone": 1, "sms": 1, "letter": 0}))[["customer_id", "channel"]].values.tolist()
    [['a', 'phone']]
    """
    cost = candidates["channel"].map(capacity.cost).fillna(np.inf).to_numpy(dtype=float)
    c = candidates.assign(gain_per_effort=candidates["value"].to_numpy(dtype=float) / cost)
    c = c.loc[(c["value"] > 0) & c["channel"].isin([k for k, v in capacity.per_day.items() if v > 0])]
    left = dict(capacity.per_day)
    chosen = []
    while len(c) and any(v > 0 for v in left.values()):
        # every account offers its best remaining action; the channels take the best offers they can hold
        best = c.sort_values("value", ascending=False, kind="stable").drop_duplicates("customer_id")
        rank = best.groupby("channel").cumcount().to_numpy()
        room = best["channel"].map(left).fillna(0).to_numpy()
        take = best.loc[rank < room]
        chosen.append(take)
        for ch, n in take["channel"].value_counts().items():
            left[ch] -= int(n)
        full = [ch for ch, v in left.items() if v <= 0]
        c = c.loc[~c["customer_id"].isin(take["customer_id"]) & ~c["channel"].isin(full)]
        if take.empty:  # the best offers all sit on full channels: they were dropped above; go on
            continue
    if not chosen:
        return candidates.iloc[:0].assign(gain_per_effort=np.zeros(0))
    out = pd.concat(chosen).sort_values("value", ascending=False, kind="stable")
    return out.reset_index(drop=True)


# -- the replay ------------------------------------------------------------------------------------------------
class _State:
    """What a planner sees on a replay day: the open overdue invoices and the replay's contacts so far."""

    def __init__(self, day: pd.Timestamp, invoices: pd.DataFrame, capacity: Capacity) -> None:
        self.day = day
        self.invoices = invoices  # invoice_id, customer_id, open_amount, due_date, days_overdue, earlier, recent
        self.capacity = capacity

    def accounts(self) -> pd.DataFrame:
        """One row per overdue account not contacted within the capacity's gap: its overdue amount and ages."""
        inv = self.invoices.loc[self.invoices["contactable"]]
        g = inv.groupby("customer_id", sort=True)
        return pd.DataFrame(
            {
                "overdue_amount": g["open_amount"].sum(),
                "newest_overdue": g["days_overdue"].min(),
                "oldest_overdue": g["days_overdue"].max(),
            }
        )


def _fill_by_rank(order: pd.Index, capacity: Capacity, tone: str = "firm") -> pd.DataFrame:
    """A team working a list top-down: calls first, then SMS, then letters, one action per account."""
    slots = [ch for ch in ("phone", "sms", "letter") for _ in range(capacity.per_day.get(ch, 0))]
    n = min(len(order), len(slots))
    return pd.DataFrame({"customer_id": order[:n], "channel": slots[:n], "tone": tone})


_ORDERS: dict[str, Callable[[pd.DataFrame], pd.Index]] = {
    "largest_first": lambda a: a["overdue_amount"].sort_values(ascending=False, kind="stable").index,
    "newest_overdue_first": lambda a: (
        a.sort_values(["newest_overdue", "overdue_amount"], ascending=[True, False]).index
    ),
    "oldest_first": lambda a: a.sort_values(["oldest_overdue", "overdue_amount"], ascending=[False, False]).index,
}


def rule_planner(rule: str, key: pd.Series | None = None, seed: int = 0) -> Callable[[_State], pd.DataFrame]:
    """A simple order: ``largest_first`` (overdue amount), ``newest_overdue_first``, ``oldest_first``,
    ``random``, or ``key_first`` (a given score per customer, e.g. expected loss), worked calls-first.

    Examples
    --------
    >>> plan = rule_planner("largest_first")
    >>> callable(plan)
    True
    """
    rules = ("largest_first", "newest_overdue_first", "oldest_first", "random", "key_first")
    if rule not in rules:
        raise ParameterError(f"rule_planner: unknown rule {rule!r}; use one of {rules}.")
    rng = np.random.default_rng(seed)

    def plan(state: _State) -> pd.DataFrame:
        acc = state.accounts()
        if rule == "random":
            order = acc.index[rng.permutation(len(acc))]
        elif rule == "key_first":
            order = key.reindex(acc.index).fillna(-np.inf).sort_values(ascending=False, kind="stable").index
        else:
            order = _ORDERS[rule](acc)
        return _fill_by_rank(order, state.capacity)

    return plan


def _best_per_account(rows: pd.DataFrame, values: pd.DataFrame, capacity: Capacity) -> pd.DataFrame:
    """Sum each arm's per-invoice value per account, keep every account's arms, and allocate."""
    per = values.groupby(rows["customer_id"].to_numpy()).sum()
    long = per.stack().rename("value").reset_index()
    long.columns = ["customer_id", "arm", "value"]
    long[["channel", "tone"]] = long["arm"].str.split("/", expand=True)
    return allocate(long[["customer_id", "channel", "tone", "value"]], capacity)


def oracle_planner(truth: Any, horizon_days: int = 30) -> Callable[[_State], pd.DataFrame]:
    """The best a planner can do in expectation: the world's true value of every action on every account.

    Examples
    --------
    >>> import payrisk as pr
    >>> callable(oracle_planner(pr.datasets.make_ledger(n_customers=20, seed=0).truth))
    True
    """

    def plan(state: _State) -> pd.DataFrame:
        rows = state.invoices.loc[state.invoices["contactable"]]
        vals = {}
        for arm in ARMS[1:]:
            ch, tone = arm.split("/")
            v = truth.action_value(
                rows["invoice_id"], state.day, ch, tone, horizon_days=horizon_days,
                earlier=rows["earlier"].to_numpy(), recent=rows["recent"].to_numpy(),
            )  # fmt: skip
            vals[arm] = v.to_numpy()
        return _best_per_account(rows, pd.DataFrame(vals, index=rows.index), state.capacity)

    return plan


def gain_planner(
    model: ResponseModel,
    customer_features: pd.DataFrame,
    countries: pd.Series | None = None,
    horizon: int = 30,
    fill: str | None = "newest_overdue_first",
) -> Callable[[_State], pd.DataFrame]:
    """payrisk's plan: expected extra cash of each action per account from the response model (uplift on
    P(paid within ``horizon`` days) times the open amount), the best action per account, allocated by gain per
    unit of effort within the capacity. Slots left where the model sees no gain go down the ``fill`` order
    (a :func:`rule_planner` rule; None leaves them empty).

    Examples
    --------
    >>> callable(gain_planner(ResponseModel(), pd.DataFrame()))
    True
    """

    if fill is not None and fill not in _ORDERS:
        raise ParameterError(f"gain_planner: fill must be one of {sorted(_ORDERS)} or None; got {fill!r}.")

    def plan(state: _State) -> pd.DataFrame:
        rows = state.invoices.loc[state.invoices["contactable"]]
        if rows.empty:
            return pd.DataFrame(columns=["customer_id", "channel", "tone"])
        frame = pd.DataFrame(
            {
                "invoice_id": rows["invoice_id"].to_numpy(),
                "customer_id": rows["customer_id"].to_numpy(),
                "day": state.day,
                "days_overdue": rows["days_overdue"].to_numpy(),
                "open_amount": rows["open_amount"].to_numpy(),
                "earlier_actions": rows["earlier"].to_numpy(),
                "contacts_7d": rows["recent"].to_numpy(),
                "country": (countries.reindex(rows["customer_id"]).to_numpy() if countries is not None else "NL"),
            }
        )
        cust = customer_features.reindex(frame["customer_id"]).reset_index(drop=True)
        X = model.state_features(frame, cust)
        up = model.uplift(X, horizon=horizon).clip(lower=0)
        values = up.mul(frame["open_amount"].to_numpy(), axis=0)
        values.index = rows.index
        chosen = _best_per_account(rows, values, state.capacity)
        return _fill(chosen, state, fill)

    return plan


def _fill(chosen: pd.DataFrame, state: _State, rule: str | None) -> pd.DataFrame:
    """Slots the model left empty (no account where it sees a gain) go down a simple order, calls first."""
    if rule is None:
        return chosen
    used = chosen["channel"].value_counts()
    left = Capacity(
        per_day={ch: max(n - int(used.get(ch, 0)), 0) for ch, n in state.capacity.per_day.items()},
        cost=state.capacity.cost,
        min_gap_days=state.capacity.min_gap_days,
    )
    if not sum(left.per_day.values()):
        return chosen
    acc = state.accounts().drop(index=chosen["customer_id"], errors="ignore")
    order = _ORDERS[rule](acc)
    return pd.concat([chosen, _fill_by_rank(order, left)], ignore_index=True)


def _check_plan(acts: pd.DataFrame, state: pd.DataFrame, capacity: Capacity, name: str, day: pd.Timestamp) -> None:
    """A planner's day is refused when it acts twice on an account, beyond the capacity, or on an account with
    nothing open overdue or contacted within the gap: nothing is planned twice and nothing silently dropped."""
    twice = acts["customer_id"].duplicated()
    if twice.any():
        raise ParameterError(
            f"simulate_collections: planner {name!r} planned {int(twice.sum())} accounts twice on {day.date()} "
            f"(e.g. {acts.loc[twice, 'customer_id'].iloc[0]!r}); one action per account a day."
        )
    over = {ch: int(m) for ch, m in acts["channel"].value_counts().items() if m > capacity.per_day.get(ch, 0)}
    if over:
        raise ParameterError(f"simulate_collections: planner {name!r} exceeded the capacity on {day.date()}: {over}")
    allowed = state.loc[state["contactable"], "customer_id"]
    stray = ~acts["customer_id"].isin(allowed)
    if stray.any():
        raise ParameterError(
            f"simulate_collections: planner {name!r} acted on {int(stray.sum())} accounts on {day.date()} with "
            f"nothing overdue or contacted within {capacity.min_gap_days} days (e.g. "
            f"{acts.loc[stray, 'customer_id'].iloc[0]!r}); plan from state.accounts()."
        )


def simulate_collections(
    ledger: Any,
    planners: Mapping[str, Callable[[_State], pd.DataFrame]],
    start: Any,
    capacity: Capacity,
    *,
    business_days: int = 64,
    horizons: tuple[int, ...] = (30, 90),
    seed: int = 0,
) -> pd.DataFrame:
    """Replay the synthetic world's collections for ``business_days`` from ``start`` under each planner.

    The book is every invoice issued by ``start`` and still open then (the world's payment day without
    collector actions lies after it). Each business day a planner picks actions within ``capacity`` (one per
    account, no account twice within ``capacity.min_gap_days``, disputed invoices left alone); each open overdue
    invoice of a contacted account answers with the world's true probability
    (:meth:`~payrisk.datasets.Truth.answer_probability`, with repeats and recent contacts counted) and is then paid
    ``response_days`` later, unless it would have been paid sooner. The answers use common random numbers (one
    draw per invoice and day), so planners differ by their decisions alone.

    Returns
    -------
    DataFrame
        One row per planner: ``actions``, ``extra_cash_{H}d`` (cash collected within H calendar days of
        ``start`` beyond what the book pays without any action), ``cash_per_action_{H}d``, ``invoices``,
        ``accounts_overdue`` (at start), ``baseline_cash_{H}d``.

    Examples
    --------
    >>> import payrisk as pr
    >>> led = pr.datasets.make_ledger(n_customers=150, seed=0)
    >>> t = simulate_collections(led, {"largest": rule_planner("largest_first")}, "2024-06-28",
    ...                          Capacity.share_of(300, 0.05), business_days=10)
    >>> bool(t.loc["largest", "extra_cash_30d"] >= 0)
    True
    """
    from payrisk.datasets import _collector as col
    from payrisk.datasets._days import _next_business
    from payrisk.ledger import to_date

    truth = getattr(ledger, "truth", None)
    if truth is None:
        raise ParameterError("simulate_collections needs a synthetic world (ledger.truth); real data has no truth.")
    day0 = to_date(start, "start")
    t_inv = truth.invoices
    paid0 = t_inv["paid_without_action"]
    led_inv = ledger.invoices.set_index("invoice_id").reindex(t_inv["invoice_id"])
    issued = led_inv["issue_date"].to_numpy() <= day0
    book = t_inv.loc[issued & (paid0.isna() | (paid0 > day0)).to_numpy() & (t_inv["amount"] > 0).to_numpy()]
    sub = truth.restrict({"invoices": book, "plans": truth.plans})
    book = sub.invoices
    n = len(book)
    epoch = np.datetime64("1970-01-01", "D")
    due = (book["due_date"].to_numpy().astype("datetime64[D]") - epoch).astype(np.int64)
    base = book["paid_without_action"].to_numpy().astype("datetime64[D]")
    never = np.isnat(base)
    t0 = np.where(never, np.iinfo(np.int64).max // 4, (base - epoch).astype(np.int64))
    disputed = led_inv["disputed_date"].reindex(book["invoice_id"]).to_numpy().astype("datetime64[D]")
    dispute_day = np.where(np.isnat(disputed), np.iinfo(np.int64).max // 4, (disputed - epoch).astype(np.int64))
    d_start = int((np.datetime64(day0.date(), "D") - epoch).astype(np.int64))
    days = []
    d = _next_business(np.array([d_start + 1]))[0]
    while len(days) < business_days:
        days.append(d)
        d = _next_business(np.array([d + 1]))[0]
    rng = np.random.default_rng(seed)
    draws = rng.random((len(days), n), dtype=np.float32)
    amount = book["amount"].to_numpy(dtype=float)
    cure = col.cure_factor(truth.params.collector, book["archetype"].to_numpy(dtype=object))
    cust_codes, cust_ids = pd.factorize(book["customer_id"])
    accounts0 = len(np.unique(cust_codes[(due < d_start) & (t0 > d_start)]))
    rows = []
    for name, planner in planners.items():
        pay = t0.copy()
        earlier = np.zeros(n, dtype=np.int64)
        last_contact = np.full(len(cust_ids), -(10**9), dtype=np.int64)
        recent_log: list[tuple[int, np.ndarray]] = []
        n_actions = 0
        for k, today in enumerate(days):
            open_ = (pay > today) & (due < today) & (dispute_day > today)
            idx = np.flatnonzero(open_)
            recent_log = [(when, custs) for when, custs in recent_log if today - when <= 7]
            recent = np.zeros(len(cust_ids), dtype=np.int64)
            for _, custs in recent_log:  # at most a week of days
                recent[custs] += 1
            state_inv = pd.DataFrame(
                {
                    "invoice_id": book["invoice_id"].to_numpy()[idx],
                    "customer_id": book["customer_id"].to_numpy()[idx],
                    "open_amount": amount[idx],
                    "due_date": book["due_date"].to_numpy()[idx],
                    "days_overdue": today - due[idx],
                    "earlier": earlier[idx],
                    "recent": recent[cust_codes[idx]],
                    "contactable": today - last_contact[cust_codes[idx]] >= capacity.min_gap_days,
                },
                index=idx,
            )
            today_ts = pd.Timestamp(np.datetime64(int(today), "D"))
            acts = planner(_State(today_ts, state_inv, capacity))
            if acts is None or acts.empty:
                continue
            _check_plan(acts, state_inv, capacity, name, today_ts)
            n_actions += len(acts)
            hit = state_inv.loc[state_inv["contactable"] & state_inv["customer_id"].isin(acts["customer_id"])]
            a = acts.set_index("customer_id").reindex(hit["customer_id"])
            u = sub.answer_probability(
                hit["invoice_id"], today_ts, a["channel"].to_numpy(dtype=object), a["tone"].to_numpy(dtype=object),
                hit["earlier"].to_numpy(), hit["recent"].to_numpy(),
            ).to_numpy()  # fmt: skip
            i = hit.index.to_numpy()
            u = np.where(never[i], u * cure[i], u)
            answered = draws[k, i] < u
            when = _next_business(today + col.response_days(truth.params.collector, a["channel"].to_numpy()))
            pay[i] = np.where(answered, np.minimum(pay[i], when), pay[i])
            earlier[i] += 1
            contacted = pd.Index(cust_ids).get_indexer(acts["customer_id"])
            contacted = contacted[contacted >= 0]
            last_contact[contacted] = today
            recent_log.append((today, contacted))
        row = {"planner": name, "actions": n_actions, "invoices": n, "accounts_overdue": accounts0}
        for h in horizons:
            cash = float(amount[pay <= d_start + h].sum())
            baseline = float(amount[t0 <= d_start + h].sum())
            row[f"extra_cash_{h}d"] = cash - baseline
            row[f"baseline_cash_{h}d"] = baseline
            row[f"cash_per_action_{h}d"] = (cash - baseline) / max(n_actions, 1)
        rows.append(row)
    table = pd.DataFrame(rows).set_index("planner")
    table.attrs.update(start=str(day0.date()), business_days=business_days, seed=seed,
                       capacity=capacity.model_dump())  # fmt: skip
    return table
