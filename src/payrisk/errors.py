"""The one exception family of payrisk.

Every payrisk error subclasses :class:`PayriskError` and the built-in exception it resembles, so callers can
catch either ``payrisk.errors.PayriskError`` or, say, ``ValueError``. Messages follow one grammar: the table,
the column, the rows, the rule that failed, and the fix.

Examples
--------
>>> import payrisk as pr
>>> try:
...     raise pr.errors.ColumnMissingError("invoices: required column 'due_date' is missing.")
... except ValueError as exc:
...     print(type(exc).__name__)
ColumnMissingError
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.utils._param_validation import InvalidParameterError as _SklearnInvalidParameterError

if TYPE_CHECKING:  # pragma: no cover
    from payrisk.schema import ValidationReport

__all__ = [
    "AsOfWarning",
    "ColumnMissingError",
    "ConflictError",
    "DataFileError",
    "InvalidParameterError",
    "ModelFileError",
    "NotFittedError",
    "ParameterError",
    "PayriskError",
    "PayriskWarning",
    "PolicyError",
    "UnknownIdError",
    "ValidationError",
]


class PayriskError(Exception):
    """Base class of every error payrisk raises on purpose.

    Examples
    --------
    >>> try:
    ...     raise ParameterError("The 'n' parameter must be a positive integer. Got 0.")
    ... except PayriskError as exc:
    ...     print(type(exc).__name__)
    ParameterError
    """


class ParameterError(PayriskError, ValueError):
    """A function or estimator parameter has a value outside its allowed range.

    Examples
    --------
    >>> import payrisk as pr
    >>> try:
    ...     pr.evaluation.auc([0, 1], [0.2, 1.5])
    ... except ValueError as exc:
    ...     print(type(exc).__name__, exc)
    ParameterError p must hold probabilities in [0, 1] (no missing values).
    """


class InvalidParameterError(ParameterError, _SklearnInvalidParameterError):
    """An estimator's constructor parameter broke its declared constraint (checked in ``fit``).

    Both a :class:`ParameterError` and scikit-learn's ``InvalidParameterError``, so tools written for either
    catch it.

    Examples
    --------
    >>> from payrisk.models import LatePaymentClassifier
    >>> try:
    ...     LatePaymentClassifier(calibration="magic").fit(None, None)
    ... except ParameterError as exc:
    ...     print(type(exc).__name__, str(exc)[:50])
    InvalidParameterError The 'calibration' parameter of LatePaymentClassifi
    """


class ValidationError(PayriskError, ValueError):
    """Input tables broke validation rules.

    Parameters
    ----------
    message : str
        What went wrong, naming table, column, rows and fix.
    report : ValidationReport, optional
        The full report: every rejected row with its rule, value and fix.

    Examples
    --------
    >>> try:
    ...     raise ValidationError("invoices: 2 rows have a due date before the issue date.")
    ... except ValueError as exc:
    ...     print(type(exc).__name__, exc.report)
    ValidationError None
    """

    def __init__(self, message: str, report: ValidationReport | None = None) -> None:
        super().__init__(message)
        self.report = report


class ColumnMissingError(ValidationError):
    """A required column is absent from an input table (after the column mapping was applied).

    Examples
    --------
    >>> try:
    ...     raise ColumnMissingError("invoices: required column 'due_date' is missing.")
    ... except ValidationError as exc:
    ...     print(isinstance(exc, ValueError), exc)
    True invoices: required column 'due_date' is missing.
    """


class DataFileError(PayriskError, OSError):
    """A data file or folder is missing, unreadable or not what payrisk wrote.

    Examples
    --------
    >>> try:
    ...     raise DataFileError("data/ledger: no invoices.csv; is this a folder written by Ledger.save()?")
    ... except OSError as exc:
    ...     print(type(exc).__name__, isinstance(exc, PayriskError))
    DataFileError True
    """


class ModelFileError(PayriskError, ValueError):
    """A saved model is missing, tampered with, or was written by an incompatible version.

    Examples
    --------
    >>> import tempfile, payrisk as pr
    >>> try:
    ...     pr.RiskEngine.load(tempfile.mkdtemp())  # an empty folder
    ... except PayriskError as exc:
    ...     print(type(exc).__name__)
    ModelFileError
    """


class NotFittedError(PayriskError, _SklearnNotFittedError):
    """An estimator was used before ``fit``.

    Also scikit-learn's ``NotFittedError`` (itself a ``ValueError`` and an ``AttributeError``), so
    ``sklearn.utils.validation.check_is_fitted`` and code that catches scikit-learn's error treat payrisk's
    estimators like their own.

    Examples
    --------
    >>> import payrisk as pr
    >>> try:
    ...     pr.RiskEngine().score(None, "2024-06-30")
    ... except NotFittedError as exc:
    ...     print(exc)
    This RiskEngine is not fitted yet; call fit(ledger, as_of) first.
    """


class PolicyError(PayriskError, ValueError):
    """A dunning policy file or object that does not hold: names the file, line and field, and the fix.

    Examples
    --------
    >>> from payrisk.dunning import Policy
    >>> try:
    ...     Policy.from_text("name: broken", source="policy.yaml")
    ... except PolicyError as exc:
    ...     print(str(exc).splitlines()[0])
    policy.yaml: the policy has 1 error(s):
    """


class UnknownIdError(ParameterError, LookupError):
    """An id (a customer's, an invoice's) that the ledger does not hold; ``field`` names where it was given.

    Examples
    --------
    >>> try:
    ...     raise UnknownIdError("customer_id 'X' is not a customer of the ledger.", field="customer_id")
    ... except LookupError as exc:
    ...     print(exc.field)
    customer_id
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ConflictError(PayriskError, ValueError):
    """A request that contradicts what is stored: an idempotency key used before for another report.

    Examples
    --------
    >>> isinstance(ConflictError("key 'k1' was used for another report"), ValueError)
    True
    """


class PayriskWarning(UserWarning):
    """Something payrisk did that the user should know of but that did not stop it: a model left out for too few
    rows, every customer treated as new. The command prints these as notes on stderr.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("the adherence model was left out", PayriskWarning, stacklevel=1)
    >>> seen[0].category.__name__
    'PayriskWarning'
    """


class AsOfWarning(PayriskWarning):
    """An ``as_of`` the engine or the ledger cannot vouch for: before the engine's fit date (a look-ahead), or
    well after the last date the ledger records (what happened since is not in the data).

    Examples
    --------
    >>> issubclass(AsOfWarning, PayriskWarning)
    True
    """
