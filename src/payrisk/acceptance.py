"""Customer acceptance: P(a payment problem within a year) for a prospect or a new customer from what is known of
it before its first invoice, moving to its own payment behaviour as that history grows.

Three models, fitted out of time on the customers a ledger accepted:

- the **attribute model** reads the profile (:func:`payrisk.features.customer_profile`: age of the business,
  requested limit, the latest external score and its change, and the customer's categories, each encoded as the
  smoothed problem rate of earlier customers sharing it);
- the **history model** reads the payment history (:func:`payrisk.features.customer_features`);
- the **credibility blend** weighs the two on the log-odds scale by ``z = n / (n + k)``, with ``n`` the
  customer's invoices so far and ``k`` learned: a new customer is its attributes, an old one mostly its
  behaviour, with no switch at any count (``k`` and the weights are fitted on every training row with both
  models' log-odds cross-fitted by customer, so the result is a calibrated probability at every stage).

The problem is :func:`payrisk.labels.customer_problem` with ``overdue_days=60`` and ``horizon_days=365``: an
invoice 60 days overdue, a missed plan instalment or a hand-over within a year.

Examples
--------
>>> import payrisk as pr
>>> ledger = pr.datasets.make_ledger(n_customers=600, seed=0)
>>> model = AcceptanceModel(n_estimators=40).fit(ledger, "2023-12-31")
>>> new = acceptance_cutoffs(ledger.as_of("2024-06-30"), "2024-06-30", stages=(0,))
>>> p = model.predict(ledger.as_of("2024-06-30"), new)
>>> bool(p["p_problem_12m"].between(0, 1).all()), bool((p["history_weight"] == 0).all())
(True, True)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from payrisk import features, labels
from payrisk.errors import ModelFileError, NotFittedError, ParameterError
from payrisk.ledger import Ledger, to_date
from payrisk.models import CustomerProblemClassifier

__all__ = ["AcceptanceModel", "acceptance_cutoffs", "accepted_on"]

#: a customer whose first day in the data comes this soon after the ledger's first invoice may have been a
#: customer before the data begins: it is not read as newly accepted
_SETTLE_DAYS = 90
_K_GRID = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
_EPS = 1e-6
_FOLDS = 3
_INVOICE_STAGES = tuple(range(1, 13))  #: training rows on the issue day of the customer's 1st to 12th invoice
_FORMAT, _FORMAT_VERSION = "payrisk-acceptance", 1
_FOLD_KEY = "payrisk-accept-1"  #: the blend's folds by customer (16 characters: pandas' hash key)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def _category(values: pd.Series) -> pd.Series:
    """A category column as text, a missing value as its own category."""
    return values.astype("str").fillna("__missing__")


def _mean_probability(models: list[Any], X: pd.DataFrame) -> np.ndarray:
    """The mean log-odds of the fold models, as a probability."""
    z = np.mean([_logit(m.predict_proba(X)[:, 1]) for m in models], axis=0)
    return 1.0 / (1.0 + np.exp(-z))


def accepted_on(ledger: Ledger) -> pd.Series:
    """Each customer's acceptance day: ``created_date``, else the day of its first invoice; only customers
    accepted at least 90 days after the ledger's first invoice (earlier ones may predate the data).

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=100, seed=0)
    >>> start = accepted_on(ledger)
    >>> bool((start >= ledger.invoices["issue_date"].min() + pd.Timedelta(days=90)).all())
    True
    """
    inv = ledger.invoices
    first = inv.groupby("customer_id")["issue_date"].min()
    cust = ledger.customers.drop_duplicates("customer_id").set_index("customer_id")
    day = cust["created_date"].reindex(first.index.union(cust.index))
    day = day.fillna(first.reindex(day.index))
    if not len(inv):
        return day.iloc[:0]
    start = inv["issue_date"].min() + pd.Timedelta(days=_SETTLE_DAYS)
    return day.loc[day >= start].rename("accepted_on")


def acceptance_cutoffs(
    ledger: Ledger, as_of: Any, stages: tuple[int, ...] = (0, 3, 6, 12), every_days: int | None = None
) -> pd.DataFrame:
    """The days a customer is looked at: its acceptance (stage 0: the end of the day before it was accepted, what
    was known before its first invoice) and the issue day of its ``k``-th invoice for each ``k`` in ``stages``, or
    (``every_days``) every so many days after that; up to ``as_of``.

    Returns
    -------
    DataFrame
        ``customer_id``, ``as_of`` (the end of the day looked at), ``stage`` (invoices at the cutoff for the
        invoice stages, months since acceptance otherwise).

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=200, seed=0)
    >>> cut = acceptance_cutoffs(ledger, "2024-06-30")
    >>> sorted(cut["stage"].unique().tolist())
    [0, 3, 6, 12]
    """
    day = to_date(as_of, "as_of")
    snap = ledger.as_of(day)
    start = accepted_on(snap) - pd.Timedelta(days=1)  # the end of the day before: nothing invoiced yet
    parts = []
    if every_days is not None:
        if every_days < 1:
            raise ParameterError(f"acceptance_cutoffs: every_days must be a positive number of days; got {every_days}.")
        months = np.arange(0, int((day - start.min()).days // every_days) + 1 if len(start) else 0)
        for m in months:
            when = start + pd.Timedelta(days=int(m * every_days))
            when = when.loc[when <= day]
            parts.append(pd.DataFrame({"customer_id": when.index, "as_of": when.to_numpy(), "stage": int(m)}))
    else:
        inv = snap.invoices.loc[snap.invoices["customer_id"].isin(start.index)].sort_values("issue_date")
        nth = inv.groupby("customer_id").cumcount() + 1
        for k in stages:
            if k == 0:
                parts.append(pd.DataFrame({"customer_id": start.index, "as_of": start.to_numpy(), "stage": 0}))
                continue
            at = inv.loc[nth == k].drop_duplicates("customer_id")
            issued = at["issue_date"].to_numpy()
            parts.append(pd.DataFrame({"customer_id": at["customer_id"].to_numpy(), "as_of": issued, "stage": int(k)}))
    if not parts:
        return pd.DataFrame({"customer_id": pd.Series(dtype="str"), "as_of": pd.Series(dtype="datetime64[ns]"),
                             "stage": pd.Series(dtype="int64")})  # fmt: skip
    out = pd.concat(parts, ignore_index=True)
    return out.astype({"customer_id": "str"}).reset_index(drop=True)


class AcceptanceModel(BaseEstimator):
    """P(a payment problem within a year) of a prospect or customer, from its profile and, as it grows, its history.

    Parameters
    ----------
    horizon_days : int, default 365
    overdue_days : int, default 60
        The problem: an invoice this many days overdue (or a missed instalment, or a hand-over) within
        ``horizon_days`` of the day looked at.
    every_days : int, default 30
        Training rows: each accepted customer at acceptance and every ``every_days`` after, while its outcome is
        known at the fit date.
    history_months : int, default 36
        Only customers accepted in this many months before the fit date are learned from.
    source : str, optional
        Whose ratings to read (default the most frequent source).
    n_estimators, max_depth : int
        Of both gradient-boosting models.
    smoothing : float, default 20.0
        A category's problem rate is shrunk towards the portfolio's as if it had this many more customers.
    seed : int, default 0
    device : {"cpu", "cuda"}, default "cpu"
        Where XGBoost grows both models' trees.

    Attributes
    ----------
    attribute_models_, history_models_ : list of CustomerProblemClassifier
        One per fold of customers: each row of the blend was scored by the models that did not see its customer,
        and a new row is scored by their mean log-odds.
    category_rates_ : dict
        Per category column, the smoothed problem rate of each value (and ``__other__`` for unseen values).
    credibility_k_ : float
        ``k`` of ``z = n / (n + k)``.
    blend_coef_ : dict
        The blend's intercept and weights on the log-odds of the two models, with and without ``z``.
    fit_report_ : dict
        Rows, customers and problem share of the training rows.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> risky = rng.random(600) < 0.3  # an application table: no ledger needed with fit_rows
    >>> attributes = pd.DataFrame({"age_years": np.where(risky, 3.0, 12.0) + rng.normal(0, 4, 600),
    ...                            "form": np.where(risky & (rng.random(600) < 0.7), "sole", "limited")})
    >>> history = pd.DataFrame({"late_share": np.where(risky, 0.6, 0.1) + rng.normal(0, 0.2, 600)})
    >>> y = (rng.random(600) < np.where(risky, 0.6, 0.1)).astype(int)
    >>> model = AcceptanceModel(n_estimators=30).fit_rows(attributes, history, rng.integers(0, 12, 600), y,
    ...                                                   customers=np.arange(600))
    >>> p = model.predict_rows(attributes, history, np.zeros(600))
    >>> bool(p["p_problem_12m"][risky].mean() > p["p_problem_12m"][~risky].mean())
    True
    """

    def __init__(
        self,
        horizon_days: int = 365,
        overdue_days: int = 60,
        every_days: int = 30,
        history_months: int = 36,
        source: str | None = None,
        n_estimators: int = 300,
        max_depth: int = 3,
        smoothing: float = 20.0,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        self.horizon_days = horizon_days
        self.overdue_days = overdue_days
        self.every_days = every_days
        self.history_months = history_months
        self.source = source
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.smoothing = smoothing
        self.seed = seed
        self.device = device

    # -- rows --------------------------------------------------------------------------------------------
    def training_rows(self, ledger: Ledger, as_of: Any) -> pd.DataFrame:
        """The accepted customers at acceptance, every ``every_days`` after and on the issue day of each of their
        first 12 invoices, whose outcome over the horizon is known at ``as_of`` and who were not a problem at the
        cutoff, with ``problem``."""
        day = to_date(as_of, "as_of")
        snap = ledger.as_of(day)
        known = day - pd.Timedelta(days=self.horizon_days)
        # every `every_days` after acceptance, and on the day of each of the first invoices: the days a customer is
        # scored on (a new invoice is an order to accept)
        cut = pd.concat([acceptance_cutoffs(snap, known, every_days=self.every_days),
                         acceptance_cutoffs(snap, known, stages=_INVOICE_STAGES)], ignore_index=True)  # fmt: skip
        cut = cut.drop_duplicates(["customer_id", "as_of"]).reset_index(drop=True)
        first = day - pd.DateOffset(months=self.history_months)
        cut = cut.loc[cut["as_of"] >= first].reset_index(drop=True)
        y = labels.customer_problem(snap, cut, as_of=day, horizon_days=self.horizon_days,
                                    overdue_days=self.overdue_days)  # fmt: skip
        keep = (y["known"] & ~y["already"]).to_numpy()
        return cut.loc[keep].assign(problem=y["problem"].to_numpy()[keep]).reset_index(drop=True)

    def features(self, ledger: Ledger, cutoffs: pd.DataFrame) -> pd.DataFrame:
        """The profile (numbers and raw categories) and the history features of each cutoff row, with
        ``n_invoices`` (invoices issued by the cutoff)."""
        P = features.customer_profile(ledger, cutoffs[["customer_id", "as_of"]], source=self.source)
        C = features.customer_features(ledger, cutoffs[["customer_id", "as_of"]])
        out = pd.concat([P.reset_index(), C.drop(columns="as_of").reset_index(drop=True)], axis=1)
        out["n_invoices"] = out["n_invoices"].fillna(0.0)
        return out.set_index(cutoffs.index)

    def _split(self, X: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """A ledger's feature rows as the model's two tables: the profile (numbers and categories; the granted
        limit left out, as it follows the risk already seen) and the history."""
        numbers = [c for c in features.PROFILE_NUMBERS if c != "credit_limit"]
        return X[[*numbers, *features.PROFILE_CATEGORIES]], X[features.feature_names("customer")]

    # -- encoding ----------------------------------------------------------------------------------------
    def _rates(self, X: pd.DataFrame, y: np.ndarray) -> dict[str, dict[str, float]]:
        base = float(np.mean(y)) if len(y) else 0.0
        out = {}
        for c in self.category_columns_:
            g = pd.DataFrame({"v": _category(X[c]), "y": y}).groupby("v")["y"]
            rate = (g.sum() + self.smoothing * base) / (g.size() + self.smoothing)
            out[c] = {str(k): float(v) for k, v in rate.items()} | {"__other__": base}
        return out

    @staticmethod
    def _encode(X: pd.DataFrame, rates: dict[str, dict[str, float]]) -> pd.DataFrame:
        cols = {}
        for c, table in rates.items():
            cols[f"{c}_risk"] = _category(X[c]).map(table).fillna(table["__other__"]).to_numpy(dtype=np.float64)
        return pd.DataFrame(cols, index=X.index)

    def _attribute_matrix(self, attributes: pd.DataFrame, encoded: pd.DataFrame) -> pd.DataFrame:
        numbers = attributes.drop(columns=self.category_columns_).astype(np.float64)
        return pd.concat([numbers, encoded], axis=1)

    def _model(self) -> CustomerProblemClassifier:
        # no calibration of their own: the blend is the calibration, fitted on every stage's rows
        return CustomerProblemClassifier(n_estimators=self.n_estimators, max_depth=self.max_depth,
                                         random_state=self.seed, calibration="none", device=self.device)  # fmt: skip

    def _encoded_rows(self, X: pd.DataFrame, y: np.ndarray, fold: np.ndarray) -> pd.DataFrame:
        """The training rows' category rates, cross-fitted by customer (a customer's own outcome never sets its
        own category's rate)."""
        out = [self._encode(X.loc[fold == k], self._rates(X.loc[fold != k], y[fold != k])) for k in range(5)]
        return pd.concat(out).reindex(X.index)

    # -- fit ---------------------------------------------------------------------------------------------
    def fit(self, ledger: Ledger, as_of: Any) -> AcceptanceModel:
        """Learn from the customers the ledger accepted, out of time: every outcome is read at ``as_of``."""
        if self.every_days < 1 or self.horizon_days < 1 or self.overdue_days < 0:
            raise ParameterError(
                f"AcceptanceModel: every_days and horizon_days must be positive and overdue_days not negative; got "
                f"{self.every_days}, {self.horizon_days}, {self.overdue_days}."
            )
        day = to_date(as_of, "as_of")
        rows = self.training_rows(ledger, day)
        y = rows["problem"].to_numpy(dtype=np.float64)
        if len(rows) < 200 or y.sum() < 20 or y.sum() > len(y) - 20:
            first = ledger.invoices["issue_date"].min()
            since = "" if pd.isna(first) else f" (after {(first + pd.Timedelta(days=_SETTLE_DAYS)).date()})"
            raise ParameterError(
                f"AcceptanceModel.fit: {rows['customer_id'].nunique()} customers accepted{since} with their "
                f"{self.horizon_days} days after it known by {day.date()}, {len(rows)} customer-months with "
                f"{int(y.sum())} problems: at least 200 rows and 20 of each outcome are needed. A customer counts as "
                f"accepted on its created_date (else its first invoice) at least {_SETTLE_DAYS} days after the "
                "ledger's first invoice; give created_date, a longer ledger or a later as_of."
            )
        X = self.features(ledger.as_of(day), rows)
        attributes, history = self._split(X)
        self.fit_rows(attributes, history, X["n_invoices"], y, X["customer_id"], time=X["as_of"])
        self.as_of_: pd.Timestamp | None = day
        self.fit_report_ |= {"rows": len(rows), "customers": int(rows["customer_id"].nunique())}
        return self

    def fit_rows(
        self, attributes: pd.DataFrame, history: pd.DataFrame, n_invoices: Any, y: Any, customers: Any, time: Any = None
    ) -> AcceptanceModel:
        """The same models on any table of rows (e.g. an application data set without a ledger).

        Parameters
        ----------
        attributes : DataFrame
            What is known before any payment: number columns, and text (or category) columns that are encoded as
            the smoothed problem rate of the rows sharing their value (cross-fitted by customer).
        history : DataFrame
            The payment-history numbers (NaN where there is none yet).
        n_invoices : array-like
            How much history each row has (invoices, statements or months so far): the blend's evidence count.
        y : array-like
            1 when the row's customer had a problem within the horizon, else 0.
        customers : array-like
            The customer of each row: folds keep a customer's rows together.
        time : array-like, optional
            The row's day: the models' early stopping uses the latest rows (default: the rows' order).
        """
        y = np.asarray(y, dtype=np.float64)
        n = np.asarray(n_invoices, dtype=np.float64)
        ids = pd.Series(np.asarray(customers)).astype("str").to_numpy(dtype=object)
        attributes, history = attributes.reset_index(drop=True), history.reset_index(drop=True)  # by position
        if not (len(attributes) == len(history) == len(y) == len(n) == len(ids)):
            raise ParameterError("AcceptanceModel.fit_rows: attributes, history, n_invoices, y and customers differ "
                                 "in length.")  # fmt: skip
        if np.isnan(y).any() or not set(np.unique(y)) <= {0.0, 1.0} or len(np.unique(y)) < 2:
            raise ParameterError("AcceptanceModel.fit_rows: y must hold both outcomes, 0 and 1, and nothing else.")
        self.category_columns_ = [c for c in attributes.columns if not pd.api.types.is_numeric_dtype(attributes[c])]
        when = None if time is None else pd.Series(np.asarray(time))
        enc = self._encoded_rows(attributes, y, (pd.util.hash_array(ids) % np.uint64(5)).astype(int))
        A = self._attribute_matrix(attributes, enc)
        H = history.astype(np.float64)
        # the blend: each row's log-odds from both models fitted without its customer (cross-fitted), on every
        # stage of every customer (a blend fitted on the latest rows alone would see few customers at acceptance)
        fold = pd.util.hash_array(ids, hash_key=_FOLD_KEY) % np.uint64(_FOLDS)
        a, h = np.zeros(len(y)), np.zeros(len(y))
        self.attribute_models_, self.history_models_ = [], []
        for k in range(_FOLDS):
            out = fold == k
            t = None if when is None else when.loc[~out]
            self.attribute_models_.append(self._model().fit(A.loc[~out], y[~out], time=t))
            self.history_models_.append(self._model().fit(H.loc[~out], y[~out], time=t))
            a[out] = self.attribute_models_[-1].predict_proba(A.loc[out])[:, 1]
            h[out] = self.history_models_[-1].predict_proba(H.loc[out])[:, 1]
        # the blend's inputs at prediction are the fold models' mean log-odds: as strong as the ones it was fitted
        # on (one model refitted on every row would be surer than the blend's weights expect)
        self.credibility_k_, self.blend_coef_ = self._fit_blend(_logit(a), _logit(h), n, y)
        self.category_rates_ = self._rates(attributes, y)
        self.fit_report_ = {"rows": len(y), "problem_share": float(y.mean())}
        return self

    def _fit_blend(self, a: np.ndarray, h: np.ndarray, n: np.ndarray, y: np.ndarray) -> tuple[float, dict]:
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import log_loss

        best: tuple[float, float, Any] | None = None
        for k in _K_GRID:
            Z = self._blend_inputs(a, h, n, k)
            lr = LogisticRegression(C=10.0, max_iter=2000).fit(Z, y)
            loss = log_loss(y, lr.predict_proba(Z)[:, 1], labels=[0, 1])
            if best is None or loss < best[0]:
                best = (loss, k, lr)
        assert best is not None
        _, k, lr = best
        names = ["attributes", "history", "attributes_z", "history_z", "z"]
        return float(k), {"intercept": float(lr.intercept_[0])} | dict(zip(names, map(float, lr.coef_[0]), strict=True))

    @staticmethod
    def _blend_inputs(a: np.ndarray, h: np.ndarray, n: np.ndarray, k: float) -> np.ndarray:
        z = n / (n + k)
        return np.column_stack([a, h, z * a, z * h, z])

    # -- predict -----------------------------------------------------------------------------------------
    def _weights(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The blend's weight on each model's log-odds at history weight ``z``."""
        c = self.blend_coef_
        return c["attributes"] + c["attributes_z"] * z, c["history"] + c["history_z"] * z

    def _check_fitted(self) -> None:
        if not hasattr(self, "blend_coef_"):
            raise NotFittedError("This AcceptanceModel is not fitted yet; call fit(ledger, as_of) first.")

    def predict(self, ledger: Ledger, cutoffs: pd.DataFrame) -> pd.DataFrame:
        """P(a problem within the horizon) of each (``customer_id``, ``as_of``) row, with its parts.

        Returns
        -------
        DataFrame
            In the order of ``cutoffs``: ``customer_id``, ``as_of``, ``n_invoices``, ``p_attributes`` (the profile
            alone), ``p_history`` (the payment history alone), ``history_weight`` (``z``: 0 for a prospect, near
            1 for a long history) and ``p_problem_12m`` (the credibility blend).
        """
        self._check_fitted()
        X = self.features(ledger, cutoffs)
        attributes, history = self._split(X)
        p = self.predict_rows(attributes, history, X["n_invoices"])
        return pd.concat([X[["customer_id", "as_of", "n_invoices"]], p], axis=1).set_axis(cutoffs.index)

    def predict_rows(self, attributes: pd.DataFrame, history: pd.DataFrame, n_invoices: Any) -> pd.DataFrame:
        """:meth:`predict` on tables of rows as :meth:`fit_rows` takes them: ``p_attributes``, ``p_history``,
        ``history_weight`` and ``p_problem_12m``, in the rows' order."""
        self._check_fitted()
        index = attributes.index
        attributes, history = attributes.reset_index(drop=True), history.reset_index(drop=True)  # by position
        A = self._attribute_matrix(attributes, self._encode(attributes, self.category_rates_))
        pa = _mean_probability(self.attribute_models_, A)
        ph = _mean_probability(self.history_models_, history.astype(np.float64))
        n = np.asarray(n_invoices, dtype=np.float64)
        z = n / (n + self.credibility_k_)
        wa, wh = self._weights(z)
        logit = self.blend_coef_["intercept"] + wa * _logit(pa) + wh * _logit(ph) + self.blend_coef_["z"] * z
        out = {"p_attributes": pa, "p_history": ph, "history_weight": z, "p_problem_12m": 1 / (1 + np.exp(-logit))}
        return pd.DataFrame(out, index=index)

    def reasons(self, ledger: Ledger, cutoffs: pd.DataFrame, n: int = 3, register: str = "collector") -> pd.DataFrame:
        """The ``n`` reasons that raise each row's risk most, from both models, in words.

        Each model's reasons (:func:`payrisk.explain.reason_codes`, contributions on its log-odds) count with the
        weight the blend gives that model at the row's history weight: a prospect's reasons are its profile, an
        old customer's mostly its payment behaviour. ``register="customer"`` gives only what may be said to the
        customer (its score, the age of its business, the limit it asked for, its own payments), never the
        rates of the groups it belongs to.

        Returns
        -------
        DataFrame
            In the order of ``cutoffs``: ``reason_1..n``, ``feature_1..n``, ``contribution_1..n`` (on the
            blend's log-odds).
        """
        from payrisk.explain import contributions, reason_codes

        self._check_fitted()
        X = self.features(ledger, cutoffs)
        attributes, history = self._split(X)
        n_inv = X["n_invoices"].to_numpy(dtype=np.float64)
        wa, wh = self._weights(n_inv / (n_inv + self.credibility_k_))
        wh = np.where(n_inv > 0, wh, 0.0)  # a prospect has no payment history to give reasons from
        parts = []
        A = self._attribute_matrix(attributes, self._encode(attributes, self.category_rates_))
        for models, M, w in ((self.attribute_models_, A, wa), (self.history_models_, history.astype(np.float64), wh)):
            phi = pd.concat([contributions(m, M) for m in models]).groupby(level=0, sort=False).mean()  # as scored
            r = reason_codes(models[0], M, n=n, register=register, contribs=phi)
            parts.append((r, np.clip(w, 0.0, None)))
        text = np.column_stack([r[f"reason_{i + 1}"].to_numpy(dtype=object) for r, _ in parts for i in range(n)])
        feat = np.column_stack([r[f"feature_{i + 1}"].to_numpy(dtype=object) for r, _ in parts for i in range(n)])
        size = np.column_stack([r[f"contribution_{i + 1}"].to_numpy(dtype=np.float64) * w
                                for r, w in parts for i in range(n)])  # fmt: skip
        size = np.where(np.isnan(size) | (size <= 0), -np.inf, size)
        order = np.argsort(-size, axis=1, kind="stable")[:, :n]
        rows = np.arange(len(X))[:, None]
        best = size[rows, order]
        has = np.isfinite(best)
        out: dict[str, Any] = {}
        for i in range(n):
            out[f"reason_{i + 1}"] = np.where(has[:, i], text[rows[:, 0], order[:, i]], "")
        for i in range(n):
            out[f"feature_{i + 1}"] = np.where(has[:, i], feat[rows[:, 0], order[:, i]], "")
        for i in range(n):
            out[f"contribution_{i + 1}"] = np.where(has[:, i], best[:, i], np.nan)
        return pd.DataFrame(out, index=cutoffs.index)

    # -- persistence ---------------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the model into folder ``path``: each fold's two boosters (UBJSON + JSON metadata), the blend and the
        category rates in ``acceptance.json``, and every file's SHA-256 in ``MANIFEST.json``; never pickle.

        Examples
        --------
        >>> import tempfile, numpy as np, pandas as pd
        >>> rng = np.random.default_rng(1)
        >>> A, H = pd.DataFrame({"a": rng.random(400)}), pd.DataFrame({"h": rng.random(400)})
        >>> y = (rng.random(400) < A["a"]).astype(int)
        >>> model = AcceptanceModel(n_estimators=20).fit_rows(A, H, np.zeros(400), y, np.arange(400))
        >>> back = AcceptanceModel.load(model.save(tempfile.mkdtemp() + "/acceptance"))
        >>> bool(np.allclose(back.predict_rows(A, H, np.zeros(400)), model.predict_rows(A, H, np.zeros(400))))
        True
        """
        import json

        from payrisk._manifest import write_manifest
        from payrisk._version import __version__

        self._check_fitted()
        fitted_on = getattr(self, "as_of_", None)  # fit_rows has no as-of date
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for k, (a, h) in enumerate(zip(self.attribute_models_, self.history_models_, strict=True)):
            a.save(path / f"attributes_{k}")
            h.save(path / f"history_{k}")
        doc = {
            "format": _FORMAT, "format_version": _FORMAT_VERSION, "payrisk_version": __version__,
            "params": self.get_params(), "folds": len(self.attribute_models_),
            "credibility_k": self.credibility_k_, "blend": self.blend_coef_,
            "category_columns": self.category_columns_, "category_rates": self.category_rates_,
            "as_of": None if fitted_on is None else str(fitted_on.date()),
            "fit_report": self.fit_report_,
        }  # fmt: skip
        (path / "acceptance.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
        write_manifest(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> AcceptanceModel:
        """Read a model written by :meth:`save`; a folder edited, incomplete or not written by payrisk is refused."""
        import json

        from payrisk._manifest import check_manifest

        path = Path(path)
        if not (path / "acceptance.json").is_file():
            raise ModelFileError(f"{path}: no acceptance.json; is this a folder written by AcceptanceModel.save()?")
        check_manifest(path)
        try:
            doc = json.loads((path / "acceptance.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelFileError(f"{path}/acceptance.json: not readable JSON ({exc}).") from None
        if doc.get("format") != _FORMAT or doc.get("format_version") != _FORMAT_VERSION:
            raise ModelFileError(f"{path}/acceptance.json: not a payrisk acceptance model of format version "
                                 f"{_FORMAT_VERSION}.")  # fmt: skip
        params = dict(doc.get("params") or {})
        unknown = sorted(set(params) - set(cls().get_params()))
        if unknown:
            raise ModelFileError(f"{path}/acceptance.json: unknown parameters {unknown}; not written by this payrisk.")
        model = cls(**params)
        folds = int(doc["folds"])
        model.attribute_models_ = [CustomerProblemClassifier.load(path / f"attributes_{k}") for k in range(folds)]
        model.history_models_ = [CustomerProblemClassifier.load(path / f"history_{k}") for k in range(folds)]
        model.credibility_k_ = float(doc["credibility_k"])
        model.blend_coef_ = {str(k): float(v) for k, v in doc["blend"].items()}
        model.category_columns_ = list(doc["category_columns"])
        model.category_rates_ = {
            str(c): {str(k): float(v) for k, v in t.items()} for c, t in doc["category_rates"].items()
        }
        model.as_of_ = None if doc.get("as_of") is None else pd.Timestamp(doc["as_of"])
        model.fit_report_ = dict(doc.get("fit_report") or {})
        return model
