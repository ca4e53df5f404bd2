"""Benchmark: point-in-time invoice features at the issue-date cutoff (``pr.features.invoice_features``).

Cases, each run once (cold) in a fresh process reading a synthetic ledger written once to ``$PAYRISK_BENCH_DIR``
(default ``/tmp/payrisk_bench``), so peak RSS is the feature step plus the ledger in memory:

- ``payrisk_full_{100k,1M,5M}``: every invoice and customer feature (61 columns) for every invoice;
- ``payrisk_one_block_1M``: the same in one block of all customers on one thread (how the features were computed
  before blocks of customers and two threads: the memory a block holds is then the whole ledger's);
- ``payrisk_subset_{100k,1M}``: only the seven customer features the featuretools baseline computes;
- ``featuretools_{all,2000}_100k``: featuretools DFS with ``cutoff_time`` on those seven features, for every
  invoice of the 100k ledger and for 2,000 invoices spread over it (own virtualenv ``.venv-ft``, pandas 2:
  featuretools 1.31 does not work with pandas 3);
- ``naive_300_100k``: the per-cutoff ``ledger.as_of`` loop of the tests on 300 invoices, extrapolated.

Run: ``.venv/bin/python benchmarks/bench_features.py [--quick]`` (``--quick`` skips 5M and featuretools).
Writes ``benchmarks/results/features.json``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = Path(os.environ.get("PAYRISK_BENCH_DIR", "/tmp/payrisk_bench"))
SUBSET = [
    "n_invoices",
    "n_settled",
    "share_late",
    "days_late_mean",
    "days_late_max",
    "days_since_last_payment",
    "n_payments",
]
SIZES = {"100k": 100_000, "1M": 1_000_000, "5M": 5_000_000}
CASES = {
    "payrisk_full_100k": {"kind": "payrisk", "size": "100k", "subset": False},
    "payrisk_subset_100k": {"kind": "payrisk", "size": "100k", "subset": True},
    "payrisk_full_1M": {"kind": "payrisk", "size": "1M", "subset": False},
    "payrisk_one_block_1M": {"kind": "payrisk", "size": "1M", "subset": False, "one_block": True},
    "payrisk_subset_1M": {"kind": "payrisk", "size": "1M", "subset": True},
    "payrisk_full_5M": {"kind": "payrisk", "size": "5M", "subset": False},
    "featuretools_all_100k": {"kind": "featuretools", "size": "100k", "n": None},
    "featuretools_2000_100k": {"kind": "featuretools", "size": "100k", "n": 2000},
    "naive_300_100k": {"kind": "naive", "size": "100k", "n": 300},
}


def ledger_path(size: str) -> Path:
    """Write the synthetic ledger of ``size`` once (in a child process) and return its folder."""
    path = BENCH_DIR / f"ledger_{size}"
    if not (path / "ledger.json").is_file():
        n = SIZES[size]
        code = (
            "import payrisk as pr, sys; "
            f"pr.datasets.make_ledger(n_customers={max(n // 100, 10)}, n_invoices={n}, seed=0).write(sys.argv[1])"
        )
        print(f"writing the {size} ledger to {path} ...", flush=True)
        subprocess.run([sys.executable, "-c", code, str(path)], check=True)
    return path


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(kind: str, size: str, subset: bool = False, n: int | None = None, one_block: bool = False) -> dict:
    """One case; called in a fresh process by the runner."""
    import payrisk as pr

    if one_block:
        from payrisk.features import _builders

        _builders.BLOCK_ROWS = 1 << 62

    ledger = pr.Ledger.read(ledger_path(size))
    base = {"kind": kind, "size": size, "invoices": len(ledger.invoices), "rss_ledger_mb": round(_rss_mb(), 1)}
    if kind == "payrisk":
        t0 = time.perf_counter()
        X = pr.features.invoice_features(ledger, "issue_date", features=SUBSET if subset else None)
        seconds = time.perf_counter() - t0
        return {
            **base,
            "rows": len(X),
            "features": X.shape[1] - 2,
            "seconds": round(seconds, 2),
            "rows_per_s": round(len(X) / seconds),
        }
    if kind == "naive":
        sys.path.insert(0, str(ROOT / "tests"))
        from naive_features import naive_invoice_features

        inv = ledger.invoices.sort_values("issue_date", kind="stable")
        pick = inv.iloc[:: max(len(inv) // n, 1)].iloc[:n]
        cut = pick[["invoice_id"]].assign(as_of=pick["issue_date"] - __import__("pandas").Timedelta(days=1))
        t0 = time.perf_counter()
        X = naive_invoice_features(ledger, cut.reset_index(drop=True))
        seconds = time.perf_counter() - t0
        rate = len(X) / seconds
        return {
            **base,
            "rows": len(X),
            "seconds": round(seconds, 2),
            "rows_per_s": round(rate, 1),
            "extrapolated_seconds_all": round(len(ledger.invoices) / rate, 1),
        }
    return _featuretools(ledger, base, n)


def _featuretools(ledger, base: dict, n: int | None) -> dict:
    from _ft_env import ensure_featuretools_venv

    python = ensure_featuretools_venv(ROOT / ".venv-ft")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ledger.invoices.to_parquet(folder / "invoices.parquet")
        ledger.payments.to_parquet(folder / "payments.parquet")
        ledger.customers.to_parquet(folder / "customers.parquet")
        out = folder / "result.json"
        n_cut = n if n is not None else len(ledger.invoices)
        subprocess.run(
            [
                str(python),
                str(ROOT / "benchmarks" / "featuretools_baseline.py"),
                str(folder),
                "--n-cutoffs",
                str(n_cut),
                "--sample",
                "spread",
                "--out",
                str(out),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        res = json.loads(out.read_text())
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        **base,
        "rows": res["rows"],
        "seconds": round(res["seconds"], 2),
        "rows_per_s": round(res["rows_per_s"], 1),
        "entityset_seconds": res.get("entityset_seconds"),
        "featuretools_version": res.get("featuretools_version"),
        "ft_pandas_version": res.get("pandas_version"),
        "ft_peak_rss_mb": round(child_rss, 1),
    }


if __name__ == "__main__":
    from _common import main
    from _common import previous_results as _common_results

    quick = "--quick" in sys.argv
    only = [a.split("=", 1)[1] for a in sys.argv if a.startswith("--only=")]
    cases = [c for c in CASES if not (quick and (c.endswith("5M") or c.startswith("featuretools")))]
    cases = [c for c in cases if not only or any(c.startswith(o) for o in only[0].split(","))]
    previous = _common_results("features")
    for size in {CASES[c]["size"] for c in cases}:
        ledger_path(size)
    doc = main(
        "bench_features",
        "features",
        cases,
        ["rows", "seconds", "rows_per_s", "peak_rss_mb", "rss_ledger_mb"],
        keep=previous,
    )
    res = {r["case"]: r for r in doc["results"]}
    full = res["payrisk_full_1M"]
    above = full["peak_rss_mb"] - full["rss_ledger_mb"]
    print(
        f"\n1M invoices, full feature set: {full['seconds']} s (target <= 8 s), {above:.0f} MB above the loaded "
        "ledger (target <= 1024 MB)"
    )
    if "payrisk_one_block_1M" in res:
        one = res["payrisk_one_block_1M"]
        print(
            f"  in one block on one thread: {one['seconds']} s, {one['peak_rss_mb'] - one['rss_ledger_mb']:.0f} MB "
            "above the ledger"
        )
    if "featuretools_all_100k" in res:
        for ft_case in ("featuretools_all_100k", "featuretools_2000_100k"):
            ratio = res["payrisk_subset_100k"]["rows_per_s"] / res[ft_case]["rows_per_s"]
            print(
                f"same seven features, same cutoffs: payrisk {res['payrisk_subset_100k']['rows_per_s']} rows/s vs "
                f"{ft_case} {res[ft_case]['rows_per_s']} rows/s = {ratio:,.0f}x (target >= 500x)"
            )
    naive = res["naive_300_100k"]
    print(
        f"naive per-cutoff loop: {naive['rows_per_s']} rows/s; all {naive['invoices']} invoices would take "
        f"{naive['extrapolated_seconds_all']} s vs payrisk {res['payrisk_full_100k']['seconds']} s"
    )
