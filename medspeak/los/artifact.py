"""The committed model under ``models/los/``: its files, their SHA-256 manifest, and loading it checked.

A file whose hash differs from the manifest refuses to load: a model is never used unchecked.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from medspeak.errors import ModelUnavailable
from medspeak.i18n import N_
from medspeak.los.admissions import Admission
from medspeak.los.model import LosModel

__all__ = [
    "DEFAULT_DIR",
    "MANIFEST_FILE",
    "METRICS_FILE",
    "ModelUnavailable",
    "fingerprint",
    "load_committed",
    "manifest_stamp",
    "read_metrics",
    "sha256_of",
    "verify",
    "write_manifest",
]

DEFAULT_DIR: Final = Path(__file__).resolve().parents[2] / "models" / "los"
MANIFEST_FILE: Final = "MANIFEST.sha256"
METRICS_FILE: Final = "metrics.json"


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fingerprint(admissions: Sequence[Admission]) -> str:
    """SHA-256 of the admission ids: tells whether a folder is the one the model was trained on."""
    return hashlib.sha256("\n".join(sorted(a.key for a in admissions)).encode()).hexdigest()


def write_manifest(folder: Path, files: Sequence[Path]) -> Path:
    """``sha256  name`` lines for each file (``sha256sum -c`` reads it)."""
    lines = [f"{sha256_of(f)}  {f.name}" for f in sorted(files, key=lambda p: p.name)]
    path = folder / MANIFEST_FILE
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def verify(folder: Path) -> None:
    """Check every file of the manifest.

    Raises:
        ModelUnavailable: the manifest or a file is missing, or a hash differs.
    """
    manifest = folder / MANIFEST_FILE
    if not manifest.exists():
        raise ModelUnavailable(
            N_("No length-of-stay model in {folder}: run `medspeak train los --mimic DIR`."), folder=folder
        )
    for line in manifest.read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        path = folder / name
        if not path.exists() or sha256_of(path) != digest:
            raise ModelUnavailable(
                N_("The length-of-stay model file {name} is missing or altered; retrain it."), name=name
            )


def load_committed(folder: Path = DEFAULT_DIR) -> LosModel:
    """The model of ``folder``, its files checked against the manifest first (an application context keeps
    the one it loaded: ``AppContext.models.los``).

    Raises:
        ModelUnavailable: the manifest or a file is missing, or a hash differs.
    """
    verify(folder)
    return LosModel.load(folder)


def manifest_stamp(folder: Path = DEFAULT_DIR) -> float:
    """When the folder's manifest was last written (0 when absent): a retrained model is a new version."""
    manifest = folder / MANIFEST_FILE
    return manifest.stat().st_mtime if manifest.exists() else 0.0


def read_metrics(folder: Path = DEFAULT_DIR) -> dict[str, Any]:
    """The figures written at training (cross-validation, back-test, generator at scale); {} when absent."""
    path = folder / METRICS_FILE
    return dict(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else {}
