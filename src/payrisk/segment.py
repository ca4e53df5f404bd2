"""Behaviour segments of debtors, learned from their own payment history and explainable per customer.

Four payer types of the seed, plus customers with too little history:

- ``reliable``: rarely late; gets flexibility and deferral;
- ``forgetful``: often late, but only by days (pays when reminded); gets a direct-debit campaign;
- ``struggling``: often late by weeks; wants to pay, cannot; gets a plan where the adherence model allows;
- ``chronic``: late by a month and more; strict track, fast escalation;
- ``new``: fewer than ``min_settled`` settled invoices in the window.

:class:`PayerSegmenter` fits a four-component mixture to each customer's settled invoices in the window before
``as_of`` (expectation-maximisation, vectorised over customers): in each component an invoice is late with
probability ``p_late`` and a late invoice is ``exp(Normal(mu, sd))`` days late. Every customer gets the posterior
probability of each component, so a segment comes with the evidence that decided it ("paid 31 of 40 invoices
late, typically 24 days late"). Components are named by their fitted parameters: the lowest late rate is
``reliable``; of the other three the longest delays are ``chronic``, the shortest ``forgetful``.

Examples
--------
>>> import payrisk as pr
>>> ledger = pr.datasets.make_ledger(n_customers=400, seed=0)
>>> seg = PayerSegmenter().fit(ledger, "2024-06-30")
>>> out = seg.predict(ledger, "2024-06-30")
>>> set(out["segment"]) <= set(SEGMENTS)
True
>>> bool(seg.components_.loc["reliable", "p_late"] < seg.components_.loc["chronic", "p_late"])
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logsumexp
from sklearn.base import BaseEstimator

from payrisk.errors import NotFittedError, ParameterError

__all__ = ["SEGMENTS", "TREATMENT", "PayerSegmenter"]

SEGMENTS: tuple[str, ...] = ("reliable", "forgetful", "struggling", "chronic", "new")
#: What each segment gets in the default dunning policy (issue 8 builds the tracks).
TREATMENT: dict[str, str] = {
    "reliable": "flexibility and deferral offers",
    "forgetful": "reminder plus direct-debit campaign",
    "struggling": "payment-plan offer where the plan will be kept",
    "chronic": "strict track, fast escalation",
    "new": "standard track until there is history",
}
_PAYERS = SEGMENTS[:4]


def _history(ledger: Any, as_of: Any, window_days: int) -> pd.DataFrame:
    """Per customer: settled invoices in the window (n), late ones (k), sum and sum of squares of log days late."""
    from payrisk.ledger import to_date

    day = to_date(as_of, "as_of")
    inv = ledger.as_of(day).invoices
    paid = inv.loc[inv["paid_date"].notna() & (inv["paid_date"] > day - pd.Timedelta(days=window_days))]
    days_late = (paid["paid_date"] - paid["due_date"]).dt.days.to_numpy()
    late = days_late > 0
    log_days = np.where(late, np.log(np.maximum(days_late, 1)), 0.0)
    frame = pd.DataFrame(
        {
            "customer_id": paid["customer_id"].to_numpy(),
            "k": late.astype(np.float64),
            "s1": log_days,
            "s2": log_days**2,
            "n": 1.0,
        }
    )
    stats = frame.groupby("customer_id", sort=True).sum()
    customers = pd.Index(ledger.customers["customer_id"].astype(str), name="customer_id")
    return stats.reindex(customers.union(stats.index), fill_value=0.0)


class PayerSegmenter(BaseEstimator):
    """Segments customers into reliable, forgetful, struggling and chronic payers (plus new) by a mixture model.

    Parameters
    ----------
    window_days : int, default 365
        Settled invoices in this many days before ``as_of`` are the evidence.
    min_settled : int, default 5
        Fewer settled invoices in the window make a customer ``new``.
    max_iter : int, default 300
    tol : float, default 1e-7
        EM stops when the mean log-likelihood improves by less.

    Attributes
    ----------
    components_ : DataFrame
        Index: the four payer segments; columns ``weight``, ``p_late``, ``median_days_late`` (of a late invoice),
        ``log_sd``.
    n_iter_ : int
    """

    def __init__(self, window_days: int = 365, min_settled: int = 5, max_iter: int = 300, tol: float = 1e-7) -> None:
        self.window_days = window_days
        self.min_settled = min_settled
        self.max_iter = max_iter
        self.tol = tol

    def _loglik(self, S: pd.DataFrame, pi: np.ndarray, p: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
        n, k, s1, s2 = (S[c].to_numpy()[:, None] for c in ("n", "k", "s1", "s2"))
        return (
            np.log(pi)[None, :]
            + k * np.log(p)[None, :]
            + (n - k) * np.log1p(-p)[None, :]
            - k * np.log(sd)[None, :]
            - (s2 - 2 * mu[None, :] * s1 + k * mu[None, :] ** 2) / (2 * sd[None, :] ** 2)
        )

    def fit(self, ledger: Any, as_of: Any) -> PayerSegmenter:
        """Fit the mixture on the customers with at least ``min_settled`` settled invoices in the window."""
        if self.min_settled < 1 or self.window_days < 30:
            raise ParameterError("PayerSegmenter needs min_settled >= 1 and window_days >= 30.")
        S = _history(ledger, as_of, self.window_days)
        S = S.loc[S["n"] >= self.min_settled]
        if len(S) < 8:
            raise ParameterError(
                f"Only {len(S)} customers have {self.min_settled}+ settled invoices in the {self.window_days} days "
                "before as_of: too few to learn segments. Lower min_settled or choose a later as_of."
            )
        # start from the seed's picture: rarely late / late by days / by weeks / by a month and more
        pi, p = np.full(4, 0.25), np.array([0.1, 0.5, 0.6, 0.8])
        mu, sd = np.log([4.0, 5.0, 15.0, 30.0]), np.full(4, 0.7)
        k, s1, s2, n = (S[c].to_numpy()[:, None] for c in ("k", "s1", "s2", "n"))
        last = -np.inf
        self.n_iter_ = 0
        for _ in range(self.max_iter):
            self.n_iter_ += 1
            ll = self._loglik(S, pi, p, mu, sd)
            norm = logsumexp(ll, axis=1, keepdims=True)
            r = np.exp(ll - norm)
            pi = np.maximum(r.mean(axis=0), 1e-6)
            p = np.clip((r * k).sum(0) / np.maximum((r * n).sum(0), 1e-12), 1e-4, 1 - 1e-4)
            late = np.maximum((r * k).sum(0), 1e-9)
            mu = (r * s1).sum(0) / late
            var = (r * (s2 - 2 * mu[None, :] * s1 + k * mu[None, :] ** 2)).sum(0) / late
            sd = np.sqrt(np.maximum(var, 0.05))
            mean_ll = float(norm.mean())
            if mean_ll - last < self.tol:
                break
            last = mean_ll
        names = self._name(p, mu)
        self.components_ = pd.DataFrame(
            {"weight": pi, "p_late": p, "median_days_late": np.exp(mu), "log_sd": sd}, index=names
        ).loc[list(_PAYERS)]
        return self

    @staticmethod
    def _name(p: np.ndarray, mu: np.ndarray) -> list[str]:
        """Reliable: the lowest late rate; of the rest, chronic: the longest delays, forgetful: the shortest."""
        names = [""] * 4
        reliable = int(np.argmin(p))
        rest = sorted((c for c in range(4) if c != reliable), key=lambda c: mu[c])
        for c, name in zip([reliable, *rest], _PAYERS, strict=True):
            names[c] = name
        return names

    def predict(self, ledger: Any, as_of: Any) -> pd.DataFrame:
        """One row per customer: ``segment``, the posterior of each payer segment, and the evidence in words.

        Returns
        -------
        DataFrame
            Index ``customer_id``; ``segment``, ``p_reliable`` .. ``p_chronic`` (NaN for ``new``), ``n_settled``,
            ``n_late``, ``typical_days_late``, ``why``, ``treatment``.
        """
        if not hasattr(self, "components_"):
            raise NotFittedError("This PayerSegmenter is not fitted yet; call fit first.")
        S = _history(ledger, as_of, self.window_days)
        c = self.components_.to_numpy(dtype=np.float64)
        ll = self._loglik(S, c[:, 0], c[:, 1], np.log(c[:, 2]), c[:, 3])
        post = np.exp(ll - logsumexp(ll, axis=1, keepdims=True))
        new = S["n"].to_numpy() < self.min_settled
        seg = np.where(new, "new", np.asarray(_PAYERS)[post.argmax(axis=1)])
        out = pd.DataFrame(np.where(new[:, None], np.nan, post), index=S.index, columns=[f"p_{s}" for s in _PAYERS])
        typical = np.where(S["k"] > 0, np.exp(S["s1"] / np.maximum(S["k"], 1)), np.nan)
        out.insert(0, "segment", seg)
        out["n_settled"] = S["n"].astype(int).to_numpy()
        out["n_late"] = S["k"].astype(int).to_numpy()
        out["typical_days_late"] = np.round(typical, 1)
        out["why"] = self._why(out)
        out["treatment"] = out["segment"].map(TREATMENT)
        return out

    def fit_predict(self, ledger: Any, as_of: Any) -> pd.DataFrame:
        """``fit`` then ``predict`` on the same ledger and date."""
        return self.fit(ledger, as_of).predict(ledger, as_of)

    def _why(self, out: pd.DataFrame) -> pd.Series:
        n, k = out["n_settled"].astype(str), out["n_late"].astype(str)
        days = out["typical_days_late"].fillna(0).round().astype(int).astype(str)
        share = out[[f"p_{s}" for s in _PAYERS]].max(axis=1).fillna(0)
        evidence = "paid " + k + " of its last " + n + " settled invoices late"
        evidence = evidence.where(out["n_late"] == 0, evidence + ", typically " + days + " days late")
        text = evidence + " (" + (share * 100).round().astype(int).astype(str) + "% sure)"
        few = f"fewer than {self.min_settled} settled invoices in the last {self.window_days} days"
        return text.where(out["segment"] != "new", few)
