"""Dunning: plan_actions on about 100k open invoices (target: at most 10 s).

Run: ``.venv/bin/python benchmarks/bench_dunning.py [case ...]``; results go to ``results/dunning.json``.

- ``plan_speed``: a synthetic world of 25,000 customers scored by a RiskEngine fitted on the default world; the
  time of ``plan_actions`` alone (the worklist is made before the clock starts), plan offers gated by the
  engine's adherence model.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import payrisk as pr
from _common import main, previous_results

CASES = {"plan_speed": {"case": "plan_speed"}}


def run_plan_speed() -> dict:
    engine = pr.RiskEngine(reasons_top_n=0).fit(pr.datasets.make_ledger(), "2024-06-30")
    big = pr.datasets.make_ledger(n_customers=25_000, start="2023-07-01", end="2024-06-30", seed=7)
    scores = engine.score(big, "2024-06-30")
    history = big.as_of("2024-06-30")
    policy = pr.dunning.Policy.default()
    t0 = time.perf_counter()
    actions = pr.dunning.plan_actions(scores, policy, "2024-06-30", history, adherence=engine)
    seconds = time.perf_counter() - t0
    sent = int((actions["status"] == "send").sum())
    sendable = actions.loc[actions["status"] == "send"]
    plan_templates = [s.template for t in policy.tracks.values() for s in t.steps if s.offer == "plan"]
    print(
        f"plan_actions: {len(scores):,} open invoices -> {sent:,} actions to send, {len(actions) - sent:,} blocked, "
        f"in {seconds:.2f} s ({len(scores) / seconds:,.0f} invoices/s)"
    )
    return {
        "open_invoices": len(scores),
        "actions_sent": sent,
        "blocked": len(actions) - sent,
        "seconds": seconds,
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
        ["open_invoices", "actions_sent", "seconds"],
        keep=previous_results("dunning"),
    )
