"""Why this score? Per-row TreeSHAP contributions and reason codes in plain words.

Contributions are on the model's margin: the log-odds of the uncalibrated booster for the classifiers (the
calibration map is monotone, so the order and sign of the reasons hold for the calibrated probability), and
``log(days + 1)`` for :class:`~payrisk.models.PaymentTimeModel` (contributions add up to the log of the predicted
time, not to the time itself). Each row's contributions plus the ``bias`` column sum to that margin.

Three methods, chosen by speed and agreement (``benchmarks/bench_explain.py``):

- ``"exact"``: XGBoost's own TreeSHAP (``pred_contribs=True``), multithreaded C++; the default.
- ``"approx"``: XGBoost's Saabas approximation (``approx_contribs=True``): the path contributions of each tree, much
  faster on deep trees, the same sum; for long worklists where only the order of the reasons matters.
- ``"shap"``: ``shap.TreeExplainer`` on the same booster, for cross-checking (tests assert that it agrees with
  ``"exact"``).

Examples
--------
>>> import payrisk as pr
>>> ledger = pr.datasets.make_ledger(n_customers=200, seed=0)
>>> X = pr.features.invoice_features(ledger, "issue_date")
>>> y = pr.labels.late_payment(ledger, mature_only=True)
>>> clf = pr.models.LatePaymentClassifier(n_estimators=50).fit(X.loc[y.index], y)
>>> phi = contributions(clf, X.iloc[:5])
>>> bool(np.allclose(phi.sum(axis=1), margin(clf, X.iloc[:5]), atol=1e-4))
True
>>> reasons = reason_codes(clf, X.iloc[:5], n=2)
>>> list(reasons.columns)
['reason_1', 'reason_2', 'feature_1', 'feature_2', 'contribution_1', 'contribution_2']
"""

from __future__ import annotations

import re
import string
from typing import Any

import numpy as np
import pandas as pd

from payrisk._device import check_device
from payrisk.errors import NotFittedError, ParameterError

__all__ = ["CUSTOMER_PHRASES", "contributions", "global_importance", "margin", "reason_codes"]

#: The customer register: plain facts about the account, nothing that blames and no internal jargon. Features
#: that describe behaviour (lateness shares, reminder response, ...) have no customer phrase and are never shown
#: to a customer. Keys: feature name -> (phrase when the value raises the risk, phrase when it lowers it).
CUSTOMER_PHRASES: dict[str, tuple[str, str]] = {
    "amount": ("the invoice is for {value}", "the invoice is for {value}"),
    "days_overdue": ("the invoice is {value:.0f} days past its due date", "the invoice is not yet due"),
    "days_to_due": ("the invoice is due in {value:.0f} days", "the due date is near or past"),
    "paid_share": ("{value:.0%} of the invoice is already paid, thank you", "we have not yet received a payment"),
    "n_reminders": ("we have sent {value:.0f} reminders about this invoice", "this is our first reminder"),
    "disputed": ("the invoice is under review with our team", "there is no open question about the invoice"),
    "open_amount": ("{value} is open on your account", "nothing else is open on your account"),
    "n_open": ("{value:.0f} other invoices are open on your account", "no other invoice is open"),
    "overdue_amount": ("{value} is past due on {n_overdue:.0f} other invoices", "no other invoice is past due"),
    "n_overdue": ("{value:.0f} other invoices are past due", "no other invoice is past due"),
    "max_days_overdue": ("an invoice on your account is {value:.0f} days past due", "no invoice is past due"),
    "installments_missed": ("{value:.0f} instalments of your plan are open", "your plan instalments are paid"),
    "installments_due": ("{value:.0f} instalments of your plan are due", "no instalment is due yet"),
    "installment_amount": ("your instalments are {value}", "your instalments are {value}"),
    # what acceptance may say (never the rates of the groups a customer belongs to)
    "score": ("the credit score we received is {value:.0f}", "the credit score we received is {value:.0f}"),
    "score_change_365d": ("your credit score changed by {value:+.0f} points in a year",
                          "your credit score changed by {value:+.0f} points in a year"),
    "company_age_years": ("the business was founded {value:.0f} years ago",
                          "the business was founded {value:.1f} years ago"),
    "requested_limit": ("you asked for a credit limit of {value}", "you asked for a credit limit of {value}"),
    "days_since_accepted": ("you have been a customer for {value:.0f} days",
                            "you have been a customer for {value:.0f} days"),
}  # fmt: skip
_METHODS = ("exact", "approx", "shap")


