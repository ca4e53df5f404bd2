"""``payrisk serve`` under load on loopback: a 2,000-customer world, the service started by the command in its own
process, N concurrent httpx clients for a fixed time per endpoint, after one warm-up call (the scored worklist is
cached per as_of). Requests per second and p50/p99 latency for /health, /customers/{id}/score and
/customers/{id}/balance, the server's peak memory, beside what an application does without the service: run
`payrisk score` for each question.

Usage: python benchmarks/bench_serve.py [seconds_per_endpoint] [clients]   -> benchmarks/results/serve.json
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

import payrisk as pr
from payrisk._cli_io import load_ledger, write_tables

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, machine

FIT, AS_OF = "2024-06-30", "2024-07-31"


def _load(base: str, paths: list[str], seconds: float, clients: int) -> dict[str, float]:
    """Each client cycles through ``paths`` for ``seconds``; latencies of the successful requests."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failed = [0] * clients
    stop = time.perf_counter() + seconds

    def client(i: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as c:
            k = i
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                r = c.get(paths[k % len(paths)])
                if r.status_code == 200:
                    latencies[i].append(time.perf_counter() - t0)
                else:
                    failed[i] += 1
                k += clients

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    lat = np.concatenate([np.asarray(x) for x in latencies]) * 1000
    return {
        "requests": len(lat),
        "failed": sum(failed),
        "seconds": round(wall, 1),
        "requests_per_s": round(len(lat) / wall, 1),
        "p50_ms": round(float(np.percentile(lat, 50)), 1),
        "p99_ms": round(float(np.percentile(lat, 99)), 1),
    }


def _peak_mb(pid: int) -> float:
    """The process's peak resident memory (Linux: VmHWM), in MB; NaN elsewhere."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def main(seconds: float = 20.0, clients: int = 8) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ledger = pr.datasets.make_ledger(n_customers=2_000, seed=0)
        write_tables(ledger, root / "data")
        t0 = time.perf_counter()
        pr.RiskEngine(n_estimators=100).fit(load_ledger(root / "data"), FIT).save(root / "model")
        print(f"world written and engine fitted in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        cmd = [sys.executable, "-m", "payrisk.cli", "--quiet", "serve", str(root / "data"), "--model",
               str(root / "model"), "--port", str(port)]  # fmt: skip
        server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    httpx.get(f"{base}/health", timeout=2)
                    break
                except httpx.TransportError:
                    assert server.poll() is None, "payrisk serve stopped"
                    time.sleep(0.2)
            t0 = time.perf_counter()
            book = httpx.get(f"{base}/book/score", params={"as_of": AS_OF, "limit": 10_000}, timeout=600).json()
            first_call = time.perf_counter() - t0
            customers = sorted({r["customer_id"] for r in book["items"]})
            t0 = time.perf_counter()
            httpx.get(f"{base}/customers/{customers[0]}/balance", params={"as_of": AS_OF}, timeout=600)
            first_balance = time.perf_counter() - t0
            cases = {
                "health": ["/health"],
                "customer_score": [f"/customers/{c}/score?as_of={AS_OF}" for c in customers],
                "customer_balance": [f"/customers/{c}/balance?as_of={AS_OF}" for c in customers],
            }
            results = {}
            for name, paths in cases.items():
                results[name] = _load(base, paths, seconds, clients)
                print(name, results[name], file=sys.stderr)
            peak_mb = _peak_mb(server.pid)
        finally:
            server.terminate()
            server.wait(30)
        # what an application without the service does: run the command for each question (reads the data,
        # loads the model, scores the book), here for one customer's scores
        t0 = time.perf_counter()
        for _ in range(3):
            subprocess.run([sys.executable, "-m", "payrisk.cli", "--quiet", "score", str(root / "data"), "--model",
                            str(root / "model"), "--as-of", AS_OF, "--format", "json", "--out",
                            str(root / "w.json"), "--overwrite"], check=True, capture_output=True)  # fmt: skip
        shell_out = (time.perf_counter() - t0) / 3
        print(f"payrisk score per question: {shell_out:.1f} s; server peak {peak_mb:.0f} MB", file=sys.stderr)
    doc = {
        "benchmark": "serve",
        "machine": machine(),
        "settings": {
            "customers": 2_000,
            "as_of": AS_OF,
            "seconds_per_endpoint": seconds,
            "clients": clients,
            "server": "payrisk serve (uvicorn, one worker) in its own process; clients: httpx threads",
        },
        "open_invoices": book["total"],
        "customers_with_open_invoices": len(customers),
        "first_call_seconds": {
            "book_score (scores the book, then cached)": round(first_call, 2),
            "customer_balance": round(first_balance, 2),
        },
        "results": results,
        "server_peak_rss_mb": round(peak_mb),
        "baseline": {
            "what": "an application without the service runs `payrisk score ... --format json` per question",
            "seconds_per_question": round(shell_out, 2),
            "questions_per_s": round(1 / shell_out, 3),
        },
    }
    out = RESULTS / "serve.json"
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main(*(float(a) if i == 0 else int(a) for i, a in enumerate(sys.argv[1:])))
