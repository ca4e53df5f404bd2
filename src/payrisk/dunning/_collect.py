"""Collections by what acting changes: the account-level gain of each action, a plan within the team's daily
capacity per channel, and a replay of the synthetic world that scores any planner by the cash it brings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from payrisk._compat import ledger_first
from payrisk.dunning._response import ARMS, RESPONSE_FEATURES, TONES, ResponseModel
from payrisk.errors import ParameterError
from payrisk.schema import check_worklist

if TYPE_CHECKING:  # pragma: no cover
    from payrisk.ledger import Ledger

__all__ = [
    "Capacity",
    "allocate",
    "gain_planner",
    "oracle_planner",
    "plan_collections",
    "rule_planner",
    "simulate_collections",
]


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
            left[str(ch)] -= int(n)
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
        # invoice_id, customer_id, open_amount, due_date, days_overdue, earlier (actions on the invoice in the
        # replay), recent (the replay's actions on the customer in the last 7 days), contacts_7d (those and the
        # world's automatic reminders: what the team's ledger shows), contactable
        self.invoices = invoices
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
    if rule == "key_first" and key is None:
        raise ParameterError("rule_planner('key_first') needs key=, a Series of the ranking value per customer_id.")
    rng = np.random.default_rng(seed)
    ranking = key if key is not None else pd.Series(dtype=np.float64)

    def plan(state: _State) -> pd.DataFrame:
        acc = state.accounts()
        if rule == "random":
            order = acc.index[rng.permutation(len(acc))]
        elif rule == "key_first":
            order = ranking.reindex(acc.index).fillna(-np.inf).sort_values(ascending=False, kind="stable").index
        else:
            order = _ORDERS[rule](acc)
        return _fill_by_rank(order, state.capacity)

    return plan


def _best_per_account(rows: pd.DataFrame, values: pd.DataFrame, capacity: Capacity) -> pd.DataFrame:
    """Sum each arm's per-invoice value per account, keep every account's arms, and allocate."""
    per = values.groupby(rows["customer_id"].to_numpy()).sum()
    long = cast(pd.Series, per.stack()).rename("value").reset_index()  # one column level: a Series
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
                "contacts_7d": rows["contacts_7d"].to_numpy(),
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
    acc = state.accounts().drop(index=pd.Index(chosen["customer_id"]), errors="ignore")
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
    over = {str(ch): int(m) for ch, m in acts["channel"].value_counts().items() if m > capacity.per_day.get(str(ch), 0)}
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
    ledger: Ledger,
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
        ``start`` beyond what the book pays without any action, in the one draw of answers),
        ``expected_extra_cash_{H}d`` (its expectation given the replay's path: each action's true expected extra
        cash within the window, :meth:`~payrisk.datasets.Truth.action_value`, summed; the figure to compare
        planners by, as the realised one turns on whether a few large invoices answered), ``cash_per_action_{H}d``,
        ``invoices``, ``accounts_overdue`` (at start), ``baseline_cash_{H}d``.

    Examples
    --------
    >>> import payrisk as pr
    >>> led = pr.datasets.make_ledger(n_customers=150, seed=0)
    >>> t = simulate_collections(led, {"largest": rule_planner("largest_first")}, "2024-06-28",
    ...                          Capacity.share_of(300, 0.05), business_days=10)
    >>> bool(t.loc["largest", "extra_cash_30d"] >= 0)
    True
    """
    from payrisk._calendar import next_business as _next_business
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
    days: list[int] = []
    d = _next_business(np.array([d_start + 1]))[0]
    while len(days) < business_days:
        days.append(d)
        d = _next_business(np.array([d + 1]))[0]
    rng = np.random.default_rng(seed)
    draws = rng.random((len(days), n), dtype=np.float32)
    amount = book["amount"].to_numpy(dtype=float)
    cure = truth.cure_factor(book["archetype"].to_numpy(dtype=object))
    cust_codes, cust_ids = pd.factorize(book["customer_id"])
    accounts0 = len(np.unique(cust_codes[(due < d_start) & (t0 > d_start)]))
    rows = []
    for name, planner in planners.items():
        pay = t0.copy()
        earlier = np.zeros(n, dtype=np.int64)
        last_contact = np.full(len(cust_ids), -(10**9), dtype=np.int64)
        recent_log: list[tuple[int, np.ndarray]] = []
        n_actions = 0
        expected = dict.fromkeys(horizons, 0.0)
        for k, today in enumerate(days):
            open_ = (pay > today) & (due < today) & (dispute_day > today)
            idx = np.flatnonzero(open_)
            recent_log = [(when, custs) for when, custs in recent_log if today - when <= 7]
            recent = np.zeros(len(cust_ids), dtype=np.int64)
            for _, custs in recent_log:  # at most a week of days
                recent[custs] += 1
            # what the team's ledger shows: the world's automatic reminders of the week on the customer's open
            # invoices beside the replay's own actions
            auto = truth.automatic_contacts_7d(today - due[idx], amount[idx])
            seen = recent + np.bincount(cust_codes[idx], weights=auto, minlength=len(cust_ids)).astype(np.int64)
            state_inv = pd.DataFrame(
                {
                    "invoice_id": book["invoice_id"].to_numpy()[idx],
                    "customer_id": book["customer_id"].to_numpy()[idx],
                    "open_amount": amount[idx],
                    "due_date": book["due_date"].to_numpy()[idx],
                    "days_overdue": today - due[idx],
                    "earlier": earlier[idx],
                    "recent": recent[cust_codes[idx]],
                    "contacts_7d": seen[cust_codes[idx]],
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
            # the expected extra cash of today's actions given the path so far (invoices already answered and
            # waiting for their payment add nothing): summed over the replay, an unbiased, far less noisy
            # estimate of the extra cash than the one realised draw of answers (a few large invoices decide it)
            waiting = pay[i] < t0[i]
            for h in horizons:
                if today - d_start < h:
                    v = sub.action_value(
                        hit["invoice_id"], today_ts, a["channel"].to_numpy(dtype=object),
                        a["tone"].to_numpy(dtype=object), horizon_days=int(d_start + h - today),
                        earlier=hit["earlier"].to_numpy(), recent=hit["recent"].to_numpy(),
                    ).to_numpy()  # fmt: skip
                    expected[h] += float(np.where(waiting, 0.0, v).sum())
            answered = draws[k, i] < u
            when = _next_business(today + truth.response_days(a["channel"].to_numpy()))
            pay[i] = np.where(answered, np.minimum(pay[i], when), pay[i])
            earlier[i] += 1
            contacted = pd.Index(cust_ids).get_indexer(pd.Index(acts["customer_id"]))
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
            row[f"expected_extra_cash_{h}d"] = expected[h]
        rows.append(row)
    table = pd.DataFrame(rows).set_index("planner")
    table.attrs.update(start=str(day0.date()), business_days=business_days, seed=seed,
                       capacity=capacity.model_dump())  # fmt: skip
    return table


# -- today's collector plan on a real book -----------------------------------------------------------------------
def _explore(
    eligible: pd.DataFrame, per: pd.DataFrame, left: dict[str, int], share: float, seed: int, day: pd.Timestamp
) -> pd.DataFrame:
    """``share`` of each channel's room given to accounts drawn at random from ``eligible``, with a random tone:
    one row per account (index ``customer_id``; ``channel``, ``tone``, ``value`` of that action)."""
    empty = pd.DataFrame(columns=["channel", "tone", "value"], index=pd.Index([], name="customer_id"))
    if share <= 0 or eligible.empty:
        return empty
    rng = np.random.default_rng([seed, day.toordinal()])
    pool = eligible["customer_id"].to_numpy()[rng.permutation(len(eligible))]
    slots = [ch for ch, n in left.items() for _ in range(int(np.floor(share * n)))]
    n = min(len(pool), len(slots))
    tones = np.array(TONES)[rng.integers(0, len(TONES), n)]
    arms = [f"{ch}/{t}" for ch, t in zip(slots[:n], tones, strict=True)]
    col = per.columns.get_indexer(pd.Index(arms))
    table = per.reindex(pool[:n]).fillna(0.0).to_numpy()
    values = np.where(col >= 0, table[np.arange(n), np.maximum(col, 0)], 0.0) if n and per.shape[1] else np.zeros(n)
    out = pd.DataFrame({"channel": slots[:n], "tone": tones, "value": values}, index=pd.Index(pool[:n]))
    return out.rename_axis("customer_id") if n else empty


def _noticed(contacts: pd.DataFrame, policy: Any, day: pd.Timestamp, book: pd.DataFrame) -> np.ndarray:
    """Customers with a formal notice sent before ``day`` on one of their open overdue invoices: a formal-notice
    step of the policy's tracks, or a strict collector letter."""
    from payrisk.dunning._plan import _step_table

    steps = _step_table(policy)
    notices = set(steps.loc[steps["formal_notice"], "template"]) | {"collector_letter_strict"}
    sent = contacts.loc[contacts["template"].isin(notices) & (contacts["sent_at"] < day)]
    return sent.loc[sent["invoice_id"].isin(book["invoice_id"]), "customer_id"].unique()


PLAN_COLUMNS = [
    "action_id", "customer_id", "invoice_ids", "n_invoices", "overdue_amount", "channel", "tone", "template",
    "expected_extra_cash", "gain_per_effort", "action_order", "status", "blocked_by", "route", "explored", "send_at",
    "reason",
]  # fmt: skip


def _book_state(scores: pd.DataFrame, model: ResponseModel, snap: Any, day: pd.Timestamp) -> pd.DataFrame:
    """The open overdue, undisputed invoices of the worklist with the state the response model reads."""
    inv = scores.loc[
        (scores["due_date"] < day) & (scores["open_amount"] > 0), ["customer_id", "open_amount", "due_date"]
    ]
    inv = inv.rename_axis("invoice_id").reset_index()
    led = snap.invoices.set_index("invoice_id").reindex(inv["invoice_id"])
    disputed = (led["disputed_date"] <= day).fillna(False).to_numpy(dtype=bool) if "disputed_date" in led else False
    inv = inv.loc[~np.asarray(disputed, dtype=bool)].reset_index(drop=True)
    acts = model._actions(snap.contacts)
    acts = acts.loc[acts["day"] < day]
    inv["earlier_actions"] = acts["invoice_id"].value_counts().reindex(inv["invoice_id"]).fillna(0).to_numpy()
    con = snap.contacts
    week = con.loc[(con["sent_at"] >= day - pd.Timedelta(days=7)) & (con["sent_at"] < day)]
    inv["contacts_7d"] = week["customer_id"].value_counts().reindex(inv["customer_id"]).fillna(0).to_numpy()
    inv["days_overdue"] = (day - inv["due_date"]).dt.days
    country = snap.customers.set_index("customer_id")["country"] if "country" in snap.customers else None
    inv["country"] = country.reindex(inv["customer_id"]).to_numpy() if country is not None else None
    inv["day"] = day
    return inv


@ledger_first(("scores", "model", "capacity", "today", "history", "policy"), today="as_of", history="ledger")
def plan_collections(
    ledger: Ledger,
    scores: pd.DataFrame,
    model: ResponseModel,
    capacity: Capacity,
    as_of: Any,
    policy: Any = None,
    *,
    horizon: int = 30,
    min_value: float = 1.0,
    explore: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Today's collector actions by what acting changes: one row per overdue account, within the capacity.

    Each open overdue, undisputed invoice of the worklist is valued under every action the response model knows
    (channel and tone): its uplift on P(paid within ``horizon`` days) times the open amount. An account's action
    is the one whose summed value is highest on a channel with room (:func:`allocate`), and ``action_order`` ranks
    the accounts by that expected extra cash (1 = act first; ``gain_per_effort`` divides it by the channel's
    cost). The risk columns of the worklist (``red``, ``band``) are untouched: this is the order to act, not the
    order of risk. Guards: an account with a contact already planned for today or later (``pending_contact``), a
    contact within ``capacity.min_gap_days``, or the policy's weekly contact limits is ``blocked``; accounts worth
    acting on beyond the capacity ``wait``; accounts where no action is worth ``min_value`` are routed to
    ``legal_or_agency`` (overdue total at least ``policy.guards.legal_min_amount``; first ``formal_notice`` where
    the policy wants a formal notice before legal and none was sent) or ``write_off_review``, not to the call
    list. Messages go out on the customer's rhythm (:func:`send_days`). Recording the sent actions
    (:func:`to_contacts`) and planning again the same day plans nothing twice: the accounts are blocked as pending
    and the collector actions already planned for the day use up their share of the capacity.

    ``explore`` gives that share of each channel's capacity to accounts drawn at random among those not blocked,
    with a random tone (``explored`` True): the log then holds actions where the plan would not have acted, which
    the next fit of the response model needs to learn what it has not seen (its ``positivity_``). The draw is
    fixed by ``seed`` and the day, so planning again gives the same plan.

    Parameters
    ----------
    ledger : Ledger
        The ledger as known on ``as_of``, with the actions already planned.
    scores : DataFrame
        The worklist of :meth:`RiskEngine.score` (index ``invoice_id``; ``customer_id``, ``open_amount``,
        ``due_date``).
    model : ResponseModel
        Fitted on the ledger's contacts log.
    capacity : Capacity
    as_of : date-like
        The day the actions are planned for.
    policy : Policy, optional
        Its guards and timing (default :meth:`Policy.default`).
    horizon : int, default 30
        Expected extra cash within this many days (one of the model's ``horizons``).
    min_value : float, default 1.0
        Accounts where no action is expected to bring this much are routed off the call list.
    explore : float, default 0.0
        Share of each channel's daily capacity given to random actions (0 to 1).
    seed : int, default 0

    Returns
    -------
    DataFrame
        One row per overdue account: ``action_id``, ``customer_id``, ``invoice_ids``, ``n_invoices``,
        ``overdue_amount``, ``channel``, ``tone``, ``template`` (``collector_<channel>_<tone>``),
        ``expected_extra_cash``, ``gain_per_effort``, ``action_order``, ``status`` (send, wait, blocked, route),
        ``blocked_by``, ``route`` (collector, formal_notice, legal_or_agency, write_off_review), ``explored``,
        ``send_at``, ``reason``; sendable first, in action order.

    Examples
    --------
    >>> import payrisk as pr
    >>> led = pr.datasets.make_ledger(n_customers=300, seed=0)
    >>> model = ResponseModel(templates="^collector_", n_estimators=30).fit(led, "2024-06-30")
    >>> scores = pr.RiskEngine(n_estimators=30, reasons_top_n=0).fit(led, "2024-06-30").score(led, "2024-07-03")
    >>> plan = plan_collections(led.as_of("2024-07-03"), scores, model,
    ...                         Capacity(per_day={"phone": 5, "sms": 5, "letter": 5}), "2024-07-03")
    >>> int((plan["status"] == "send").sum()) <= 15 and bool(plan["customer_id"].is_unique)
    True
    """
    from payrisk import features
    from payrisk.dunning._plan import _pressure, _send_at
    from payrisk.dunning._policy import Policy
    from payrisk.ledger import to_date

    model._check_fitted()
    if not 0.0 <= explore <= 1.0:
        raise ParameterError(f"plan_collections: explore must lie in [0, 1] (a share of the capacity); got {explore}.")
    check_worklist(scores, ("customer_id", "open_amount", "due_date"), "plan_collections")
    policy = policy or Policy.default()
    day = to_date(as_of, "as_of")
    snap = ledger.as_of(day)
    book = _book_state(scores, model, snap, day)
    if book.empty:
        return pd.DataFrame(columns=PLAN_COLUMNS)
    who = pd.DataFrame({"customer_id": book["customer_id"].unique(), "as_of": day - pd.Timedelta(days=1)})
    cust = features.customer_features(snap, who, RESPONSE_FEATURES)
    X = model.state_features(book, cust.reindex(book["customer_id"]).reset_index(drop=True))
    values = model.uplift(X, horizon=horizon).clip(lower=0).mul(book["open_amount"].to_numpy(), axis=0)
    per = values.groupby(book["customer_id"].to_numpy()).sum()
    g = book.groupby("customer_id", sort=True)
    accounts = pd.DataFrame(
        {
            "invoice_ids": g["invoice_id"].agg(lambda s: ",".join(sorted(s))),
            "n_invoices": g.size(),
            "overdue_amount": g["open_amount"].sum(),
            "oldest": g["days_overdue"].max(),
        }
    )
    best_arm = per.idxmax(axis=1) if per.shape[1] else pd.Series("", index=per.index)
    accounts["expected_extra_cash"] = per.max(axis=1).reindex(accounts.index).fillna(0.0)
    accounts[["channel", "tone"]] = best_arm.reindex(accounts.index).astype(str).str.split("/", expand=True).to_numpy()
    # guards: planned already, contacted within the gap, the policy's weekly limits
    con = ledger.contacts
    pending = con.loc[con["sent_at"] >= day, "customer_id"].unique()
    recent = con.loc[(con["sent_at"] < day) & (con["sent_at"] >= day - pd.Timedelta(days=capacity.min_gap_days))]
    frame = accounts.reset_index()
    blocked = _pressure(frame[["customer_id", "channel"]], policy, day, con.loc[con["sent_at"] < day]).to_numpy()
    blocked = np.where(frame["customer_id"].isin(recent["customer_id"]), f"min_gap_days: contacted within "
                       f"{capacity.min_gap_days} days", blocked)  # fmt: skip
    blocked = np.where(frame["customer_id"].isin(pending), "pending_contact: a contact is already planned for "
                       "today or later", blocked)  # fmt: skip
    frame["blocked_by"] = blocked
    worth = frame["expected_extra_cash"] >= min_value
    # the collector actions already planned today (whatever day they go out on) use up today's capacity
    planned_today = con["contact_id"].astype(str).str.startswith(f"{day.date()}|")
    today_ = con.loc[planned_today & con["template"].fillna("").str.startswith("collector_")]
    used = today_.drop_duplicates("customer_id")["channel"].value_counts()
    left = {ch: max(n - int(used.get(ch, 0)), 0) for ch, n in capacity.per_day.items()}
    explored = _explore(frame.loc[frame["blocked_by"] == ""], per, left, explore, seed, day)
    left = {ch: n - int((explored["channel"] == ch).sum()) for ch, n in left.items()}
    open_for = frame.loc[worth & (frame["blocked_by"] == "") & ~frame["customer_id"].isin(explored.index)]
    long = cast(pd.Series, per.reindex(open_for["customer_id"]).stack()).rename("value").reset_index()
    long.columns = ["customer_id", "arm", "value"]
    long[["channel", "tone"]] = long["arm"].str.split("/", expand=True)
    room = Capacity(per_day=left, cost=capacity.cost, min_gap_days=capacity.min_gap_days)
    chosen = allocate(long[["customer_id", "channel", "tone", "value"]], room).set_index("customer_id")
    chosen = pd.concat([chosen[["channel", "tone", "value"]], explored[["channel", "tone", "value"]]])
    send = frame["customer_id"].isin(chosen.index).to_numpy()
    at = chosen.reindex(frame["customer_id"])
    frame.loc[send, "channel"] = at["channel"].to_numpy()[send]
    frame.loc[send, "tone"] = at["tone"].to_numpy()[send]
    frame.loc[send, "expected_extra_cash"] = at["value"].to_numpy(dtype=float)[send]
    frame["explored"] = frame["customer_id"].isin(explored.index).to_numpy()
    frame["status"] = np.select([send, frame["blocked_by"] != "", worth], ["send", "blocked", "wait"], default="route")
    legal = frame["overdue_amount"] >= policy.guards.legal_min_amount
    noticed = _noticed(con, policy, day, book)
    notice_first = legal & policy.guards.legal_needs_formal_notice & ~frame["customer_id"].isin(noticed)
    frame["route"] = np.where(
        frame["status"] == "route",
        np.select([notice_first, legal], ["formal_notice", "legal_or_agency"], default="write_off_review"),
        "collector",
    )
    frame["gain_per_effort"] = frame["expected_extra_cash"] / frame["channel"].map(capacity.cost).fillna(np.inf)
    frame["action_order"] = frame["expected_extra_cash"].rank(ascending=False, method="first").astype(int)
    frame["template"] = "collector_" + frame["channel"].fillna("none") + "_" + frame["tone"].fillna("none")
    frame["send_at"] = _send_at(frame, policy, snap, day)
    frame["action_id"] = f"{day.date()}|" + frame["customer_id"] + "|" + frame["template"]
    cash = frame["expected_extra_cash"].round(2).astype(str)
    frame["reason"] = np.select(
        [frame["explored"], frame["status"] == "send", frame["status"] == "wait", frame["status"] == "blocked",
         frame["route"] == "formal_notice"],
        [
            "exploration: a random " + frame["tone"].fillna("") + " " + frame["channel"].fillna("")
            + f" ({explore:.0%} of the capacity) for the response model to learn from; expected extra cash " + cash,
            "expected extra cash " + cash + " within " + str(horizon) + " days from a " + frame["tone"].fillna("")
            + " " + frame["channel"].fillna(""),
            "worth " + cash + " but today's capacity is used by accounts worth more",
            "blocked: " + frame["blocked_by"],
            "no action is expected to bring " + f"{min_value:g} or more; send the formal notice before legal (none "
            "was sent on these invoices)",
        ],
        default="no action is expected to bring " + f"{min_value:g} or more; oldest item "
        + frame["oldest"].astype(str) + " days overdue",
    )  # fmt: skip
    order = {"send": 0, "wait": 1, "blocked": 2, "route": 3}
    frame = frame.sort_values(["status", "action_order"], key=lambda s: s.map(order) if s.name == "status" else s)
    return frame.reindex(columns=PLAN_COLUMNS).reset_index(drop=True)
