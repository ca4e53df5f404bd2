"""Old argument names and orders, accepted for one release with a ``DeprecationWarning``.

payrisk's public functions take the ledger first and name the as-of date ``as_of``. A call in the older style
(the ledger second or fourth; ``today=``, ``day=``, ``date=`` or ``history=``) still works for one release and
says how to write it now.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["is_ledger", "ledger_first", "renamed"]

F = TypeVar("F", bound=Callable[..., Any])


def is_ledger(value: Any) -> bool:
    """A :class:`payrisk.Ledger` or a :class:`payrisk.distributed.DaskLedger` (duck-typed: the base layer cannot
    import the distributed one)."""
    return (hasattr(value, "invoices") and hasattr(value, "as_of")) or hasattr(value, "partitioned_by_customer")


def _rename(func: Callable[..., Any], kwargs: dict[str, Any], old_to_new: dict[str, str], said: list[str]) -> None:
    """Move old keyword names onto the new ones in place; a value given under both names is refused."""
    for old, new in old_to_new.items():
        if old in kwargs:
            if new in kwargs:
                raise TypeError(f"{func.__qualname__}() got both {old!r} (its old name) and {new!r}; pass {new!r}.")
            said.append(f"the parameter {old!r} is now {new!r}")
            kwargs[new] = kwargs.pop(old)


def _say(func: Callable[..., Any], said: list[str]) -> None:
    if said:
        warnings.warn(
            f"{func.__qualname__}: {'; '.join(said)}. The old form goes in the next release.",
            DeprecationWarning,
            stacklevel=3,
        )


def renamed(**old_to_new: str) -> Callable[[F], F]:
    """Accept the old keyword names of a function's parameters (``today="as_of"``), with a warning."""

    def wrap(func: F) -> F:
        @functools.wraps(func)
        def call(*args: Any, **kwargs: Any) -> Any:
            said: list[str] = []
            _rename(func, kwargs, old_to_new, said)
            _say(func, said)
            return func(*args, **kwargs)

        return call  # type: ignore[return-value]

    return wrap


def ledger_first(old_order: tuple[str, ...], method: bool = False, **old_to_new: str) -> Callable[[F], F]:
    """Accept the old positional order ``old_order`` (the names as they were) when the first argument is not a
    ledger, and the old keyword names ``old_to_new``; either way with one warning naming the new form."""

    def wrap(func: F) -> F:
        params = [
            p.name
            for p in inspect.signature(func).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ][1 if method else 0 :]
        old_positions = list(old_order) + params[len(old_order) :]  # the parameters after them kept their places

        @functools.wraps(func)
        def call(*args: Any, **kwargs: Any) -> Any:
            head, rest = (args[:1], args[1:]) if method else ((), args)
            said: list[str] = []
            _rename(func, kwargs, old_to_new, said)
            if rest and rest[0] is not None and not is_ledger(rest[0]):
                said.append("pass the ledger first and the date as as_of")
                named = dict(zip(old_positions, rest, strict=False))
                _rename(func, named, old_to_new, [])
                twice = sorted(set(named) & set(kwargs))
                if twice:
                    raise TypeError(f"{func.__qualname__}() got multiple values for {twice}.")
                kwargs = {**named, **kwargs}
                rest = ()
            _say(func, said)
            return func(*head, *rest, **kwargs)

        return call  # type: ignore[return-value]

    return wrap
