"""Cash-inflow forecast: conservation, currencies, the copula's intervals against simulation, the truth, backtest."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import payrisk as pr
from payrisk.errors import ParameterError
from payrisk.forecast import _survival_paid_by
from payrisk.forecast import payment_curve_bins as _bins
from payrisk.forecast import total_quantiles as _total_quantiles

ORIGIN = pd.Timestamp("2024-06-30")


@functools.lru_cache(maxsize=1)
def _fitted() -> tuple[pr.Ledger, pr.RiskEngine]:
    ledger = pr.datasets.make_ledger(n_customers=500, seed=4)
    return ledger, pr.RiskEngine(history_days=365).fit(ledger, ORIGIN)


@functools.lru_cache(maxsize=1)
def _forecast() -> pr.forecast.CashForecast:
    ledger, engine = _fitted()
    return pr.forecast.cash_inflow(ledger, engine, ORIGIN, horizon_weeks=13, threshold={"EUR": 150_000.0})


def test_expected_cash_is_conserved_per_currency_and_never_mixed():
    ledger, _ = _fitted()
    fc = _forecast()
    open_items = ledger.as_of(ORIGIN).open_invoices()
    for cur, items in open_items.groupby("currency"):
        p = fc.periods.loc[fc.periods["currency"] == cur]
        assert len(p) == 13
        inside = p["expected"].sum()
        assert inside + fc.meta["beyond_horizon"][cur] == pytest.approx(items["open_amount"].sum(), rel=1e-9)
        assert np.allclose(p["cum_expected"], np.cumsum(p["expected"]))
        assert (p["low"] <= p["expected"]).all() and (p["expected"] <= p["high"]).all()
        assert (np.diff(p["cum_low"]) >= -1e-6).all()  # the cumulative curve never goes down
        # breakdowns add up to the same figure, per currency
        assert fc.by_customer.loc[cur].to_numpy().sum() == pytest.approx(inside, rel=1e-9)
        assert fc.by_segment.loc[cur].to_numpy().sum() == pytest.approx(inside, rel=1e-9)
    assert set(fc.periods["currency"]) == set(open_items["currency"])


def test_dry_periods_follow_the_threshold():
    fc = _forecast()
    eur = fc.periods["currency"] == "EUR"
    assert (fc.periods.loc[eur, "dry"] == (fc.periods.loc[eur, "expected"] < 150_000.0)).all()
    assert (fc.periods.loc[eur, "dry_low"] >= fc.periods.loc[eur, "dry"]).all()
    assert not fc.periods.loc[~eur, ["dry", "dry_low"]].to_numpy().any()  # no threshold for other currencies
    assert len(fc.dry_periods()) == int((fc.periods["dry"] | fc.periods["dry_low"]).sum())


def test_the_forecast_follows_the_true_payment_distribution():
    """Over 13 weeks, the expected inflow is close to what the generator's true survival curves give."""
    ledger, _ = _fitted()
    fc = _forecast()
    items = ledger.as_of(ORIGIN).open_invoices().set_index("invoice_id")
    paid_share = ledger.truth.paid_within(items.index, ORIGIN, [91])[91].to_numpy()
    true_cash = pd.Series(items["open_amount"].to_numpy() * paid_share).groupby(items["currency"].to_numpy()).sum()
    model_cash = fc.periods.groupby("currency")["expected"].sum()
    for cur in ("EUR", "GBP"):
        assert model_cash[cur] == pytest.approx(true_cash[cur], rel=0.10), cur


def test_copula_quantiles_match_a_simulation():
    """The mixture over the shared period factor reproduces brute-force draws of the Gaussian copula."""
    _, engine = _fitted()
    model = engine.time_model_
    rng = np.random.default_rng(0)
    location = rng.normal(3.5, 0.3, 3000)  # weeks to months; P(paid on day 0) is negligible here
    amount = rng.lognormal(7, 1, 3000)
    ends = np.array([7, 14, 28, 56])
    rho, levels = 0.2, np.array([0.1, 0.9])
    per_q, cum_q = _total_quantiles(_bins(_survival_paid_by(model, location, ends), amount), rho, levels)
    from payrisk.models import DISTRIBUTIONS as _DISTS

    dist = _DISTS[model.distribution_]
    n_sims = 4000
    g = rng.standard_normal(n_sims)[:, None]
    z = np.sqrt(1 - rho) * rng.standard_normal((n_sims, len(location))) + np.sqrt(rho) * g
    days = np.expm1(location + model.scale_at(location) * dist.ppf(stats.norm.cdf(z)))
    cum = np.stack([(days <= d) @ amount for d in ends], axis=1)
    per = np.diff(np.concatenate([np.zeros((n_sims, 1)), cum], axis=1), axis=1)
    tol = 0.03 * cum.mean(axis=0).max()
    assert np.allclose(cum_q, np.quantile(cum, levels, axis=0), atol=tol)
    assert np.allclose(per_q, np.quantile(per, levels, axis=0), atol=tol)


def test_a_shared_period_factor_widens_the_intervals():
    _, engine = _fitted()
    rng = np.random.default_rng(1)
    location, amount = rng.normal(3.0, 0.5, 2000), rng.lognormal(7, 1, 2000)
    ends = np.array([7, 14, 21])
    widths = []
    for rho in (0.0, 0.05, 0.2):
        cdf = _survival_paid_by(engine.time_model_, location, ends)
        q, _ = _total_quantiles(_bins(cdf, amount), rho, np.array([0.1, 0.9]))
        widths.append(q[1] - q[0])
    assert (widths[0] < widths[1]).all() and (widths[1] < widths[2]).all()


