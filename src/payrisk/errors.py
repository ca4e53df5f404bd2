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

if TYPE_CHECKING:  # pragma: no cover
    from payrisk.schema import ValidationReport

__all__ = [
    "ColumnMissingError",
    "DataFileError",
    "ModelFileError",
    "NotFittedError",
    "ParameterError",
    "PayriskError",
    "PolicyError",
    "ValidationError",
]


class PayriskError(Exception):
    """Base class of every error payrisk raises on purpose."""


class ParameterError(PayriskError, ValueError):
    """A function or estimator parameter has a value outside its allowed range."""


class ValidationError(PayriskError, ValueError):
    """Input tables broke validation rules.

    Parameters
    ----------
    message : str
        What went wrong, naming table, column, rows and fix.
    report : ValidationReport, optional
        The full report: every rejected row with its rule, value and fix.
    """

    def __init__(self, message: str, report: ValidationReport | None = None) -> None:
        super().__init__(message)
        self.report = report


class ColumnMissingError(ValidationError):
    """A required column is absent from an input table (after the column mapping was applied)."""


class DataFileError(PayriskError, OSError):
    """A data file or folder is missing, unreadable or not what payrisk wrote."""


class ModelFileError(PayriskError, ValueError):
    """A saved model is missing, tampered with, or was written by an incompatible version."""


class NotFittedError(PayriskError, ValueError, AttributeError):
    """An estimator was used before ``fit``."""


class PolicyError(PayriskError, ValueError):
    """A dunning policy file or object that does not hold: names the file, line and field, and the fix."""
