"""The documentation builds with warnings as errors (broken links, docstrings that do not match signatures),
and every page the API reference promises exists."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.xdist_group("docs")
def test_the_docs_build_strictly(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    api = (tmp_path / "site" / "api" / "dunning" / "index.html").read_text(encoding="utf-8")
    for name in ("plan_actions", "estimate_tone_effect", "assign_arms", "simulate_policies", "Policy"):
        assert f'id="payrisk.dunning.{name}"' in api, name


def test_every_public_module_has_an_api_page():
    import payrisk as pr

    modules = {m for m in pr.__all__ if m.islower() and not m.startswith("_")}
    pages = {p.stem for p in (ROOT / "docs" / "api").glob("*.md")}
    assert modules <= pages, modules - pages


def test_the_worklist_table_is_documented_column_by_column():
    import payrisk as pr

    text = (ROOT / "docs" / "concepts.md").read_text()
    missing = [c for c in pr.schema.WORKLIST.column_names if f"| `{c}` |" not in text]
    assert not missing
