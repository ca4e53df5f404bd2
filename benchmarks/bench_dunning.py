"""Dunning: plan_actions on about 100k open invoices (target: at most 10 s); strict vs mild recovered per
segment; the default policy against one-size-fits-all, simulated forward.

Run: ``.venv/bin/python benchmarks/bench_dunning.py [case ...]``; results go to ``results/dunning.json``.

- ``plan_speed``: a synthetic world of 25,000 customers scored by a RiskEngine fitted on the default world; the
  time of ``plan_actions`` alone (the worklist is made before the clock starts), plan offers gated by the
  engine's adherence model.
- ``tone_effect``: ``estimate_tone_effect`` on the default world's randomised tones (segments as of the start of
  the window), beside the true effect per segment; figure ``results/figures/tone_effect.png``.
- ``policies``: ``simulate_policies`` for the default policy, one-size mild and one-size strict (and the default
  policy on the true archetypes, an upper bound), invoices due 2024-01-01 to 2024-06-30.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pandas as pd

import payrisk as pr
from _common import main, previous_results

CASES = {
    "plan_speed": {"case": "plan_speed"},
    "tone_effect": {"case": "tone_effect"},
    "policies": {"case": "policies"},
}
FIGURES = Path(__file__).resolve().parent / "results" / "figures"


def one_size(tone: str) -> pr.dunning.Policy:
    """The logged world's one-size-fits-all track (steps at 1, 14, 28, 45, 75 days) in one tone; legal is strict."""
    step = {"channel": "email", "tone": tone}
    steps = [
        step | {"name": "reminder", "days_after_due": 1, "template": "reminder"},
        step | {"name": "second-reminder", "days_after_due": 14, "template": "second"},
        step | {"name": "formal-notice", "days_after_due": 28, "channel": "letter", "template": "formal_notice",
                "formal_notice": True},
        step | {"name": "call", "days_after_due": 45, "channel": "phone", "template": "call", "actor": "collector"},
        {"name": "legal", "days_after_due": 75, "channel": "legal", "tone": "strict", "template": "legal",
         "actor": "collector"},
    ]  # fmt: skip
    return pr.dunning.Policy.one_size({"steps": steps}, f"one size {tone}")


def run_tone_effect() -> dict:
    """Strict vs mild per segment on the default world's randomised history, beside the truth."""
    ledger = pr.datasets.make_ledger(seed=1)
    segments = pr.segment.PayerSegmenter().fit_predict(ledger, "2023-06-30")["segment"]
    out: dict = {}
    for label, propensity in (("known_propensity", 0.5), ("estimated_propensity", None)):
        t0 = time.perf_counter()
        effect = pr.dunning.estimate_tone_effect(
            ledger, "2024-12-31", segments, start="2023-07-01", propensity=propensity
        )
        seconds = time.perf_counter() - t0
        per_invoice = ledger.truth.tone_effect(effect.invoices.index, effect.meta["horizon_days"])
        truth = per_invoice.groupby(effect.invoices["segment"]).mean()
        truth["all"] = per_invoice.mean()
        table = effect.by_segment.assign(truth=truth)
        table["inside"] = (table["truth"] >= table["ci_low"]) & (table["truth"] <= table["ci_high"])
        out[label] = {"seconds": seconds, "by_segment": table.round(3).reset_index().to_dict("records")}
        if propensity is not None:
            FIGURES.mkdir(parents=True, exist_ok=True)
            effect.plot(truth).savefig(FIGURES / "tone_effect.png", dpi=110)
    rows = out["known_propensity"]["by_segment"]
    out["all_inside"] = all(r["inside"] for r in rows)
    out["cohort_invoices"] = rows[0]["n"]
    return out