def _booster(model: Any) -> Any:
    if not hasattr(model, "booster_"):
        raise NotFittedError(f"This {type(model).__name__} is not fitted yet; fit it before asking for reasons.")
    return model.booster_


def _dmatrix(model: Any, X: pd.DataFrame) -> Any:
    import xgboost as xgb

    return xgb.DMatrix(model.matrix(X), feature_names=list(model.feature_names_in_))


def margin(model: Any, X: pd.DataFrame) -> np.ndarray:
    """The raw model output that contributions add up to (log-odds, or log(days + 1) for payment time).

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=150, seed=0)
    >>> X = pr.features.invoice_features(ledger, "issue_date")
    >>> y = pr.labels.late_payment(ledger, mature_only=True)
    >>> clf = pr.models.LatePaymentClassifier(n_estimators=30).fit(X.loc[y.index], y)
    >>> m = margin(clf, X.iloc[:50])
    >>> m.shape
    (50,)
    >>> p = clf.predict_proba(X.iloc[:50])[:, 1]
    >>> bool(np.all(np.diff(p[np.argsort(m)]) >= -1e-9))  # a higher margin, a higher calibrated P(late)
    True
    """
    booster = _booster(model)
    out = booster.predict(_dmatrix(model, X), output_margin=True, iteration_range=(0, model.best_iteration_ + 1))
    return np.asarray(out, dtype=np.float64)


def contributions(model: Any, X: pd.DataFrame, method: str = "exact", device: str | None = None) -> pd.DataFrame:
    """Per-row contributions of each feature to the margin, plus a ``bias`` column; rows sum to :func:`margin`.

    Parameters
    ----------
    model : LatePaymentClassifier, PaymentTimeModel or InstallmentAdherenceClassifier (fitted)
    X : DataFrame
        Feature rows with (at least) the columns the model was fitted on.
    method : {"exact", "approx", "shap"}
        See the module docstring.
    device : {"cpu", "cuda"}, optional
        Where XGBoost computes ``"exact"`` and ``"approx"`` (on ``"cuda"``: its GPU TreeSHAP); default the model's
        own ``device``.

    Returns
    -------
    DataFrame
        Index of ``X``; one column per model feature, then ``bias``.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=150, seed=0)
    >>> X = pr.features.invoice_features(ledger, "issue_date")
    >>> y = pr.labels.late_payment(ledger, mature_only=True)
    >>> clf = pr.models.LatePaymentClassifier(n_estimators=30).fit(X.loc[y.index], y)
    >>> phi = contributions(clf, X.iloc[:5])
    >>> phi.columns[-1], phi.shape[0]
    ('bias', 5)
    >>> bool(np.allclose(phi.sum(axis=1), margin(clf, X.iloc[:5]), atol=1e-4))  # rows add up to the margin
    True
    """
    if method not in _METHODS:
        raise ParameterError(f"The 'method' parameter must be one of {_METHODS}. Got {method!r}.")
    booster = _booster(model)
    own = getattr(model, "device", "cpu")
    if device is not None and device != own and method != "shap":
        check_device(device, "contributions")
        booster = booster.copy()
        booster.set_param({"device": device})
    names = [*model.feature_names_in_, "bias"]
    rng = (0, model.best_iteration_ + 1)
    if method == "shap":
        import shap

        sliced = booster[rng[0] : rng[1]]
        explainer = shap.TreeExplainer(sliced)
        values = explainer.shap_values(model.matrix(X))
        base = np.broadcast_to(np.asarray(explainer.expected_value, dtype=np.float64).ravel()[:1], (len(X), 1))
        out = np.column_stack([values, base])
    else:
        d = _dmatrix(model, X)
        out = booster.predict(d, pred_contribs=True, approx_contribs=method == "approx", iteration_range=rng)
    return pd.DataFrame(np.asarray(out, dtype=np.float64), index=X.index, columns=names)


def global_importance(model: Any, X: pd.DataFrame, method: str = "exact") -> pd.Series:
    """Mean absolute contribution of each feature over the rows of ``X``, largest first.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=150, seed=0)
    >>> X = pr.features.invoice_features(ledger, "issue_date")
    >>> y = pr.labels.late_payment(ledger, mature_only=True)
    >>> clf = pr.models.LatePaymentClassifier(n_estimators=30).fit(X.loc[y.index], y)
    >>> imp = global_importance(clf, X.iloc[:200])
    >>> imp.name, bool(imp.is_monotonic_decreasing), "bias" in imp.index
    ('mean_abs_contribution', True, False)
    """
    phi = contributions(model, X, method).drop(columns="bias")
    return phi.abs().mean().sort_values(ascending=False).rename("mean_abs_contribution")


