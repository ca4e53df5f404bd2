"""Labels and their censoring rules, by hand and against the synthetic truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import payrisk as pr
from payrisk.errors import ParameterError
from payrisk.labels import SurvivalTarget, check_survival_target


@pytest.fixture
def small() -> pr.Ledger:
    inv = pd.DataFrame(
        {
            "invoice_id": ["on_time", "late_paid", "late_open", "not_due", "grace"],
            "customer_id": "c",
            "issue_date": "2024-01-01",
            "due_date": ["2024-01-31", "2024-01-31", "2024-01-31", "2024-03-31", "2024-01-31"],
            "amount": 10.0,
            "paid_date": ["2024-01-30", "2024-02-10", None, None, "2024-02-03"],
        }
    )
    return pr.Ledger.from_frames(invoices=inv)


def test_late_payment_rules(small):
    y = pr.labels.late_payment(small, as_of="2024-02-15")
    assert y.to_dict() == {"on_time": 0, "late_paid": 1, "late_open": 1, "grace": 1}
    assert y.attrs["n_excluded"] == 1  # not_due: open, not yet late
    y = pr.labels.late_payment(small, as_of="2024-02-15", grace_days=5)
    assert y["grace"] == 0 and y["late_paid"] == 1
    # before the late one is paid or known late, it has no label
    y = pr.labels.late_payment(small, as_of="2024-01-30")
    assert y.to_dict() == {"on_time": 0} and y.attrs["n_excluded"] == 4
    # unpaid at the end of the due date: it can no longer be paid on time (the engine's rule, and the truth's)
    y = pr.labels.late_payment(small, as_of="2024-01-31")
    assert y.to_dict() == {"on_time": 0, "late_paid": 1, "late_open": 1, "grace": 1}
    assert "grace" not in pr.labels.late_payment(small, as_of="2024-01-31", grace_days=3).index  # within its grace


def test_late_payment_never_uses_later_outcomes(small):
    early = pr.labels.late_payment(small, as_of="2024-02-05")
    assert "late_paid" in early.index and early["late_paid"] == 1  # known late: open and past due
    assert early["grace"] == 1


def test_late_labels_match_the_truth(world):
    y = pr.labels.late_payment(world)
    truth = world.truth.invoices.set_index("invoice_id")["late"].reindex(y.index)
    assert (y.to_numpy() == truth.to_numpy()).mean() == 1.0


def test_days_to_pay_is_censored_not_dropped(small):
    t = pr.labels.days_to_pay(small, as_of="2024-02-15")
    frame = t.to_frame()
    assert len(frame) == 5
    assert frame.loc["late_open"].tolist() == [45.0, False]
    assert frame.loc["late_paid"].tolist() == [40.0, True]
    due = pr.labels.days_to_pay(small, as_of="2024-02-15", origin="due_date").to_frame()
    assert due.loc["on_time", "duration"] == 0 and due.loc["late_paid", "duration"] == 10
    assert due.loc["not_due", "duration"] == 0 and not due.loc["not_due", "event"]


def test_survival_target_checker():
    with pytest.raises(ParameterError, match="negative"):
        SurvivalTarget.from_arrays([1, -1], [True, True])
    with pytest.raises(ParameterError, match="all samples are censored"):
        check_survival_target(SurvivalTarget(np.array([1.0]), np.array([False])))
    with pytest.raises(ParameterError, match="2 durations but 1"):
        SurvivalTarget.from_arrays([1, 2], [True])


def test_plan_kept_matches_the_truth_on_finished_plans(world):
    y = pr.labels.plan_kept(world)
    truth = world.truth.plans.set_index("plan_id")["kept"].reindex(y.index)
    # kept plans in the world pay every instalment within 10 days; broken ones miss from their break on
    assert (y.to_numpy() == truth.to_numpy().astype(int)).mean() > 0.97
    assert y.attrs["n_excluded"] > 0  # running plans are censored


def test_mature_only_keeps_decided_invoices_whatever_their_outcome(small):
    y = pr.labels.late_payment(small, as_of="2024-01-30")
    assert y.to_dict() == {"on_time": 0}  # paid early: labelled although not yet due
    mature = pr.labels.late_payment(small, as_of="2024-01-31", mature_only=True)
    # due on 2024-01-31: decided at the end of that day
    assert mature.to_dict() == {"on_time": 0, "late_paid": 1, "late_open": 1, "grace": 1}
    assert pr.labels.late_payment(small, as_of="2024-01-30", mature_only=True).empty


def test_mature_labels_are_not_biased_towards_early_payers(world):
    day = "2023-06-30"
    every = pr.labels.late_payment(world, as_of=day)
    mature = pr.labels.late_payment(world, as_of=day, mature_only=True)
    recent = every.index.difference(mature.index)  # labelled only because paid early (or already late)
    truth = world.truth.invoices.set_index("invoice_id")["p_late"]
    assert every.loc[recent].mean() < truth.reindex(recent).mean() - 0.05
    assert abs(mature.mean() - truth.reindex(mature.index).mean()) < 0.01


def test_mature_plan_labels_are_not_biased_towards_broken_plans(world):
    day = "2023-06-30"
    every = pr.labels.plan_kept(world, as_of=day)
    mature = pr.labels.plan_kept(world, as_of=day, mature_only=True)
    assert set(mature.index) <= set(every.index) and len(mature) < len(every)
    running = every.index.difference(mature.index)  # labelled only because already broken
    assert (every.loc[running] == 0).all()
    truth = world.truth.plans.set_index("plan_id")["p_kept"]
    # the running plans are labelled broken although most of them will be kept: that is the bias (its share of
    # all labels is only about a tenth of the plans, so it is measured where it arises)
    assert truth.reindex(running).mean() - every.loc[running].mean() > 0.25
    assert abs(mature.mean() - truth.reindex(mature.index).mean()) < 0.06  # a few hundred plans: sampling noise
