"""Reading a user's text file: a file that cannot be read or decoded is refused with its line and the fix."""

from __future__ import annotations

from pathlib import Path

from payrisk.errors import PayriskError

__all__ = ["decode_or_explain", "read_text_file"]


def decode_or_explain(raw: bytes, source: str, encoding: str, error: type[PayriskError], how: str) -> str:
    """``raw`` decoded; an undecodable byte raises ``error`` naming its line and ``how`` to fix it."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise error(
            f"{source}, line {line}: byte {raw[exc.start : exc.start + 1]!r} is not valid {encoding}; save the file "
            f"as UTF-8{how}."
        ) from None
    except LookupError:
        raise error(f"{encoding!r} is not an encoding Python knows; e.g. utf-8, cp1252, latin-1.") from None


def read_text_file(path: Path, what: str, error: type[PayriskError]) -> str:
    """A UTF-8 text file (a mapping, a policy); unreadable or undecodable raises ``error``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} file ({exc.strerror}).") from None
    return decode_or_explain(raw, str(path), "utf-8", error, "")
