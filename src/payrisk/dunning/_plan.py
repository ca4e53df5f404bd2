"""Today's dunning actions: the due step of each open invoice, the guards, one action per customer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from payrisk._compat import ledger_first
from payrisk.dunning._offers import OFFER_COLUMNS, gate_plan_offers
from payrisk.dunning._policy import Policy
from payrisk.dunning._timing import send_days
from payrisk.feedback import REPORTED
from payrisk.schema import check_worklist

if TYPE_CHECKING:  # pragma: no cover
    from payrisk.ledger import Ledger

__all__ = ["plan_actions", "to_contacts"]

_NEEDS = ("customer_id", "open_amount", "due_date", "p_late", "segment")
ACTION_COLUMNS = [
    "action_id", "customer_id", "invoice_ids", "n_invoices", "open_amount", "segment", "step", "channel", "tone",
    "template", "actor", "offer", *OFFER_COLUMNS, "send_at", "priority", "status", "blocked_by", "reason",
]  # fmt: skip


def _step_table(policy: Policy) -> pd.DataFrame:
    rows = [
        {"segment": seg, "order": i, **step.model_dump()}
        for seg, track in policy.tracks.items()
        for i, step in enumerate(track.steps)
    ]
    return pd.DataFrame(rows).rename(columns={"name": "step"})


def _due_steps(scores: pd.DataFrame, steps: pd.DataFrame, day: pd.Timestamp, contacts: pd.DataFrame) -> pd.DataFrame:
    """One row per open invoice whose track has a step due today that was not sent yet (the latest such step)."""
    inv = scores.loc[:, list(_NEEDS)].rename_axis("invoice_id").reset_index()
    inv["segment"] = inv["segment"].where(inv["segment"].isin(steps["segment"]), "new")
    inv["days_since_due"] = (day - inv["due_date"]).dt.days
    rows = inv.merge(steps, on="segment", how="inner")
    by_days = rows["days_after_due"].isna() | (rows["days_since_due"] >= rows["days_after_due"])
    by_score = rows["p_late_above"].isna() | (rows["p_late"] > rows["p_late_above"])
    score_only = rows["days_after_due"].isna() & (rows["days_since_due"] >= 0)  # a pre-due nudge, not after
    rows = rows.loc[by_days & by_score & ~score_only]
    sent = contacts[["invoice_id", "template"]].assign(template=contacts["template"].str.split("+").str[0])
    done = rows.merge(sent.drop_duplicates(), on=["invoice_id", "template"], how="inner")
    last_done = done.groupby("invoice_id")["order"].max()
    rows = rows.loc[rows["order"].to_numpy() > last_done.reindex(rows["invoice_id"]).fillna(-1).to_numpy()]
    return rows.sort_values(["invoice_id", "order"]).drop_duplicates("invoice_id", keep="last")


def _invoice_guards(
    rows: pd.DataFrame, policy: Policy, notices: pd.Series, snap: Any, day: pd.Timestamp, contacts: pd.DataFrame
) -> pd.Series:
    """The first invoice-level rule that blocks each row ("" when none)."""
    inv = snap.invoices.set_index("invoice_id")
    at = inv.reindex(rows["invoice_id"])
    g = policy.guards
    blocked = pd.Series("", index=rows.index, dtype=object)
    not_open = ~(at["open_amount"].fillna(0).to_numpy() > 0)
    disputed = (at["disputed_date"] <= day).fillna(False).to_numpy(dtype=bool)
    overdue_total = (
        inv.loc[(inv["open_amount"] > 0) & (inv["due_date"] < day)].groupby("customer_id")["open_amount"].sum()
    )
    legal = (rows["channel"] == "legal").to_numpy()
    small = overdue_total.reindex(rows["customer_id"]).fillna(0).to_numpy() < g.legal_min_amount
    noticed = contacts.loc[contacts["template"].isin(notices) & (contacts["sent_at"] < day), "invoice_id"].unique()
    no_notice = (
        ~rows["invoice_id"].isin(noticed).to_numpy() if g.legal_needs_formal_notice else np.zeros(len(rows), bool)
    )
    promised = _promises(rows, snap, day, g.promise_grace_days)
    rules: list[tuple[str | np.ndarray, np.ndarray]] = [
        ("not_open: the invoice is paid or credited", not_open),
        ("disputed: only the dispute flow contacts a customer about a disputed invoice", disputed),
        (promised, promised != ""),
        (f"legal_min_amount: overdue total below {g.legal_min_amount:g}", legal & small),
        ("legal_needs_formal_notice: no formal notice was sent on this invoice", legal & no_notice),
    ]
    for rule, hit in reversed(rules):  # the first rule in the list wins
        blocked[hit] = rule if isinstance(rule, str) else rule[hit]
    return blocked


def _promises(rows: pd.DataFrame, snap: Any, day: pd.Timestamp, grace: int) -> np.ndarray:
    """The block of each row whose invoice, or whose customer (a promise without an invoice), has a promise to pay
    on record (:meth:`payrisk.Ledger.promises`) whose due day plus ``grace`` days is not past
    ("promise_to_pay: promised 1,200 by 2024-08-15"); else ""."""
    out = np.full(len(rows), "", dtype=object)
    made = snap.promises()
    made = made.loc[(made["due"] + pd.Timedelta(days=grace) >= day).to_numpy(dtype=bool)]
    if made.empty or not len(rows):
        return out
    made = made.sort_values("due", kind="stable")  # the latest promise speaks for its invoice or customer
    amount = made["promised_amount"].map(lambda a: "the open amount" if pd.isna(a) else f"{a:,.0f}")
    text = "promise_to_pay: promised " + amount + " by " + made["due"].dt.strftime("%Y-%m-%d")
    whole = made["invoice_id"].isna().to_numpy()
    by_customer = pd.Series(text.to_numpy()[whole], index=made["customer_id"].to_numpy()[whole])
    by_invoice = pd.Series(text.to_numpy()[~whole], index=made["invoice_id"].to_numpy()[~whole])
    for found in (
        by_customer.groupby(level=0).last().reindex(rows["customer_id"]).to_numpy(),
        by_invoice.groupby(level=0).last().reindex(rows["invoice_id"]).to_numpy(),  # an invoice's own promise wins
    ):
        out = np.where(pd.notna(found), found, out)
    return out


def _notice_first(blocked: pd.DataFrame, steps: pd.DataFrame, scheduled: pd.DataFrame) -> pd.DataFrame:
    """Where a legal step waits for a formal notice, the track's formal notice goes out instead (once)."""
    waiting = blocked.loc[blocked["blocked_by"].str.startswith("legal_needs_formal_notice")]
    notice = steps.loc[steps["formal_notice"]].sort_values("order").drop_duplicates("segment", keep="last")
    noticed = scheduled.loc[scheduled["template"].isin(steps.loc[steps["formal_notice"], "template"]), "invoice_id"]
    waiting = waiting.loc[~waiting["invoice_id"].isin(noticed)]
    keep = [c for c in waiting.columns if c not in steps.columns or c == "segment"]
    return waiting[keep].merge(notice, on="segment", how="inner").assign(blocked_by="")


