"""Every public function and class carries a numpy-style docstring with an example; the examples run as
doctests (``--doctest-modules`` in the default run)."""

from __future__ import annotations


def _public() -> list[tuple[str, object]]:
    import inspect

    import payrisk as pr

    out = [("payrisk.RiskEngine", pr.RiskEngine), ("payrisk.Ledger", pr.Ledger)]
    for name in pr.__all__:
        module = getattr(pr, name)
        if inspect.ismodule(module):
            for member in getattr(module, "__all__", []):
                obj = getattr(module, member)
                if inspect.isclass(obj) or inspect.isfunction(obj):
                    out.append((f"payrisk.{name}.{member}", obj))
    return out


def test_every_public_function_and_class_has_an_example():
    """The examples themselves run as doctests (``--doctest-modules``)."""
    missing = [name for name, obj in _public() if ">>>" not in (obj.__doc__ or "")]
    assert not missing, f"{len(missing)} without a runnable example: {missing}"
