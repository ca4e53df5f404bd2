"""Reading an export: payrisk's CSV reader (encoding and delimiter read off the file, every record checked against
the header, broken records kept as report rows) beside plain ``pandas.read_csv`` with the dialect given, on the
same file of N invoices (`;`, decimal commas, dd-mm-yyyy). Then validation of the read table.

Usage: python benchmarks/bench_read_csv.py [n_rows]   -> benchmarks/results/read_csv.json
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from payrisk._cli_io import _read_csv
from payrisk.ledger import Ledger


def export(path: Path, n: int) -> None:
    rng = np.random.default_rng(0)
    issue = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    amount = rng.gamma(2.0, 900.0, n).round(2)
    frame = pd.DataFrame(
        {
            "Factuurnummer": [f"F{i:08d}" for i in range(n)],
            "Debiteur": [f"D{i:05d}" for i in rng.integers(0, 20_000, n)],
            "Factuurdatum": issue.strftime("%d-%m-%Y"),
            "Vervaldatum": (issue + pd.Timedelta(days=30)).strftime("%d-%m-%Y"),
            "Bedrag": [f"{a:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".") for a in amount],
        }
    )
    frame.to_csv(path, sep=";", index=False)


def timed(fn):
    """The result, the seconds of an untraced run (tracing slows Python-level code many times over), and the
    peak of Python allocations in a second, traced run."""
    t = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, seconds, peak


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "invoices.csv"
        export(path, n)
        broken = Path(tmp) / "broken.csv"  # one stray quote: the record-by-record reader, not pandas' C parser
        text = path.read_text()
        broken.write_text(text.replace("\nF00000010;", '\nF00000010;"', 1))
        (slow, _, _), s_slow, m_slow = timed(lambda: _read_csv(broken, "invoices", None))
        assert len(slow) == n
        (ours, _, _), s_ours, m_ours = timed(lambda: _read_csv(path, "invoices", None))
        plain, s_pd, m_pd = timed(lambda: pd.read_csv(path, sep=";", dtype=str, keep_default_na=False))
        assert len(ours) == len(plain) == n
        mapping = {"columns": {"invoices": {"Factuurnummer": "invoice_id", "Debiteur": "customer_id",
                                            "Factuurdatum": "issue_date", "Vervaldatum": "due_date",
                                            "Bedrag": "amount"}}}  # fmt: skip
        ledger, s_val, m_val = timed(lambda: Ledger.from_frames(invoices=ours, mapping=mapping))
        assert ledger.report.ok
    doc = {
        "rows": n,
        "payrisk_read": {"seconds": round(s_ours, 2), "rows_per_s": round(n / s_ours), "peak_mib": round(m_ours)},
        "payrisk_read_with_a_broken_record": {
            "seconds": round(s_slow, 2),
            "rows_per_s": round(n / s_slow),
            "peak_mib": round(m_slow),
        },
        "pandas_read_csv": {"seconds": round(s_pd, 2), "rows_per_s": round(n / s_pd), "peak_mib": round(m_pd)},
        "validate_with_inference": {
            "seconds": round(s_val, 2),
            "rows_per_s": round(n / s_val),
            "peak_mib": round(m_val),
        },
    }
    out = Path(__file__).parent / "results" / "read_csv.json"
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
