"""Policies run forward through a synthetic world's response model: expected cash, contacts and customers lost."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from payrisk.dunning._plan import _step_table
from payrisk.dunning._policy import Policy
from payrisk.errors import ParameterError

if TYPE_CHECKING:
    from payrisk.ledger import Ledger

__all__ = ["TONE_SCALE", "simulate_policies"]

#: where each tone sits between the world's mild (0) and strict (1) response
TONE_SCALE = {"mild": 0.0, "neutral": 1 / 3, "firm": 2 / 3, "strict": 1.0}


def _steps(policy: Policy) -> pd.DataFrame:
    """The policy's step table (as plan_actions reads it) with each tone's place on the mild-strict scale."""
    steps = _step_table(policy)
    steps["tone_scale"] = steps["tone"].map(TONE_SCALE)
    steps["post_due"] = steps["days_after_due"].fillna(0) >= 1
    return steps


def _cohort(ledger: Ledger, segments: pd.Series, start: pd.Timestamp, end: pd.Timestamp, p_late: Any) -> pd.DataFrame:
    truth = ledger.truth
    assert truth is not None  # simulate_policies refuses a ledger without truth
    inv = truth.invoices.set_index("invoice_id")
    inv = inv.loc[(inv["due_date"] >= start) & (inv["due_date"] <= end)]
    led = ledger.invoices.set_index("invoice_id").reindex(inv.index)
    cust = truth.customers.set_index("customer_id").reindex(inv["customer_id"])
    out = pd.DataFrame(
        {
            "customer_id": inv["customer_id"],
            "archetype": inv["archetype"],
            "amount": led["amount"].to_numpy(),
            "due_date": inv["due_date"],
            "p_late": inv["p_late"],
            "p_never": inv["p_never"],
            "sigma": inv["late_log_sigma"],
            "disputed": led["disputed_date"].notna().to_numpy(),
            "score": inv["p_late"] if p_late is None else pd.Series(p_late).reindex(inv.index).fillna(inv["p_late"]),
            "rhythm": cust["rhythm"].to_numpy(),
            "weekday": cust["preferred_weekday"].to_numpy(),
            "payrun_day": cust["payrun_day"].to_numpy(),
            "concentration": cust["weekday_concentration"].to_numpy(),
            "bad_email": cust["bad_email"].to_numpy(dtype=bool),
        },
        index=inv.index,
    )
    out["segment"] = segments.reindex(out["customer_id"]).fillna("new").to_numpy()
    return out


def _detected_weekday(ledger: Ledger, customers: pd.Index, day: pd.Timestamp) -> pd.Series:
    """The payment weekday payrisk sees per customer at ``day`` (-1 when it sees none), as plan_actions times."""
    from payrisk import features

    who = pd.DataFrame({"customer_id": customers, "as_of": day})
    f = features.customer_features(ledger.as_of(day), who, ["pay_weekday", "pay_weekday_share"])
    wd = f["pay_weekday"].where(f["pay_weekday_share"].fillna(0) >= 0.5).fillna(-1)
    return wd.astype(np.int64).reindex(customers).fillna(-1)


def _draws(n: int, reps: int, seed: int) -> dict[str, np.ndarray]:
    """Common random numbers: every policy meets the same customers' luck, so policies differ by their effect."""
    rng = np.random.default_rng(seed)
    return {k: rng.random((reps, n)) for k in ("late", "never", "bounce", "snap")} | {
        "z": rng.standard_normal((reps, n))
    }


def _first_reminder(cohort: pd.DataFrame, steps: pd.DataFrame, params: Any, aligned_if_rhythm: np.ndarray) -> dict:
    """Per invoice, the world's mu of log days late under the track's first post-due reminder, and the chance it
    bounces (then the world's "none" response applies)."""
    f = steps.loc[steps["post_due"]].sort_values("order").drop_duplicates("segment").set_index("segment")
    f = f.reindex(cohort["segment"])
    has_first = f["channel"].notna().to_numpy()
    scale = f["tone_scale"].fillna(0).to_numpy()
    channel = pd.Series(f["channel"].fillna("email").to_numpy())
    arche = cohort["archetype"]
    base = np.log(arche.map(params.late_days_median).to_numpy())
    base = base + params.dispute_delay * cohort["disputed"].to_numpy(dtype=float)
    mild, strict = arche.map(params.tone_effect["mild"]).to_numpy(), arche.map(params.tone_effect["strict"]).to_numpy()
    sent = base + (1 - scale) * mild + scale * strict + channel.map(params.channel_effect).fillna(0.0).to_numpy()
    b = params.bounce_prob
    email = np.where(cohort["bad_email"].to_numpy(), b["email_bad"], b["email"])
    bounce = np.where(channel == "email", email, channel.map(b).fillna(0.0).to_numpy())
    return {
        "mu_sent": sent + params.aligned_effect * aligned_if_rhythm,
        "mu_none": base + arche.map(params.tone_effect["none"]).to_numpy(),
        "bounce": np.where(has_first, bounce, 1.0),  # no reminder at all: the "none" response
        "first_day": f["days_after_due"].fillna(1).to_numpy(dtype=np.int64),
    }


