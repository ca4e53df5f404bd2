"""Benchmark: the pipeline on Dask (LocalCluster) beside the single-machine pipeline, at 1M, 5M, 10M and 20M invoices.

The ledgers are synthetic worlds built in chunks of about a million invoices (``make_ledger``, one seed and one id
prefix per chunk: independent customers), written once as Parquet under ``$PAYRISK_BENCH_DATA``
(default ``/tmp/payrisk_bench``); a size is the first 1, 5, 10 or 20 chunks. Each (pipeline, size) runs in a fresh
process. The benchmark process samples the resident memory of that process and all its children (the Dask
workers included) every 0.2 s, records the peak per stage and stops the run when it passes the memory budget
(``BUDGET_GB`` of this machine's memory: the single machine "runs out of memory" there, before the kernel's OOM
killer would pick a process).

Stages, the same work in both pipelines (engine settings ``ENGINE``, fitted and scored as of ``AS_OF``):

- single machine: read the ledger (pandas), point-in-time features of every invoice (written to Parquet),
  ``RiskEngine.fit``, ``score`` (worklist written to Parquet), ``cash_inflow`` (13 weeks);
- Dask: shuffle the ledger by customer and store it (``DaskLedger.write``), features per partition (written to
  Parquet), ``fit_engine`` (xgboost.dask), ``score``, ``cash_inflow``.

Run: ``.venv/bin/python benchmarks/bench_distributed.py [1M 5M 10M 20M] [--only single|dask]``.
Writes ``benchmarks/results/distributed.json``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from _common import RESULTS, machine, previous_results

DATA = Path(os.environ.get("PAYRISK_BENCH_DATA", "/tmp/payrisk_bench"))
SIZES = {"1M": 1, "5M": 5, "10M": 10, "20M": 20}  #: chunks per size
_N = int(os.environ.get("PAYRISK_BENCH_CHUNK", 1_120_000))  #: a smaller value smoke-tests the script
CHUNK = {"n_invoices": _N, "n_customers": _N // 100}  #: about 1.0M invoices after customers lost to dunning
BUDGET_GB = 21.0  #: of this machine's 25 GB (23.5 GiB): the single machine is stopped beyond it
WORKER_MEMORY = "7GiB"  #: per Dask worker (2 workers, 1 thread each); spills to disk beyond 60% of it
AS_OF = "2024-12-31"
ENGINE = {"history_days": 365, "n_estimators": 200, "forecast_weeks": 13, "reasons_top_n": 1000}
TABLES = ("customers", "invoices", "credit_notes", "payments", "plans", "installments", "contacts")


# -- data ---------------------------------------------------------------------------------------------------------
def _chunk(k: int) -> Path:
    """Chunk ``k`` of the world, generated once: every id prefixed with ``W{k}-`` so chunks never collide."""
    folder = DATA / "chunks" / f"{k:03d}"
    if (folder / "done").is_file():
        return folder
    import payrisk as pr

    ledger = pr.datasets.make_ledger(**CHUNK, seed=1000 + k)
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        table = getattr(ledger, name).copy()
        for col in [c for c in table.columns if c.endswith("_id")]:
            table[col] = f"W{k:03d}-" + table[col].astype("str")
        table.to_parquet(folder / f"{name}.parquet", index=False)
    (folder / "done").write_text("ok")
    return folder


def _world(size: str) -> Path:
    """The ledger folder of ``size``: one Parquet dataset per table, one file per chunk (symbolic links)."""
    folder = DATA / size
    for k in range(SIZES[size]):
        chunk = _chunk(k)
        for name in TABLES:
            link = folder / f"{name}.parquet" / f"part-{k:03d}.parquet"
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to(chunk / f"{name}.parquet")
    return folder


# -- the two pipelines (each in a child process) ------------------------------------------------------------------
def _stage(name: str) -> None:
    print(f"STAGE {name} {time.perf_counter()}", flush=True)


def _single(size: str, out: Path) -> dict[str, Any]:
    import pandas as pd

    import payrisk as pr

    folder = _world(size)
    _stage("read")
    ledger = pr.Ledger({name: pd.read_parquet(folder / f"{name}.parquet") for name in TABLES})
    _stage("features")
    X = pr.features.invoice_features(ledger, "issue_date")
    X.to_parquet(out / "features.parquet")
    n_features = len(X)
    del X
    _stage("fit")
    engine = pr.RiskEngine(**ENGINE).fit(ledger, AS_OF)
    _stage("score")
    worklist = engine.score(ledger, AS_OF)
    worklist.to_parquet(out / "worklist.parquet")
    _stage("forecast")
    fc = pr.forecast.cash_inflow(ledger, engine, AS_OF, horizon_weeks=13)
    _stage("end")
    return _summary(len(ledger.invoices), n_features, engine, len(worklist), fc)


def _dask(size: str, out: Path) -> dict[str, Any]:
    import dask
    from distributed import Client, LocalCluster

    from payrisk import distributed as prd

    folder = _world(size)
    spill = DATA / "dask-spill"
    dask.config.set({"distributed.worker.memory.target": 0.6, "distributed.worker.memory.spill": 0.7})
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            memory_limit=WORKER_MEMORY,
            local_directory=str(spill),
            dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,
    ):
        raw = prd.read_ledger(folder)
        n_invoices = len(raw.tables["invoices"])
        _stage("shuffle")
        stored = raw.by_customer(max(n_invoices // 100_000, 1)).write(out / "by_customer")
        ledger = prd.read_ledger(stored)
        _stage("features")
        prd.invoice_features(ledger, "issue_date").to_parquet(out / "features")
        _stage("fit")
        engine = prd.fit_engine(client, ledger, AS_OF, **ENGINE)
        _stage("score")
        prd.score(ledger, engine, AS_OF).to_parquet(out / "worklist")
        _stage("forecast")
        fc = prd.cash_inflow(ledger, engine, AS_OF, horizon_weeks=13)
        _stage("end")
        import dask.dataframe as dd

        n_features = len(dd.read_parquet(out / "features"))
        n_open = len(dd.read_parquet(out / "worklist"))
    return _summary(n_invoices, n_features, engine, n_open, fc)


def _summary(n_invoices: int, n_features: int, engine: Any, n_open: int, fc: Any) -> dict[str, Any]:
    eur = fc.periods.loc[fc.periods["currency"] == "EUR"]
    return {
        "invoices": int(n_invoices),
        "feature_rows": int(n_features),
        "landmark_rows": int(engine.n_landmark_rows_),
        "trees": {
            "late": engine.late_model_.best_iteration_ + 1,
            "time": engine.time_model_.best_iteration_ + 1,
            "adherence": None if engine.adherence_model_ is None else engine.adherence_model_.best_iteration_ + 1,
        },
        "open_invoices": int(n_open),
        "forecast_13w_eur": round(float(eur["expected"].sum()), 2),
    }


def _child(kind: str, size: str) -> None:
    out = DATA / "out" / f"{kind}_{size}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    result = (_single if kind == "single" else _dask)(size, out)
    print("RESULT " + json.dumps(result), flush=True)


# -- the runner: a child per case, its memory watched -------------------------------------------------------------
def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def run_case(kind: str, size: str) -> dict[str, Any]:
    """Run one pipeline on one size in a child; time and peak memory (process tree) per stage."""
    subprocess.run([sys.executable, __file__, "--generate", size], check=True)  # once, outside the measured run
    cmd = [sys.executable, __file__, "--child", kind, size]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watched = psutil.Process(proc.pid)
    state: dict[str, Any] = {"stage": "start", "peak": {}, "killed": False}

    def watch() -> None:
        while proc.poll() is None:
            rss = _tree_rss(watched)
            stage = state["stage"]
            state["peak"][stage] = max(state["peak"].get(stage, 0), rss)
            if rss > BUDGET_GB * 2**30:
                state["killed"] = True
                for p in [*watched.children(recursive=True), watched]:
                    with contextlib.suppress(psutil.Error):
                        p.kill()
                return
            time.sleep(0.2)

    threading.Thread(target=watch, daemon=True).start()
    started, seconds, result = {}, {}, None
    for line in proc.stdout:
        if line.startswith("STAGE "):
            _, name, t = line.split()
            if started:
                last = list(started)[-1]
                seconds[last] = round(float(t) - started[last], 1)
            started[name] = float(t)
            state["stage"] = name
            print(f"  {kind} {size}: {name}", flush=True)
        elif line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
    proc.wait()
    stage = state["stage"]
    if stage in started and stage not in seconds and stage != "end":  # stopped inside this stage
        seconds[stage] = round(time.perf_counter() - started[stage], 1)
    stderr = proc.stderr.read()
    peak_gb = {k: round(v / 2**30, 2) for k, v in state["peak"].items() if k not in ("start", "end")}
    row = {"kind": kind, "size": size, "seconds": seconds, "peak_gb": peak_gb}
    if result is not None and proc.returncode == 0:
        return row | result | {"status": "finished", "total_seconds": round(sum(seconds.values()), 1)}
    reason = f"out of memory: passed the {BUDGET_GB:g} GB budget" if state["killed"] else stderr[-2000:]
    return row | {"status": "failed", "failed_in": state["stage"], "reason": reason}


def main(sizes: list[str], kinds: list[str]) -> None:
    rows = [
        r
        for r in previous_results("distributed")
        if (r["kind"], r["size"]) not in {(k, s) for k in kinds for s in sizes}
    ]
    for size in sizes:
        for kind in kinds:
            print(f"running {kind} {size} ...", flush=True)
            # each row keeps the engine settings it ran with (rows before 2026-12-07 ran with forecast_weeks=0)
            r = run_case(kind, size) | {"engine": ENGINE, "measured": time.strftime("%Y-%m-%d %H:%M:%S")}
            print(json.dumps(r), flush=True)
            rows.append(r)
            doc = {"benchmark": "distributed", "machine": machine(), "settings": _settings(), "results": rows}
            (RESULTS / "distributed.json").write_text(json.dumps(doc, indent=1))
    _table(rows)


def _settings() -> dict[str, Any]:
    return {
        "engine": ENGINE,
        "as_of": AS_OF,
        "budget_gb": BUDGET_GB,
        "dask": {"workers": 2, "threads_per_worker": 1, "memory_limit": WORKER_MEMORY},
        "chunk": CHUNK,
    }


def _table(rows: list[dict[str, Any]]) -> None:
    stages = ["read", "shuffle", "features", "fit", "score", "forecast"]
    print(f"{'pipeline':<8}{'size':>5}{'invoices':>11}  " + "".join(f"{s:>16}" for s in stages) + "   status")
    for r in sorted(rows, key=lambda r: (SIZES[r["size"]], r["kind"])):
        cells = []
        for s in stages:
            if s in r["seconds"] or s in r["peak_gb"]:
                cells.append(f"{r['seconds'].get(s, '-')}s/{r['peak_gb'].get(s, '-')}GB".rjust(16))
            else:
                cells.append(" " * 16)
        status = r["status"] if r["status"] == "finished" else f"{r['status']} in {r['failed_in']}: {r['reason'][:60]}"
        print(f"{r['kind']:<8}{r['size']:>5}{r.get('invoices', ''):>11}  " + "".join(cells) + "   " + status)


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--child"]:
        _child(args[1], args[2])
    elif args[:1] == ["--generate"]:
        _world(args[1])
    else:
        only = args[args.index("--only") + 1] if "--only" in args else None
        chosen = [a for a in args if a in SIZES] or list(SIZES)
        main(chosen, [only] if only else ["single", "dask"])
