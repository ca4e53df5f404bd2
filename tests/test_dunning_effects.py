"""Mild vs strict: the tone effect is recovered from randomised history; policies simulate forward."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import payrisk as pr
from payrisk.dunning import Policy, estimate_tone_effect, simulate_policies
from payrisk.errors import ParameterError

START, AS_OF = "2023-07-01", "2024-12-31"
ARCHETYPES = ("reliable", "forgetful", "struggling", "chronic")


def _world(strict: dict[str, float] | None = None, **kw: object) -> pr.Ledger:
    params = pr.datasets.WorldParams()
    effects = dict(params.tone_effect)
    if strict is not None:
        effects["strict"] = strict
    return pr.datasets.make_ledger(
        n_customers=1200, seed=11, params=params.model_copy(update={"tone_effect": effects, **kw})
    )


@pytest.fixture(scope="module")
def world() -> pr.Ledger:
    return _world()


@pytest.fixture(scope="module")
def segments(world: pr.Ledger) -> pd.Series:
    return pr.segment.PayerSegmenter().fit_predict(world, "2023-06-30")["segment"]


def _truth(ledger: pr.Ledger, effect: pr.dunning.ToneEffect) -> pd.Series:
    per_invoice = ledger.truth.tone_effect(effect.invoices.index, effect.meta["horizon_days"])
    truth = per_invoice.groupby(effect.invoices["segment"]).mean()
    truth["all"] = per_invoice.mean()
    return truth


def test_the_estimate_recovers_the_true_effect_in_every_segment(world, segments):
    effect = estimate_tone_effect(world, AS_OF, segments, start=START, propensity=0.5)
    table = effect.by_segment.assign(truth=_truth(world, effect))
    assert len(table) >= 5 and (table["n"] > 300).all(), table
    inside = (table["truth"] >= table["ci_low"]) & (table["truth"] <= table["ci_high"])
    assert inside.all(), table.to_string()
    assert table.loc["all", "ci_high"] < 0  # strict shortens days late overall in the default world


def test_an_estimated_propensity_gives_the_same_answer(world, segments):
    known = estimate_tone_effect(world, AS_OF, segments, start=START, propensity=0.5).by_segment
    estimated = estimate_tone_effect(world, AS_OF, segments, start=START).by_segment
    assert np.allclose(known["effect"], estimated["effect"], atol=0.25 * (known["ci_high"] - known["ci_low"]).max())


def test_no_effect_is_found_where_there_is_none():
    flat = _world(strict={a: 0.0 for a in ARCHETYPES})
    effect = estimate_tone_effect(flat, AS_OF, start=START, propensity=0.5)
    assert (_truth(flat, effect) == 0).all()
    row = effect.by_segment.loc["all"]
    assert row["ci_low"] <= 0 <= row["ci_high"], row


def test_the_cohort_is_only_what_was_known_and_reminded(world):
    effect = estimate_tone_effect(world, "2024-06-30", start=START, propensity=0.5, horizon_days=45)
    inv = world.invoices.set_index("invoice_id").loc[effect.invoices.index]
    assert (inv["due_date"] >= pd.Timestamp(START)).all()
    assert (inv["due_date"] <= pd.Timestamp("2024-06-30") - pd.Timedelta(days=45)).all()
    assert effect.invoices["outcome"].between(0, 45).all()
    first = world.contacts.sort_values("sent_at").drop_duplicates("invoice_id").set_index("invoice_id")
    assert (first.loc[effect.invoices.index, "tone"].eq("strict") == effect.invoices["treated"].eq(1)).all()


def test_bad_requests_say_what_to_fix(world):
    with pytest.raises(ParameterError, match="propensity"):
        estimate_tone_effect(world, AS_OF, propensity=1.0)
    with pytest.raises(ParameterError, match="widen the window"):
        estimate_tone_effect(world, "2022-02-01", propensity=0.5)


def _one_size(tone: str) -> Policy:
    steps = [
        {"name": "reminder", "days_after_due": 1, "channel": "email", "tone": tone, "template": "r1"},
        {"name": "second", "days_after_due": 14, "channel": "email", "tone": tone, "template": "r2"},
        {"name": "notice", "days_after_due": 28, "channel": "letter", "tone": tone, "template": "n",
         "formal_notice": True},
    ]  # fmt: skip
    return Policy.one_size({"steps": steps}, f"{tone} for all")


def test_simulated_policies_follow_the_world_response(world, segments):
    table = simulate_policies(
        world, {"mild": _one_size("mild"), "strict": _one_size("strict")}, segments, "2024-01-01", "2024-06-30"
    )
    assert (table["cash_by_day_30"] < table["cash_by_day_60"]).all() and (table["cash_by_day_60"] <= 1).all()
    # in the default world strict is faster on average (chronic, forgetful) but costs customers
    assert table.loc["strict", "days_late_mean"] < table.loc["mild", "days_late_mean"]
    assert table.loc["strict", "customers_lost"] > 3 * table.loc["mild", "customers_lost"]
    assert table.loc["strict", "contacts"] == pytest.approx(table.loc["mild", "contacts"], rel=0.05)


def test_simulated_cash_matches_the_generator():
    """The expected share paid within 30 and 60 days matches what the generator realises under the same policy
    (mild e-mail reminders, as logged when every first reminder is a mild e-mail)."""
    logged = _world(strict_share=0.0, first_channel_probs={"email": 1.0, "sms": 0.0, "letter": 0.0})
    start, end = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-06-30")
    table = simulate_policies(logged, {"mild": _one_size("mild")}, pd.Series(dtype=str), start, end)
    inv = logged.invoices.loc[logged.invoices["due_date"].between(start, end)]
    for n in (30, 60):
        paid = inv["paid_date"] <= inv["due_date"] + pd.Timedelta(days=n)
        realised = (inv["amount"] * paid).sum() / inv["amount"].sum()
        assert table.loc["mild", f"cash_by_day_{n}"] == pytest.approx(realised, abs=0.015), n