def test_bad_parameters_are_refused():
    ledger, engine = _fitted()
    with pytest.raises(ParameterError, match="period_correlation"):
        pr.forecast.cash_inflow(ledger, engine, ORIGIN, period_correlation=1.0)
    with pytest.raises(ParameterError, match="levels"):
        pr.forecast.cash_inflow(ledger, engine, ORIGIN, levels=(0.9, 0.1))
    with pytest.raises(ParameterError, match="freq"):
        pr.forecast.period_edges(ORIGIN, 3, "Q")


def test_fan_chart():
    fig = _forecast().plot(currency="EUR")
    assert len(fig.axes) == 2 and "EUR" in fig.axes[0].get_title()


@pytest.mark.xdist_group("backtest")
def test_backtest_reads_the_actuals_and_calibrates_on_earlier_origins_only():
    ledger, _ = _fitted()
    origins = [pd.Timestamp("2024-03-31"), pd.Timestamp("2024-05-26"), pd.Timestamp("2024-07-21")]
    bt = pr.backtest.backtest_forecast(ledger, origins=origins, engine=pr.RiskEngine(history_days=365))
    cells = bt.cells
    # actuals by hand for the first origin: payments in each week on the invoices open at it
    o = origins[0]
    inv = ledger.invoices.set_index("invoice_id")
    open_ids = inv.index[(inv["issue_date"] <= o) & ~(inv["paid_date"] <= o)]
    pay = ledger.payments.loc[ledger.payments["invoice_id"].isin(open_ids)].copy()
    pay["week"] = np.ceil((pay["payment_date"] - o).dt.days / 7).astype(int)
    pay["currency"] = inv.loc[pay["invoice_id"], "currency"].to_numpy()
    want = pay.loc[pay["week"].between(1, 13)].groupby(["currency", "week"])["amount"].sum()
    got = cells.loc[cells["origin"] == o].set_index(["currency", "period"])["actual"]
    assert np.allclose(got.reindex(want.index).to_numpy(), want.to_numpy())
    assert got.drop(want.index, errors="ignore").eq(0).all()
    # the first origin has no earlier origins to calibrate on; the due-date baseline never exceeds the book
    assert (cells.loc[cells["origin"] == o, "rho"] == 0.0).all()
    assert set(bt.metrics["method"]) >= {"payrisk", "due_date", "due_plus_delay", "ets", "independent"}
    assert bt.metrics["wape"].notna().all() and 0 <= bt.period_correlation < 1


def test_the_interval_at_an_origin_is_calibrated_on_the_weeks_that_had_ended_by_then():
    """Cells of a first origin whose actuals only the widest interval covers: an origin two days later knows none of
    them (rho 0), one 3 weeks later knows weeks 1-3 only, one after all 13 weeks knows them all."""
    from payrisk.backtest import RHO_GRID, _rho_at_origins

    first = pd.Timestamp("2024-03-31")
    cells = pd.DataFrame({"origin": first, "period": range(1, 14), "actual": 100.0})
    cells["period_end"] = first + pd.to_timedelta(7 * cells["period"], unit="D")
    for rho in RHO_GRID:  # an interval as wide as rho: only rho >= 0.4 reaches the actual 100 in weeks 1-3
        cells[f"q_low_{rho}"], cells[f"q_high_{rho}"] = 0.0, np.where(cells["period"] <= 3, 300 * rho, 1e9)
    later = [first + pd.Timedelta(days=2), first + pd.Timedelta(weeks=3), first + pd.Timedelta(weeks=13)]
    rho = _rho_at_origins(cells, [first, *later], nominal=0.8)
    assert rho[first] == rho[later[0]] == 0.0  # nothing had ended: the weeks after an origin never set its interval
    assert rho[later[1]] == 0.4  # weeks 1-3 only: the smallest rho that covers all of them (0.3's ends at 90)
    assert rho[later[2]] == 0.0  # all 13 weeks: 10 of 13 covered at any rho, 0.77 nearest to 0.8


def test_a_worklist_gives_a_coarser_forecast_of_the_same_cash():
    """From the scores alone (P10/P50/P90 dates, P(paid within 30/60/90 days)) the totals follow the engine's
    own survival curves; the breakdown by segment comes from the worklist's column."""
    import copy

    ledger, engine = _fitted()
    scores = engine.score(ledger, ORIGIN)
    fc = pr.forecast.cash_inflow(None, scores, ORIGIN, horizon_weeks=13)
    survival_only = copy.copy(engine)
    survival_only.week_model_ = None
    ref = pr.forecast.cash_inflow(ledger, survival_only, ORIGIN, horizon_weeks=13, segments=False)
    for cur in ("EUR", "GBP"):
        ours = fc.periods.loc[fc.periods["currency"] == cur]
        theirs = ref.periods.loc[ref.periods["currency"] == cur]
        assert ours["expected"].sum() == pytest.approx(theirs["expected"].sum(), rel=0.05)
        assert ours["expected"].iloc[:4].sum() == pytest.approx(theirs["expected"].iloc[:4].sum(), rel=0.15)
        total = scores.loc[scores["currency"] == cur, "open_amount"].sum()
        assert ours["expected"].sum() + fc.meta["beyond_horizon"][cur] == pytest.approx(total, rel=1e-9)
    assert set(fc.by_segment.index.get_level_values("segment")) <= set(scores["segment"])
    with pytest.raises(ParameterError, match="p_paid_30d"):
        pr.forecast.cash_inflow(None, scores.drop(columns="p_paid_30d"), ORIGIN)
