"""Each figure draws what it says, from payrisk's own outputs, and saves to PNG."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import payrisk as pr
from payrisk import plots
from payrisk.errors import ParameterError


@pytest.fixture(scope="module")
def scored():
    ledger = pr.datasets.make_ledger(n_customers=300, seed=4)
    engine = pr.RiskEngine(n_estimators=60, reasons_top_n=20).fit(ledger, "2024-06-30")
    return ledger, engine, engine.score(ledger, "2024-07-31")


def _png(fig, tmp_path, name):
    path = tmp_path / f"{name}.png"
    fig.savefig(path)
    assert path.stat().st_size > 5_000  # a real image, not an empty canvas
    return path


def test_calibration_and_gains(tmp_path):
    rng = np.random.default_rng(0)
    p = rng.random(2000)
    y = rng.random(2000) < p
    fig = plots.calibration_curve(y, p)
    line = fig.axes[0].get_lines()[1]
    np.testing.assert_allclose(line.get_xdata(), line.get_ydata(), atol=0.08)  # calibrated scores sit on the diagonal
    _png(fig, tmp_path, "calibration")
    fig = plots.gains_chart(y, {"model": p, "random": rng.random(2000)})
    model_curve = fig.axes[0].get_lines()[0].get_ydata()
    assert model_curve[len(model_curve) // 5] > 0.3  # a fifth of the items holds more than a fifth of the late ones
    _png(fig, tmp_path, "gains")


def test_waterfall_ends_at_the_model_output(scored, tmp_path):
    ledger, engine, _ = scored
    X = pr.features.invoice_features(ledger, "issue_date").iloc[:3]
    phi = pr.explain.contributions(engine.time_model_, X).iloc[0]
    fig = plots.reason_waterfall(phi, top=5)
    bars = fig.axes[0].patches
    assert len(bars) == 6
    end = bars[-1].get_x() + bars[-1].get_width()  # the last bar (drawn lowest) ends at the output
    assert np.isclose(end, phi.sum(), atol=1e-6)
    _png(fig, tmp_path, "waterfall")
    with pytest.raises(ParameterError):
        plots.reason_waterfall(phi.drop("bias"))


def test_segment_map_and_heat_list(scored, tmp_path):
    ledger, engine, work = scored
    seg = engine.segmenter_.predict(ledger, "2024-07-31")
    fig = plots.segment_map(seg)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any(label.startswith("reliable") for label in labels)
    _png(fig, tmp_path, "segments")
    fig = plots.priority_heat_list(work, n=15)
    bars = fig.axes[0].patches
    assert len(bars) == 15
    widths = [b.get_width() for b in bars]
    assert widths == sorted(widths, reverse=True)  # the reddest item is the longest bar, at the top
    _png(fig, tmp_path, "heat")
    with pytest.raises(ParameterError):
        plots.priority_heat_list(pd.DataFrame({"x": [1]}))


def test_forecast_axes_read_as_money_not_powers_of_ten():
    day = pd.Timestamp("2024-06-30")
    worklist = pd.DataFrame({"customer_id": ["c1", "c2"], "currency": "EUR", "open_amount": [3.0e7, 4.0e6],
                             "pay_p10": day + pd.Timedelta(days=3), "pay_p50": day + pd.Timedelta(days=12),
                             "pay_p90": day + pd.Timedelta(days=45), "p_paid_30d": 0.8, "p_paid_60d": 0.95,
                             "p_paid_90d": 0.99})  # fmt: skip
    fig = plots.forecast_fan(pr.forecast.cash_inflow(None, worklist, day, horizon_weeks=6))
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    for ax in fig.axes:
        labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
        assert labels and not any("e" in s.lower() for s in labels), labels
        assert ax.yaxis.get_offset_text().get_text() == ""  # no "1e7" above the axis
        assert any(s.endswith("M") for s in labels) or any(s.endswith("k") for s in labels), labels


def test_the_kpi_trend_chart_has_one_line_per_currency():
    ledger = pr.datasets.make_ledger(n_customers=120, seed=0)
    trend = pr.kpi.kpi_trend(ledger, "2024-06-30", months=6)
    fig = plots.kpi_trend_chart(trend)
    currencies = trend.index.get_level_values("currency").nunique()
    assert len(fig.axes[1].get_lines()) == currencies and len(fig.axes[0].get_lines()) == 2 * currencies
