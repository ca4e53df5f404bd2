"""Golden outputs: the worklist, cash forecast, segments and benchmark metrics of the default world and of IBM's
ledger, written to a folder so a structural change can be shown to change nothing.

    python benchmarks/golden.py write OUT_DIR          # before the change
    python benchmarks/golden.py compare OLD_DIR NEW_DIR  # after: every table equal to 1e-9, or what differs

The real data is read from ``../shared/data`` (or ``PAYRISK_DATA``); IBM is skipped where it is absent.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(os.environ.get("PAYRISK_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
SIZE = {"n_estimators": 150, "max_depth": 4}


def _tables(ledger, fit_as_of: str, score_on: str, prefix: str) -> dict[str, pd.DataFrame]:
    import payrisk as pr

    engine = pr.RiskEngine(reasons_top_n=3, **SIZE).fit(ledger, fit_as_of)
    worklist = engine.score(ledger, score_on)
    forecast = pr.forecast.cash_inflow(ledger, engine, score_on)
    out = {
        f"{prefix}_worklist": worklist,
        f"{prefix}_forecast": forecast.periods,
        f"{prefix}_by_customer": forecast.by_customer,
    }
    if "segment" in worklist:
        out[f"{prefix}_segments"] = worklist.groupby("customer_id")["segment"].first().to_frame()
    return out


def write(folder: Path) -> None:
    import payrisk as pr
    from payrisk._benchmark_suite import run_suite

    folder.mkdir(parents=True, exist_ok=True)
    tables = _tables(pr.datasets.make_ledger(n_customers=600, seed=0), "2024-06-30", "2024-07-31", "world")
    if (DATA / "ibm_accounts_receivable").is_dir():
        ibm = pr.datasets.load_ibm_ar(DATA / "ibm_accounts_receivable")
        tables |= _tables(ibm, "2013-06-30", "2013-07-31", "ibm")
    for name, table in tables.items():
        table.to_pickle(folder / f"{name}.pkl")  # a local scratch comparison, never shipped or loaded from users
    suite = run_suite(customers=600, seed=0, data_root=DATA, trees=150, depth=4, n_boot=20)
    (folder / "benchmark.json").write_text(json.dumps(suite["metrics"], indent=1, sort_keys=True))
    print(f"golden outputs written to {folder}: {sorted(tables)} + benchmark.json")


def _differ(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    if list(a.columns) != list(b.columns):
        return [f"columns {sorted(set(a.columns) ^ set(b.columns))}"]
    if not a.index.equals(b.index):
        return ["index"]
    out = []
    for c in a.columns:
        x, y = a[c], b[c]
        if pd.api.types.is_float_dtype(x) and pd.api.types.is_float_dtype(y):
            gap = np.nanmax(np.abs(x.to_numpy() - y.to_numpy()), initial=0.0)
            if not (gap <= 1e-9 and (x.isna() == y.isna()).all()):
                out.append(f"{c}: max difference {gap:.3g}")
        elif not x.equals(y):
            out.append(f"{c}: {(x.astype(str) != y.astype(str)).sum()} values differ")
    return out


def compare(old: Path, new: Path) -> int:
    bad = 0
    for f in sorted(old.glob("*.pkl")):
        diffs = _differ(pd.read_pickle(f), pd.read_pickle(new / f.name))
        print(f"{f.stem:20s} {'equal' if not diffs else '; '.join(diffs)}")
        bad += bool(diffs)
    a, b = (json.loads((p / "benchmark.json").read_text()) for p in (old, new))
    moved = {k: (a[k]["value"], b.get(k, {}).get("value")) for k in a if a[k] != b.get(k)}
    print(f"{'benchmark':20s} {len(a)} metrics, " + (f"moved: {moved}" if moved else "all equal"))
    return int(bad > 0 or bool(moved))


if __name__ == "__main__":
    if sys.argv[1:2] == ["write"]:
        write(Path(sys.argv[2]))
    elif sys.argv[1:2] == ["compare"]:
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
    else:
        sys.exit(__doc__)