def _per_customer(rows: pd.DataFrame) -> pd.DataFrame:
    """One action per customer: its most advanced due step, over the invoices that have one."""
    rows = rows.sort_values(["customer_id", "order", "priority"], ascending=[True, False, True])
    grouped = rows.groupby("customer_id", sort=True)
    head = grouped.head(1).set_index("customer_id")
    head["invoice_ids"] = grouped["invoice_id"].agg(lambda s: ",".join(sorted(s)))
    head["n_invoices"] = grouped.size()
    head["open_amount"] = grouped["open_amount"].sum()
    head["priority"] = grouped["priority"].min()
    return head.reset_index()


def _pressure(actions: pd.DataFrame, policy: Policy, day: pd.Timestamp, contacts: pd.DataFrame) -> pd.Series:
    """Contact-pressure rules per customer: a contact already planned (sent today or scheduled after it), and the
    contacts in the 7 days up to today, in total and on the channel."""
    g = policy.guards
    # what a customer reported (payrisk.feedback: a promise, a bounced address) is not a contact made to it
    contacts = contacts.loc[~contacts["template"].fillna("").str.startswith(REPORTED).to_numpy(dtype=bool)]
    pending = contacts.loc[contacts["sent_at"] >= day, "customer_id"].unique()
    week = contacts.loc[
        (contacts["sent_at"] >= day - pd.Timedelta(days=6)) & (contacts["sent_at"] < day + pd.Timedelta(days=1))
    ]
    total = week.groupby("customer_id").size().reindex(actions["customer_id"]).fillna(0).to_numpy()
    key = pd.MultiIndex.from_arrays([actions["customer_id"], actions["channel"]])
    on_channel = week.groupby(["customer_id", "channel"]).size().reindex(key).fillna(0).to_numpy()
    limit = actions["channel"].map(g.max_per_channel_per_week).fillna(np.inf).to_numpy()
    out = pd.Series("", index=actions.index, dtype=object)
    out[on_channel >= limit] = "max_per_channel_per_week: the channel's weekly limit is reached"
    out[total >= g.max_contacts_per_week] = f"max_contacts_per_week: {g.max_contacts_per_week} contacts in 7 days"
    out[actions["customer_id"].isin(pending).to_numpy()] = (
        "pending_contact: a contact is already planned for today or later"
    )
    return out


