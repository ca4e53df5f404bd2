"""Shared fixtures: a small hand-made ledger (every value known) and a synthetic world (ground truth known)."""

from __future__ import annotations

import os
from pathlib import Path

# Two test workers share two cores, each running XGBoost with two OpenMP threads. With OpenMP's default
# spin-waiting, the threads of one worker burn the cores the other needs: a multi-class fit took 107 s instead
# of 6 s. Waiting threads must sleep (set before XGBoost loads its OpenMP runtime).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pandas as pd
import pytest
from hypothesis import HealthCheck, settings

import payrisk as pr

settings.register_profile(
    "payrisk", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.load_profile("payrisk")


def shared_data_dir() -> Path:
    """../shared/data next to the repository (or $PAYRISK_DATA)."""
    env = os.environ.get("PAYRISK_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def frames() -> dict[str, pd.DataFrame]:
    """A tiny, fully valid set of user tables whose every consequence can be worked out by hand."""
    return {
        "customers": pd.DataFrame({"customer_id": ["c1", "c2"], "country": ["NL", "DE"]}),
        "invoices": pd.DataFrame(
            {
                "invoice_id": ["I1", "I2", "I3"],
                "customer_id": ["c1", "c1", "c2"],
                "issue_date": ["2024-01-01", "2024-01-10", "2024-02-01"],
                "due_date": ["2024-01-31", "2024-02-09", "2024-03-02"],
                "amount": [100.0, 200.0, 50.0],
                "currency": ["EUR", "EUR", "EUR"],
                "paid_date": ["2024-02-05", None, "2024-03-01"],
            }
        ),
        "payments": pd.DataFrame(
            {
                "payment_id": ["P1", "P2", "P3"],
                "customer_id": ["c1", "c1", "c2"],
                "invoice_id": ["I1", "I2", "I3"],
                "payment_date": ["2024-02-05", "2024-02-15", "2024-03-01"],
                "amount": [100.0, 80.0, 50.0],
            }
        ),
        "plans": pd.DataFrame({"plan_id": ["PL1"], "customer_id": ["c2"], "created_date": ["2024-03-01"]}),
        "installments": pd.DataFrame(
            {
                "plan_id": ["PL1", "PL1"],
                "installment_no": [1, 2],
                "due_date": ["2024-04-01", "2024-05-01"],
                "amount_due": [25.0, 25.0],
                "paid_date": ["2024-04-01", None],
                "amount_paid": [25.0, 0.0],
            }
        ),
        "contacts": pd.DataFrame(
            {
                "customer_id": ["c1"],
                "invoice_id": ["I2"],
                "sent_at": ["2024-02-12 09:30"],
                "channel": ["Email"],
                "tone": ["mild"],
            }
        ),
    }


@pytest.fixture(scope="session")
def world() -> pr.Ledger:
    """The default synthetic world, small enough for the test suite (about 100k invoices)."""
    return pr.datasets.make_ledger(n_customers=1500, seed=7)
