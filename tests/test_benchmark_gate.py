"""The benchmark gate: `payrisk benchmark --compare` passes on the current model and fails on a degraded one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from payrisk import _benchmark_suite as suite
from payrisk.cli import main

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REPO_BASELINE = Path(__file__).resolve().parents[1] / "benchmarks" / "baseline.json"
SMALL = ["--customers", "300", "--trees", "40", "--data", str(DATA)]

pytestmark = pytest.mark.xdist_group("benchmark_gate")


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("gate") / "baseline.json"
    assert main(["--quiet", "benchmark", *SMALL, "--out", str(path)]) == 0
    return path


def test_the_benchmark_writes_out_of_time_metrics_with_intervals(baseline):
    doc = json.loads(baseline.read_text())  # written by `payrisk benchmark ... --out` in the fixture
    auc = doc["metrics"]["synthetic.p_late.auc"]
    assert doc["suite"] == "models" and auc["n"] >= 100
    assert 0.5 < auc["ci_low"] <= auc["value"] <= auc["ci_high"] <= 1


def test_the_gate_passes_on_the_same_model(baseline, capsys):
    assert main(["--quiet", "benchmark", "--compare", str(baseline), *SMALL]) == 0
    out = capsys.readouterr().out
    assert "passed: all" in out and "worse" not in out


def test_the_gate_fails_on_a_degraded_model_and_shows_what_moved(baseline, capsys, tmp_path):
    degraded = ["--customers", "300", "--trees", "1", "--depth", "1", "--data", str(DATA)]
    assert main(["--quiet", "benchmark", "--compare", str(baseline), *degraded, "--out", str(tmp_path / "r.json")]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "synthetic.p_late.auc" in out
    first_row = out.splitlines()[1].split()
    assert first_row[-1] == "worse"  # what moved comes first
    assert json.loads((tmp_path / "r.json").read_text())["model"] == {"trees": 1, "depth": 1}


def _no_run(*args, **kwargs):
    raise AssertionError("the suite ran although the command was to be refused first")


def test_a_run_on_other_data_is_refused_before_it_runs(baseline, capsys, monkeypatch):
    monkeypatch.setattr(suite, "run_suite", _no_run)  # a refusal known up front costs no run of minutes
    assert main(["--quiet", "benchmark", "--compare", str(baseline), "--customers", "250", "--trees", "40"]) == 2
    assert "data settings ['customers']" in capsys.readouterr().err


def test_an_existing_output_file_is_refused_before_the_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(suite, "run_suite", _no_run)
    taken = tmp_path / "results.json"
    taken.write_text("{}")
    assert main(["--quiet", "benchmark", *SMALL, "--out", str(taken)]) == 2
    assert "does not write over it" in capsys.readouterr().err and taken.read_text() == "{}"


def test_a_missing_metric_fails_the_gate(baseline, tmp_path, capsys):
    current = json.loads(baseline.read_text())
    current["metrics"].pop("synthetic.p_late.auc")
    (tmp_path / "current.json").write_text(json.dumps(current))
    assert main(["--quiet", "benchmark", "--compare", str(baseline), "--results", str(tmp_path / "current.json")]) == 1
    assert "missing" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("metric", "base", "now", "status"),
    [
        ("x.auc", 0.80, 0.795, "ok"),
        ("x.auc", 0.80, 0.78, "worse"),
        ("x.auc", 0.80, 0.83, "better"),
        ("x.brier", 0.15, 0.158, "worse"),
        ("x.brier", 0.15, 0.14, "better"),
        ("x.coverage_80", 0.80, 0.84, "worse"),  # too wide is as wrong as too narrow
        ("x.coverage_80", 0.85, 0.80, "better"),
        ("x.coverage_80", 0.78, 0.82, "ok"),
    ],
)
def test_each_metric_is_judged_in_its_own_direction(metric, base, now, status):
    table = suite.compare({"metrics": {metric: {"value": base}}}, {"metrics": {metric: {"value": now}}})
    assert table.loc[0, "status"] == status


def test_a_small_test_set_gets_a_wider_tolerance():
    assert suite.tolerance("x.auc", {"value": 0.7}) == 0.01
    assert suite.tolerance("x.auc", {"value": 0.7, "ci_low": 0.5, "ci_high": 0.9}) == 0.1


def test_the_repository_baseline_tracks_what_the_suite_measures(baseline):
    repo = json.loads(REPO_BASELINE.read_text())
    small = json.loads(baseline.read_text())
    assert repo["suite"] == "models" and repo["settings"]["customers"] >= 2000
    expected = {m for m in repo["metrics"] if m.split(".")[0] not in small["skipped"]}  # datasets found here
    assert expected == set(small["metrics"])  # the same names: the baseline cannot rot silently
    assert set(repo["tolerances"]) == set(repo["metrics"])