def _bounce_fallback(actions: pd.DataFrame, policy: Policy, contacts: pd.DataFrame) -> pd.DataFrame:
    """A channel whose last contact bounced is replaced by its fallback, asking for a correct address."""
    last = contacts.sort_values("sent_at").drop_duplicates(["customer_id", "channel"], keep="last")
    bounced = last.loc[last["bounced"].fillna(False).astype(bool), ["customer_id", "channel"]]
    key = pd.MultiIndex.from_frame(actions[["customer_id", "channel"]])
    hit = key.isin(pd.MultiIndex.from_frame(bounced)) if len(bounced) else np.zeros(len(actions), dtype=bool)
    fallback = actions["channel"].map(policy.guards.bounce_fallback)
    hit &= fallback.notna().to_numpy()
    out = actions.copy()
    out.loc[hit, "reason"] = out.loc[hit, "channel"] + " bounced: " + fallback[hit] + ", asking for a correct address"
    out.loc[hit, "template"] = out.loc[hit, "template"] + "+ask_" + out.loc[hit, "channel"] + "_address"
    out.loc[hit, "channel"] = fallback[hit]
    return out


@ledger_first(("scores", "policy", "today", "history", "adherence"), today="as_of", history="ledger")
def plan_actions(
    ledger: Ledger, scores: pd.DataFrame, policy: Policy, as_of: Any, adherence: Any = None
) -> pd.DataFrame:
    """Today's dunning actions: one per customer, deterministic and idempotent.

    Each open invoice in ``scores`` (the worklist of :meth:`RiskEngine.score`) follows the track of its segment: its
    due step is the latest step whose trigger holds today and that was not sent or scheduled yet (a contact with the
    step's template on the invoice in ``ledger``, whatever its date: ``ledger`` is the whole ledger with every
    contact recorded, those planned for later days included). Invoice guards (paid or credited, disputed, legal
    minimum amount, formal notice before legal) block single invoices; a customer's remaining due invoices are
    grouped into one action on the most advanced step; contact-pressure guards (per week, per channel) block
    actions; a bounced channel falls back. A step that offers a payment plan offers the shortest plan the customer
    can carry (from its payments of the past year) and will keep (P(kept) from ``adherence`` at least
    ``policy.plan_offers.min_p_kept``), never after a recently broken plan unless the policy allows it; without such
    a plan the step goes out without an offer (template suffixed ``+no_plan``) and ``reason`` says why. Recording
    the actions as contacts (:func:`to_contacts`) and planning again on the same day plans nothing twice.

    Parameters
    ----------
    ledger : Ledger
        The ledger with every contact recorded, those scheduled after ``as_of`` included (pass the whole ledger,
        not ``ledger.as_of(day)``, which hides them; what happened after ``as_of`` is not read otherwise).
    scores : DataFrame
        The worklist of :meth:`RiskEngine.score` (index ``invoice_id``; ``customer_id``, ``open_amount``,
        ``due_date``, ``p_late``, ``segment``, optionally ``priority_rank``).
    policy : Policy
    as_of : date-like
        The day the actions are planned for.
    adherence : RiskEngine or InstallmentAdherenceClassifier, optional
        Gates plan offers; without it no plan is offered.

    Returns
    -------
    DataFrame
        One row per customer with a due step: ``action_id``, ``customer_id``, ``invoice_ids`` (comma-separated),
        ``n_invoices``, ``open_amount``, ``segment``, ``step``, ``channel``, ``tone``, ``template``, ``actor``,
        ``offer``, ``plan_instalments``, ``instalment_amount`` and ``p_kept`` (of the plan offered, or of the
        best plan when none is), ``send_at``, ``priority`` (the best priority rank of its invoices), ``status``
        ("send" or "blocked"), ``blocked_by`` (the rule that blocked) and ``reason``; sendable actions first, by
        priority.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=200, seed=0)
    >>> scores = pr.RiskEngine(n_estimators=40, reasons_top_n=0).fit(ledger, "2024-03-31").score(ledger, "2024-04-30")
    >>> actions = plan_actions(ledger, scores, Policy.default(), "2024-04-30")
    >>> bool(actions.loc[actions["status"] == "send", "customer_id"].is_unique)
    True
    >>> bool((actions.loc[actions["status"] == "blocked", "blocked_by"] != "").all())
    True
    """
    from payrisk.ledger import to_date

    check_worklist(scores, _NEEDS, "plan_actions")
    day = to_date(as_of, "as_of")
    snap = ledger.as_of(day)
    contacts = snap.contacts
    # sent, or scheduled for any later day (a plan made earlier that waits for its send day): a step recorded on
    # an invoice is never planned again, whatever the date it goes out on
    scheduled = ledger.contacts
    steps = _step_table(policy)
    rows = _due_steps(scores, steps, day, scheduled)
    rank = scores["priority_rank"] if "priority_rank" in scores.columns else pd.Series(0, index=scores.index)
    rows["priority"] = rank.reindex(rows["invoice_id"]).to_numpy()
    notices = steps.loc[steps["formal_notice"], "template"]
    rows["blocked_by"] = _invoice_guards(rows, policy, notices, snap, day, contacts).to_numpy()
    blocked_rows = rows.loc[rows["blocked_by"] != ""]
    sendable = pd.concat(
        [rows.loc[rows["blocked_by"] == ""], _notice_first(blocked_rows, steps, scheduled)], ignore_index=True
    )
    actions = _per_customer(sendable)
    actions["reason"] = actions["step"] + " is due: " + actions["days_since_due"].astype(str) + " days after due"
    actions = _bounce_fallback(actions, policy, contacts)
    actions["blocked_by"] = _pressure(actions, policy, day, scheduled).to_numpy()
    actions = _with_offers(actions, policy, snap, day, adherence)
    blocked = blocked_rows.assign(
        invoice_ids=blocked_rows["invoice_id"], n_invoices=1, reason=blocked_rows["step"] + " blocked"
    )
    actions = pd.concat([actions, blocked], ignore_index=True)
    actions["status"] = np.where(actions["blocked_by"] == "", "send", "blocked")
    actions["send_at"] = _send_at(actions, policy, snap, day)
    ids = actions["customer_id"] + "|" + actions["template"] + "|" + actions["invoice_ids"]
    actions["action_id"] = f"{day.date()}|" + ids
    actions = _not_recorded(actions, scheduled)
    order = actions.sort_values(["status", "priority", "customer_id"], ascending=[False, True, True])
    return order.reindex(columns=ACTION_COLUMNS).reset_index(drop=True)