# -- words --------------------------------------------------------------------------------------------------
def _money(value: float, currency: str | None) -> str:
    text = f"{value:,.0f}".replace(",", "\u202f")  # narrow no-break space: 12 400, readable in every locale
    return f"{text} {currency}" if currency else text


def _without_context(template: str) -> str:
    """The phrase without its clause about another feature ("... past due on {n_overdue} other invoices")."""
    return template.split(" on {")[0].split(" across {")[0]


def _fill(template: str, values: np.ndarray, unit: str, context: dict[str, np.ndarray], currency: Any) -> list[str]:
    """``template`` filled for each value: money with its currency, ``{other_feature}`` from ``context``."""
    fields = [f for _, f, _, _ in string.Formatter().parse(template) if f and f != "value"]
    if any(f not in context for f in fields):
        template, fields = _without_context(template), []  # drop what the rows lack
    spec = {"share": ":.0%", "ratio": ":.1f"}.get(unit, ":.0f") if unit not in ("currency", "", "weekday") else ""
    template = template.replace("{value}", "{value" + spec + "}")
    if unit == "currency":
        template = template.replace("{value:,.0f}", "{value}")
        cur = currency if currency is not None else [None] * len(values)
        shown: list[Any] = [_money(v, c) for v, c in zip(values, cur, strict=True)]
    elif unit == "weekday":
        days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
        shown = [days[int(v) % 7] for v in values]
    else:
        shown = list(values)
    short = _without_context(template)
    out = []
    for k, v in enumerate(shown):
        ctx = {f: context[f][k] for f in fields}
        out.append(short.format(value=v) if any(np.isnan(x) for x in ctx.values()) else template.format(value=v, **ctx))
    return [_singular(t) for t in out]


def _singular(text: str) -> str:
    """ "1 other invoices are past due" -> "1 other invoice is past due"."""
    if not text.startswith("1 ") and " 1 " not in text:
        return text
    for plural, one in ((" invoices are", " invoice is"), (" invoices", " invoice"), (" instalments", " instalment")):
        text = text.replace("1 other" + plural, "1 other" + one).replace(" 1" + plural, " 1" + one)
        if text.startswith("1" + plural):
            text = "1" + one + text[len("1" + plural) :]
    return text


#: features that state one fact in different words: one reason is enough
_SAME_FACT = {
    "n_overdue": "overdue",
    "overdue_amount": "overdue",
    "max_days_overdue": "overdue",
    "n_open": "open",
    "open_amount": "open",
    "n_settled": "n_settled",
    "n_invoices": "n_settled",
}


def _family(name: str) -> str:
    """``days_late_mean_90d`` and ``days_late_max`` are one family, ``days_late``: one reason says it."""
    stem = re.sub(r"(_(mean|median|max|ewm))?(_\d+d)?$", "", name)
    return _SAME_FACT.get(name, _SAME_FACT.get(stem, stem))


def _distinct_families(score: np.ndarray, names: np.ndarray, n: int) -> np.ndarray:
    """Per row, the columns of the ``n`` best scores with no two features of one family (-1 where none is left)."""
    fam_codes, _ = pd.factorize(pd.Series([_family(str(c)) for c in names]))
    ranked = np.argsort(-score, axis=1, kind="stable")[:, : min(4 * n + 4, score.shape[1])]
    rows = np.arange(len(score))
    used = np.zeros((len(score), fam_codes.max() + 1 if len(fam_codes) else 1), dtype=bool)
    picked = np.full((len(score), n), -1, dtype=np.int64)
    filled = np.zeros(len(score), dtype=np.int64)
    for k in range(ranked.shape[1]):  # a few ranks, never a loop over rows
        col = ranked[:, k]
        fam = fam_codes[col]
        take = (filled < n) & ~used[rows, fam] & np.isfinite(score[rows, col])
        picked[rows[take], filled[take]] = col[take]
        used[rows[take], fam[take]] = True
        filled += take
    return picked  # -1: no reason for that slot


def _phrases(register: str) -> dict[str, tuple[str, str]]:
    from payrisk.features import registry

    if register == "customer":
        return CUSTOMER_PHRASES
    if register != "collector":
        raise ParameterError(f"The 'register' parameter must be 'collector' or 'customer'. Got {register!r}.")
    return {str(name): (row.reason_high, row.reason_low) for name, row in registry.iterrows()}  # index: feature names


