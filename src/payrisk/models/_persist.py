"""Model files: XGBoost's own UBJSON plus a pydantic JSON metadata document; never pickle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from payrisk._manifest import check_manifest, sha256, write_manifest
from payrisk.errors import ModelFileError

FORMAT_VERSION = 1
BOOSTER_FILE = "booster.ubj"
META_FILE = "metadata.json"


class FeatureSpec(BaseModel):
    """One input column of a model, in order."""

    name: str
    dtype: str


class ModelMetadata(BaseModel):
    """Everything needed to check and use a saved model, next to the booster file."""

    model_config = ConfigDict(extra="forbid")

    format: str = "payrisk-model"
    format_version: int = FORMAT_VERSION
    kind: str
    payrisk_version: str
    xgboost_version: str
    features: list[FeatureSpec]
    params: dict[str, Any] = Field(default_factory=dict)
    training_as_of: str | None = None
    calibration: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict)
    booster_sha256: str = ""


def write_model(path: str | Path, booster: Any, meta: ModelMetadata) -> Path:
    """Write ``booster.ubj`` and ``metadata.json`` (with the booster's checksum) into folder ``path``."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(path / BOOSTER_FILE))
    meta = meta.model_copy(update={"booster_sha256": sha256(path / BOOSTER_FILE)})
    (path / META_FILE).write_text(meta.model_dump_json(indent=2), encoding="utf-8")
    write_manifest(path)
    return path


def read_model(path: str | Path, kind: str) -> tuple[Any, ModelMetadata]:
    """Read a model folder; refuse another kind, another format, or a booster changed after it was written."""
    import xgboost as xgb

    path = Path(path)
    meta_path, booster_path = path / META_FILE, path / BOOSTER_FILE
    if not meta_path.is_file() or not booster_path.is_file():
        raise ModelFileError(f"{path}: expected {META_FILE} and {BOOSTER_FILE}; is this a folder written by save()?")
    check_manifest(path)
    try:
        meta = ModelMetadata.model_validate(json.loads(meta_path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"{meta_path}: not a payrisk model metadata document ({exc})") from exc
    if meta.format != "payrisk-model" or meta.format_version != FORMAT_VERSION:
        raise ModelFileError(f"{meta_path}: format {meta.format!r} v{meta.format_version} is not supported")
    if meta.kind != kind:
        raise ModelFileError(f"{meta_path}: this is a {meta.kind}, not a {kind}; load it with its own class")
    if sha256(booster_path) != meta.booster_sha256:
        raise ModelFileError(
            f"{booster_path}: checksum differs from {META_FILE}; the model was modified after it was saved"
        )
    booster = xgb.Booster()
    booster.load_model(str(booster_path))
    return booster, meta
