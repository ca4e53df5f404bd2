"""What acting changes: the effect of a collector action (channel and tone) on an open overdue invoice, learned from
the contacts log, with propensities, a positivity check, doubly robust effects and off-policy evaluation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.base import BaseEstimator

from payrisk._calendar import closed, day_numbers, next_business, weekday
from payrisk.dunning._effects import _cluster_mean, _folds
from payrisk.errors import NotFittedError, ParameterError

if TYPE_CHECKING:
    from payrisk.ledger import Ledger

__all__ = ["ARMS", "RESPONSE_FEATURES", "ResponseModel"]

CHANNELS = ("phone", "sms", "letter")
TONES = ("mild", "firm", "strict")
#: the decisions: no action, or one of the channel x tone actions
ARMS: tuple[str, ...] = ("none", *(f"{c}/{t}" for c in CHANNELS for t in TONES))
#: the customer features the response model reads (point in time, known the morning of the row's day)
RESPONSE_FEATURES = [
    "tenure_days", "share_late_365d", "days_late_mean_365d", "days_late_ewm", "lateness_trend", "n_open",
    "n_overdue", "overdue_amount", "max_days_overdue", "days_since_last_payment", "share_partial_payments",
    "share_disputed", "pay_weekday", "pay_weekday_share", "pay_day_of_month", "pay_day_of_month_share",
    "n_reminders_365d", "reminder_response_7d", "reminder_response_7d_phone", "reminder_response_7d_sms",
    "reminder_response_7d_letter",
]  # fmt: skip
_ROW = ["days_overdue", "log_amount", "earlier_actions", "contacts_7d", "timed", "closed", "weekday"]
_CLIP = 0.002  #: propensities of single arms are clipped below at this (tones split a channel thinly)
_MAX_WEIGHT = 20.0  #: censoring weights are capped here
_TRANSPORT_DAYS = 7  #: the answer chance is carried this many days beyond the oldest debt the log acted on
_MONOTONE = {"days_overdue": -1, "earlier_actions": -1, "contacts_7d": -1}  #: older, repeated, tired: answer less


def _state_features(rows: pd.DataFrame, cust: pd.DataFrame) -> pd.DataFrame:
    """The model's features of (invoice, day) rows: the customer's behaviour known then and the row's state."""
    day = day_numbers(rows["day"])
    wd = cust["pay_weekday"].to_numpy()
    on_weekday = (cust["pay_weekday_share"].fillna(0).to_numpy() >= 0.5) & (weekday(day) == wd)
    dom = (day.astype("datetime64[D]") - day.astype("datetime64[D]").astype("datetime64[M]")).astype(np.int64) + 1
    to_run = cust["pay_day_of_month"].fillna(-99).to_numpy() - dom
    on_run = (cust["pay_day_of_month_share"].fillna(0).to_numpy() >= 0.3) & (to_run >= 0) & (to_run <= 4)
    X = pd.DataFrame(cust[RESPONSE_FEATURES].to_numpy(dtype=np.float64), columns=RESPONSE_FEATURES, index=rows.index)
    X["days_overdue"] = rows["days_overdue"].to_numpy(dtype=np.float64)
    X["log_amount"] = np.log1p(np.maximum(rows["open_amount"].to_numpy(dtype=np.float64), 0))
    X["earlier_actions"] = rows["earlier_actions"].to_numpy(dtype=np.float64)
    X["contacts_7d"] = rows["contacts_7d"].to_numpy(dtype=np.float64)
    X["timed"] = (on_weekday | on_run).astype(np.float64)
    X["closed"] = closed(rows["country"].fillna("NL").to_numpy(dtype=object), day).astype(np.float64)
    # the day of the week: payments come on business days, so what a window of days after the row can hold
    # turns on where the row's day falls in the week
    X["weekday"] = weekday(day).astype(np.float64)
    return X[[*RESPONSE_FEATURES, *_ROW]]


def _with_arm(X: pd.DataFrame, arm: np.ndarray) -> pd.DataFrame:
    arm = np.asarray(arm, dtype=object)
    out = X.copy()
    out["acted"] = (arm != "none").astype(np.float64)
    for c in CHANNELS:
        out[f"ch_{c}"] = np.char.startswith(arm.astype(str), c).astype(np.float64)
    for t in TONES:
        out[f"tone_{t}"] = np.char.endswith(arm.astype(str), "/" + t).astype(np.float64)
    return out


def _predict(models: dict[str, Any], X: pd.DataFrame, arm: str) -> np.ndarray:
    """P(outcome) of every row of ``X`` under ``arm`` from the model of the arm's channel (or of no action)."""
    group = "none" if arm == "none" else arm.split("/")[0]
    if group not in models:
        return np.full(len(X), np.nan)
    return models[group].predict_proba(_with_arm(X, np.full(len(X), arm)))[:, 1]


def _answer_objective(m: np.ndarray) -> Any:
    """XGBoost objective of the answer chance ``u = sigmoid(f)`` when the outcome is paid within the answer window
    either way: P(paid) = u + (1 - u) * m, with ``m`` the chance of paying in the window without the action.
    Gradient of the log-loss in ``f``, and its Fisher information as the Hessian."""

    def objective(f: np.ndarray, data: Any) -> tuple[np.ndarray, np.ndarray]:
        y = data.get_label()
        u = 1.0 / (1.0 + np.exp(-f))
        p = np.clip(u + (1.0 - u) * m, 1e-6, 1 - 1e-6)
        dp = (1.0 - m) * u * (1.0 - u)
        return (p - y) / (p * (1 - p)) * dp, dp**2 / (p * (1 - p)) + 1e-6

    return objective