def _pay_days(cohort: pd.DataFrame, first: dict, draws: dict) -> tuple[np.ndarray, np.ndarray]:
    """Days from due date to payment of each invoice in each replication (0 when on time, _NEVER when never),
    drawn as the generator draws them: lognormal days late, snapped onto the customer's rhythm."""
    from payrisk._calendar import NEVER as _NEVER
    from payrisk._calendar import next_business as _next_business
    from payrisk._calendar import next_payrun as _next_payrun
    from payrisk._calendar import next_weekday as _next_weekday

    p_late, p_never = cohort["p_late"].to_numpy(), cohort["p_never"].to_numpy()
    late = draws["late"] < p_late
    never = late & (draws["never"] < p_never / np.maximum(p_late, 1e-12))
    mu = np.where(draws["bounce"] < first["bounce"], first["mu_none"], first["mu_sent"])
    days = np.maximum(1, np.ceil(np.minimum(np.exp(mu + cohort["sigma"].to_numpy() * draws["z"]), 10_000)))
    due = (cohort["due_date"].to_numpy().astype("datetime64[D]").astype(np.int64))[None, :]
    raw = due + days.astype(np.int64)
    rhythm = cohort["rhythm"].to_numpy()
    fwd = np.where(
        rhythm == "weekday",
        _next_weekday(raw, cohort["weekday"].to_numpy()),
        np.where(rhythm == "payrun", _next_payrun(raw, np.maximum(cohort["payrun_day"].to_numpy(), 1)), raw),
    )
    pay = _next_business(np.where(draws["snap"] < cohort["concentration"].to_numpy(), fwd, raw))
    after_due = np.where(late, pay - due, 0)
    return np.where(never, _NEVER, after_due), late


