"""YAML/JSON reading that remembers the line of every value, for line-precise policy errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from payrisk.errors import PolicyError


def load_with_lines(text: str, source: str) -> tuple[Any, Callable[[tuple], int]]:
    """(the data, a function from a pydantic error location to its 1-based line in ``text``)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}" if mark is not None else "somewhere"
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError(f"{source}: not valid YAML or JSON at {line}: {problem}.") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{source}: a policy is a mapping (name, tracks, timing, ...); got {type(data).__name__}.")
    assert root is not None  # a mapping was read: the document has a root node

    def line_of(loc: tuple) -> int:
        node = root
        for part in loc:
            child = _child(node, part)
            if child is None:  # a missing key: point at the mapping that lacks it
                break
            node = child
        return node.start_mark.line + 1

    return data, line_of


def _child(node: Any, part: Any) -> Any:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == str(part):
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part]
    return None
