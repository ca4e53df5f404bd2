"""``python -m payrisk.demo``: the main job on built-in synthetic data, plus the real datasets when present.

Builds a synthetic payment world, shows what it holds and what the ledger knew at a date inside it, fits the
risk engine and prints the head of the worklist with its reasons, then loads and validates each public dataset
found in the data folder (``--data``, ``$PAYRISK_DATA`` or ``../shared/data``) and prints its summary and
validation report.

Examples
--------
>>> from payrisk.demo import main
>>> main(["--customers", "50", "--data", "/nonexistent"])  # doctest: +ELLIPSIS
<BLANKLINE>
== Synthetic world ...
not found: /nonexistent (pass --data or set PAYRISK_DATA); skipping the real datasets
0
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import payrisk as pr


def _data_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    env = os.environ.get("PAYRISK_DATA")
    return Path(env) if env else Path.cwd().parent / "shared" / "data"


def _section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 100 - len(title)))


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m payrisk.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=2_000, help="customers in the synthetic world")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic world")
    parser.add_argument("--data", default=None, help="folder with the public datasets (default ../shared/data)")
    args = parser.parse_args(argv)

    _section("Synthetic world (payrisk.datasets.make_ledger)")
    t0 = time.perf_counter()
    ledger = pr.datasets.make_ledger(n_customers=args.customers, seed=args.seed)
    print(f"generated in {time.perf_counter() - t0:.1f} s: {ledger!r}")
    print(ledger.summary())
    print("\nhidden archetypes (ground truth, ledger.truth):")
    t = ledger.truth
    assert t is not None  # make_ledger attaches the world's truth
    arch = t.invoices.groupby("archetype").agg(invoices=("p_late", "size"), true_p_late=("p_late", "mean"))
    print(arch.round(3).to_string())

    _section("The same ledger as known on 2024-06-30 (ledger.as_of)")
    snap = ledger.as_of("2024-06-30")
    print(snap.summary())

    _section("Point-in-time features (payrisk.features)")
    t0 = time.perf_counter()
    X = pr.features.invoice_features(ledger, cutoffs="issue_date")
    print(f"{X.shape[1] - 2} features for {len(X)} invoices at their issue date in {time.perf_counter() - t0:.1f} s")
    C = pr.features.customer_features(ledger, "2024-10-31").join(t.archetype_at("2024-10-31"))
    cols = ["share_late", "days_late_median_365d", "reminder_response_7d", "n_overdue", "n_plans"]
    print("customer features on 2024-10-31 by hidden archetype (customers with 10+ settled invoices):")
    print(C.loc[C["n_settled"] >= 10].groupby("archetype")[cols].mean().round(2).to_string())

    _section("The worklist on 2024-07-31 (pr.RiskEngine: fitted as of 2024-06-30)")
    t0 = time.perf_counter()
    engine = pr.RiskEngine(n_estimators=150, reasons_top_n=20).fit(ledger, "2024-06-30")
    worklist = engine.score(ledger, "2024-07-31")
    print(f"fitted and scored {len(worklist)} open invoices in {time.perf_counter() - t0:.1f} s; what first:")
    cols = ["customer_id", "open_amount", "days_overdue", "p_paid_30d", "expected_loss", "band", "segment"]
    print(worklist[cols].head(5).round(2).to_string())
    print("\nwhy (for the collector):")
    for invoice, reason in worklist["reasons"].head(5).items():
        print(f"  {invoice}: {reason}")
    print("\nsegments:", worklist.drop_duplicates("customer_id")["segment"].value_counts().to_dict())

    data = _data_dir(args.data)
    _section(f"Public datasets in {data}")
    if not data.is_dir():
        print(f"not found: {data} (pass --data or set PAYRISK_DATA); skipping the real datasets")
        return 0
    for name, loader in pr.datasets.DATASETS.items():
        folder = data / name
        if not folder.is_dir():
            print(f"\n-- {name}: folder absent, skipped")
            continue
        t0 = time.perf_counter()
        real = loader(folder)
        print(f"\n-- {name} ({time.perf_counter() - t0:.1f} s): {real!r}")
        print(real.report)
        for note in real.meta.get("notes", [])[:3]:
            print(f"   note: {note}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
