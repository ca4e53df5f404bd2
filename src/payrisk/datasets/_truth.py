"""Ground truth of a synthetic world: what really drives every customer, invoice and plan."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from payrisk._frame import isin
from payrisk.datasets._params import ARCHETYPES, WorldParams
from payrisk.errors import DataFileError

__all__ = ["Truth"]

_FRAMES = ("customers", "invoices", "plans", "installments", "effects")


@dataclass
class Truth:
    """The oracle of a synthetic ledger. Features and models never read it; tests and benchmarks do.

    Attributes
    ----------
    customers : DataFrame
        ``customer_id``, ``archetype`` (at the start), ``deteriorates``, ``deteriorated_on``,
        ``archetype_after``, ``customer_effect`` (hidden lateness effect), payment rhythm
        (``rhythm``, ``preferred_weekday`` 0=Monday, ``weekday_concentration``, ``payrun_day``),
        ``bad_email``, ``lost_on`` (stopped buying after strict dunning), invoicing rate and amount scale.
    invoices : DataFrame
        Per invoice: ``archetype`` at issue, ``p_late`` (true probability of being paid after the due date,
        never-paid included), ``p_never``, the days-late distribution of a late invoice (``late_log_mu``,
        ``late_log_sigma``: ``log X ~ Normal``; days late ``max(1, ceil(X))``), its potential outcomes under
        a delivered mild or strict first reminder (``log_mu_if_mild``, ``log_mu_if_strict``, and the realised
        ``days_late_if_mild`` / ``days_late_if_strict`` drawn with the same noise, 0 for invoices paid on
        time, NaN when never paid: their difference is the true per-invoice effect of strict vs mild), the logged
        treatment (``track_tone``, ``first_channel``, ``first_bounced``, ``first_aligned``), and the realised
        ``days_late`` before censoring (NaN when never paid).
    plans : DataFrame
        ``plan_id``, ``p_kept``, ``kept``, ``break_at`` (first missed instalment), ``burden``, ``archetype``.
    installments : DataFrame
        ``plan_id``, ``installment_no``, ``p_paid`` (true probability the instalment is paid given the ones
        before it were).
    effects : DataFrame
        The causal response table: log factor on days late per archetype and first-reminder tone.
    params : WorldParams
        Everything the world was generated from.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=30, seed=0)
    >>> truth = ledger.truth
    >>> len(truth.invoices) == len(ledger.invoices), bool(truth.invoices["p_late"].between(0, 1).all())
    (True, True)
    """

    customers: pd.DataFrame
    invoices: pd.DataFrame
    plans: pd.DataFrame
    installments: pd.DataFrame
    effects: pd.DataFrame
    params: WorldParams

    def archetype_at(self, date: Any) -> pd.Series:
        """Each customer's archetype at ``date`` (deteriorating customers switch on ``deteriorated_on``).

        Examples
        --------
        >>> import payrisk as pr
        >>> t = pr.datasets.make_ledger(n_customers=30, seed=0).truth
        >>> set(t.archetype_at("2024-01-01")) <= {"reliable", "forgetful", "struggling", "chronic"}
        True
        """
        day = pd.Timestamp(date)
        c = self.customers.set_index("customer_id")
        switched = c["deteriorated_on"].notna() & (c["deteriorated_on"] <= day)
        return c["archetype_after"].where(switched, c["archetype"]).rename("archetype")

    def survival(self, days_after_due: np.ndarray | list[int] | int) -> pd.DataFrame:
        """True P(still unpaid at the end of ``due_date + d``) per invoice, for each ``d``.

        Exact for ``d >= 0``: it follows the payment onto the customer's payment weekday or pay-run day and
        onto the next business day, as the generator does. For ``d < 0`` (before the due date) it is the latent
        distribution of the day an on-time invoice is paid, before it is moved back onto the rhythm.

        Parameters
        ----------
        days_after_due : int or array of int
            Days relative to the due date (negative = before it).

        Returns
        -------
        DataFrame
            Index ``invoice_id``, one column per ``d``.

        Examples
        --------
        >>> import payrisk as pr
        >>> t = pr.datasets.make_ledger(n_customers=20, seed=0).truth
        >>> s = t.survival([0, 30])
        >>> bool(((s[0] - t.invoices.set_index("invoice_id")["p_late"]).abs() < 1e-12).all())
        True
        """
        from payrisk.datasets._days import _prev_business, _prev_payrun, _prev_weekday

        d_in = np.atleast_1d(np.asarray(days_after_due))
        d = d_in.astype(np.int64)[None, :]
        inv = self.invoices
        cust = self.customers.set_index("customer_id").reindex(inv["customer_id"])
        col = lambda name: cust[name].to_numpy()[:, None]  # noqa: E731
        p = inv["p_late"].to_numpy()[:, None]
        r = (inv["p_never"] / inv["p_late"]).fillna(0).to_numpy()[:, None]
        mu = inv["late_log_mu"].to_numpy()[:, None]
        sigma = inv["late_log_sigma"].to_numpy()[:, None]
        due = (inv["due_date"].to_numpy().astype("datetime64[D]").astype(np.int64))[:, None]
        day = due + d
        g_none = _prev_business(day)
        rhythm = col("rhythm")
        g_snap = np.where(
            rhythm == "weekday",
            _prev_weekday(day, np.maximum(col("preferred_weekday"), 0)),
            np.where(rhythm == "payrun", _prev_payrun(g_none, np.maximum(col("payrun_day"), 1)), g_none),
        )
        kappa = col("weekday_concentration").astype(float)

        def tail(days_late: np.ndarray) -> np.ndarray:  # P(L > l) with L = max(1, ceil(X))
            with np.errstate(divide="ignore", invalid="ignore"):
                t = stats.norm.sf((np.log(np.maximum(days_late, 1e-12)) - mu) / sigma)
            return np.where(days_late >= 1, t, 1.0)

        paid_late_tail = kappa * tail(g_snap - due) + (1 - kappa) * tail(g_none - due)
        late_part = p * (r + (1 - r) * paid_late_tail)
        # before the due date: on-time payment on due - B, B = round(f * terms), f ~ Beta(a, b)
        a, b = self.params.early_beta
        terms = inv["terms"].to_numpy(dtype=float)[:, None]
        p_b_ge_k = stats.beta.sf(np.clip((-d - 0.5) / terms, 0, 1), a, b)
        early = p + (1 - p) * (1 - p_b_ge_k)
        out = np.where(d >= 0, late_part, early)
        return pd.DataFrame(out, index=inv["invoice_id"].to_numpy(), columns=list(d_in))

    def paid_within(self, invoice_ids: Any, as_of: Any, days: Any) -> pd.DataFrame:
        """True P(paid within ``d`` days after ``as_of`` | unpaid at its end) per invoice, for each ``d``.

        The cash forecast's question asked of the generator: the floor any forecast of these invoices can reach.
        Partial payments before settlement are not in it (they come earlier than the settlement).

        Examples
        --------
        >>> import payrisk as pr
        >>> ledger = pr.datasets.make_ledger(n_customers=20, seed=0)
        >>> ids = ledger.as_of("2024-06-30").open_invoices()["invoice_id"]
        >>> p = ledger.truth.paid_within(ids, "2024-06-30", [7, 91])
        >>> bool((p[7] <= p[91]).all() and p.to_numpy().max() <= 1)
        True
        """
        ids = pd.Index(np.asarray(invoice_ids, dtype=object))
        d = np.atleast_1d(np.asarray(days, dtype=np.int64))
        inv = self.invoices.loc[isin(self.invoices["invoice_id"], ids)]
        sub = Truth(self.customers, inv, self.plans, self.installments, self.effects, self.params)
        due = inv.set_index("invoice_id")["due_date"].reindex(ids)
        elapsed = (pd.Timestamp(as_of) - due).dt.days.to_numpy(dtype=np.int64)
        at = elapsed[:, None] + np.concatenate([[0], d])[None, :]
        grid = np.unique(at)
        surv = sub.survival(grid).reindex(ids).to_numpy()
        s = surv[np.arange(len(ids))[:, None], np.searchsorted(grid, at)]
        paid = 1 - s[:, 1:] / np.maximum(s[:, :1], 1e-12)
        return pd.DataFrame(np.clip(paid, 0.0, 1.0), index=ids, columns=list(d))

    def expected_days_late(self, tone: str) -> pd.Series:
        """True mean days late of each invoice, given late and eventually paid, under a delivered first reminder
        of ``tone`` ("mild" or "strict"), holding channel and timing as logged.
        """
        col = {"mild": "log_mu_if_mild", "strict": "log_mu_if_strict"}[tone]
        mu = self.invoices[col].to_numpy()
        s = self.invoices["late_log_sigma"].to_numpy()
        return pd.Series(np.exp(mu + s**2 / 2), index=self.invoices["invoice_id"].to_numpy(), name=tone)

    def tone_effect(self, invoice_ids: Any, horizon_days: int) -> pd.Series:
        """True effect of a delivered strict (vs mild) first reminder on each invoice's days late restricted to
        ``horizon_days`` (an invoice never paid, or paid later, counts as the horizon under either tone): the
        difference of its two potential outcomes, drawn with the same noise. Positive: strict makes it later.
        """
        inv = self.invoices.set_index("invoice_id").reindex(pd.Index(invoice_ids))

        def capped(col: str) -> np.ndarray:
            return np.minimum(inv[col].fillna(horizon_days).to_numpy(dtype=float), horizon_days)

        return pd.Series(capped("days_late_if_strict") - capped("days_late_if_mild"), index=inv.index, name="effect")

    def restrict(self, tables: dict[str, pd.DataFrame]) -> Truth:
        """The truth rows of the invoices and plans present in ``tables`` (customers are kept whole)."""
        inv = self.invoices.loc[isin(self.invoices["invoice_id"], tables["invoices"]["invoice_id"])]
        plans = self.plans.loc[isin(self.plans["plan_id"], tables["plans"]["plan_id"])]
        ins = self.installments.loc[isin(self.installments["plan_id"], plans["plan_id"])]
        return Truth(
            self.customers,
            inv.reset_index(drop=True),
            plans.reset_index(drop=True),
            ins.reset_index(drop=True),
            self.effects,
            self.params,
        )

    def write(self, path: str | Path) -> Path:
        """Write the truth to a folder (Parquet tables plus ``params.json``)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for name in _FRAMES:
            getattr(self, name).to_parquet(path / f"{name}.parquet", index=False)
        (path / "params.json").write_text(self.params.model_dump_json(indent=2), encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: str | Path) -> Truth:
        """Read a truth folder written by :meth:`write`."""
        path = Path(path)
        try:
            frames = {name: pd.read_parquet(path / f"{name}.parquet") for name in _FRAMES}
            params = WorldParams.model_validate(json.loads((path / "params.json").read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise DataFileError(f"{path}: not a truth folder written by Truth.write ({exc})") from exc
        return cls(**frames, params=params)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Truth):
            return NotImplemented
        same = self.params == other.params
        for name in _FRAMES:
            a, b = getattr(self, name), getattr(other, name)
            same = same and a.shape == b.shape and bool(a.equals(b))
        return same

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        counts = self.customers["archetype"].value_counts().reindex(list(ARCHETYPES), fill_value=0)
        arch = ", ".join(f"{k} {v}" for k, v in counts.items())
        return (
            f"<Truth: {len(self.customers)} customers ({arch}), {len(self.invoices)} invoices, {len(self.plans)} plans>"
        )