def reason_codes(
    model: Any,
    X: pd.DataFrame,
    n: int = 3,
    register: str = "collector",
    method: str = "exact",
    contribs: pd.DataFrame | None = None,
    exclude: tuple[str, ...] = (),
) -> pd.DataFrame:
    """The ``n`` features that raise each row's risk most, in words, with the row's own values.

    A contribution "raises the risk" when it pushes towards late payment, a later payment date, or (for the
    adherence model, whose positive class is the good outcome) towards a broken plan. The phrase is the registry's
    ``reason_high`` when the value is at or above the feature's usual level (its training median,
    ``model.feature_medians_``) and ``reason_low`` when below (for features with a known risk direction that
    direction decides); ``register="customer"`` uses
    :data:`CUSTOMER_PHRASES` and skips behavioural features. Missing values (no history) give no reason, nor do
    the features in ``exclude`` (e.g. the mechanics of a payment-time model: ``days_to_due``, ``terms_days``).

    Returns
    -------
    DataFrame
        ``reason_1..n`` (text, empty when fewer reasons apply), ``feature_1..n``, ``contribution_1..n`` (on the
        margin, in the risk direction).

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=150, seed=0)
    >>> X = pr.features.invoice_features(ledger, "issue_date")
    >>> y = pr.labels.late_payment(ledger, mature_only=True)
    >>> clf = pr.models.LatePaymentClassifier(n_estimators=30).fit(X.loc[y.index], y)
    >>> reasons = reason_codes(clf, X.iloc[:5], n=2)
    >>> list(reasons.columns)
    ['reason_1', 'reason_2', 'feature_1', 'feature_2', 'contribution_1', 'contribution_2']
    >>> bool((reasons["contribution_1"].dropna() > 0).all())  # every reason raises the risk
    True
    """
    from payrisk.features import registry

    if not isinstance(n, int | np.integer) or n < 1:
        raise ParameterError(f"The 'n' parameter must be a positive integer. Got {n!r}.")
    phrases = _phrases(register)
    phi = (contribs if contribs is not None else contributions(model, X, method)).drop(columns="bias")
    risk = phi.to_numpy() * getattr(model, "risk_sign", 1)
    names = np.asarray(phi.columns)
    values = X[list(names)].to_numpy(dtype=np.float64)
    direction = registry["risk"].reindex(names).fillna(0).to_numpy()
    medians = pd.Series(getattr(model, "feature_medians_", np.full(len(model.feature_names_in_), np.nan)))
    typical = medians.set_axis(list(model.feature_names_in_)).reindex(names).to_numpy(dtype=np.float64)
    # a feature with a known risk direction is a reason only on its risky side ("paying later than it used to"),
    # never as an artefact of a non-monotone split ("paying earlier than it used to" raising the risk)
    with np.errstate(invalid="ignore"):
        side_ok = (direction == 0) | np.isnan(typical) | np.where(direction > 0, values > typical, values < typical)
    allowed = np.isin(names, [p for p in phrases if p not in exclude])
    usable = allowed[None, :] & ~np.isnan(values) & (risk > 0) & side_ok
    score = np.where(usable, risk, -np.inf)
    top = _distinct_families(score, names, n)
    currency = X["currency"].astype(str).to_numpy() if "currency" in X.columns else None
    units = registry["unit"].reindex(names).fillna("").to_numpy()
    rows = np.arange(len(phi))
    context = {name: values[:, c] for c, name in enumerate(names)}
    out: dict[str, Any] = {}
    for i in range(n):  # vectorised per reason slot; words are filled per group of (feature, high or low)
        j = top[:, i]
        has = j >= 0
        j = np.maximum(j, 0)
        best = np.where(has, score[rows, j], -np.inf)
        ok = np.isfinite(best)
        v = values[rows, j]
        high = np.where(direction[j] != 0, direction[j] > 0, v >= np.nan_to_num(typical[j], nan=-np.inf))
        text = np.full(len(rows), "", dtype=object)
        for jj, hh in set(zip(j[ok].tolist(), high[ok].tolist(), strict=True)):
            sel = ok & (j == jj) & (high == hh)
            template = phrases[names[jj]][0 if hh else 1]
            fields = {f for _, f, _, _ in string.Formatter().parse(template) if f and f in context}
            ctx = {f: context[f][sel] for f in fields}
            cur = None if currency is None else currency[sel]
            text[sel] = _fill(template, v[sel], units[jj], ctx, cur)
        out[f"reason_{i + 1}"] = text
        out[f"feature_{i + 1}"] = np.where(ok, names[j], "")
        out[f"contribution_{i + 1}"] = np.where(ok, best, np.nan)
    cols = [f"{k}_{i + 1}" for k in ("reason", "feature", "contribution") for i in range(n)]
    return pd.DataFrame({c: out[c] for c in cols}, index=X.index)