def _simulate(cohort: pd.DataFrame, steps: pd.DataFrame, params: Any, aligned: np.ndarray, draws: dict) -> dict:
    """Outcomes of one policy over the cohort in every replication (arrays of shape (reps,))."""
    from payrisk._calendar import next_business as _next_business

    first = _first_reminder(cohort, steps, params, aligned)
    after, late = _pay_days(cohort, first, draws)
    amount = cohort["amount"].to_numpy()
    out: dict[str, Any] = {"cash_by": lambda n: ((after <= n) * amount).sum(axis=1) / amount.sum()}
    out["days_late_mean"] = np.minimum(after, 90).mean(axis=1)
    rows = cohort[["customer_id", "segment", "score", "amount", "due_date"]].reset_index().merge(steps, on="segment")
    pos = cohort.index.get_indexer(pd.Index(rows["invoice_id"]))
    d = rows["days_after_due"].fillna(0).to_numpy(dtype=np.int64)
    due = rows["due_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    step_day = _next_business(due + d) - due
    pre = ~rows["post_due"].to_numpy()
    above = rows["p_late_above"].to_numpy(dtype=float)
    score_ok = np.isnan(above) | (rows["score"].to_numpy(dtype=float) > np.nan_to_num(above))
    legal_ok = (rows["channel"] != "legal").to_numpy() | (rows["amount"].to_numpy() >= params.legal_min_amount)
    first_order = steps.loc[steps["post_due"]].groupby("segment")["order"].min()
    first_step = (rows["order"] == rows["segment"].map(first_order)).to_numpy()
    open_then = np.where(first_step, after[:, pos] >= step_day, after[:, pos] > step_day) & late[:, pos]
    sent = np.where(pre, score_ok, open_then & (score_ok & legal_ok))
    scale = rows["tone_scale"].to_numpy()
    arche = cohort["archetype"].to_numpy()[pos]
    q = (1 - scale) * pd.Series(arche).map(params.loss_per_contact["mild"]).to_numpy()
    q = q + scale * pd.Series(arche).map(params.loss_per_contact["strict"]).to_numpy()
    cust = pd.factorize(rows["customer_id"])[0]
    log_stay = np.stack([np.bincount(cust, weights=np.log1p(-q) * s) for s in sent])
    out["p_lost"] = 1 - np.exp(log_stay)  # (reps, customers)
    out["customers"] = pd.Index(pd.unique(rows["customer_id"]))
    out["contacts"] = sent.sum(axis=1)
    out["collector_actions"] = sent[:, (rows["actor"] == "collector").to_numpy()].sum(axis=1)
    return out


def simulate_policies(
    ledger: Ledger,
    policies: Mapping[str, Policy],
    segments: pd.Series,
    start: Any,
    end: Any,
    *,
    days: tuple[int, ...] = (30, 60),
    p_late: pd.Series | None = None,
    reps: int = 30,
    seed: int = 0,
) -> pd.DataFrame:
    """Run dunning policies forward through a synthetic world's response model and compare expected outcomes.

    Every invoice due between ``start`` and ``end`` follows the track of its customer's segment under each
    policy. The world's response model (:class:`payrisk.datasets.WorldParams`) gives, per invoice, its true
    P(late) and P(never paid) and, for a late invoice, log days late ~ Normal(mu, sigma) where mu depends on the
    archetype and on the first reminder after the due date: its tone (neutral and firm sit between mild and
    strict, :data:`TONE_SCALE`), its channel, whether it arrives on the customer's payment weekday (a policy
    that follows the rhythm sends on the weekday payrisk detects) and whether it bounces. Each delivered
    contact may cost the customer (``loss_per_contact`` by tone). Payment days are drawn as the generator draws
    them (snapped onto the customer's payment rhythm), ``reps`` times with common random numbers, so every
    policy meets the same luck and policies differ by their effect alone; customers lost are expectations given
    the contacts drawn. Partial payments are left out, and plan offers have no response in this world.

    Parameters
    ----------
    ledger : Ledger
        A synthetic world (with ``ledger.truth``).
    policies : mapping of name to Policy
    segments : Series
        Segment per ``customer_id`` used to pick the track (customers not in it are ``new``).
    start, end : date-like
        Due dates of the cohort.
    days : tuple of int
        Report the cash collected within these many days after the due date.
    p_late : Series, optional
        The P(late) per invoice that pre-due steps are conditioned on (default: the true P(late)).
    reps : int
        Replications; ``table.attrs["monte_carlo_se"][policy][column]`` is the Monte Carlo standard error of each
        mean.
    seed : int

    Returns
    -------
    DataFrame
        One row per policy, means over the replications: ``invoices``, ``amount``, ``cash_by_day_N`` (share of
        the amount due paid within N days after the due date, per N), ``days_late_mean`` (days after the due
        date, 0 when on time, restricted to 90), ``contacts``, ``contacts_per_invoice``, ``collector_actions``,
        ``customers_lost`` (expected count) and ``invoicing_lost`` (the expected yearly invoicing of the
        customers lost).

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=200, seed=0)
    >>> seg = pr.segment.PayerSegmenter().fit_predict(ledger, "2023-12-31")["segment"]
    >>> table = simulate_policies(ledger, {"default": Policy.default()}, seg, "2024-01-01", "2024-06-30")
    >>> bool(0 < table.loc["default", "cash_by_day_30"] < table.loc["default", "cash_by_day_60"] <= 1)
    True
    """
    from payrisk.ledger import to_date

    truth = getattr(ledger, "truth", None)
    if truth is None:
        raise ParameterError("simulate_policies needs a synthetic world (ledger.truth); real data has no truth.")
    first, last = to_date(start, "start"), to_date(end, "end")
    cohort = _cohort(ledger, segments, first, last, p_late)
    if cohort.empty:
        raise ParameterError(f"simulate_policies: no invoice is due between {first.date()} and {last.date()}.")
    params = truth.params
    detected = _detected_weekday(ledger, pd.Index(cohort["customer_id"].unique()), first - pd.Timedelta(days=1))
    weekday_rhythm = (cohort["rhythm"] == "weekday").to_numpy()
    tc = truth.customers.set_index("customer_id")
    yearly = tc["invoices_per_month"] * tc["amount_scale"] * 12
    draws = _draws(len(cohort), reps, seed)
    rows, se = [], []
    for name, policy in policies.items():
        steps = _steps(policy)
        if policy.timing.follow_rhythm:  # sent on the weekday payrisk detects
            wd = detected.reindex(cohort["customer_id"]).to_numpy()
        else:  # sent on the step's day
            first_d = steps.loc[steps["post_due"]].groupby("segment")["days_after_due"].min()
            d = cohort["segment"].map(first_d).fillna(1).to_numpy(dtype=np.int64)
            wd = pd.DatetimeIndex(cohort["due_date"] + pd.to_timedelta(d, unit="D")).day_of_week.to_numpy()
        aligned = weekday_rhythm & (wd == cohort["weekday"].to_numpy())
        sim = _simulate(cohort, steps, params, aligned, draws)
        per_rep = {f"cash_by_day_{n}": sim["cash_by"](n) for n in days}
        per_rep["days_late_mean"] = sim["days_late_mean"]
        per_rep["contacts"] = sim["contacts"]
        per_rep["contacts_per_invoice"] = sim["contacts"] / len(cohort)
        per_rep["collector_actions"] = sim["collector_actions"]
        per_rep["customers_lost"] = sim["p_lost"].sum(axis=1)
        per_rep["invoicing_lost"] = sim["p_lost"] @ yearly.reindex(sim["customers"]).fillna(0).to_numpy()
        base = {"policy": name, "invoices": len(cohort), "amount": float(cohort["amount"].sum())}
        rows.append(base | {k: float(v.mean()) for k, v in per_rep.items()})
        se.append({"policy": name} | {k: float(v.std(ddof=1) / np.sqrt(reps)) for k, v in per_rep.items()})
    table = pd.DataFrame(rows).set_index("policy")
    table.attrs.update(reps=reps, seed=seed, start=str(first.date()), end=str(last.date()))
    table.attrs["monte_carlo_se"] = {row.pop("policy"): row for row in se}  # plain data: attrs must compare
    return table
