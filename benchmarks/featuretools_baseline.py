"""featuretools baseline for ``bench_features.py``: a subset of payrisk's customer features with ``ft.dfs``.

Standalone: it runs in its own virtualenv (``benchmarks/_ft_env.py`` makes ``.venv-ft``) and imports neither
payrisk nor anything from ``.venv``. It reads ``invoices.parquet``, ``payments.parquet`` and ``customers.parquet``
from a folder (written from a payrisk ``Ledger`` with ``DataFrame.to_parquet``), builds an EntitySet and runs
``ft.dfs`` for N invoices at the ``"issue_date"`` cutoff of ``docs/features.md``: the day before each invoice's
issue date, end of that day. Only the ``ft.dfs(...)`` call is timed; building the EntitySet is timed apart.

    .venv-ft/bin/python benchmarks/featuretools_baseline.py DATA_DIR --n-cutoffs 1000 --out result.json

The features, each the payrisk customer feature of the same name (the last two are not payrisk features and
are computed for the comparison only):

| payrisk | featuretools | |
| --- | --- | --- |
| n_invoices | ``customers.COUNT(invoices)`` | other invoices issued on or before the cutoff |
| n_settled | ``customers.COUNT(settlements)`` | other invoices settled on or before it |
| share_late | ``customers.PERCENT_TRUE(settlements.late)`` | share of those paid after the due date |
| days_late_mean | ``customers.MEAN(settlements.days_late)`` | paid date - due date, in days |
| days_late_max | ``customers.MAX(settlements.days_late)`` | all-time maximum (payrisk has windowed maxima only) |
| days_since_last_payment | ``customers.TIME_SINCE_LAST(payments.payment_date, unit=days)`` | cutoff - last payment |
| n_payments | ``customers.COUNT(payments)`` | payments dated on or before the cutoff |

"Other invoices" needs nothing special at this cutoff: the row's own invoice is issued, settled and paid after
the cutoff day, so the time filter drops it (and its settlement and payments) by itself. Payments reach the
customer through their invoice (customers -> invoices -> payments), so a payment without an invoice would be
missed: the script counts such payments and says so (the synthetic ledger has none).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Any

import featuretools as ft
import numpy as np
import pandas as pd


def read_tables(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The three tables the baseline uses, with the columns it needs."""
    invoices = pd.read_parquet(
        folder / "invoices.parquet", columns=["invoice_id", "customer_id", "issue_date", "due_date", "paid_date"]
    )
    payments = pd.read_parquet(folder / "payments.parquet", columns=["payment_id", "invoice_id", "payment_date"])
    customers = pd.read_parquet(folder / "customers.parquet", columns=["customer_id"])
    return invoices, payments, customers


def pick_cutoffs(invoices: pd.DataFrame, n: int, sample: str) -> pd.DataFrame:
    """N invoices in issue-date order and their cutoff: (invoice_id, customer_id, time = issue date - 1 day).

    ``sample="spread"`` takes N invoices evenly spaced over the issue-date order (so the rows have the history
    lengths and the number of distinct cutoff days of the whole ledger); ``"first"`` takes the N earliest.
    """
    ordered = invoices.sort_values(["issue_date", "invoice_id"], kind="stable").reset_index(drop=True)
    n = min(n, len(ordered))
    if sample == "first":
        rows = ordered.iloc[:n]
    elif sample == "spread":
        rows = ordered.iloc[np.unique(np.linspace(0, len(ordered) - 1, n).round().astype(np.int64))]
    else:
        raise ValueError(f"unknown sample {sample!r}: use 'spread' or 'first'")
    return pd.DataFrame(
        {
            "invoice_id": rows["invoice_id"].to_numpy(),
            "customer_id": rows["customer_id"].to_numpy(),
            "time": (rows["issue_date"] - pd.Timedelta(days=1)).to_numpy(),
        }
    )


