"""The command-line fuzz suite at scale: N malformed exports (tests/fuzz_inputs.py) through `payrisk validate`,
counted: exit codes, tracebacks / internal errors, records lost (input != the file's records), clean rows lost or
changed, junk rows accepted. The tests run 120 of these; this runs as many as asked and stores the counts.

Usage: python benchmarks/fuzz_command.py [n_cases]   -> benchmarks/results/fuzz_command.json
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from fuzz_inputs import make_case, write_case
from payrisk._cli_io import load_ledger
from payrisk.cli import main as cli


def run_case(seed: int, root: Path) -> Counter:
    case = make_case(random.Random(seed))
    folder = root / f"c{seed}" / "data"
    _, mapping = write_case(case, folder)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli(["--quiet", "validate", str(folder)] + (["--mapping", str(mapping)] if mapping else []))
    tally = Counter({"cases": 1, f"exit_{code}": 1})
    if "Traceback" in err.getvalue() or code == 3:
        tally["tracebacks"] += 1
    if code in (0, 1):
        ledger = load_ledger(folder, str(mapping) if mapping else None)
        c = ledger.report.counts.loc["invoices"]
        tally["records_lost"] += int(c["input"] != case.records or c["accepted"] + c["rejected"] != c["input"])
        accepted = pd.concat([ledger.invoices.set_index("invoice_id")["amount"],
                              ledger.credit_notes.set_index("credit_note_id")["amount"]])  # fmt: skip
        tally["junk_accepted"] += len(set(accepted.index) & case.junk)
        tally["clean_lost"] += len(set(case.clean) - set(accepted.index))
        want = pd.Series(case.clean)
        both = accepted.reindex(want.index).dropna()
        tally["clean_changed"] += int(((both - want.reindex(both.index)).abs() >= 0.005).sum())
        tally["rows_rejected"] += int(c["rejected"])
    shutil.rmtree(folder.parent, ignore_errors=True)
    return tally


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    total: Counter = Counter()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(n):
            total += run_case(seed, Path(tmp))
            if (seed + 1) % 100 == 0:
                print(f"{seed + 1} cases, {time.perf_counter() - t0:.0f} s: {dict(total)}", flush=True)
    doc = {"cases": n, "seconds": round(time.perf_counter() - t0, 1), **{k: total[k] for k in sorted(total)}}
    for k in ("tracebacks", "records_lost", "junk_accepted", "clean_lost", "clean_changed"):
        doc.setdefault(k, 0)
    out = Path(__file__).parent / "results" / "fuzz_command.json"
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps(doc))


if __name__ == "__main__":
    main()
