"""A separate virtualenv for the baselines that need pandas 2 (featuretools, lifelines), away from ``.venv``.

featuretools (and woodwork under it) and lifelines pin their own pandas ranges (lifelines 0.30 declares
``pandas<3``); installing them into the project's environment would downgrade what payrisk is tested with.
``ensure_featuretools_venv`` creates ``.venv-ft`` beside ``.venv`` (at the repository root) when it is missing
(or adds what it lacks), lets pip resolve the baselines' pins inside it, and returns the path of its interpreter. Run as a script it does just that and prints the path.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: What the baselines need in their own venv: featuretools and lifelines (Kaplan-Meier, Cox PH), and pyarrow to
#: read the Parquet tables.
#: pandas is held below 3: featuretools 1.31 / woodwork 0.31 declare only ``pandas>=2`` and so install with pandas 3,
#: but pandas 3 no longer caches accessor objects (``df.ww`` is a new object on every access), so woodwork loses
#: the schema that ``df.ww.init()`` just set and ``EntitySet.add_dataframe`` fails with WoodworkNotInitError.
PACKAGES: tuple[str, ...] = ("featuretools", "lifelines", "pandas>=2,<3", "pyarrow")
#: imports featuretools and builds a one-row EntitySet: proves the install works, not merely that it imports
_SMOKE = (
    "import featuretools as ft, lifelines, pandas as pd, pyarrow; "
    "ft.EntitySet('smoke').add_dataframe(dataframe_name='t', dataframe=pd.DataFrame({'i': [1]}), index='i')"
)


def _python_of(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def _has_featuretools(python: Path) -> bool:
    probe = [str(python), "-c", _SMOKE]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def ensure_featuretools_venv(path: Path = Path(".venv-ft")) -> Path:
    """Create the featuretools virtualenv at ``path`` when missing and return the path of its python.

    A relative ``path`` is taken from the repository root (not the current directory), so the venv is the
    same wherever the benchmark is started from. Nothing is installed when featuretools already imports there.
    """
    venv = path if path.is_absolute() else ROOT / path
    python = _python_of(venv)
    if python.exists() and _has_featuretools(python):
        print(f"baseline venv (featuretools, lifelines) ready: {venv}", flush=True)
        return python
    if not python.exists():
        print(f"creating virtualenv {venv} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    print(f"installing {' '.join(PACKAGES)} into {venv} (pip resolves their pins there) ...", flush=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PACKAGES], check=True)
    if not _has_featuretools(python):
        raise RuntimeError(f"featuretools still does not work in {venv}; try deleting it and running again")
    versions = subprocess.run(
        [str(python), "-c", "import featuretools, pandas; print(featuretools.__version__, pandas.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    print(f"featuretools {versions[0]} with pandas {versions[1]} installed in {venv}", flush=True)
    return python


if __name__ == "__main__":
    print(ensure_featuretools_venv())
