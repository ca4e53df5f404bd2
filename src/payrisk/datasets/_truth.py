"""Ground truth of a synthetic world: what really drives every customer, invoice and plan."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from payrisk._compat import renamed
from payrisk._frame import isin
from payrisk.datasets._params import ARCHETYPES, WorldParams
from payrisk.errors import DataFileError
from payrisk.ledger import register_truth_reader

__all__ = ["Truth"]

_FRAMES = ("customers", "invoices", "plans", "installments", "effects", "actions")


@dataclass
class Truth:
    """The oracle of a synthetic ledger. Features and models never read it; tests and benchmarks do.

    Attributes
    ----------
    customers : DataFrame
        ``customer_id``, ``archetype`` (at the start), ``deteriorates``, ``deteriorated_on``,
        ``archetype_after``, ``customer_effect`` (hidden lateness effect), payment rhythm
        (``rhythm``, ``preferred_weekday`` 0=Monday, ``weekday_concentration``, ``payrun_day``),
        ``bad_email``, ``lost_on`` (stopped buying after strict dunning), invoicing rate and amount scale; what
        acceptance could know: ``credit_need`` (a month's invoicing at the usual terms, what the requested limit
        is drawn around), ``first_score`` (the bureau's score before acceptance, NaN when not rated) and
        ``p_<archetype>_given_profile`` (:meth:`archetype_given_profile`).
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
    actions : DataFrame
        The logged collector actions (calls, SMS, letters; ``contacts`` rows with a ``collector_`` template):
        ``contact_id``, ``invoice_id``, ``p_answer`` (true chance it was answered with a payment),
        ``answered``, ``brought_forward`` (the answer moved the payment earlier) and ``earlier_actions``.
        ``invoices.paid_without_action`` is the day each invoice would have been paid without any collector
        action (NaT: never); :meth:`action_value` prices any action on any day.

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
    actions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["contact_id", "invoice_id"]))

    @renamed(date="as_of")
    def archetype_at(self, as_of: Any) -> pd.Series:
        """Each customer's archetype at ``as_of`` (deteriorating customers switch on ``deteriorated_on``).

        Examples
        --------
        >>> import payrisk as pr
        >>> t = pr.datasets.make_ledger(n_customers=30, seed=0).truth
        >>> set(t.archetype_at("2024-01-01")) <= {"reliable", "forgetful", "struggling", "chronic"}
        True
        """
        day = pd.Timestamp(as_of)
        c = self.customers.set_index("customer_id")
        switched = c["deteriorated_on"].notna() & (c["deteriorated_on"] <= day)
        return c["archetype_after"].where(switched, c["archetype"]).rename("archetype")

    def archetype_given_profile(self) -> pd.DataFrame:
        """P(archetype | what was known at acceptance) per customer: its legal form, size band, acquisition
        channel, age, and the bureau's first score where it had one (exact: the world draws them independently
        given the archetype). The oracle of an acceptance model that reads the same attributes.

        Examples
        --------
        >>> import payrisk as pr
        >>> p = pr.datasets.make_ledger(n_customers=50, seed=0).truth.archetype_given_profile()
        >>> list(p.columns), bool(np.allclose(p.sum(axis=1), 1.0))
        (['reliable', 'forgetful', 'struggling', 'chronic'], True)
        """
        cols = [f"p_{a}_given_profile" for a in ARCHETYPES]
        c = self.customers.set_index("customer_id")
        if not set(cols) <= set(c.columns):  # a world saved before profiles existed
            raise DataFileError("this synthetic world was written before customer profiles existed; generate it again")
        return c[cols].set_axis(list(ARCHETYPES), axis=1)

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
        d_in = np.atleast_1d(np.asarray(days_after_due))
        d = np.broadcast_to(d_in.astype(np.int64)[None, :], (len(self.invoices), len(d_in)))
        out = self._survival_rows(self.invoices, d)
        return pd.DataFrame(out, index=self.invoices["invoice_id"].to_numpy(), columns=list(d_in))

    def _survival_rows(self, inv: pd.DataFrame, d: np.ndarray) -> np.ndarray:
        """P(unpaid at the end of ``due_date + d``) without collector actions, ``d`` of shape (rows, k)."""
        from payrisk._calendar import prev_business as _prev_business
        from payrisk._calendar import prev_payrun as _prev_payrun
        from payrisk._calendar import prev_weekday as _prev_weekday

        cust = self._customer_rows.reindex(inv["customer_id"])
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
        if "direct_debit" in inv.columns:  # collected on its day unless the collection fails (then late)
            from payrisk._calendar import direct_debit_day

            collected = direct_debit_day(due - terms.astype(np.int64), due)
            early = np.where(
                inv["direct_debit"].to_numpy(dtype=bool)[:, None], np.where(day < collected, 1.0, p), early
            )
        return np.where(d >= 0, late_part, early)

    @cached_property
    def _invoice_rows(self) -> pd.DataFrame:
        return self.invoices.set_index("invoice_id")

    @cached_property
    def _customer_rows(self) -> pd.DataFrame:
        return self.customers.set_index("customer_id")

    def _rows_on(
        self, invoice_ids: Any, day: Any
    ) -> tuple[pd.Index, pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
        """(ids, their truth rows, their customers' rows, the day and the due date as day numbers) of an action."""
        ids = pd.Index(np.asarray(invoice_ids, dtype=object))
        inv = self._invoice_rows.reindex(ids)
        cust = self._customer_rows.reindex(inv["customer_id"])
        epoch = np.datetime64("1970-01-01", "D")
        d = (np.broadcast_to(np.asarray(pd.to_datetime(day), dtype="datetime64[D]"), (len(ids),)) - epoch).astype(
            np.int64
        )
        due = (inv["due_date"].to_numpy().astype("datetime64[D]") - epoch).astype(np.int64)
        return ids, inv, cust, d, due

    def cure_factor(self, archetype: np.ndarray) -> np.ndarray:
        """How much an answered collector action raises the chance that a never-payer pays at all, per archetype.

        Examples
        --------
        >>> import payrisk as pr
        >>> truth = pr.datasets.make_ledger(n_customers=30, seed=0).truth
        >>> bool((truth.cure_factor(np.array(["chronic", "reliable"])) >= 0).all())
        True
        """
        from payrisk.datasets import _collector as col

        return col.cure_factor(self.params.collector, archetype)

    def automatic_contacts_7d(self, days_overdue: np.ndarray, amount: np.ndarray) -> np.ndarray:
        """The world's own automatic reminders in the 7 days up to an invoice's ``days_overdue`` (contact fatigue).

        Examples
        --------
        >>> import payrisk as pr
        >>> truth = pr.datasets.make_ledger(n_customers=30, seed=0).truth
        >>> truth.automatic_contacts_7d(np.array([0, 15]), np.array([100.0, 100.0])).shape
        (2,)
        """
        from payrisk.datasets import _collector as col

        return col.auto_contacts_7d(self.params, days_overdue, amount)

    def response_days(self, channel: np.ndarray) -> np.ndarray:
        """Days from a collector action on ``channel`` to the payment it brings, when it is answered.

        Examples
        --------
        >>> import payrisk as pr
        >>> truth = pr.datasets.make_ledger(n_customers=30, seed=0).truth
        >>> bool((truth.response_days(np.array(["phone", "letter"])) >= 1).all())
        True
        """
        from payrisk.datasets import _collector as col

        return col.response_days(self.params.collector, channel)

    @renamed(day="as_of")
    def answer_probability(
        self, invoice_ids: Any, as_of: Any, channel: Any, tone: Any, earlier: Any = 0, recent: Any = 0
    ) -> pd.Series:
        """True chance that a collector action on ``as_of`` is answered with a payment, per invoice.

        Parameters
        ----------
        invoice_ids : array-like
        as_of : date-like or array of dates
            The day of the action.
        channel, tone : str or array of str
            ``phone``, ``sms`` or ``letter``; ``mild``, ``firm`` or ``strict``.
        earlier : int or array, default 0
            Collector actions already taken on the invoice (each repeat answers less).
        recent : int or array, default 0
            Collector contacts of the customer in the 7 days up to ``as_of`` (the automatic reminders of the
            world's track are counted on top).

        Returns
        -------
        Series
            Index ``invoice_id``: the probability (an invoice that would never have been paid is paid with this
            times its archetype's ``collector.cure`` factor).

        Examples
        --------
        >>> import payrisk as pr
        >>> t = pr.datasets.make_ledger(n_customers=50, seed=0).truth
        >>> ids = t.invoices["invoice_id"].iloc[:3]
        >>> p = t.answer_probability(ids, "2024-03-04", "phone", "mild")
        >>> bool(((p >= 0) & (p <= 1)).all())
        True
        """
        rows = self._rows_on(invoice_ids, as_of)
        u = self._answer(rows, channel, tone, earlier, recent)
        return pd.Series(u, index=rows[0], name="p_answer")

    def _answer(self, rows: tuple, channel: Any, tone: Any, earlier: Any, recent: Any) -> np.ndarray:
        from payrisk.datasets import _collector as col

        _, inv, cust, d, due = rows
        n = len(inv)
        cp = self.params.collector
        overdue = d - due
        recent_all = col.auto_contacts_7d(self.params, overdue, inv["amount"].to_numpy(dtype=float)) + np.asarray(
            recent
        )
        rhythm = cust["rhythm"].to_numpy(dtype=object)
        is_timed = col.timed(rhythm, cust["preferred_weekday"].to_numpy(), cust["payrun_day"].to_numpy(), d,
                             cp.payrun_window)  # fmt: skip
        u = col.response_probability(
            cp,
            inv["archetype"].to_numpy(dtype=object),
            np.broadcast_to(np.asarray(channel, dtype=object), (n,)),
            np.broadcast_to(np.asarray(tone, dtype=object), (n,)),
            overdue,
            np.broadcast_to(np.asarray(earlier), (n,)),
            recent_all,
            is_timed,
            col.closed(cust["country"].to_numpy(dtype=object), d),
        )
        return u

    @renamed(day="as_of")
    def action_value(
        self,
        invoice_ids: Any,
        as_of: Any,
        channel: Any,
        tone: Any,
        *,
        horizon_days: int = 30,
        earlier: Any = 0,
        recent: Any = 0,
    ) -> pd.Series:
        """True expected extra cash within ``horizon_days`` of a collector action on ``as_of``, per invoice still
        unpaid at the end of that day (as an action is taken only on an open invoice, and the replay acts).

        An answered action brings the payment ``collector.response_days[channel]`` days after ``as_of``; it adds
        cash within the horizon when the invoice would otherwise have been paid after the horizon or never (then
        times the cure factor). So the value is ``amount * p_answer * (cure * P(never | open) + P(paid after
        the horizon | open))``, with the probabilities of the world's own payment-time distribution without
        collector actions (:meth:`survival`). Sum it per customer for an account-level action.

        Parameters
        ----------
        invoice_ids, as_of, channel, tone, earlier, recent
            As in :meth:`answer_probability`.
        horizon_days : int, default 30

        Returns
        -------
        Series
            Index ``invoice_id``: expected extra cash in the invoice currency (0 for an invoice not yet due).

        Examples
        --------
        >>> import payrisk as pr
        >>> led = pr.datasets.make_ledger(n_customers=300, seed=0)
        >>> ids = led.as_of("2024-06-28").open_invoices()["invoice_id"]
        >>> v = led.truth.action_value(ids, "2024-07-01", "phone", "mild")
        >>> bool((v >= 0).all()), bool(v.sum() > 0)
        (True, True)
        """
        from payrisk._calendar import next_business as _next_business
        from payrisk.datasets import _collector as col

        rows = self._rows_on(invoice_ids, as_of)
        ids, inv, _, d, due = rows
        u = self._answer(rows, channel, tone, earlier, recent)
        n = len(ids)
        offsets = np.stack([d - due, d + horizon_days - due], axis=1)  # open through the day it is acted on
        s = self._survival_rows(inv.reset_index(), offsets)
        s0 = np.maximum(s[:, 0], 1e-12)
        never = inv["p_never"].to_numpy(dtype=float)
        p_never = np.minimum(never / s0, 1.0)
        p_after = np.clip((s[:, 1] - never) / s0, 0.0, 1.0)
        cp = self.params.collector
        chan = np.broadcast_to(np.asarray(channel, dtype=object), (n,))
        answer_day = _next_business(d + col.response_days(cp, chan))  # as the generator and the replay pay
        in_time = answer_day - d <= horizon_days
        cure = col.cure_factor(cp, inv["archetype"].to_numpy(dtype=object))
        value = inv["amount"].to_numpy(dtype=float) * u * (cure * p_never + p_after) * in_time
        value = np.where(d > due, value, 0.0)
        return pd.Series(value, index=ids, name="extra_cash")

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
        sub = Truth(self.customers, inv, self.plans, self.installments, self.effects, self.params, self.actions)
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
        actions = self.actions.loc[isin(self.actions["invoice_id"], inv["invoice_id"])]
        return Truth(
            self.customers,
            inv.reset_index(drop=True),
            plans.reset_index(drop=True),
            ins.reset_index(drop=True),
            self.effects,
            self.params,
            actions.reset_index(drop=True),
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
            frames = {name: pd.read_parquet(path / f"{name}.parquet") for name in _FRAMES if name != "actions"}
            if (path / "actions.parquet").exists():
                frames["actions"] = pd.read_parquet(path / "actions.parquet")
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


register_truth_reader(Truth.read)
