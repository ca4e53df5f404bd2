"""Timing of plan_collections on a large book: over 100k open invoices (a world of 2M invoices), with a
response model fitted on a smaller world of the same kind (the plan only reads its models and features).

Usage: python benchmarks/bench_plan_collections.py  -> benchmarks/results/plan_collections.json
"""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path

import pandas as pd

import payrisk as pr
from payrisk.dunning import Capacity, ResponseModel, plan_collections

DAY = pd.Timestamp("2024-12-02")


def main() -> None:
    small = pr.datasets.make_ledger(n_customers=2_000, seed=1)
    model = ResponseModel(templates="^collector_").fit(small, "2024-11-01")
    big = pr.datasets.make_ledger(n_customers=27_000, seed=2, n_invoices=2_000_000)
    hist = big.as_of(DAY)
    scores = hist.open_invoices().set_index("invoice_id")[["customer_id", "open_amount", "due_date"]]
    overdue = scores.loc[scores["due_date"] < DAY]
    cap = Capacity.share_of(overdue["customer_id"].nunique(), 0.02)
    t = time.perf_counter()
    plan = plan_collections(hist, scores, model, cap, DAY)
    seconds = time.perf_counter() - t
    tracemalloc.start()  # a second run for the memory: tracing slows Python down several times
    plan_collections(hist, scores, model, cap, DAY)
    peak = tracemalloc.get_traced_memory()[1] / 1e9
    tracemalloc.stop()
    # what a team would otherwise run: sort the overdue accounts by amount and take the first N
    t = time.perf_counter()
    by_amount = overdue.groupby("customer_id")["open_amount"].sum().sort_values(ascending=False)
    simple = by_amount.head(sum(cap.per_day.values()))
    simple_s = time.perf_counter() - t
    doc = {
        "open_invoices": len(scores), "overdue_invoices": len(overdue), "accounts": len(plan),
        "sent": int((plan["status"] == "send").sum()), "seconds": round(seconds, 2),
        "invoices_per_second": round(len(scores) / seconds), "peak_gb_python": round(peak, 2),
        "largest_first_seconds": round(simple_s, 4), "largest_first_accounts": len(simple),
    }  # fmt: skip
    print(json.dumps(doc, indent=1))
    out = Path(__file__).parent / "results" / "plan_collections.json"
    out.write_text(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
