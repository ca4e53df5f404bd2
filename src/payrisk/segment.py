"""Behaviour segments of debtors, learned from their own payment history and explainable per customer.

Four payer types of the seed, plus customers with too little history:

- ``reliable``: rarely late; gets flexibility and deferral;
- ``forgetful``: often late, but only by days (pays when reminded); gets a direct-debit campaign;
- ``struggling``: often late by weeks; wants to pay, cannot; gets a plan where the adherence model allows;
- ``chronic``: late by a month and more; strict track, fast escalation;
- ``new``: fewer than ``min_settled`` settled invoices in the window.

:class:`PayerSegmenter` fits a four-component mixture to each customer's settled invoices in the window before
``as_of`` (expectation-maximisation, vectorised over customers): in each component an invoice is late with
probability ``p_late``, a late invoice is ``exp(Normal(mu, sd))`` days late after a mild first reminder and
``strict_factor`` times that after a strict one (the response to the tone of earlier reminders), is paid in parts
with probability ``p_paid_in_parts``, and an invoice long past due is still unpaid with probability ``p_unpaid``.
Every customer gets the posterior
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

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.special import logsumexp
from sklearn.base import BaseEstimator

from payrisk._priority import BANDS, prioritise
from payrisk.errors import NotFittedError, ParameterError

if TYPE_CHECKING:
    from payrisk.ledger import Ledger

__all__ = ["BANDS", "SEGMENTS", "TREATMENT", "PayerSegmenter", "payment_history", "prioritise"]

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


def payment_history(ledger: Ledger, as_of: Any, window_days: int = 548, never_after_days: int = 120) -> pd.DataFrame:
    """Per customer, the payment-history sums :class:`PayerSegmenter` learns from, over the ``window_days``
    before ``as_of``.

    They are sums over invoices, so the sums of disjoint sets of customers (a ledger's partitions) are this
    table's rows: :func:`payrisk.distributed.fit_segmenter` computes them per partition, then
    :meth:`PayerSegmenter.fit_history` fits the mixture on them.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    window_days, never_after_days : int
        As in :class:`PayerSegmenter`.

    Returns
    -------
    DataFrame
        Index ``customer_id`` (sorted), one row per customer with an invoice; float columns: ``n`` invoices
        settled in the window, ``k`` of them late; of the late ones whose first reminder was mild (or none)
        and strict: counts ``km`` / ``ks``, sums of log days late ``s1m`` / ``s1s`` and of its square
        ``s2m`` / ``s2s``; ``kp`` late invoices paid in parts; ``nn`` invoices due ``never_after_days`` or more
        before ``as_of`` (inside the window) and ``nu`` of them still unpaid.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=50, seed=0)
    >>> stats = payment_history(ledger, "2024-06-30")
    >>> list(stats.columns)
    ['n', 'k', 'km', 's1m', 's2m', 'ks', 's1s', 's2s', 'kp', 'nn', 'nu']
    >>> bool((stats["k"] <= stats["n"]).all() and stats.index.is_monotonic_increasing)
    True
    """
    from payrisk.ledger import to_date

    day = to_date(as_of, "as_of")
    snap = ledger.as_of(day)
    inv = snap.invoices
    con = snap.contacts
    start = day - pd.Timedelta(days=window_days)
    # integer codes and bincounts over the snapshot's cached codes: no hashing or groupby on text ids
    index, codes = snap.customer_codes()
    present = np.zeros(len(index) + 1, bool)  # the extra last slot absorbs a missing id (-1)
    present[codes["customers"]] = present[codes["invoices"]] = True
    known = np.flatnonzero(present[:-1])
    order = np.argsort(index[known].to_numpy(dtype=object))
    customers = pd.Index(index[known[order]], name="customer_id", dtype="str")
    rank = np.full(len(index), -1, dtype=np.int64)
    rank[known[order]] = np.arange(len(known))
    cust = rank[codes["invoices"]]
    strict = np.zeros(len(inv) + 1, bool)
    first_strict = ((con["step"] == 1) & (con["tone"] == "strict")).to_numpy(dtype=bool, na_value=False)
    strict[snap.invoice_positions("contacts")[first_strict]] = True
    strict = strict[:-1]
    settled_recent = (inv["paid_date"].notna() & (inv["paid_date"] > start)).to_numpy()
    days_late = (inv["paid_date"] - inv["due_date"]).dt.days.to_numpy(dtype=np.float64, na_value=np.nan)
    late = settled_recent & (days_late > 0)
    log_days = np.where(late, np.log(np.maximum(np.nan_to_num(days_late), 1)), 0.0)
    n_pay = np.bincount(snap.invoice_positions("payments") + 1, minlength=len(inv) + 1)[1:]
    parts = np.asarray(n_pay) > 1
    mild_late, strict_late = late & ~strict, late & strict
    due = inv["due_date"].to_numpy()
    old = (due <= np.datetime64(day - pd.Timedelta(days=never_after_days))) & (due > np.datetime64(start))
    columns = {
        "n": settled_recent,
        "k": late,
        "km": mild_late,
        "s1m": np.where(mild_late, log_days, 0.0),
        "s2m": np.where(mild_late, log_days**2, 0.0),
        "ks": strict_late,
        "s1s": np.where(strict_late, log_days, 0.0),
        "s2s": np.where(strict_late, log_days**2, 0.0),
        "kp": late & parts,
        "nn": old,
        "nu": old & inv["paid_date"].isna().to_numpy(),
    }
    stats = {
        k: np.bincount(cust, weights=np.asarray(v, dtype=np.float64), minlength=len(customers))
        for k, v in columns.items()
    }
    return pd.DataFrame(stats, index=customers)


class PayerSegmenter(BaseEstimator):
    """Segments customers into reliable, forgetful, struggling and chronic payers (plus new) by a mixture model.

    Parameters
    ----------
    window_days : int, default 548
        Settled invoices in this many days before ``as_of`` are the evidence.
    min_settled : int, default 5
        Fewer settled invoices in the window make a customer ``new``.
    never_after_days : int, default 120
        Invoices due at least this many days before ``as_of`` and still unpaid count as "not paid at all".
    n_init : int, default 16
        EM starts: the seed's picture, one from each customer's own evidence (late share, typical delay,
        unpaid invoices), then alternately the seed's picture jittered and random responsibilities; the best
        likelihood wins (the likelihood has separate basins: one start is not enough).
    max_iter : int, default 300
    tol : float, default 1e-7
        EM stops when the mean log-likelihood improves by less.
    random_state : int, default 0

    Attributes
    ----------
    components_ : DataFrame
        Index: the four payer segments; columns ``weight``, ``p_late``, ``median_days_late`` (of a late invoice
        after a mild first reminder), ``log_sd``, ``strict_factor`` (days late after a strict first reminder,
        relative), ``p_paid_in_parts`` (of a late invoice), ``p_unpaid`` (still unpaid ``never_after_days`` after
        its due date).
    n_iter_ : int
    log_likelihood_ : float
        Mean per customer, of the best start.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=150, seed=0)
    >>> seg = PayerSegmenter().fit(ledger, "2024-06-30")
    >>> list(seg.components_.index)
    ['reliable', 'forgetful', 'struggling', 'chronic']
    >>> out = seg.predict(ledger, "2024-06-30")
    >>> set(out["segment"]) <= set(SEGMENTS), bool(out["why"].str.len().gt(0).all())
    (True, True)
    """

    def __init__(
        self,
        window_days: int = 548,
        min_settled: int = 5,
        never_after_days: int = 120,
        n_init: int = 16,
        max_iter: int = 300,
        tol: float = 1e-7,
        random_state: int = 0,
    ) -> None:
        self.window_days = window_days
        self.min_settled = min_settled
        self.never_after_days = never_after_days
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    @staticmethod
    def _gauss(k: np.ndarray, s1: np.ndarray, s2: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
        return -k * np.log(sd) - (s2 - 2 * mu * s1 + k * mu**2) / (2 * sd**2)

    def _loglik(self, g: dict[str, np.ndarray], theta: dict[str, np.ndarray]) -> np.ndarray:
        t = theta
        return (
            np.log(t["weight"])
            + g["k"] * np.log(t["p_late"])
            + (g["n"] - g["k"]) * np.log1p(-t["p_late"])
            + self._gauss(g["km"], g["s1m"], g["s2m"], t["mu"], t["sd"])
            + self._gauss(g["ks"], g["s1s"], g["s2s"], t["mu"] + t["strict_shift"], t["sd"])
            + g["kp"] * np.log(t["p_parts"])
            + (g["k"] - g["kp"]) * np.log1p(-t["p_parts"])
            + g["nu"] * np.log(t["p_unpaid"])
            + (g["nn"] - g["nu"]) * np.log1p(-t["p_unpaid"])
        )

    @staticmethod
    def _m_step(g: dict[str, np.ndarray], r: np.ndarray) -> dict[str, np.ndarray]:
        """The parameters that maximise the expected log-likelihood under responsibilities ``r``."""

        def share(num: np.ndarray, den: np.ndarray) -> np.ndarray:
            return np.clip(num.sum(0) / np.maximum(den.sum(0), 1e-12), 1e-4, 1 - 1e-4)

        km, ks = (r * g["km"]).sum(0), (r * g["ks"]).sum(0)
        mu = (r * g["s1m"]).sum(0) / np.maximum(km, 1e-9)
        mu_s = np.where(ks > 1e-9, (r * g["s1s"]).sum(0) / np.maximum(ks, 1e-9), mu)
        ss = (r * (g["s2m"] - 2 * mu * g["s1m"] + g["km"] * mu**2)).sum(0)
        ss = ss + (r * (g["s2s"] - 2 * mu_s * g["s1s"] + g["ks"] * mu_s**2)).sum(0)
        return {
            "weight": np.maximum(r.mean(axis=0), 1e-6),
            "p_late": share(r * g["k"], r * g["n"]),
            "mu": mu,
            "strict_shift": mu_s - mu,
            "sd": np.sqrt(np.maximum(ss / np.maximum(km + ks, 1e-9), 0.05)),
            "p_parts": share(r * g["kp"], r * g["k"]),
            "p_unpaid": share(r * g["nu"], r * g["nn"]),
        }

    def _em(self, g: dict[str, np.ndarray], theta: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], float, int]:
        """Expectation-maximisation from ``theta``; returns the fit, its mean log-likelihood and the iterations."""
        last, it = -np.inf, 0
        for it in range(1, self.max_iter + 1):  # noqa: B007 - the count is returned
            ll = self._loglik(g, theta)
            norm = logsumexp(ll, axis=1, keepdims=True)
            theta = self._m_step(g, np.exp(ll - norm))
            mean_ll = float(norm.mean())
            if mean_ll - last < self.tol:
                break
            last = mean_ll
        return theta, last, it

    def fit(self, ledger: Ledger, as_of: Any) -> PayerSegmenter:
        """Fit the mixture on the customers with at least ``min_settled`` settled invoices in the window."""
        self.validate_params()
        return self.fit_history(payment_history(ledger, as_of, self.window_days, self.never_after_days))

    def validate_params(self) -> None:
        """Check the parameters, as ``fit`` does before reading the ledger.

        Raises
        ------
        payrisk.errors.ParameterError
            When ``min_settled < 1``, ``window_days < 30`` or ``n_init < 1``.

        Examples
        --------
        >>> PayerSegmenter().validate_params()
        >>> PayerSegmenter(window_days=7).validate_params()
        Traceback (most recent call last):
        ...
        payrisk.errors.ParameterError: PayerSegmenter needs min_settled >= 1, window_days >= 30 and n_init >= 1.
        """
        if self.min_settled < 1 or self.window_days < 30 or self.n_init < 1:
            raise ParameterError("PayerSegmenter needs min_settled >= 1, window_days >= 30 and n_init >= 1.")

    def fit_history(self, stats: pd.DataFrame) -> PayerSegmenter:
        """Fit the mixture on per-customer payment-history sums (:func:`payment_history`, sorted by customer id),
        on the customers with at least ``min_settled`` settled invoices; returns ``self``.

        ``fit(ledger, as_of)`` is ``fit_history(payment_history(ledger, as_of, window_days, never_after_days))``
        after :meth:`validate_params`; the sums may come from elsewhere (a Dask ledger's partitions).

        Examples
        --------
        >>> import payrisk as pr
        >>> ledger = pr.datasets.make_ledger(n_customers=150, seed=0)
        >>> seg = PayerSegmenter()
        >>> seg.fit_history(payment_history(ledger, "2024-06-30", seg.window_days, seg.never_after_days))
        PayerSegmenter()
        >>> list(seg.components_.index)
        ['reliable', 'forgetful', 'struggling', 'chronic']
        """
        S = stats.loc[stats["n"] >= self.min_settled]
        if len(S) < 8:
            raise ParameterError(
                f"Only {len(S)} customers have {self.min_settled}+ settled invoices in the {self.window_days} days "
                "before as_of: too few to learn segments. Lower min_settled or choose a later as_of."
            )
        g = {c: S[c].to_numpy()[:, None] for c in S.columns}
        rng = np.random.default_rng(self.random_state)
        best: tuple[float, dict[str, np.ndarray], int] = (-np.inf, {}, 0)
        for start in range(self.n_init):
            if start == 0 or (start % 2 == 0 and start > 1):
                # the seed's picture (rarely late / late by days / by weeks / by a month and more), then jittered
                jitter = 0.0 if start == 0 else 1.0
                theta = {
                    "weight": np.full(4, 0.25),
                    "p_late": np.clip([0.1, 0.5, 0.6, 0.8] + jitter * rng.uniform(-0.1, 0.1, 4), 0.02, 0.98),
                    "mu": np.log([4.0, 5.0, 15.0, 30.0]) + jitter * rng.uniform(-0.4, 0.4, 4),
                    "strict_shift": np.zeros(4),
                    "sd": np.full(4, 0.7),
                    "p_parts": np.full(4, 0.1),
                    "p_unpaid": np.array([0.001, 0.005, 0.03, 0.1]) * np.exp(jitter * rng.uniform(-1, 1, 4)),
                }
            elif start == 1:  # each customer's own evidence: late share, then typical delay and unpaid invoices
                share = (S["k"] / S["n"]).to_numpy()
                typical = np.exp((S["s1m"] + S["s1s"]) / np.maximum(S["k"], 1)).to_numpy()
                chronic = (S["nu"].to_numpy() > 0) | (typical > 25)
                hard = np.where(share < 0.3, 0, np.where(chronic, 3, np.where(typical < 10, 1, 2)))
                theta = self._m_step(g, np.eye(4)[hard] * 0.9 + 0.025)
            else:  # random responsibilities, as scikit-learn's mixtures do with init_params="random"
                theta = self._m_step(g, rng.dirichlet(np.ones(4), size=len(S)))
            fitted, ll, it = self._em(g, theta)
            if ll > best[0]:
                best = (ll, fitted, it)
        self.log_likelihood_, theta, self.n_iter_ = best
        names = self._name(theta["p_late"], theta["mu"])
        comp = pd.DataFrame(
            {
                "weight": theta["weight"],
                "p_late": theta["p_late"],
                "median_days_late": np.exp(theta["mu"]),
                "log_sd": theta["sd"],
                "strict_factor": np.exp(theta["strict_shift"]),
                "p_paid_in_parts": theta["p_parts"],
                "p_unpaid": theta["p_unpaid"],
            },
            index=names,
        )
        self.components_ = comp.loc[list(_PAYERS)]
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

    def predict(self, ledger: Ledger, as_of: Any) -> pd.DataFrame:
        """One row per customer: ``segment``, the posterior of each payer segment, and the evidence in words.

        Returns
        -------
        DataFrame
            Index ``customer_id``; ``segment``, ``p_reliable`` .. ``p_chronic`` (NaN for ``new``), ``n_settled``,
            ``n_late``, ``typical_days_late``, ``why``, ``treatment``.
        """
        if not hasattr(self, "components_"):
            raise NotFittedError("This PayerSegmenter is not fitted yet; call fit first.")
        S = payment_history(ledger, as_of, self.window_days, self.never_after_days)
        c = self.components_
        theta = {
            "weight": c["weight"].to_numpy(),
            "p_late": c["p_late"].to_numpy(),
            "mu": np.log(c["median_days_late"].to_numpy()),
            "strict_shift": np.log(c["strict_factor"].to_numpy()),
            "sd": c["log_sd"].to_numpy(),
            "p_parts": c["p_paid_in_parts"].to_numpy(),
            "p_unpaid": c["p_unpaid"].to_numpy(),
        }
        ll = self._loglik({col: S[col].to_numpy()[:, None] for col in S.columns}, theta)
        post = np.exp(ll - logsumexp(ll, axis=1, keepdims=True))
        new = S["n"].to_numpy() < self.min_settled
        seg = np.where(new, "new", np.asarray(_PAYERS)[post.argmax(axis=1)])
        out = pd.DataFrame(np.where(new[:, None], np.nan, post), index=S.index, columns=[f"p_{s}" for s in _PAYERS])
        typical = np.where(S["k"] > 0, np.exp((S["s1m"] + S["s1s"]) / np.maximum(S["k"], 1)), np.nan)
        out.insert(0, "segment", seg)
        out["n_settled"] = S["n"].astype(int).to_numpy()
        out["n_late"] = S["k"].astype(int).to_numpy()
        out["typical_days_late"] = np.round(typical, 1)
        out["why"] = self._why(out)
        out["treatment"] = out["segment"].map(TREATMENT)
        return out

    def fit_predict(self, ledger: Ledger, as_of: Any) -> pd.DataFrame:
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
