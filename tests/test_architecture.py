"""payrisk's import graph: no circles, the layers of pyproject.toml's import-linter contract, the version a leaf.

The layers themselves are checked by ``lint-imports`` in ``make test``; here the graph is read with grimp (the
library behind import-linter) for what a layers contract cannot say.
"""

from __future__ import annotations

import grimp
import pytest

#: the deprecated aliases kept one release: a lazy import back into the module that moved them
DEPRECATION_SHIMS = {("payrisk.forecast", "payrisk.backtest"), ("payrisk.evaluation", "payrisk.backtest")}


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("payrisk", exclude_type_checking_imports=True)


def _edges(graph) -> dict[str, set[str]]:
    out = {}
    for m in graph.modules:
        out[m] = {i for i in graph.find_modules_directly_imported_by(m) if (m, i) not in DEPRECATION_SHIMS}
    return out


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles(graph):
    assert _cycles(_edges(graph)) == []


def test_no_module_imports_the_whole_package(graph):
    """``import payrisk`` inside the package loads every module: the version comes from the ``_version`` leaf."""
    importers = sorted(m for m in graph.find_modules_that_directly_import("payrisk") if m != "payrisk.demo")
    assert importers == []
    assert graph.find_modules_directly_imported_by("payrisk._version") == set()


def _unit(module: str) -> str:
    """A module's unit: the top-level module or package under payrisk it belongs to."""
    return ".".join(module.split(".")[:2])


def test_no_module_imports_the_private_names_of_another():
    """``payrisk.X`` uses another unit through its public names: no ``_name`` imported across units, and no import
    from another package's private submodule (``payrisk.datasets._days``). The top-level ``payrisk._*`` modules
    are the package's shared internals (calendar, manifest, version, ...) and are imported by their public names."""
    import ast
    from pathlib import Path

    import payrisk

    root = Path(payrisk.__file__).parent
    crossings = []
    for path in root.rglob("*.py"):
        module = ".".join(("payrisk", *path.relative_to(root).with_suffix("").parts)).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("payrisk.")):
                continue
            target = node.module
            if _unit(target) == _unit(module):
                continue
            private_submodule = any(part.startswith("_") for part in target.split(".")[2:])
            for alias in node.names:
                if (alias.name.startswith("_") and not alias.name.startswith("__")) or private_submodule:
                    crossings.append(f"{module}:{node.lineno} imports {alias.name} from {target}")
    assert crossings == []
