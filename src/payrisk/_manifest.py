"""The SHA-256 of every file in a folder payrisk wrote (a model, an engine, a ledger), and the check on reading it
back: an edited, missing or added file is refused by name, and no listed path may leave the folder (private)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from payrisk.errors import PayriskError

__all__ = ["check_digests", "digests", "sha256"]


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def digests(folder: Path, skip: tuple[str, ...]) -> dict[str, str]:
    """``{relative path: SHA-256}`` of every file under ``folder`` but those named in ``skip``."""
    return {
        f.relative_to(folder).as_posix(): sha256(f)
        for f in sorted(folder.rglob("*"))
        if f.is_file() and f.relative_to(folder).as_posix() not in skip
    }


def check_digests(
    folder: Path, listed: dict[str, str], skip: tuple[str, ...], error: type[PayriskError], record: str
) -> None:
    """Raise ``error`` naming the first file that differs from ``listed`` (as written in ``record``): a path
    outside the folder, a missing or edited file, or a file that is not listed."""
    for rel, digest in listed.items():
        if Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise error(f"{folder / record}: lists {rel!r}, a path outside the folder; the record was edited.")
        f = folder / rel
        if not f.is_file():
            raise error(f"{f}: listed in {record} but missing; copy the whole folder.")
        if sha256(f) != digest:
            raise error(f"{f}: changed after the folder was written (SHA-256 differs from {record}).")
    extra = sorted(set(digests(folder, skip)) - set(listed))
    if extra:
        raise error(f"{folder}: files not in {record}: {extra[:5]}; remove them, or write the folder again.")