def build_entityset(
    invoices: pd.DataFrame, payments: pd.DataFrame, customers: pd.DataFrame, cutoffs: pd.DataFrame
) -> ft.EntitySet:
    """customers -> invoices -> payments, customers -> settlements, customers -> cutoff_invoices (the target).

    The target cannot be ``invoices`` itself: featuretools drops every target instance whose time index is
    after its cutoff time and returns default values (0 / NaN) for it, and an invoice's issue date is always
    after its cutoff day. So the rows to compute live in ``cutoff_invoices`` (invoice_id, customer_id, no time
    index: they exist at any cutoff) and reach the history through their customer, while ``invoices`` keeps
    its issue date as time index so that it counts only what was issued by the cutoff.
    """
    settled = invoices[invoices["paid_date"].notna()]
    days_late = (settled["paid_date"] - settled["due_date"]).dt.days.astype("int64")
    settlements = pd.DataFrame(
        {
            "settlement_id": settled["invoice_id"].to_numpy(),
            "customer_id": settled["customer_id"].to_numpy(),
            "paid_date": settled["paid_date"].to_numpy(),
            "days_late": days_late.to_numpy(),
            "late": (days_late > 0).to_numpy(),
        }
    )
    ids = "Categorical"
    es = ft.EntitySet(id="ledger")
    es.add_dataframe(
        dataframe_name="customers",
        dataframe=customers[["customer_id"]].copy(),
        index="customer_id",
        logical_types={"customer_id": ids},
    )
    es.add_dataframe(
        dataframe_name="invoices",
        dataframe=invoices[["invoice_id", "customer_id", "issue_date"]].copy(),
        index="invoice_id",
        time_index="issue_date",
        logical_types={"invoice_id": ids, "customer_id": ids, "issue_date": "Datetime"},
    )
    es.add_dataframe(
        dataframe_name="payments",
        dataframe=payments[["payment_id", "invoice_id", "payment_date"]].copy(),
        index="payment_id",
        time_index="payment_date",
        logical_types={"payment_id": ids, "invoice_id": ids, "payment_date": "Datetime"},
    )
    es.add_dataframe(
        dataframe_name="settlements",
        dataframe=settlements,
        index="settlement_id",
        time_index="paid_date",
        logical_types={
            "settlement_id": ids,
            "customer_id": ids,
            "paid_date": "Datetime",
            "days_late": "Integer",
            "late": "Boolean",
        },
    )
    es.add_dataframe(
        dataframe_name="cutoff_invoices",
        dataframe=cutoffs[["invoice_id", "customer_id"]].copy(),
        index="invoice_id",
        logical_types={"invoice_id": ids, "customer_id": ids},
    )
    es.add_relationship("customers", "customer_id", "invoices", "customer_id")
    es.add_relationship("invoices", "invoice_id", "payments", "invoice_id")
    es.add_relationship("customers", "customer_id", "settlements", "customer_id")
    es.add_relationship("customers", "customer_id", "cutoff_invoices", "customer_id")
    return es


def dfs_arguments() -> dict[str, Any]:
    """``ft.dfs`` settings that generate exactly the seven features.

    Depth 2 is customer.AGG(child); payments hang under invoices, so aggregating them at the customer spans two
    relationships and needs depth 3. The primitive options then keep each primitive to its one input, so that
    no unused feature (``MEAN(invoices.COUNT(payments))``, ``TIME_SINCE_LAST(invoices.issue_date)``, ...) is
    generated or computed.
    """
    since_last = ft.primitives.TimeSinceLast(unit="days")
    return {
        "target_dataframe_name": "cutoff_invoices",
        "agg_primitives": ["count", "mean", "max", "percent_true", since_last],
        "trans_primitives": [],
        "max_depth": 3,
        "primitive_options": {
            "count": {"include_dataframes": ["invoices", "settlements", "payments"]},
            # include_columns only narrows the dataframes it names: include_dataframes shuts out the others
            ("mean", "max"): {"include_dataframes": ["settlements"], "include_columns": {"settlements": ["days_late"]}},
            "percent_true": {"include_dataframes": ["settlements"], "include_columns": {"settlements": ["late"]}},
            # keyed by name: DFS looks options up by its own copy of the primitive, not this instance
            "time_since_last": {"include_dataframes": ["payments"], "include_columns": {"payments": ["payment_date"]}},
        },
    }


def feature_names() -> dict[str, str]:
    """payrisk name -> featuretools column name."""
    return {
        "n_invoices": "customers.COUNT(invoices)",
        "n_settled": "customers.COUNT(settlements)",
        "share_late": "customers.PERCENT_TRUE(settlements.late)",
        "days_late_mean": "customers.MEAN(settlements.days_late)",
        "days_late_max": "customers.MAX(settlements.days_late)",
        "days_since_last_payment": "customers.TIME_SINCE_LAST(payments.payment_date, unit=days)",
        "n_payments": "customers.COUNT(payments)",
    }