class ResponseModel(BaseEstimator):
    """The effect of each collector action on P(paid within 7 and 30 days) of an open overdue invoice.

    Learned from the contacts log: every logged action (a contact whose template matches ``templates``, on a
    ``phone``, ``sms`` or ``letter`` channel, on an open overdue invoice) is a treated row; open overdue
    invoice-days without an action in the next ``horizon`` days are sampled as control rows. The features are
    the customer's behaviour known on that day (point in time) and the row's state: days overdue, amount,
    actions already taken on the invoice, contacts in the last 7 days, whether the day meets the customer's
    payment weekday or pay run, and whether it is a weekend or holiday.

    What acting changes is learned as the **answer chance** of each action: the chance that it brings the
    payment, beyond paying anyway. Each channel's answers pay in a window of days after the action (a call's
    promise in a few days, a letter's in a week): the window is learned from the log, as the days on which acted
    invoices are paid clearly more often than comparable invoices without an action (:attr:`response_windows_`).
    A no-action model gives the chance of paying in that window anyway (``m``, fitted on the control rows open on
    its first day); the answer model is fitted on the actions alone to P(paid in the window) = u + (1 - u) * m, so
    the noise of what would have happened anyway is not learned twice, and the narrower the window, the less of
    that noise there is (older debts, repeated actions and recent contacts never answer more: monotone). The
    :meth:`uplift` on P(paid within H days) is then u times the no-action model's chance of *not* paying within
    H (times the share of the channel's answers that come within H). Actions on debts older than the log ever acted
    on (by more than 7 days) or repeated more often than it did get no uplift: there is no evidence there.

    Beside it, outcome models per channel (a T-learner, XGBoost with the tone as input) and a propensity model
    (the logged policy), cross-fitted by customer, give doubly robust effects per segment and channel with
    cluster-robust intervals, the positivity check, and off-policy values of any plan.

    Parameters
    ----------
    templates : str, optional
        Regular expression on ``contacts.template`` selecting the contacts that are decisions to learn from
        (default: every phone, SMS and letter contact). In the synthetic world pass ``"^collector_"``: its
        automatic track's reminders after the first are part of the baseline.
    horizons : tuple of int, default (7, 30)
        Outcome windows in days; the first is the one whose effects are reported.
    controls_per_month : float, default 1.5
        Control rows sampled per 30 open overdue days of an invoice.
    history_days : int, default 730
        Rows from this many days before ``as_of``.
    n_estimators, max_depth, learning_rate : XGBoost settings of both models.
    n_folds : int, default 3
    level : float, default 0.95
    answer_days : int, default 10
        The longest an answer takes: each channel's window of answer days is searched within it (the slowest
        channel's response and a weekend).
    min_support : float, default 0.01
        A channel whose logged chance at a row is below this counts as unsupported there (:attr:`positivity_`).
    seed : int, default 0

    Attributes
    ----------
    effects_ : DataFrame
        Per segment and channel (and ``all``): ``n`` rows, ``n_treated``, ``mean_control``, the ``effect`` on
        P(paid within the first horizon) where the channel was used (on the treated: the effect the log can
        support without extrapolating), from the answers in the channel's response window, with
        ``ci_low``/``ci_high``; the doubly robust estimate from the outcome model and the propensities beside it
        (``dr``, ``dr_ci_low``, ``dr_ci_high``), and the ``naive`` difference in means.
    positivity_ : DataFrame
        Per segment and channel (and ``none``): ``share_low`` (rows where the logged policy's chance of the
        channel is below 0.01), ``min_propensity``, ``n``; ``positivity_ok_`` is False when a channel is unsupported
        on over half of a segment's rows.
    support_ : DataFrame
        Per channel, the days overdue the log acted on (``days_overdue_low``/``days_overdue_high``, 0.5% and 99.5%
        quantiles) and ``max_earlier_actions``: where :meth:`uplift` has evidence.
    response_windows_ : DataFrame
        Per channel, ``first_day`` and ``last_day`` of the window its answers pay in, and per day 1 to
        ``answer_days`` the share of actions paid that day beyond paying anyway (the excess the window is read
        from); :meth:`answered_within` sums it.
    answer_model_ : xgboost.Booster
        The answer chance of an action (the features and the arm's channel and tone).
    rows_ : DataFrame
        The training rows with ``arm``, outcomes ``paid_7d``/``paid_30d``, ``days_to_paid``,
        ``days_to_next_action`` (where a later logged action censors the row), censoring weights ``weight_*``,
        cross-fitted ``mu_*`` and ``propensity``, ``segment``; on the actions, whether the channel's response window
        was seen uncensored (``window_seen``), its days (``window_first_day``, ``window_last_day``, the last pushed
        to the next business day), the no-action chances of paying in it (``m_window``) and before it
        (``paid_before_window``), and on every row the no-action chance of paying within ``answer_days``
        (``m_answer``).

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=300, seed=0)
    >>> rm = ResponseModel(templates="^collector_", n_estimators=40).fit(ledger, "2024-06-30")
    >>> bool(rm.effects_.loc[("all", "phone"), "effect"] > 0)
    True
    """

    def __init__(
        self,
        templates: str | None = None,
        horizons: tuple[int, ...] = (7, 30),
        controls_per_month: float = 1.5,
        history_days: int = 730,
        n_estimators: int = 200,
        max_depth: int = 4,
        learning_rate: float = 0.08,
        n_folds: int = 3,
        level: float = 0.95,
        answer_days: int = 10,
        min_support: float = 0.01,
        seed: int = 0,
    ) -> None:
        self.templates = templates
        self.horizons = horizons
        self.controls_per_month = controls_per_month
        self.history_days = history_days
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.n_folds = n_folds
        self.level = level
        self.answer_days = answer_days
        self.min_support = min_support
        self.seed = seed

    # -- rows ------------------------------------------------------------------------------------------------
    def _actions(self, contacts: pd.DataFrame) -> pd.DataFrame:
        con = contacts.loc[contacts["channel"].isin(CHANNELS) & contacts["invoice_id"].notna()]
        if self.templates is not None:
            con = con.loc[con["template"].fillna("").str.contains(self.templates, regex=True)]
        tone = con["tone"].where(con["tone"].isin(TONES), "firm").fillna("firm")
        return pd.DataFrame(
            {
                "invoice_id": con["invoice_id"].to_numpy(),
                "day": con["sent_at"].dt.normalize().to_numpy(),
                "arm": (con["channel"] + "/" + tone).to_numpy(),
            }
        )

    def training_rows(self, ledger: Ledger, as_of: Any) -> pd.DataFrame:
        """The logged actions and sampled control rows known at ``as_of``, with their outcomes (no features)."""
        from payrisk.ledger import to_date

        day = to_date(as_of, "as_of")
        snap = ledger.as_of(day)
        h = max(self.horizons)
        inv = snap.invoices.loc[snap.invoices["amount"] > 0].set_index("invoice_id")
        first = day - pd.Timedelta(days=self.history_days)
        all_acts = self._actions(snap.contacts)
        acts = all_acts.loc[(all_acts["day"] >= first) & (all_acts["day"] <= day - pd.Timedelta(days=h))]
        a_inv = inv.reindex(acts["invoice_id"])
        open_then = (a_inv["paid_date"].isna() | (a_inv["paid_date"] >= acts["day"].to_numpy())).to_numpy()
        acts = acts.loc[open_then & (a_inv["due_date"].to_numpy() < acts["day"].to_numpy())]
        # controls: open overdue invoice-days, spread over each invoice's open overdue span
        rng = np.random.default_rng(self.seed)
        # pandas-stubs type clip's bounds as numbers and arrays only; pandas takes a Timestamp on dates
        end = inv["paid_date"].fillna(day).clip(upper=day - pd.Timedelta(days=h))  # type: ignore[call-overload]
        lo = (inv["due_date"] + pd.Timedelta(days=1)).clip(lower=first)  # type: ignore[call-overload]
        span = (end - lo).dt.days.clip(lower=0).to_numpy()
        k = rng.poisson(self.controls_per_month * span / 30.0)  # a known density: the action hazard rests on it
        rep = np.repeat(np.arange(len(inv)), k)
        offs = np.floor(rng.random(len(rep)) * np.maximum(span[rep], 1)).astype(np.int64)
        c_day = lo.to_numpy()[rep] + offs.astype("timedelta64[D]")
        controls = pd.DataFrame({"invoice_id": inv.index.to_numpy()[rep], "day": c_day, "arm": "none"})
        controls = controls.loc[(span[rep] > 0)]
        # a control day is any open overdue day without an action on it: dropping the days an action follows
        # would keep only the days after which the invoice stayed open (selection on the outcome)
        same = controls.reset_index().merge(all_acts[["invoice_id", "day"]], on=["invoice_id", "day"])
        controls = controls.drop(index=same["index"].unique())
        rows = pd.concat([acts, controls], ignore_index=True)
        at = inv.reindex(rows["invoice_id"])
        rows["customer_id"] = at["customer_id"].to_numpy()
        rows["due_date"] = at["due_date"].to_numpy()
        rows["days_overdue"] = (rows["day"] - rows["due_date"]).dt.days
        disputed = (at["disputed_date"].to_numpy() <= rows["day"].to_numpy()) if "disputed_date" in at else False
        rows = rows.loc[~np.asarray(disputed, dtype=bool) & (rows["days_overdue"] > 0)].reset_index(drop=True)
        rows["open_amount"] = inv["amount"].reindex(rows["invoice_id"]).to_numpy()
        paid = inv["paid_date"].reindex(rows["invoice_id"]).to_numpy()
        for hz in self.horizons:
            rows[f"paid_{hz}d"] = (paid <= (rows["day"] + pd.Timedelta(days=hz)).to_numpy()).astype(np.float64)
        rows["days_to_paid"] = ((paid - rows["day"].to_numpy()) / np.timedelta64(1, "D")).astype(float)
        rows["days_to_paid"] = rows["days_to_paid"].fillna(np.inf)
        # the next logged action on the invoice ends what this row's outcome can tell (it is censored there)
        later = rows[["invoice_id", "day"]].reset_index().merge(all_acts[["invoice_id", "day"]], on="invoice_id")
        gap = (later["day_y"] - later["day_x"]).dt.days
        nxt = gap.where(gap > 0).groupby(later["index"]).min()
        rows["days_to_next_action"] = nxt.reindex(rows.index).fillna(np.inf).to_numpy()
        # an action in the days before a row may still be answered inside its window: such rows say nothing of
        # acting on their own day (the plans this model serves keep the same gap between actions)
        prev = (-gap).where(gap < 0).groupby(later["index"]).min()
        settled = prev.reindex(rows.index).fillna(np.inf).to_numpy() > min(self.horizons)
        rows = rows.loc[settled].reset_index(drop=True)
        return self._state(rows, snap, all_acts)

    def _state(self, rows: pd.DataFrame, snap: Ledger, acts: pd.DataFrame) -> pd.DataFrame:
        """Actions already taken on each row's invoice and the customer's contacts in the 7 days before."""
        key = rows[["invoice_id", "day"]].reset_index()
        m = key.merge(acts[["invoice_id", "day"]], on="invoice_id", suffixes=("", "_a"))
        rows["earlier_actions"] = (
            m.loc[m["day_a"] < m["day"]].groupby("index").size().reindex(rows.index).fillna(0).to_numpy()
        )
        con = snap.contacts[["customer_id", "sent_at"]].assign(day_c=snap.contacts["sent_at"].dt.normalize())
        mc = rows[["customer_id", "day"]].reset_index().merge(con[["customer_id", "day_c"]], on="customer_id")
        recent = (mc["day_c"] < mc["day"]) & (mc["day_c"] >= mc["day"] - pd.Timedelta(days=7))
        rows["contacts_7d"] = mc.loc[recent].groupby("index").size().reindex(rows.index).fillna(0).to_numpy()
        country = snap.customers.set_index("customer_id")["country"] if "country" in snap.customers else None
        rows["country"] = country.reindex(rows["customer_id"]).to_numpy() if country is not None else "NL"
        return rows

    # -- fit -------------------------------------------------------------------------------------------------
    def _booster(self, objective: str, **kw: Any) -> Any:
        from xgboost import XGBClassifier

        return XGBClassifier(
            n_estimators=self.n_estimators, max_depth=self.max_depth, learning_rate=self.learning_rate,
            subsample=0.9, min_child_weight=5, tree_method="hist", objective=objective, n_jobs=2,
            random_state=self.seed, **kw,
        )  # fmt: skip

    def _action_hazard(self, rows: pd.DataFrame, X: pd.DataFrame, arms: np.ndarray) -> np.ndarray:
        """The logged policy's daily hazard of a *next* action on each row's invoice, given the row (its state and
        whether it was itself an action: a logged policy keeps a gap after acting). A Poisson model of the next
        action within the longest window over the days the row was watched (until paid, acted on again, or the
        window closed)."""
        from xgboost import XGBRegressor

        h = max(max(self.horizons), self.answer_days)
        paid, nxt = rows["days_to_paid"].to_numpy(), rows["days_to_next_action"].to_numpy()
        event = (nxt <= np.minimum(paid, h)).astype(np.float64)
        exposure = np.clip(np.minimum(np.minimum(paid, nxt), h), 1.0, None)
        Xa = _with_arm(X, arms)
        model = XGBRegressor(
            n_estimators=100, max_depth=3, learning_rate=0.1, objective="count:poisson", tree_method="hist",
            n_jobs=2, random_state=self.seed, max_delta_step=0.7,
        )  # fmt: skip
        model.fit(Xa, event, base_margin=np.log(exposure))
        return model.predict(Xa, base_margin=np.zeros(len(Xa)))

    def _censoring_weights(
        self, rows: pd.DataFrame, hazard: np.ndarray, windows: tuple[int, ...] | None = None
    ) -> dict[int, np.ndarray]:
        """Per horizon, 0 for a row whose outcome window a later logged action cuts (censored), else the inverse
        chance of no action until it paid or the window closed, from the daily hazard of a next action."""
        out = {}
        for hz in windows or self.horizons:
            censored = rows["days_to_next_action"].to_numpy() <= hz
            exposure = np.minimum(rows["days_to_paid"].to_numpy(), hz)
            out[hz] = np.where(censored, 0.0, np.minimum(np.exp(hazard * exposure), _MAX_WEIGHT))
        return out

    def _outcome_models(self, X: pd.DataFrame, arms: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict[str, Any]:
        """One outcome model for no action and one per channel (tone as an input): a T-learner, so an action's
        rows never lend their outcome to the features of the rows without it. Censored rows (weight 0) are out."""
        groups = {"none": arms == "none"} | {c: np.char.startswith(arms.astype(str), c + "/") for c in CHANNELS}
        out = {}
        for g, sel in groups.items():
            sel = sel & (w > 0)
            if sel.sum() >= 20 and 0 < y[sel].sum() < sel.sum():
                model = self._booster("binary:logistic")
                out[g] = model.fit(_with_arm(X.loc[sel], arms[sel]), y[sel], sample_weight=w[sel])
        return out

    def fit(self, ledger: Ledger, as_of: Any, segments: pd.Series | None = None) -> ResponseModel:
        """Learn the response to actions from the contacts log known at ``as_of``.

        Parameters
        ----------
        ledger : Ledger
        as_of : date-like
        segments : Series, optional
            Segment per customer for the effect table (default: :class:`~payrisk.segment.PayerSegmenter` fitted
            at ``as_of``).
        """
        from payrisk import features
        from payrisk.ledger import to_date

        day = to_date(as_of, "as_of")
        rows = self.training_rows(ledger, day)
        arms = rows["arm"].to_numpy()
        if (arms != "none").sum() < 50 or (arms == "none").sum() < 50:
            raise ParameterError(
                f"ResponseModel.fit: {int((arms != 'none').sum())} logged actions and "
                f"{int((arms == 'none').sum())} control rows before {day.date()}: at least 50 of each are needed "
                "(check `templates` against contacts.template)."
            )
        snap = ledger.as_of(day)
        # the book as the team sees it in the morning of the day: up to the end of the day before (the day's own
        # action, contacts and payments are not known yet)
        known = (rows["day"] - pd.Timedelta(days=1)).to_numpy()
        who = pd.DataFrame({"customer_id": rows["customer_id"].to_numpy(), "as_of": known})
        cust = features.customer_features(snap, who, RESPONSE_FEATURES)
        X = _state_features(rows, cust.reset_index(drop=True).set_index(rows.index))
        if segments is None:
            from payrisk.segment import PayerSegmenter

            segments = PayerSegmenter().fit_predict(snap, day)["segment"]
        rows["segment"] = segments.reindex(rows["customer_id"]).fillna("new").to_numpy()
        self.feature_names_ = list(X.columns)
        self.arms_ = [a for a in ARMS if a in set(arms)]
        arm_code = np.array([self.arms_.index(a) for a in arms])
        fold = _folds(rows["customer_id"], self.n_folds, self.seed)
        y = {hz: rows[f"paid_{hz}d"].to_numpy() for hz in self.horizons}
        # cross-fitted outcome predictions under every arm, and propensities
        mu = {hz: np.zeros((len(rows), len(self.arms_))) for hz in self.horizons}
        prop = np.zeros((len(rows), len(self.arms_)))
        for k in np.unique(fold):
            train, test = fold != k, fold == k
            pm = self._booster("multi:softprob").fit(X.loc[train], arm_code[train])
            prop[np.ix_(test, pm.classes_)] = pm.predict_proba(X.loc[test])
        prop = np.clip(prop, _CLIP, 1.0)
        hazard = self._action_hazard(rows, X, arms)
        w = self._censoring_weights(rows, hazard)
        for k in np.unique(fold):
            train, test = fold != k, fold == k
            for hz in self.horizons:
                om = self._outcome_models(X.loc[train], arms[train], y[hz][train], w[hz][train])
                for j, a in enumerate(self.arms_):
                    mu[hz][test, j] = _predict(om, X.loc[test], a)
        self.outcome_models_ = {hz: self._outcome_models(X, arms, y[hz], w[hz]) for hz in self.horizons}
        self._fit_answer(rows, X, arms, hazard)
        for hz in self.horizons:
            rows[f"weight_{hz}d"] = w[hz]
        self.propensity_model_ = self._booster("multi:softprob").fit(X, arm_code)
        for j, a in enumerate(self.arms_):
            for hz in self.horizons:
                rows[f"mu_{hz}d_{a}"] = mu[hz][:, j]
            rows[f"propensity_{a}"] = prop[:, j]
        rows["propensity"] = prop[np.arange(len(rows)), arm_code]
        self.rows_ = rows
        self.as_of_ = day
        self.effects_ = self._effects(rows, self.horizons[0])
        self.positivity_ = self._positivity(rows)
        self.positivity_ok_ = bool((self.positivity_["share_low"] <= 0.5).all())
        return self

    def _response_windows(self, rows: pd.DataFrame, channel: np.ndarray, m: np.ndarray, w: np.ndarray) -> pd.DataFrame:
        """When each channel's answers pay, learned from the log: per day ``k`` after an action (1 to
        ``answer_days``), the share of actions paid that day beyond the share of comparable rows without an action
        (the controls' daily shares on the same weekday, scaled by the no-action chance ``m``). The window is the
        run of days around the busiest one whose excess is at least two standard errors; a channel without a
        clear excess keeps the whole of ``answer_days``."""
        days = np.arange(1, self.answer_days + 1)
        dtp = rows["days_to_paid"].to_numpy()
        control = (channel == "none") & (w > 0)
        paid_on = (dtp[:, None] == days[None, :]).astype(np.float64)
        # the controls' daily shares per weekday of the row's day (payments keep to business days), and their
        # chance of paying in the whole span
        wd = weekday(day_numbers(rows["day"])).astype(np.int64)
        f_control, m_control = np.zeros((7, len(days))), np.zeros(7)
        for d in range(7):
            sel = control & (wd == d)
            if w[sel].sum() > 0:
                f_control[d] = np.average(paid_on[sel], axis=0, weights=w[sel])
                m_control[d] = np.average(m[sel], weights=w[sel])
        out: dict[str, dict[str | int, float]] = {}
        for c in CHANNELS:
            acted = (channel == c) & (w > 0)
            if acted.sum() < 50:
                continue
            f_acted = np.average(paid_on[acted], axis=0, weights=w[acted])
            # what the acted rows would have paid each day anyway: the controls of the same weekday, scaled by
            # the no-action model's chance of the acted rows against theirs
            scale = m[acted] / np.maximum(m_control[wd[acted]], 1e-9)
            background = np.average(f_control[wd[acted]] * scale[:, None], axis=0, weights=w[acted])
            excess = f_acted - background
            clear = excess > 2 * np.sqrt(f_acted * (1 - f_acted) / acted.sum() + 1e-12)
            peak = int(np.argmax(np.where(clear, excess, -np.inf)))
            lo = hi = peak
            while clear.any() and lo > 0 and clear[lo - 1]:
                lo -= 1
            while clear.any() and hi < len(days) - 1 and clear[hi + 1]:
                hi += 1
            if not clear.any():
                lo, hi = 0, len(days) - 1
            row: dict[str | int, float] = {int(k): float(e) for k, e in zip(days, excess, strict=True)}
            out[c] = {"first_day": int(days[lo]), "last_day": int(days[hi]), **row}
        return pd.DataFrame.from_dict(out, orient="index").rename_axis("channel")

    def _fit_answer(self, rows: pd.DataFrame, X: pd.DataFrame, arms: np.ndarray, hazard: np.ndarray) -> None:
        """The answer chance of an action, where the log has evidence.

        Each channel's answers pay in a window of days after the action (:attr:`response_windows_`). An action's
        row counts when its invoice is still open on the window's first day and no later action cuts the window;
        it is fitted to P(paid in the window) = u + (1 - u) m, with ``m`` the chance of paying in that window
        anyway, from a no-action model fitted on the control rows open on the window's first day. A window of the
        days the answers come keeps the payments that would have come anyway (the noise) out of the fit."""
        import xgboost as xgb

        wd = self.answer_days
        dtp = rows["days_to_paid"].to_numpy()
        w = self._censoring_weights(rows, hazard, (wd,))[wd]
        control = (arms == "none") & (w > 0)
        # the chance of paying within answer_days anyway, from every control row: an action's row is never among
        # them, so its own outcome cannot leak into its m (cross-fitting would only leave a third out)
        y = (dtp <= wd).astype(np.float64)
        model = self._booster("binary:logistic").fit(X.loc[control], y[control], sample_weight=w[control])
        m_all = model.predict_proba(X)[:, 1]
        channel = np.char.partition(arms.astype(str), "/")[:, 0]  # "none" for the control rows
        self.response_windows_ = self._response_windows(rows, channel, m_all, w)
        acted = np.zeros(len(rows), dtype=bool)
        ya, ma = np.zeros(len(rows)), np.zeros(len(rows))
        # per treated row: uncensored through its window, the no-action chances of paying before the window and
        # in it (for the effects, :meth:`_effects`)
        rows["window_seen"] = False
        rows[["m_window", "paid_before_window", "window_first_day", "window_last_day"]] = np.nan
        m_window: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        day = day_numbers(rows["day"])
        for c, (lo, hi) in self.response_windows_[["first_day", "last_day"]].astype(int).iterrows():
            # an answer due on a weekend pays on the next business day: each row's window runs to it
            last = next_business(day + hi) - day
            wc = self._censoring_weights(rows, hazard, (hi + 2,))[hi + 2]
            if (lo, hi) not in m_window:
                open_ = (arms == "none") & (wc > 0) & (dtp >= lo)
                yc = (dtp[open_] <= last[open_]).astype(np.float64)
                fit = self._booster("binary:logistic").fit(X.loc[open_], yc, sample_weight=wc[open_])
                before = np.zeros(len(rows))
                if lo > 1:
                    wb = self._censoring_weights(rows, hazard, (lo - 1,))[lo - 1]
                    seen = (arms == "none") & (wb > 0)
                    yb = (dtp[seen] < lo).astype(np.float64)
                    fit_b = self._booster("binary:logistic").fit(X.loc[seen], yb, sample_weight=wb[seen])
                    before = fit_b.predict_proba(X)[:, 1]
                m_window[(lo, hi)] = (fit.predict_proba(X)[:, 1], before)
            treated = (channel == c) & (wc > 0)
            rows.loc[treated, "window_seen"] = True
            rows.loc[treated, "m_window"] = m_window[(lo, hi)][0][treated]
            rows.loc[treated, "paid_before_window"] = m_window[(lo, hi)][1][treated]
            rows.loc[treated, "window_first_day"] = lo
            rows.loc[treated, "window_last_day"] = last[treated]
            sel = treated & (dtp >= lo)
            acted |= sel
            ya[sel] = (dtp[sel] <= last[sel]).astype(np.float64)
            ma[sel] = m_window[(lo, hi)][0][sel]
        Xa = _with_arm(X.loc[acted], arms[acted]).drop(columns="acted")
        ya, ma = ya[acted], ma[acted]
        # start from the mean answer chance (the moment estimate), then learn how it varies
        u0 = float(np.clip((ya.mean() - ma.mean()) / max(1 - ma.mean(), 1e-3), 0.01, 0.9))
        self.answer_margin_ = float(np.log(u0 / (1 - u0)))
        mono = tuple(_MONOTONE.get(c, 0) for c in Xa.columns)
        data = xgb.DMatrix(Xa, label=ya, base_margin=np.full(len(ya), self.answer_margin_))
        params = {
            "max_depth": 3, "eta": 0.05, "subsample": 0.9, "min_child_weight": 20, "tree_method": "hist",
            "nthread": 2, "seed": self.seed, "monotone_constraints": str(mono),
        }  # fmt: skip
        self.answer_model_ = xgb.train(params, data, num_boost_round=300, obj=_answer_objective(ma))
        self.answer_columns_ = list(Xa.columns)
        rows["m_answer"] = m_all
        treated = rows.loc[arms != "none"]
        g = treated.groupby(treated["arm"].str.split("/").str[0])
        self.support_ = pd.DataFrame(
            {
                "days_overdue_low": g["days_overdue"].quantile(0.005),
                "days_overdue_high": g["days_overdue"].quantile(0.995),
                "max_earlier_actions": g["earlier_actions"].max(),
            }
        ).rename_axis("channel")

    def answer_probability(self, X: pd.DataFrame, arms: list[str] | None = None) -> pd.DataFrame:
        """The chance that each action is answered with a payment within ``answer_days`` (beyond paying anyway),
        per row of features (:meth:`state_features`); 0 where the log has no evidence (debts older than it acted
        on, or more actions on the invoice than it ever took). One column per arm."""
        import xgboost as xgb

        self._check_fitted()
        arms = [a for a in (arms or self.arms_) if a != "none"]
        days = X["days_overdue"].to_numpy()
        earlier = X["earlier_actions"].to_numpy()
        margin = np.full(len(X), self.answer_margin_)
        out = {}
        for a in arms:
            channel = a.split("/")[0]
            if channel not in self.support_.index:
                out[a] = np.zeros(len(X))
                continue
            Xa = _with_arm(X, np.full(len(X), a)).drop(columns="acted")[self.answer_columns_]
            u = 1.0 / (1.0 + np.exp(-self.answer_model_.predict(xgb.DMatrix(Xa, base_margin=margin))))
            sup = self.support_.loc[channel]
            evidence = (days <= sup["days_overdue_high"] + _TRANSPORT_DAYS) & (earlier <= sup["max_earlier_actions"])
            out[a] = np.where(evidence, u, 0.0)
        return pd.DataFrame(out, index=X.index)

    def _check_fitted(self) -> None:
        if not hasattr(self, "outcome_models_"):
            raise NotFittedError("This ResponseModel is not fitted yet; call fit(ledger, as_of) first.")

    def _effects(self, rows: pd.DataFrame, hz: int) -> pd.DataFrame:
        """Per segment and channel, the effect where the channel was used (on the treated), two ways, with
        cluster-robust intervals by customer.

        ``effect``: from the answers in the channel's response window. On each action's row, (paid in the window -
        m) / (1 - m) estimates its answer chance, with ``m`` the no-action chance of paying in the window (rows
        paid before the window count 0, and the rest are scaled by the chance of still being open then); times the
        no-action chance of not paying within ``hz`` days and the share of answers that pay within them, it is the
        row's effect on P(paid within ``hz``). Its mean over the actions is the effect on the treated.

        ``dr``: doubly robust from the no-action outcome model at ``hz`` days and the propensities. It needs no
        window, but its control rows are cut by the log's next action (censored, and weighted back by the
        action hazard), and it is noisier: the payments that come anyway stay in it."""
        z = norm.ppf(0.5 + self.level / 2)
        out = []
        in_time = self.answered_within(hz)
        dtp = rows["days_to_paid"].to_numpy()
        opened = dtp >= rows["window_first_day"].to_numpy()
        in_window = (opened & (dtp <= rows["window_last_day"].to_numpy())).astype(np.float64)
        m_w = rows["m_window"].to_numpy()
        unpaid = (1.0 - rows[f"mu_{hz}d_none"].to_numpy()) / np.maximum(
            1.0 - rows["paid_before_window"].to_numpy(), 1e-6
        )
        answer = np.where(opened, (in_window - m_w) / np.maximum(1.0 - m_w, 1e-6), 0.0)
        arm = rows["arm"].to_numpy()
        y = rows[f"paid_{hz}d"].to_numpy()
        w = rows[f"weight_{hz}d"].to_numpy()
        mu0 = rows[f"mu_{hz}d_none"].to_numpy()
        e0 = rows["propensity_none"].to_numpy()
        for channel in CHANNELS:
            cols = [a for a in self.arms_ if a.startswith(channel + "/")]
            if not cols:
                continue
            t = np.isin(arm, cols)
            e = sum(rows[f"propensity_{a}"].to_numpy() for a in cols)
            odds = np.minimum(e / e0, 1 / _CLIP)
            for seg, g in [("all", rows), *rows.groupby("segment", sort=True)]:
                i = g.index.to_numpy()
                ti, ci = t[i] * w[i], (arm[i] == "none") * w[i]  # censoring-weighted treated and control rows
                n_t = ti.sum()
                if n_t == 0:
                    continue
                resid = y[i] - mu0[i]
                cluster = pd.factorize(g["customer_id"])[0]
                dr = float((ti * resid - ci * odds[i] * resid).sum() / n_t)
                psi = (ti * (resid - dr) - ci * odds[i] * resid) * len(i) / n_t
                _, dr_se = _cluster_mean(psi, cluster)
                seen = t[i] & rows["window_seen"].to_numpy()[i]
                row_effect = answer[i] * unpaid[i] * in_time.get(channel, 1.0)
                eff, se = _cluster_mean(row_effect[seen], cluster[seen]) if seen.any() else (np.nan, np.nan)
                out.append(
                    {
                        "segment": seg, "channel": channel, "n": len(g), "n_treated": int(t[i].sum()),
                        "mean_control": float(np.average(y[i], weights=ci)) if ci.sum() else np.nan, "effect": eff,
                        "ci_low": eff - z * se, "ci_high": eff + z * se,
                        "dr": dr, "dr_ci_low": dr - z * dr_se, "dr_ci_high": dr + z * dr_se,
                        "naive": float(np.average(y[i], weights=ti) - np.average(y[i], weights=ci))
                        if ci.sum() else np.nan,
                    }
                )  # fmt: skip
        return pd.DataFrame(out).set_index(["segment", "channel"])

    def _positivity(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Per segment and channel (tones together) and for no action: the share of rows whose propensity is
        below ``min_support`` (the logged policy all but never did it there) and the smallest propensity."""
        out = []
        groups = {"none": ["none"]} | {c: [a for a in self.arms_ if a.startswith(c + "/")] for c in CHANNELS}
        for seg, g in [("all", rows), *rows.groupby("segment", sort=True)]:
            for name, cols in groups.items():
                if not cols:
                    continue
                e = sum(g[f"propensity_{a}"].to_numpy() for a in cols)
                out.append({"segment": seg, "arm": name, "n": len(g), "share_low": float((e < self.min_support).mean()),
                            "min_propensity": float(e.min())})  # fmt: skip
        return pd.DataFrame(out).set_index(["segment", "arm"])

    # -- predict ---------------------------------------------------------------------------------------------
    def uplift(self, X: pd.DataFrame, arms: list[str] | None = None, horizon: int | None = None) -> pd.DataFrame:
        """Predicted P(paid within ``horizon`` days) under each action minus under no action, per row of features:
        the action's answer chance (:meth:`answer_probability`) times the no-action chance of not paying within
        ``horizon`` (an answer adds cash only where the debt would not have been paid anyway).

        ``X`` holds the model's features (:meth:`state_features`); one column per arm; ``horizon`` one of
        ``horizons`` (default the longest).
        """
        self._check_fitted()
        hz = horizon or self.horizons[-1]
        if hz not in self.outcome_models_:
            raise ParameterError(f"uplift: horizon {hz} is not one of the fitted horizons {self.horizons}.")
        unpaid = 1.0 - _predict(self.outcome_models_[hz], X, "none")
        answer = self.answer_probability(X, arms)
        within = self.answered_within(hz)
        in_time = {a: within.get(a.split("/")[0], 1.0) for a in answer.columns}
        return answer.mul(unpaid, axis=0).mul(pd.Series(in_time), axis=1)

    def answered_within(self, days: int) -> dict[str, float]:
        """Per channel, the share of answers that pay within ``days`` of the action (from
        :attr:`response_windows_`: the excess payments of the window's days up to ``days``)."""
        self._check_fitted()
        out = {}
        for c, r in self.response_windows_.iterrows():
            window = list(range(int(r["first_day"]), int(r["last_day"]) + 1))
            excess = np.clip(r[window].to_numpy(dtype=np.float64), 1e-9, None)
            out[str(c)] = float(excess[np.array(window) <= days].sum() / excess.sum())
        return out

    def state_features(self, rows: pd.DataFrame, customer_features: pd.DataFrame) -> pd.DataFrame:
        """The model's features of rows (``invoice_id``, ``customer_id``, ``day``, ``days_overdue``,
        ``open_amount``, ``earlier_actions``, ``contacts_7d``, ``country``) given each row's customer features."""
        return _state_features(rows, customer_features)

    def off_policy_value(self, choose: Any, horizon: int | None = None) -> pd.DataFrame:
        """IPS and doubly robust estimates of P(paid within ``horizon``) if the logged rows had followed a plan.

        Parameters
        ----------
        choose : callable
            Takes the training rows (:attr:`rows_`) and returns the chosen arm per row (``"none"`` or
            ``"channel/tone"``).

        Returns
        -------
        DataFrame
            Rows ``ips``, ``dr`` and ``logged`` (the logged policy's observed mean): ``value``, ``ci_low``,
            ``ci_high`` (cluster-robust by customer), and ``n_matched`` (rows where the plan did as logged). The
            value is of acting so on each row's day and then not again within the horizon: a later logged
            action censors a row, and the rows it did not censor are weighted by the inverse chance of that.
        """
        self._check_fitted()
        hz = horizon or self.horizons[0]
        rows = self.rows_
        chosen = np.asarray(choose(rows), dtype=object)
        bad = sorted(set(chosen) - set(self.arms_))
        if bad:
            raise ParameterError(f"off_policy_value: the plan chose arms {bad} the log never took; use {self.arms_}.")
        y = rows[f"paid_{hz}d"].to_numpy()
        w = rows[f"weight_{hz}d"].to_numpy()  # a later logged action censors a row's window
        match = (rows["arm"].to_numpy() == chosen) * w
        e = rows["propensity"].to_numpy()
        mu_chosen = np.zeros(len(rows))
        for a in self.arms_:
            sel = chosen == a
            mu_chosen[sel] = rows.loc[sel, f"mu_{hz}d_{a}"].to_numpy()
        mu_logged = np.zeros(len(rows))
        for a in self.arms_:
            sel = rows["arm"].to_numpy() == a
            mu_logged[sel] = rows.loc[sel, f"mu_{hz}d_{a}"].to_numpy()
        cluster = pd.factorize(rows["customer_id"])[0]
        z = norm.ppf(0.5 + self.level / 2)
        out = {}
        for name, v in (
            ("ips", match * y / e),
            ("dr", mu_chosen + match * (y - mu_logged) / e),
            ("logged", y),
        ):
            m, se = _cluster_mean(v, cluster)
            out[name] = {"value": m, "ci_low": m - z * se, "ci_high": m + z * se, "n_matched": int((match > 0).sum())}
        return pd.DataFrame(out).T
