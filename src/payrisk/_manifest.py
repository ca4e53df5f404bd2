"""The SHA-256 of every file in a folder payrisk wrote (a model, an engine, a ledger), and the check on reading it
back: an edited, missing or added file is refused by name, and no listed path may leave the folder (private).

A model or engine folder lists its files in ``MANIFEST.json`` (:func:`write_manifest`, :func:`check_manifest`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from payrisk.errors import ModelFileError, PayriskError

__all__ = ["MANIFEST_FILE", "check_digests", "check_manifest", "digests", "sha256", "write_manifest"]

MANIFEST_FILE = "MANIFEST.json"


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


def write_manifest(folder: Path) -> Path:
    """List the SHA-256 of every file under ``folder`` (but the manifest itself) in ``MANIFEST.json``."""
    doc = {"format": "payrisk-manifest", "algorithm": "sha256", "files": digests(folder, (MANIFEST_FILE,))}
    (folder / MANIFEST_FILE).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return folder / MANIFEST_FILE


def check_manifest(folder: Path) -> None:
    """Refuse a folder whose files differ from its manifest: a file edited, missing or added is named."""
    path = folder / MANIFEST_FILE
    try:
        listed = dict(json.loads(path.read_text(encoding="utf-8"))["files"])
    except (OSError, ValueError, KeyError, TypeError):
        raise ModelFileError(
            f"{path}: missing or unreadable; payrisk reads only model folders it wrote itself, with their checksums "
            "(fit and save the model again)."
        ) from None
    check_digests(folder, listed, (MANIFEST_FILE,), ModelFileError, MANIFEST_FILE)
