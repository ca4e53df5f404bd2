"""Collections judged by cash: replay the synthetic world's collections for 64 business days with a binding daily
capacity (2% and 5% of the overdue accounts, half calls, a quarter SMS, a quarter letters) under payrisk's plan
(ResponseModel + gain_planner), the simple orders a team would otherwise work, and the oracle (the world's true
value of every action). Common random numbers: every planner meets the same answers.

Usage: python benchmarks/bench_collections.py [n_seeds]   -> benchmarks/results/collections.json
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import payrisk as pr
from payrisk.dunning import Capacity, ResponseModel, gain_planner, oracle_planner, rule_planner, simulate_collections

START = pd.Timestamp("2024-06-28")
CUSTOMER = list(pr.dunning._response._CUSTOMER)


def one_seed(seed: int, shares: tuple[float, ...]) -> list[dict]:
    led = pr.datasets.make_ledger(n_customers=2_000, seed=seed)
    t = time.perf_counter()
    rm = ResponseModel(templates="^collector_").fit(led, START)
    fit_s = time.perf_counter() - t
    snap = led.as_of(START)
    cf = pr.features.customer_features(snap, START, CUSTOMER)
    countries = snap.customers.set_index("customer_id")["country"]
    open_ = snap.open_invoices()
    accounts = open_.loc[open_["due_date"] < START, "customer_id"].nunique()
    engine = pr.RiskEngine(reasons_top_n=0).fit(led, START)
    loss = engine.score(led, START).groupby("customer_id")["expected_loss"].sum()
    out = []
    for share in shares:
        cap = Capacity.share_of(accounts, share)
        planners = {
            "payrisk": gain_planner(rm, cf, countries, horizon=30),
            "largest_first": rule_planner("largest_first"),
            "newest_overdue_first": rule_planner("newest_overdue_first"),
            "oldest_first": rule_planner("oldest_first"),
            "expected_loss_first": rule_planner("key_first", key=loss),
            "random": rule_planner("random", seed=seed),
            "oracle_30d": oracle_planner(led.truth, horizon_days=30),
            "oracle_90d": oracle_planner(led.truth, horizon_days=90),
        }
        t = time.perf_counter()
        table = simulate_collections(led, planners, START, cap, business_days=64, seed=seed)
        for name, row in table.iterrows():
            out.append({"seed": seed, "share": share, "planner": name, **row.to_dict(),
                        "fit_s": fit_s, "replay_s": time.perf_counter() - t})  # fmt: skip
        print(f"seed {seed} share {share:.0%}\n{table[['actions', 'extra_cash_30d', 'extra_cash_90d']].round(0)}")
    return out


def main() -> None:
    n_seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    rows = [r for s in range(n_seeds) for r in one_seed(s, (0.02, 0.05))]
    df = pd.DataFrame(rows)
    summary = []
    rules = ["largest_first", "newest_overdue_first", "oldest_first", "expected_loss_first", "random"]
    for (share, planner), g in df.groupby(["share", "planner"]):
        at = df.loc[df["share"] == share].pivot(index="seed", columns="planner")
        rec = {"share": share, "planner": planner, "seeds": len(g)}
        for h in (30, 90):
            v = at[f"extra_cash_{h}d"][planner]
            rel = v / at[f"extra_cash_{h}d"][f"oracle_{h}d"]  # the oracle that maximises the same horizon
            best_rule = at[f"extra_cash_{h}d"][rules].max(axis=1)
            rec |= {f"extra_cash_{h}d_mean": float(v.mean()), f"extra_cash_{h}d_sd": float(v.std(ddof=1)),
                    f"share_of_oracle_{h}d_mean": float(rel.mean()), f"share_of_oracle_{h}d_min": float(rel.min()),
                    f"vs_best_rule_{h}d_mean": float((v / best_rule).mean()),
                    f"vs_best_rule_{h}d_min": float((v / best_rule).min()),
                    f"cash_per_action_{h}d_mean": float(at[f"cash_per_action_{h}d"][planner].mean())}  # fmt: skip
        summary.append(rec)
    summary = pd.DataFrame(summary)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(summary.round(3).to_string(index=False))
    out = Path(__file__).parent / "results" / "collections.json"
    out.write_text(json.dumps({"runs": rows, "summary": summary.to_dict("records")}, indent=1, default=float))
    print(f"wrote {out}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