def _not_recorded(actions: pd.DataFrame, contacts: pd.DataFrame) -> pd.DataFrame:
    """Actions whose id is already in the contacts (recorded by :func:`to_contacts`) are dropped: planning again
    after recording plans nothing twice, even where a template was changed on the way."""
    if contacts.empty or "contact_id" not in contacts.columns:
        return actions
    recorded = contacts["contact_id"].astype(str).str.rsplit("|", n=1).str[0]
    return actions.loc[~actions["action_id"].isin(set(recorded))]


def _with_offers(actions: pd.DataFrame, policy: Policy, snap: Any, day: pd.Timestamp, adherence: Any) -> pd.DataFrame:
    """Plan offers gated by the adherence model; a withdrawn offer changes the template and says why."""
    offers = gate_plan_offers(actions, policy.plan_offers, snap, day, adherence)
    withdrawn = (actions["offer"] == "plan") & (offers["offer"] == "none")
    out = actions.assign(**{c: offers[c] for c in ["offer", *OFFER_COLUMNS]})
    out.loc[withdrawn, "template"] = out.loc[withdrawn, "template"] + "+no_plan"
    has_note = offers["offer_note"] != ""
    out.loc[has_note, "reason"] = out.loc[has_note, "reason"] + "; " + offers.loc[has_note, "offer_note"]
    return out


