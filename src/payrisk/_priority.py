"""Fifty shades of red: expected loss, a total order over open items, a continuous red scale and bands."""

from __future__ import annotations

import numpy as np
import pandas as pd

from payrisk.errors import ParameterError

#: Bands by share of the worklist, most urgent first: (name, upper edge of the cumulative share).
BANDS: tuple[tuple[str, float], ...] = (("critical", 0.05), ("high", 0.20), ("medium", 0.50), ("low", 1.0))


def prioritise(
    scores: pd.DataFrame,
    loss_given_nonpayment: float | pd.Series = 1.0,
    annual_rate: float = 0.08,
) -> pd.DataFrame:
    """Expected loss, priority rank (1 = act first), a red shade in [0, 1] and a band for each open item.

    ``expected_loss = open_amount * P(not paid within horizon) * loss_given_nonpayment`` plus the cost of waiting
    ``open_amount * annual_rate * expected days to payment within the horizon / 365``; the horizon is the one of
    the scores (``RiskEngine(horizon_days=...)``). Ties are broken by days
    overdue, then by amount, so the order is total and the same on every run.

    Parameters
    ----------
    scores : DataFrame
        Needs ``open_amount``, ``p_unpaid_horizon`` (P(not paid within the horizon the scores were made for)),
        ``expected_wait_days`` (within that horizon) and ``days_overdue``.
    loss_given_nonpayment : float or Series
        Share of an unpaid amount that is lost (one number, or per row, e.g. by segment).
    annual_rate : float
        The cost of money, per year, for the waiting term.

    Returns
    -------
    DataFrame
        ``expected_loss``, ``priority_rank``, ``red`` (1 = the reddest), ``band``; index of ``scores``.

    Examples
    --------
    >>> s = pd.DataFrame({"open_amount": [100.0, 5000.0, 800.0], "p_unpaid_horizon": [0.9, 0.05, 0.5],
    ...                   "expected_wait_days": [80.0, 10.0, 40.0], "days_overdue": [40, 2, 20]})
    >>> prioritise(s)["priority_rank"].tolist()
    [3, 2, 1]
    """
    need = ["open_amount", "p_unpaid_horizon", "expected_wait_days", "days_overdue"]
    missing = [c for c in need if c not in scores.columns]
    if missing:
        raise ParameterError(f"prioritise needs the columns {need}; missing {missing}.")
    if not 0 <= annual_rate < 1:
        raise ParameterError(f"The 'annual_rate' parameter must be in [0, 1). Got {annual_rate}.")
    amount = scores["open_amount"].to_numpy(dtype=np.float64)
    lgd = np.broadcast_to(np.asarray(loss_given_nonpayment, dtype=np.float64), amount.shape)
    loss = amount * scores["p_unpaid_horizon"].to_numpy(dtype=np.float64) * lgd
    waiting = amount * annual_rate * scores["expected_wait_days"].to_numpy(dtype=np.float64) / 365.0
    expected = loss + waiting
    ranked = rank_and_shade(expected, scores["days_overdue"].to_numpy(dtype=np.float64), amount)
    return pd.DataFrame({"expected_loss": expected, **ranked}, index=scores.index)


def rank_and_shade(expected_loss: np.ndarray, days_overdue: np.ndarray, amount: np.ndarray) -> dict[str, np.ndarray]:
    """The total order (most expected loss first; ties by days overdue, then amount), its red shade and band.

    Examples
    --------
    >>> rank_and_shade(np.array([5.0, 9.0]), np.array([1.0, 1.0]), np.array([10.0, 20.0]))["priority_rank"]
    array([2, 1])
    """
    order = np.lexsort((-amount, -days_overdue, -expected_loss))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(1, len(order) + 1)
    share = (rank - 0.5) / max(len(rank), 1)
    edges = np.array([edge for _, edge in BANDS])
    band = np.asarray([name for name, _ in BANDS])[np.minimum(np.searchsorted(edges, share), len(BANDS) - 1)]
    return {"priority_rank": rank, "red": 1.0 - share, "band": band}