def run(folder: Path, n_cutoffs: int, sample: str = "spread") -> tuple[dict[str, Any], pd.DataFrame]:
    """Build the EntitySet, run ``ft.dfs`` once (timed) and return the result dict and the feature matrix."""
    invoices, payments, customers = read_tables(folder)
    cutoffs = pick_cutoffs(invoices, n_cutoffs, sample)
    unallocated = int(payments["invoice_id"].isna().sum())
    if unallocated:
        print(
            f"warning: {unallocated} payments have no invoice and are not counted (payments reach customers via invoices)"
        )
        payments = payments[payments["invoice_id"].notna()]

    t0 = time.perf_counter()
    es = build_entityset(invoices, payments, customers, cutoffs)
    es_seconds = time.perf_counter() - t0

    # Cutoff semantics. The ledger's dates are whole days stored as midnight timestamps, and a payrisk cutoff
    # day T means "everything dated on or before T, as known at the end of T". featuretools keeps a row when
    # ``time_index <= cutoff_time`` with include_cutoff_time=True (its default) and when ``time_index <
    # cutoff_time`` with False. We pass cutoff_time = T 00:00 = issue date - 1 day, so include_cutoff_time=True
    # keeps exactly the events dated on T (timestamp == T 00:00) and before, and drops the issue day (T + 1
    # day) and later. False would wrongly drop day T itself. (Equivalently one could pass the issue date with
    # include_cutoff_time=False; with intra-day timestamps that is the form that stays right.)
    cutoff_time = cutoffs[["invoice_id", "time"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # featuretools' FutureWarnings from pandas internals, not ours
        t0 = time.perf_counter()
        matrix, definitions = ft.dfs(
            entityset=es, cutoff_time=cutoff_time, include_cutoff_time=True, verbose=False, **dfs_arguments()
        )
        dfs_seconds = time.perf_counter() - t0

    names = feature_names()
    # the target's customer_id comes back as an identity column (a categorical); every other one is ours
    generated = [d.get_name() for d in definitions if d.get_name() != "customer_id"]
    if sorted(generated) != sorted(names.values()):
        raise RuntimeError(f"ft.dfs generated {generated}, expected {sorted(names.values())}")
    out = matrix[list(names.values())].astype("float64")
    out.columns = list(names)
    out = out.reindex(cutoffs["invoice_id"])
    out.insert(0, "as_of", cutoffs["time"].to_numpy())
    out.insert(0, "customer_id", cutoffs["customer_id"].to_numpy())

    rows = len(out)
    sample_rows = out.iloc[np.linspace(0, rows - 1, min(5, rows)).round().astype(np.int64)].reset_index()
    sample_rows["as_of"] = sample_rows["as_of"].dt.strftime("%Y-%m-%d")
    result = {
        "rows": rows,
        "seconds": round(dfs_seconds, 4),
        "rows_per_s": round(rows / dfs_seconds, 1),
        "entityset_seconds": round(es_seconds, 4),
        "sample": sample,
        "distinct_cutoff_days": int(cutoffs["time"].nunique()),
        "include_cutoff_time": True,
        "featuretools_version": ft.__version__,
        "pandas_version": pd.__version__,
        "features": generated,
        "payrisk_names": names,
        "ledger": {"invoices": len(invoices), "payments": len(payments), "customers": len(customers)},
        "sample_rows": json.loads(sample_rows.to_json(orient="records")),
    }
    return result, out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder with invoices/payments/customers .parquet")
    parser.add_argument("--n-cutoffs", type=int, default=1000, help="invoices (cutoff rows) to compute")
    parser.add_argument("--sample", choices=("spread", "first"), default="spread", help="which N invoices")
    parser.add_argument("--out", type=Path, required=True, help="result JSON")
    parser.add_argument("--matrix", type=Path, help="also write the whole feature matrix here (.parquet or .csv)")
    args = parser.parse_args(argv)

    result, matrix = run(args.folder, args.n_cutoffs, args.sample)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    if args.matrix is not None:
        if args.matrix.suffix == ".csv":
            matrix.to_csv(args.matrix)
        else:
            matrix.to_parquet(args.matrix)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