def _send_at(actions: pd.DataFrame, policy: Policy, snap: Any, day: pd.Timestamp) -> pd.Series:
    from payrisk import features

    cust = snap.customers.set_index("customer_id")
    country = cust["country"].reindex(actions["customer_id"]).to_numpy(dtype=object) if "country" in cust else None
    country = np.full(len(actions), None, dtype=object) if country is None else country
    who = pd.DataFrame({"customer_id": actions["customer_id"].unique(), "as_of": day})
    rhythm = features.customer_features(
        snap, who, ["pay_weekday", "pay_weekday_share", "pay_day_of_month", "pay_day_of_month_share"]
    )
    r = rhythm.reindex(actions["customer_id"])
    weekday = np.where(r["pay_weekday_share"].fillna(0).to_numpy() >= 0.5, r["pay_weekday"].fillna(-1), -1)
    payrun = np.where(r["pay_day_of_month_share"].fillna(0).to_numpy() >= 0.3, r["pay_day_of_month"].fillna(0), 0)
    days = send_days(day, policy.timing, country, weekday.astype(np.int64), payrun.astype(np.int64))
    return pd.Series(pd.to_datetime(days) + pd.Timedelta(hours=policy.timing.send_hour), index=actions.index)


def to_contacts(actions: pd.DataFrame) -> pd.DataFrame:
    """The sendable actions as rows of the ``contacts`` table (one per invoice), to record what was sent.

    Examples
    --------
    >>> import pandas as pd
    >>> actions = pd.DataFrame({
    ...     "action_id": ["2024-04-30|c1|r1|i1,i2", "2024-04-30|c2|r1|i3"], "customer_id": ["c1", "c2"],
    ...     "invoice_ids": ["i1,i2", "i3"], "status": ["send", "blocked"],
    ...     "send_at": pd.Timestamp("2024-04-30 09:00"), "channel": "email", "tone": "mild", "template": "r1"})
    >>> contacts = to_contacts(actions)  # the blocked action is not sent
    >>> contacts[["customer_id", "invoice_id", "channel"]].values.tolist()
    [['c1', 'i1', 'email'], ['c1', 'i2', 'email']]
    """
    send = actions.loc[actions["status"] == "send"]
    out = send.assign(invoice_id=send["invoice_ids"].str.split(",")).explode("invoice_id")
    return pd.DataFrame(
        {
            "contact_id": out["action_id"] + "|" + out["invoice_id"],
            "customer_id": out["customer_id"],
            "invoice_id": out["invoice_id"],
            "sent_at": out["send_at"],
            "channel": out["channel"],
            "tone": out["tone"],
            "template": out["template"],
            "delivered": True,
            "bounced": False,
        }
    ).reset_index(drop=True)
