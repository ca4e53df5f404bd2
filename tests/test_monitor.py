"""Monitoring: PSI against a direct computation, feature drift, and a deteriorating world flagged (its control not)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import payrisk as pr
from payrisk import monitor


def test_psi_equals_the_direct_computation_on_hand_made_bins():
    expected = np.repeat(np.arange(10.0), 100)  # deciles: one value each
    actual = np.repeat(np.arange(10.0), [50, 50, 100, 100, 100, 100, 100, 100, 150, 150])
    e = np.full(10, 0.1)
    a = np.array([50, 50, 100, 100, 100, 100, 100, 100, 150, 150]) / 1000
    direct = float(np.sum((a - e) * np.log(a / e)))
    assert monitor.psi(expected, actual, bins=10) == pytest.approx(direct, rel=1e-12)
    assert monitor.psi(expected, expected) == 0.0


def test_psi_gives_missing_values_a_bin_and_floors_empty_bins():
    expected = np.array([1.0, 2.0, 3.0, 4.0])
    with_missing = np.array([1.0, 2.0, np.nan, np.nan])
    # bins (<=1.5? quantiles of 1..4 at 0.5: 2.5) -> shares e = (0.5, 0.5, 0 -> 1e-4), a = (0.5, 0, 0.5)
    e = np.array([0.5, 0.5, 1e-4])
    a = np.array([0.5, 1e-4, 0.5])
    direct = float(np.sum((a - e) * np.log(a / e)))
    assert monitor.psi(expected, with_missing, bins=2) == pytest.approx(direct)
    with pytest.raises(pr.errors.ParameterError, match="bins"):
        monitor.psi(expected, expected, bins=1)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=20, max_size=200), st.integers(2, 12))
def test_psi_is_never_negative_and_zero_for_the_same_sample(values, bins):
    x = np.asarray(values)
    assert monitor.psi(x, x, bins) == pytest.approx(0.0, abs=1e-12)
    assert monitor.psi(x, x[::-1] + 1.0, bins) >= 0.0


def test_feature_drift_ranks_the_shifted_feature_first():
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"days_late_mean": rng.normal(5, 2, 3000), "amount": rng.lognormal(7, 1, 3000)})
    cur = pd.DataFrame({"days_late_mean": rng.normal(9, 2, 3000), "amount": rng.lognormal(7, 1, 3000)})
    drift = monitor.feature_drift(ref, cur)
    assert list(drift.index) == ["days_late_mean", "amount"]
    assert drift.loc["days_late_mean", "shift"] == "major" and drift.loc["amount", "shift"] == "stable"
    assert drift.loc["days_late_mean", "current_mean"] == pytest.approx(cur["days_late_mean"].mean())


@functools.lru_cache(maxsize=2)
def _world(deteriorating_share: float) -> tuple[pr.Ledger, pr.RiskEngine]:
    """Customers turn struggling between 2023-10 and 2024-01 (60-68% of the history), after the engine's date."""
    params = pr.datasets.WorldParams(
        deteriorating_share=deteriorating_share, deterioration_window=(0.6, 0.68), deterioration_shift=1.5
    )
    ledger = pr.datasets.make_ledger(n_customers=800, seed=11, params=params)
    engine = pr.RiskEngine(n_estimators=100, reasons_top_n=0, forecast_weeks=0).fit(ledger, "2023-09-30")
    return ledger, engine


def test_the_monitor_flags_a_deterioration_after_training_and_says_so():
    ledger, engine = _world(0.8)
    assert (ledger.truth.customers["deteriorated_on"].dropna() > engine.as_of_).all()  # only after training
    report = monitor.monitor(ledger, engine, "2024-06-30")
    assert report.retrain and report.summary[0].startswith("Retrain")
    cal = report.calibration.set_index(["quantity", "segment"])
    # the deteriorated customers were reliable or forgetful payers: the model is now too low for them
    for segment in ("all", "reliable"):
        row = cal.loc[("p_late", segment)]
        assert row["flagged"] and row["drift"] > 0.05 and row["gap"] > 0.05, segment
    assert cal.loc[("p_paid_by_due", "all"), "drift"] < -0.05  # and pay later than it expects
    assert any(
        line.startswith("p_late is now") and "too low for the reliable segment" in line for line in report.summary
    )
    assert report.score_psi > 0.25
    assert (report.features["shift"] == "major").sum() >= 3
    assert "issue_month" not in report.features.index  # calendar features differ between windows by design
    fig = report.plot()
    assert [ax.get_title() for ax in fig.axes] == ["feature drift (PSI)", "calibration drift since training"]


def test_the_monitor_stays_quiet_on_the_same_world_without_the_shift():
    ledger, engine = _world(0.0)
    report = monitor.monitor(ledger, engine, "2024-06-30")
    assert not report.retrain, report.summary
    assert report.summary[0].startswith("No action needed")
    assert report.score_psi < 0.1
    assert not report.calibration["flagged"].any()


def test_the_monitor_refuses_a_date_before_training():
    ledger = pr.datasets.make_ledger(n_customers=150, seed=0)
    engine = pr.RiskEngine(n_estimators=20, reasons_top_n=0, forecast_weeks=0).fit(ledger, "2024-03-31")
    with pytest.raises(pr.errors.ParameterError, match="after the engine's training date"):
        monitor.monitor(ledger, engine, "2024-03-31")


def test_the_report_shows_the_health_it_is_given_and_checks_it_is_for_its_day(tmp_path):
    """write_report(health=...) shows a monitor run already made (the demo prints it first) instead of running it
    again; one for another day is not used."""
    import copy

    from payrisk.report import write_report

    ledger, engine = _world(0.0)
    health = copy.copy(monitor.monitor(ledger, engine, "2024-06-30"))
    health.summary = ["Marked: the health the caller gave.", *health.summary[1:]]
    shown = write_report(ledger, engine, "2024-06-30", tmp_path / "r.html", health=health).read_text()
    assert "Marked: the health the caller gave." in shown
    other = write_report(ledger, engine, "2024-05-31", tmp_path / "o.html", health=health).read_text()
    assert "Marked" not in other and 'id="monitor"' in other