def run_policies() -> dict:
    """The default policy against one-size-fits-all mild and strict, run forward through the world's response."""
    ledger = pr.datasets.make_ledger(seed=1)
    segments = pr.segment.PayerSegmenter().fit_predict(ledger, "2023-12-31")["segment"]
    archetypes = ledger.truth.customers.set_index("customer_id")["archetype"]
    policies = {"default": pr.dunning.Policy.default(), "one size mild": one_size("mild"),
                "one size strict": one_size("strict")}  # fmt: skip
    t0 = time.perf_counter()
    table = pr.dunning.simulate_policies(ledger, policies, segments, "2024-01-01", "2024-06-30")
    seconds = time.perf_counter() - t0
    oracle = pr.dunning.simulate_policies(
        ledger, {"default, true archetypes": policies["default"]}, archetypes, "2024-01-01", "2024-06-30"
    )
    se = table.attrs["monte_carlo_se"] | oracle.attrs["monte_carlo_se"]
    both = pd.concat([table, oracle])
    return {
        "seconds": seconds,
        "cohort_invoices": int(table["invoices"].iloc[0]),
        "reps": table.attrs["reps"],
        "table": both.round(4).reset_index().to_dict("records"),
        "monte_carlo_se": se,
    }


def bucket_rule(scores: pd.DataFrame, today: pd.Timestamp) -> pd.DataFrame:
    """What a collections team would otherwise run: one reminder per overdue invoice whose days overdue just
    reached a bucket edge (1, 14, 28, 45, 75), the same for everyone, without guards, grouping or timing."""
    days = (today - scores["due_date"]).dt.days
    step = pd.cut(days, [0, 13, 27, 44, 74, 10_000], labels=["reminder", "second", "notice", "call", "legal"])
    due_today = days.isin([1, 14, 28, 45, 75])
    return scores.loc[due_today, ["customer_id", "open_amount"]].assign(step=step[due_today])


def run_plan_speed() -> dict:
    engine = pr.RiskEngine(reasons_top_n=0).fit(pr.datasets.make_ledger(), "2024-06-30")
    big = pr.datasets.make_ledger(n_customers=25_000, start="2023-07-01", end="2024-06-30", seed=7)
    scores = engine.score(big, "2024-06-30")
    history = big.as_of("2024-06-30")
    policy = pr.dunning.Policy.default()
    t0 = time.perf_counter()
    actions = pr.dunning.plan_actions(history, scores, policy, "2024-06-30", adherence=engine)
    seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    baseline = bucket_rule(scores, pd.Timestamp("2024-06-30"))
    baseline_seconds = time.perf_counter() - t0
    sent = int((actions["status"] == "send").sum())
    sendable = actions.loc[actions["status"] == "send"]
    plan_templates = [s.template for t in policy.tracks.values() for s in t.steps if s.offer == "plan"]
    print(
        f"plan_actions: {len(scores):,} open invoices -> {sent:,} actions to send, {len(actions) - sent:,} blocked, "
        f"in {seconds:.2f} s ({len(scores) / seconds:,.0f} invoices/s); the bucket rule: {len(baseline):,} "
        f"reminders in {baseline_seconds:.2f} s"
    )
    return {
        "open_invoices": len(scores),
        "actions_sent": sent,
        "blocked": len(actions) - sent,
        "seconds": seconds,
        "baseline_bucket_rule": {"reminders": len(baseline), "seconds": baseline_seconds},
        "by_rule": actions["blocked_by"].str.split(":").str[0].value_counts().to_dict(),
        "plan_offers": {  # sendable actions on a step that offers a plan, and those that got one
            "asked": int(sendable["template"].str.split("+").str[0].isin(plan_templates).sum()),
            "offered": int(sendable["plan_instalments"].notna().sum()),
        },
    }


def run(case: str) -> dict:
    return globals()[f"run_{case}"]()


if __name__ == "__main__":
    main(
        "bench_dunning",
        "dunning",
        sys.argv[1:] or list(CASES),
        ["open_invoices", "actions_sent", "cohort_invoices", "all_inside", "seconds"],
        keep=previous_results("dunning"),
    )
