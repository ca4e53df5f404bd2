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


def test_documented_parameters_follow_the_signature_order():
    """A docstring lists the parameters in the order the function takes them (the ledger first, ``as_of`` ...)."""
    import inspect
    import re

    wrong = []
    for name, obj in _public():
        funcs = [(name, obj)] if inspect.isfunction(obj) else []
        if inspect.isclass(obj):
            funcs += [(f"{name}.{n}", f) for n, f in vars(obj).items() if inspect.isfunction(f) and n[0] != "_"]
        for qual, func in funcs:
            doc = inspect.getdoc(func) or ""
            if "Parameters\n----------" not in doc:
                continue
            section = re.split(r"\n\n(?:Returns|Raises|Examples|Yields|Notes|Attributes)\n", doc.split("----------")[1])
            documented = [d.lstrip("*") for d in re.findall(r"^(\*{0,2}\w+)(?: :|,|$)", section[0], re.M)]
            signature = [p for p in inspect.signature(func).parameters if p not in ("self", "cls")]
            named = [d for d in documented if d in signature]
            if named != [p for p in signature if p in named]:
                wrong.append(f"{qual}: documents {named}, takes {signature}")
    assert not wrong, wrong
