"""Benchmark: generating the synthetic world (``payrisk.datasets.make_ledger``).

Measures wall time, invoices per second and peak RSS for 100k and 1M invoices (each case in a fresh process),
beside a naive per-invoice Python loop of the kind a user would write without payrisk. The loop does *less*
work than the generator (lateness, days late, weekday snapping, partial payments and dunning steps, but no
customers' archetypes, rhythms, plans, disputes, validation or truth tables), so its extrapolated time is a
flattering lower bound for the loop.

Run: ``.venv/bin/python benchmarks/bench_generate.py`` (writes ``benchmarks/results/generate.json``).
"""

from __future__ import annotations

import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

CASES = {
    "make_ledger_100k": {"kind": "vectorised", "n_invoices": 100_000},
    "make_ledger_1M": {"kind": "vectorised", "n_invoices": 1_000_000},
    "naive_loop_20k": {"kind": "naive", "n_invoices": 20_000},
}


def _naive(n_invoices: int, seed: int = 0) -> tuple[int, int]:
    """Per-invoice loop with the random module: lateness, days late, weekday snap, partial payments and the
    dunning steps sent while unpaid; returns the number of rows built (invoices + payments + contacts)."""
    import pandas as pd

    rng = random.Random(seed)
    base = pd.Timestamp("2022-01-01")
    invoices, payments, contacts = [], [], []
    for i in range(n_invoices):
        issue = base + pd.Timedelta(days=rng.randrange(0, 1095))
        due = issue + pd.Timedelta(days=30)
        p_late = 1 / (1 + math.exp(-rng.gauss(-0.5, 1.0)))
        late = rng.random() < p_late
        if late:
            pay = due + pd.Timedelta(days=max(1, math.ceil(math.exp(rng.gauss(2.0, 0.7)))))
            pay += pd.Timedelta(days=(4 - pay.weekday()) % 7)
            for step, offset in enumerate((1, 14, 28, 45, 75), start=1):
                sent = due + pd.Timedelta(days=offset)
                if sent <= pay:
                    contacts.append({"invoice_id": f"INV{i:08d}", "step": step, "sent_at": sent})
            if rng.random() < 0.1:
                payments.append({"invoice_id": f"INV{i:08d}", "payment_date": due + (pay - due) / 2, "amount": 50.0})
        else:
            pay = due - pd.Timedelta(days=rng.randrange(0, 20))
        payments.append({"invoice_id": f"INV{i:08d}", "payment_date": pay, "amount": 100.0})
        invoices.append({"invoice_id": f"INV{i:08d}", "issue_date": issue, "due_date": due, "paid_date": pay})
    rows = len(pd.DataFrame(invoices)) + len(pd.DataFrame(payments)) + len(pd.DataFrame(contacts))
    return len(invoices), rows


def run(kind: str, n_invoices: int) -> dict:
    """Time one case; called in a fresh subprocess by the runner."""
    import payrisk as pr

    t0 = time.perf_counter()
    if kind == "vectorised":
        ledger = pr.datasets.make_ledger(n_customers=max(n_invoices // 100, 10), n_invoices=n_invoices, seed=0)
        n = len(ledger.invoices)
        extra = {
            "payments": len(ledger.payments),
            "contacts": len(ledger.contacts),
            "installments": len(ledger.installments),
        }
    else:
        n, rows = _naive(n_invoices)
        extra = {"rows_built": rows}
    seconds = time.perf_counter() - t0
    out = {"kind": kind, "invoices": n, "seconds": round(seconds, 2), "invoices_per_s": round(n / seconds)}
    if kind == "naive":
        out["extrapolated_seconds_1M"] = round(seconds * 1_000_000 / n, 1)
    out.update(extra)
    return out


if __name__ == "__main__":
    from _common import main

    doc = main(
        "bench_generate",
        "generate",
        list(CASES),
        ["invoices", "seconds", "invoices_per_s", "peak_rss_mb", "extrapolated_seconds_1M"],
    )
    res = {r["case"]: r for r in doc["results"]}
    speedup = res["naive_loop_20k"]["extrapolated_seconds_1M"] / (
        res["make_ledger_1M"]["seconds"] * 1_000_000 / res["make_ledger_1M"]["invoices"]
    )
    print(f"make_ledger vs naive loop (per invoice, 1M): {speedup:.0f}x faster")
