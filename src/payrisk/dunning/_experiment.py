"""Champion/challenger: stable hash-based assignment of customers to policy arms, and the arms' outcomes compared.

:func:`assign_arms` puts every customer in an arm from a keyed hash of its id, so the same customer lands in the
same arm in every run, process and machine, whatever other customers are assigned with it. :class:`Experiment`
plans each arm's actions with its own policy, and :func:`evaluate_policies` compares the arms on what the ledger
shows afterwards, with cluster-bootstrap confidence intervals.

Examples
--------
>>> arms = assign_arms(["C1", "C2", "C3"], {"champion": 0.9, "challenger": 0.1}, "tone-2024q3")
>>> arms.equals(assign_arms(["C3", "C2", "C1"], {"champion": 0.9, "challenger": 0.1}, "tone-2024q3")[arms.index])
True
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from payrisk._compat import ledger_first
from payrisk._frame import isin, positions
from payrisk.dunning._policy import Policy
from payrisk.errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    from payrisk.ledger import Ledger

__all__ = ["Experiment", "assign_arms", "evaluate_policies"]

_DAY = np.timedelta64(1, "D")
#: bootstrap draws times customers held in memory at once (float64: 32 MiB)
_BLOCK_CELLS = 1 << 22


# -- assignment ----------------------------------------------------------------------------------------------
def _check_experiment(experiment: Any) -> str:
    if not isinstance(experiment, str) or not experiment.strip():
        raise ParameterError(
            f"The 'experiment' parameter must be a non-empty name such as 'tone-2024q3'; it keys the hash that "
            f"assigns the arms. Got {experiment!r}."
        )
    return experiment


def _check_shares(shares: Any) -> tuple[list[str], np.ndarray]:
    """Arm names in the order given and their cumulative shares (the last exactly 1.0)."""
    if not isinstance(shares, Mapping) or len(shares) == 0:
        raise ParameterError(
            "The 'shares' parameter must be a non-empty mapping {arm: share} such as "
            f"{{'champion': 0.9, 'challenger': 0.1}}. Got {shares!r}."
        )
    names = list(shares)
    bad_names = [n for n in names if not isinstance(n, str) or not n]
    if bad_names:
        raise ParameterError(f"The 'shares' parameter must name its arms with non-empty strings. Got {bad_names!r}.")
    values = []
    for name in names:
        v = shares[name]
        ok = isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
        if not ok or not math.isfinite(float(v)) or float(v) <= 0:
            raise ParameterError(
                f"The 'shares' parameter must give every arm a share above 0 (drop an arm to give it none). "
                f"Got {name!r}: {v!r}."
            )
        values.append(float(v))
    total = math.fsum(values)
    if abs(total - 1.0) > 1e-9:
        raise ParameterError(
            f"The 'shares' parameter must sum to 1 (within 1e-9). Got {dict(zip(names, values, strict=True))}, "
            f"summing to {total!r}; divide each share by the total."
        )
    cum = np.cumsum(values)
    cum[-1] = 1.0
    return names, cum


def _ids(customer_ids: Any) -> pd.Index:
    """The ids as a text Index named ``customer_id``; missing ids are refused."""
    if isinstance(customer_ids, str | bytes) or not isinstance(customer_ids, Iterable):
        raise ParameterError(
            f"The 'customer_ids' parameter must be a list-like of customer ids. Got {type(customer_ids).__name__}."
        )
    values = customer_ids.to_numpy() if isinstance(customer_ids, pd.Series | pd.Index) else customer_ids
    arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=object).ravel()
    missing = pd.isna(arr)
    if missing.any():
        raise ParameterError(
            f"The 'customer_ids' parameter holds {int(missing.sum())} missing id(s) (at positions "
            f"{np.flatnonzero(missing)[:5].tolist()}); drop them before assigning arms."
        )
    return pd.Index(arr, dtype="str", name="customer_id")


def _uniform(ids: pd.Index, experiment: str) -> np.ndarray:
    """A uniform number in [0, 1) per id: SipHash-2-4 of its UTF-8 text keyed by the experiment name."""
    key = hashlib.blake2b(experiment.encode("utf-8"), digest_size=8).hexdigest()
    h = pd.util.hash_array(np.asarray(ids, dtype=object), hash_key=key)
    return (h >> np.uint64(11)).astype(np.float64) * 2.0**-53


def assign_arms(customer_ids: Any, shares: Mapping[str, float], experiment: str) -> pd.Series:
    """The arm of each customer: deterministic, from a hash of its id keyed by the experiment's name.

    Each id (as text) is hashed with SipHash-2-4 (:func:`pandas.util.hash_array`) under a key derived from
    ``experiment``, and the hash is read as a uniform number in [0, 1). The arms cover [0, 1) in the order of
    ``shares``, each a stretch as long as its share. So:

    * the same id gets the same arm in every call, process and machine, whatever other ids come with it and in
      whatever order (Python's own ``hash`` is not involved);
    * another experiment name reshuffles the customers independently;
    * growing the *last* arm's share (shrinking the ones before it) only moves customers into the last arm,
      never out of it: put the challenger last to ramp it up without disturbing its customers.

    Parameters
    ----------
    customer_ids : list-like
        Customer ids; compared as text (``1`` and ``"1"`` are the same customer). Duplicates are kept.
    shares : mapping of str to float
        ``{arm: share}``, each share above 0, summing to 1; the order lays out the arms.
    experiment : str
        The experiment's name; it keys the hash.

    Returns
    -------
    Series
        The arm (str) of each id, indexed by ``customer_id`` in the order given, named ``arm``.

    Raises
    ------
    ParameterError
        Empty or invalid shares, an empty experiment name, or missing ids.

    Examples
    --------
    >>> ids = [f"C{i:05d}" for i in range(20_000)]
    >>> arms = assign_arms(ids, {"champion": 0.9, "challenger": 0.1}, "tone-2024q3")
    >>> round(float((arms == "challenger").mean()), 2)
    0.1
    >>> wider = assign_arms(ids, {"champion": 0.8, "challenger": 0.2}, "tone-2024q3")
    >>> bool((wider[arms == "challenger"] == "challenger").all())  # a challenger customer stays one
    True
    """
    name = _check_experiment(experiment)
    arms, cum = _check_shares(shares)
    ids = _ids(customer_ids)
    at = np.searchsorted(cum, _uniform(ids, name), side="right")
    return pd.Series(np.asarray(arms, dtype=object)[at], index=ids, name="arm", dtype="str")


# -- planning --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Experiment:
    """A champion/challenger experiment: named policy arms and the share of customers each one gets.

    Customers are assigned with :func:`assign_arms` under the experiment's ``name``, in the order of ``shares``
    (put the challenger last: raising its share then only adds customers to it).

    Parameters
    ----------
    name : str
        The experiment's name; it keys the assignment, so keep it for the experiment's whole life.
    arms : dict of str to Policy
        The policy of each arm.
    shares : dict of str to float
        The share of customers of each arm (the same names as ``arms``), each above 0, summing to 1.

    Examples
    --------
    >>> from payrisk.dunning import Policy
    >>> exp = Experiment("tone-2024q3", {"champion": Policy.default(), "challenger": Policy.default()},
    ...                  {"champion": 0.5, "challenger": 0.5})
    >>> exp.assign(["C1", "C2", "C1"]).tolist() == assign_arms(["C1", "C2", "C1"], exp.shares, exp.name).tolist()
    True
    >>> exp.assign(["C1"]).equals(exp.assign(["C9", "C1"]).iloc[[1]])
    True
    """

    name: str
    arms: dict[str, Policy]
    shares: dict[str, float]

    def __post_init__(self) -> None:
        _check_experiment(self.name)
        if not isinstance(self.arms, Mapping) or not self.arms:
            raise ParameterError(f"The 'arms' parameter must be a non-empty dict {{arm: Policy}}. Got {self.arms!r}.")
        not_policies = {k: type(v).__name__ for k, v in self.arms.items() if not isinstance(v, Policy)}
        if not_policies:
            raise ParameterError(
                f"The 'arms' parameter must map each arm to a payrisk.dunning.Policy. Got {not_policies}; load one "
                "with Policy.from_file or Policy.model_validate."
            )
        _check_shares(self.shares)
        if set(self.arms) != set(self.shares):
            raise ParameterError(
                f"The 'shares' parameter must name the same arms as 'arms'. Got arms {list(self.arms)} and shares "
                f"{list(self.shares)}."
            )
        object.__setattr__(self, "arms", dict(self.arms))
        object.__setattr__(self, "shares", {k: float(v) for k, v in self.shares.items()})

    def assign(self, customer_ids: Any) -> pd.Series:
        """The arm of each customer (see :func:`assign_arms`)."""
        return assign_arms(customer_ids, self.shares, self.name)

    @ledger_first(("scores", "today", "history"), method=True, today="as_of", history="ledger")
    def plan(self, ledger: Ledger, scores: pd.DataFrame, as_of: Any, **kwargs: Any) -> pd.DataFrame:
        """Today's actions of every arm: each customer's invoices planned with its arm's policy.

        Parameters
        ----------
        ledger : Ledger
            The ledger with every contact recorded (see :func:`~payrisk.dunning.plan_actions`).
        scores : DataFrame
            The worklist of :meth:`RiskEngine.score` (index ``invoice_id``, with ``customer_id``).
        as_of : date-like
            The day the actions are planned for.
        **kwargs
            Passed on to :func:`~payrisk.dunning.plan_actions` (for instance ``adherence``).

        Returns
        -------
        DataFrame
            The columns of :func:`~payrisk.dunning.plan_actions` with ``arm`` after ``customer_id``; sendable
            actions first, then by priority and customer. The rows of one arm are exactly what
            ``plan_actions`` gives for that arm's customers alone.
        """
        from payrisk.dunning._plan import plan_actions

        if not isinstance(scores, pd.DataFrame) or "customer_id" not in scores.columns:
            raise ParameterError(
                "Experiment.plan: the 'scores' parameter must be the worklist of RiskEngine.score (a DataFrame "
                "with a 'customer_id' column)."
            )
        arm_of = self.assign(scores["customer_id"].to_numpy()).to_numpy()
        plans = []
        for arm in self.shares:
            mine = scores.loc[arm_of == arm]
            plans.append(plan_actions(ledger, mine, self.arms[arm], as_of, **kwargs).assign(arm=arm))
        nonempty = [p for p in plans if len(p)] or plans[:1]
        out = pd.concat(nonempty, ignore_index=True)
        out["arm"] = out["arm"].astype("str")
        out = out[[*_after(list(out.columns.drop("arm")), "customer_id", "arm")]]
        out["_at"] = np.arange(len(out))  # ties keep each arm's own order
        out = out.sort_values(["status", "priority", "customer_id", "_at"], ascending=[False, True, True, True])
        return out.drop(columns="_at").reset_index(drop=True)


def _after(columns: list[str], anchor: str, new: str) -> list[str]:
    i = columns.index(anchor) + 1
    return [*columns[:i], new, *columns[i:]]


# -- evaluation ------------------------------------------------------------------------------------------------
def _check_arms(arms: Any) -> tuple[pd.Index, np.ndarray, list[str]]:
    """Unique customers, the arm code of each, and the arm names in order."""
    if not isinstance(arms, pd.Series):
        raise ParameterError(
            "The 'arms' parameter must be a Series customer_id -> arm, such as the output of assign_arms. Got "
            f"{type(arms).__name__}."
        )
    if arms.isna().any() or pd.isna(arms.index).any():
        raise ParameterError("The 'arms' parameter must have no missing customer ids or arms; drop them first.")
    if isinstance(arms.dtype, pd.CategoricalDtype):
        names = [str(c) for c in arms.cat.categories]
    else:
        names = [str(a) for a in pd.unique(arms.to_numpy(dtype=object))]
    pairs = pd.DataFrame(
        {"customer_id": pd.Index(arms.index, dtype="str"), "arm": arms.to_numpy(dtype=object).astype(str)}
    ).drop_duplicates()
    clash = pairs["customer_id"].duplicated(keep=False)
    if clash.any():
        ids = pairs.loc[clash, "customer_id"].unique()[:5].tolist()
        raise ParameterError(
            f"The 'arms' parameter puts {pairs.loc[clash, 'customer_id'].nunique()} customer(s) in more than one "
            f"arm, e.g. {ids}; a customer belongs to one arm."
        )
    codes = pd.Categorical(pairs["arm"], categories=names).codes.astype(np.int64)
    return pd.Index(pairs["customer_id"], dtype="str"), codes, names


def _check_days(days: Any) -> tuple[int, ...]:
    vals = (days,) if isinstance(days, int | np.integer) else tuple(days) if isinstance(days, Iterable) else ()
    good = vals and all(isinstance(d, int | np.integer) and not isinstance(d, bool) and d > 0 for d in vals)
    if not good:
        raise ParameterError(
            f"The 'days' parameter must be positive whole numbers of days, e.g. (30, 60). Got {days!r}."
        )
    return tuple(dict.fromkeys(int(d) for d in vals))


def _ratio(num: np.ndarray, den: np.ndarray, scale: float | np.ndarray) -> np.ndarray:
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(scale * num, den, out=out, where=den > 0)
    return out


def _quantiles(draws: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval per column, ignoring undefined draws (NaN where no draw is defined)."""
    if draws.shape[0] == 0:
        nan = np.full(draws.shape[1], np.nan)
        return nan, nan.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: an arm without cohort
        lo, hi = np.nanquantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return lo, hi


def _bootstrap(x: np.ndarray, num: np.ndarray, den: np.ndarray, scale: np.ndarray, n_boot: int, rng: Any) -> Any:
    """Draws (n_boot x metrics) of ratio-of-sums estimates, customers resampled with Poisson(1) weights."""
    draws = np.empty((n_boot, len(num)))
    block = max(1, min(n_boot, _BLOCK_CELLS // max(len(x), 1)))
    for lo in range(0, n_boot, block):  # blocks of draws, to bound memory
        w = rng.poisson(1.0, (min(block, n_boot - lo), len(x))).astype(np.float64)
        sums = w @ x
        draws[lo : lo + len(w)] = _ratio(sums[:, num], sums[:, den], scale)
    return draws


def evaluate_policies(
    ledger: Ledger,
    arms: pd.Series,
    start: Any,
    as_of: Any,
    *,
    days: Iterable[int] | int = (30, 60),
    lost_after_days: int = 90,
    baseline: str | None = None,
    currency: str | None = None,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Compare policy arms on the outcomes the ledger shows: cash, days to pay, contacts and customers lost.

    The cohort is every invoice of a customer in ``arms`` due from ``start`` up to ``as_of - max(days)``, so each
    has ``max(days)`` days of follow-up; only what was known at the end of ``as_of`` is used. Per arm:

    * ``cash_by_day_N`` (each N in ``days``): the payments allocated to cohort invoices dated on or before the due
      date + N days (capped at each invoice's amount), as a share of the cohort's amount;
    * ``days_to_pay``: the mean over cohort invoices of the days from the due date to settlement (``paid_date``),
      0 when paid early, *restricted* at ``max(days)``: an invoice not settled by then counts as ``max(days)``
      (a restricted mean, comparable between arms, not the plain mean days to pay);
    * ``contacts_per_1000``: dunning contacts sent on cohort invoices up to the due date + ``max(days)``, per
      1,000 of currency collected on them by then (undefined, NaN, when nothing was collected);
    * ``customers_lost``: among the arm's customers with an invoice issued before ``start``, the share with no
      invoice issued in the ``lost_after_days`` days up to ``as_of`` (all currencies);
    * ``n_customers`` (customers with a cohort invoice) and ``n_invoices`` (cohort invoices), without intervals.

    The intervals come from a cluster bootstrap over customers (an invoice's outcome is correlated with the
    customer's other invoices): each draw reweights the arm's customers with Poisson(1) weights and recomputes
    every ratio of sums; the interval is the percentile interval at ``level``. The arms are drawn independently,
    and an arm's difference to ``baseline`` (arm minus baseline) takes its interval from the differences of
    the draws.

    Parameters
    ----------
    ledger : Ledger
        The payment history, at least up to ``as_of``; anything later is ignored.
    arms : Series
        The arm of each customer (index customer id), e.g. from :func:`assign_arms`; customers not in it are left
        out. Arms are reported in order of first appearance (the categories' order for a categorical).
    start, as_of : date-like
        The first due date of the cohort and the day the outcomes are read.
    days : int or tuple of int, default (30, 60)
        The horizons (days after due) of ``cash_by_day_N``; the largest is the follow-up of every metric.
    lost_after_days : int, default 90
        A customer without an invoice in this many days up to ``as_of`` counts as lost.
    baseline : str, optional
        The arm the others are compared with (default: the first arm).
    currency : str, optional
        Keep only the cohort invoices in this currency; required when the cohort mixes currencies.
    n_boot : int, default 1000
        Bootstrap draws per arm (0: no intervals).
    level : float, default 0.95
        The intervals' confidence level.
    seed : int, default 0
        Seed of the bootstrap; the same arguments give the same intervals.

    Returns
    -------
    DataFrame
        One row per arm and metric: ``arm``, ``metric``, ``value``, ``ci_low``, ``ci_high``, ``diff`` (arm minus
        baseline), ``diff_low``, ``diff_high`` (NaN for the baseline arm and for the counts). The parameters and
        the cohort's due dates are in ``.attrs``. An arm without cohort invoices has NaN values.

    Raises
    ------
    ParameterError
        Invalid parameters, a cohort window that is empty (``start`` after ``as_of - max(days)``), an unknown
        baseline, or a cohort in several currencies without ``currency``.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=200, seed=0)
    >>> arms = assign_arms(ledger.customers["customer_id"], {"A": 0.5, "B": 0.5}, "demo")
    >>> res = evaluate_policies(ledger, arms, "2024-01-01", "2024-06-30", currency="EUR", baseline="A", n_boot=200)
    >>> res.loc[res["arm"] == "B", "metric"].tolist()[2:]
    ['cash_by_day_30', 'cash_by_day_60', 'days_to_pay', 'contacts_per_1000', 'customers_lost']
    >>> row = res.set_index(["arm", "metric"]).loc[("B", "cash_by_day_30")]
    >>> bool(row["ci_low"] <= row["value"] <= row["ci_high"] and row["diff_low"] <= row["diff"] <= row["diff_high"])
    True
    """
    from payrisk.ledger import to_date

    customers, arm_code, names = _check_arms(arms)
    day0, day1 = to_date(start, "start"), to_date(as_of, "as_of")
    horizons = _check_days(days)
    h = max(horizons)
    for pname, v, low in (("lost_after_days", lost_after_days, 1), ("n_boot", n_boot, 0), ("seed", seed, 0)):
        if not isinstance(v, int | np.integer) or isinstance(v, bool) or v < low:
            raise ParameterError(f"The {pname!r} parameter must be a whole number of at least {low}. Got {v!r}.")
    if not isinstance(level, float | int) or not 0 < level < 1:
        raise ParameterError(f"The 'level' parameter must be a confidence level in (0, 1), e.g. 0.95. Got {level!r}.")
    base = names[0] if baseline is None and names else baseline
    if base not in names:
        raise ParameterError(f"The 'baseline' parameter must be one of the arms {names}. Got {baseline!r}.")
    last_due = day1 - pd.Timedelta(days=h)
    if last_due < day0:
        raise ParameterError(
            f"The cohort is empty: invoices due from start={day0.date()} need {h} days of follow-up before "
            f"as_of={day1.date()}, so start must be on or before {last_due.date()}; move start earlier or as_of later."
        )

    snap = ledger.as_of(day1)
    inv = snap.invoices.loc[isin(snap.invoices["customer_id"], customers)]
    due = inv["due_date"]
    cohort = inv.loc[((due >= day0) & (due <= last_due)).to_numpy(dtype=bool)]
    if currency is not None:
        cohort = cohort.loc[(cohort["currency"] == currency).to_numpy(dtype=bool)]
    else:
        found = sorted(cohort["currency"].dropna().unique().tolist())
        if len(found) > 1:
            raise ParameterError(
                f"The cohort mixes the currencies {found}; amounts in different currencies do not add up. Pass "
                f"currency= (one of {found}) and compare the arms per currency."
            )

    n_c, n_i = len(customers), len(cohort)
    cust_at = positions(cohort["customer_id"], customers)
    amount = cohort["amount"].to_numpy(dtype=np.float64)
    due_at = cohort["due_date"].to_numpy(dtype="datetime64[ns]")

    def per_customer(values: np.ndarray) -> np.ndarray:
        return np.bincount(cust_at, weights=values, minlength=n_c)

    def per_invoice(table: pd.DataFrame, date_col: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cohort position of each row allocated to a cohort invoice, its days after that invoice's due date, and
        which rows those are."""
        at = positions(table["invoice_id"], cohort["invoice_id"]) if n_i else np.full(len(table), -1)
        ok = at >= 0
        late = (table[date_col].to_numpy(dtype="datetime64[ns]")[ok] - due_at[at[ok]]) / _DAY
        return at[ok], np.floor(late), ok

    pay = snap.payments
    pay_at, pay_late, pay_ok = per_invoice(pay, "payment_date")
    pay_amount = pay["amount"].to_numpy(dtype=np.float64)[pay_ok]
    cols: dict[str, np.ndarray] = {"amount": per_customer(amount)}
    for n in horizons:
        within = pay_late <= n
        cash = np.bincount(pay_at[within], weights=pay_amount[within], minlength=n_i)
        cols[f"cash_{n}"] = per_customer(np.clip(cash, 0.0, amount))
    paid = cohort["paid_date"].to_numpy(dtype="datetime64[ns]")
    wait = np.floor((paid - due_at) / _DAY)
    cols["days"] = per_customer(np.where(np.isnan(wait), h, np.clip(wait, 0, h)))
    cols["invoices"] = per_customer(np.ones(n_i))
    con_at, con_late, _ = per_invoice(snap.contacts, "sent_at")
    cols["contacts"] = per_customer(np.bincount(con_at[con_late <= h], minlength=n_i).astype(np.float64))
    issued = inv["issue_date"].to_numpy(dtype="datetime64[ns]")
    inv_at = positions(inv["customer_id"], customers)
    before = np.bincount(inv_at[issued < day0.to_datetime64()], minlength=n_c) > 0
    recent = np.bincount(inv_at[issued > (day1 - pd.Timedelta(days=lost_after_days)).to_datetime64()], minlength=n_c)
    cols["eligible"] = before.astype(np.float64)
    cols["lost"] = (before & (recent == 0)).astype(np.float64)

    col = {k: i for i, k in enumerate(cols)}
    x = np.column_stack(list(cols.values()))
    metrics = [(f"cash_by_day_{n}", f"cash_{n}", "amount", 1.0) for n in horizons]
    metrics += [
        ("days_to_pay", "days", "invoices", 1.0),
        ("contacts_per_1000", "contacts", f"cash_{h}", 1000.0),
        ("customers_lost", "lost", "eligible", 1.0),
    ]
    num = np.array([col[m[1]] for m in metrics])
    den = np.array([col[m[2]] for m in metrics])
    scale = np.array([m[3] for m in metrics])

    seeds = np.random.SeedSequence(int(seed)).spawn(len(names))
    counts, value, draws = {}, {}, {}
    for k, arm in enumerate(names):
        xa = x[arm_code == k]
        xa = xa[xa.any(axis=1)]  # customers with nothing to add change no sum
        totals = xa.sum(axis=0)
        counts[arm] = [float((xa[:, col["invoices"]] > 0).sum()), float(totals[col["invoices"]])]
        value[arm] = _ratio(totals[num], totals[den], scale)
        draws[arm] = _bootstrap(xa, num, den, scale, int(n_boot), np.random.default_rng(seeds[k]))

    rows = []
    nan = np.full(len(metrics), np.nan)
    for arm in names:
        est = value[arm]
        lo, hi = _quantiles(draws[arm], level)
        if arm == base:
            diff = diff_lo = diff_hi = nan
        else:
            diff = est - value[base]
            diff_lo, diff_hi = _quantiles(draws[arm] - draws[base], level)
        rows.append(pd.DataFrame({"arm": arm, "metric": ["n_customers", "n_invoices"], "value": counts[arm]}))
        rows.append(
            pd.DataFrame(
                {
                    "arm": arm,
                    "metric": [m[0] for m in metrics],
                    "value": est,
                    "ci_low": lo,
                    "ci_high": hi,
                    "diff": diff,
                    "diff_low": diff_lo,
                    "diff_high": diff_hi,
                }
            )
        )
    columns = ["arm", "metric", "value", "ci_low", "ci_high", "diff", "diff_low", "diff_high"]
    out = pd.concat(rows, ignore_index=True).reindex(columns=columns)
    out = out.astype({"arm": "str", "metric": "str", **dict.fromkeys(columns[2:], "float64")})
    out.attrs = {
        "start": str(day0.date()),
        "as_of": str(day1.date()),
        "due_from": str(day0.date()),
        "due_to": str(last_due.date()),
        "days": list(horizons),
        "lost_after_days": int(lost_after_days),
        "baseline": base,
        "currency": currency,
        "n_boot": int(n_boot),
        "level": float(level),
        "seed": int(seed),
        "interval": "percentile, cluster (customer) bootstrap with Poisson(1) weights, arms drawn independently",
    }
    return out
