"""Where XGBoost runs: the CPU, or an NVIDIA GPU through CUDA (``device="cuda"`` on every model, the engine and
the reasons); a GPU asked for where there is none is refused, not silently replaced by the CPU."""

from __future__ import annotations

import functools
import warnings

import numpy as np

from payrisk.errors import ParameterError

__all__ = ["DEVICES", "check_device"]

#: Where XGBoost grows the trees and computes the reasons: ``"cpu"``, or ``"cuda"`` (the GPU CUDA makes visible first;
#: choose another with ``CUDA_VISIBLE_DEVICES``).
DEVICES: tuple[str, ...] = ("cpu", "cuda")


@functools.cache
def _gpu_missing() -> str:
    """Why XGBoost cannot use a GPU here ("" when it can): asked once, by growing one tree on the GPU."""
    import xgboost as xgb

    if not xgb.build_info().get("USE_CUDA"):
        return f"this XGBoost ({xgb.__version__}) is built without CUDA"
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            data = xgb.DMatrix(np.arange(8, dtype=np.float32).reshape(4, 2), label=np.array([0.0, 1.0, 0.0, 1.0]))
            xgb.train({"device": "cuda", "tree_method": "hist", "objective": "binary:logistic"}, data, 1)
        except xgb.core.XGBoostError as exc:
            return f"XGBoost could not start on the GPU ({str(exc).splitlines()[0]})"
    if any("GPU" in str(w.message) and "CPU" in str(w.message) for w in seen):
        return "XGBoost finds no GPU on this machine"
    return ""


def check_device(device: str, who: str) -> None:
    """Refuse ``device="cuda"`` where XGBoost has no GPU (rather than its silent fall-back to the CPU), naming
    ``who`` asked and the fix.

    Examples
    --------
    >>> check_device("cpu", "RiskEngine")
    >>> check_device("tpu", "RiskEngine")
    Traceback (most recent call last):
    ...
    payrisk.errors.ParameterError: The 'device' parameter of RiskEngine must be one of ('cpu', 'cuda'). Got 'tpu'.
    """
    if device not in DEVICES:
        raise ParameterError(f"The 'device' parameter of {who} must be one of {DEVICES}. Got {device!r}.")
    why = _gpu_missing() if device == "cuda" else ""
    if why:
        raise ParameterError(
            f"{who}: device='cuda' asks for the GPU, but {why}. Use device='cpu' (the default), or install "
            "XGBoost's CUDA build on a machine with an NVIDIA GPU."
        )
