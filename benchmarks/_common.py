"""Tiny benchmark runner: each case runs in a fresh subprocess so that peak RSS is its own.

A benchmark module defines ``CASES`` (name -> kwargs) and a ``run(**kwargs) -> dict`` function; ``main``
runs every case in a child process, prints a table and writes ``benchmarks/results/<name>.json``.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    pkgs = {p: version(p) for p in ("payrisk", "numpy", "pandas", "pyarrow", "xgboost", "scikit-learn")}
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "packages": pkgs,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_case_in_child(module: str, case: str) -> dict[str, Any]:
    """Run ``module.run(**CASES[case])`` in a fresh interpreter and return its result dict."""
    code = (
        f"import json, sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); import {module} as m; from _common import peak_rss_mb; "
        f"r = m.run(**m.CASES[{case!r}]); r['peak_rss_mb'] = round(peak_rss_mb(), 1); print('RESULT ' + json.dumps(r))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"benchmark case {case} failed:\n{out.stderr}")
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def previous_results(name: str) -> list[dict[str, Any]]:
    """The rows stored by an earlier run of benchmark ``name`` (empty when there is none)."""
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text())["results"] if path.is_file() else []


def main(
    module: str, name: str, cases: list[str], columns: list[str], keep: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Run the cases, print a table of ``columns`` and store the JSON under benchmarks/results/.

    ``keep``: rows of an earlier run to keep for the cases not run now (each row keeps its own date).
    """
    rows = []
    for case in cases:
        print(f"running {case} ...", flush=True)
        r = run_case_in_child(module, case)
        r["case"] = case
        rows.append(r)
    width = (
        max([len(c) for c in ["case", *columns]] + [len(str(r.get(c, ""))) for r in rows for c in ["case", *columns]])
        + 2
    )
    print("".join(c.ljust(width) for c in ["case", *columns]))
    for r in rows:
        print("".join(str(r.get(c, "")).ljust(width) for c in ["case", *columns]))
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    for r in rows:
        r["measured"] = stamp
    ran = {r["case"] for r in rows}
    rows = [r for r in (keep or []) if r.get("case") not in ran] + rows
    doc = {"benchmark": name, "machine": machine(), "results": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    print(f"written {path}")
    return doc
