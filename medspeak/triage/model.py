"""The triage model: XGBoost probabilities, temperature-calibrated; the level, the critical alert, the second reader.

Three outputs, each with its own job (issue 15):

- the **level** is the most probable level, made more urgent only by the safety rules (effect ``level``);
- the **critical alert** ("possible level 1-2") is raised when the calibrated P(level 1-2) reaches its own,
  sensitivity-oriented threshold, when the level is 1-2, or when an alert rule fires; it never changes the level;
- the **second reader** flags a nurse's level when P(a more urgent level than hers) is high, or when a safety
  rule asks for a more urgent level than hers.

Artifact (``models/triage/``): ``model.ubj`` (XGBoost's own binary JSON, never pickle) and
``model.json`` (version, feature names, calibration temperature, thresholds, and the
SHA-256 of the pathways and rules files the features were built with; a mismatch refuses to load).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd  # no stubs in the pinned set
import xgboost as xgb

from medspeak.errors import ModelUnavailable
from medspeak.i18n import N_
from medspeak.triage.complaints import PATHWAYS_FILE, matcher
from medspeak.triage.features import FeatureSpace
from medspeak.triage.inputs import TriageInputs, columns_of
from medspeak.triage.rules import RULES_FILE, FiredRule, apply_caps, load_rules
from medspeak.triage.treeshap import TreeTable, TreeTooDeep

__all__ = [
    "DATA_FILES",
    "MANIFEST_FILE",
    "MODEL_DIR",
    "ModelUnavailable",
    "Scored",
    "TriageModel",
    "sha256_file",
    "verify",
]

MODEL_DIR: Final = Path(__file__).resolve().parents[2] / "models" / "triage"
N_LEVELS: Final = 5
_TABLE_MAX_ROWS: Final = 16  # up to this many rows the table predicts faster than XGBoost; beyond, XGBoost


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


MANIFEST_FILE: Final = "manifest.json"
# The manifest names the code's data files by their path in the repository, the artifact's by file name.
DATA_FILES: Final = {
    "medspeak/triage/data/pathways.json": PATHWAYS_FILE,
    "medspeak/triage/data/safety_rules.json": RULES_FILE,
}


def verify(folder: Path) -> None:
    """Check every file the manifest lists against its SHA-256 (model, card, calibration plot, data files).

    Raises:
        ModelUnavailable: no manifest, the model files are not all in it, or a file is missing or altered.
    """
    path = folder / MANIFEST_FILE
    if not path.exists():
        raise ModelUnavailable(
            N_("The triage model in {folder} has no {MANIFEST_FILE}: its files cannot be verified."),
            folder=folder,
            MANIFEST_FILE=MANIFEST_FILE,
        )
    try:
        digests = dict(json.loads(path.read_text(encoding="utf-8"))["sha256"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelUnavailable(
            N_("The triage manifest {path} is unreadable: its files cannot be verified."), path=path
        ) from exc
    missing = {"model.json", "model.ubj"} - set(digests)
    if missing:
        raise ModelUnavailable(
            N_("The triage manifest {path} does not list {value}."), path=path, value=", ".join(sorted(missing))
        )
    for name, digest in digests.items():
        file = DATA_FILES.get(name, folder / name)
        if not file.is_file() or sha256_file(file) != digest:
            raise ModelUnavailable(
                N_(
                    "The triage model file {name} is missing or altered since training (SHA-256 differs from "
                    "{MANIFEST_FILE}): it is refused; restore it or retrain the model."
                ),
                name=name,
                MANIFEST_FILE=MANIFEST_FILE,
            )


@dataclass(frozen=True)
class Scored:
    """A batch of patients scored: probabilities (rows × levels 1-5), model and final levels, rules fired, alerts."""

    probabilities: npt.NDArray[np.float64]
    model_level: npt.NDArray[np.int_]
    level: npt.NDArray[np.int_]
    fired: list[list[FiredRule]]
    features: npt.NDArray[np.float32]
    alert: npt.NDArray[np.bool_]


class TriageModel:
    """Calibrated level probabilities, the safety rules, the critical alert and the second reader."""

    def __init__(self, booster: xgb.Booster, meta: dict[str, Any], space: FeatureSpace | None = None) -> None:
        self.booster = booster
        self.meta = meta
        self.space = space or FeatureSpace(matcher())
        self.rules = load_rules()
        self.version: str = meta["version"]
        self.temperature: float = float(meta["temperature"])
        self.alert_threshold: float = float(meta["alert_threshold"])
        self.second_reader_threshold: float = float(meta["second_reader_threshold"])
        booster.set_param({"nthread": 1})  # one patient at a time: threads cost more than they save
        try:  # ~1 s, once: one patient's margins and SHAP values by lookup (see treeshap.py)
            self.table: TreeTable | None = TreeTable.build(booster)
        except TreeTooDeep:  # a deeper model than the committed one: XGBoost's own prediction and TreeSHAP
            self.table = None

    @classmethod
    def load(cls, folder: Path = MODEL_DIR) -> TriageModel:
        """Load the committed artifact.

        Raises:
            ModelUnavailable: no artifact, a file missing or altered since its manifest was written, or the
                pathways/rules files changed since training.
        """
        meta_file, model_file = folder / "model.json", folder / "model.ubj"
        if not meta_file.exists() or not model_file.exists():
            raise ModelUnavailable(
                N_("No triage model in {folder}: run `medspeak train triage --data <KTAS CSV>`."), folder=folder
            )
        verify(folder)
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        if meta["pathways_sha256"] != sha256_file(PATHWAYS_FILE) or meta["rules_sha256"] != sha256_file(RULES_FILE):
            raise ModelUnavailable(
                N_("The complaint pathways or safety rules changed since training: retrain the model.")
            )
        booster = xgb.Booster()
        booster.load_model(model_file)
        return cls(booster, meta)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(folder / "model.ubj")
        (folder / "model.json").write_text(json.dumps(self.meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    def margins(self, features: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """Raw per-level scores (log-odds scale), before calibration: XGBoost's floats, bit for bit.

        A few rows (one patient on the page or the API) come from the tree table, ~0.15 ms instead of
        ~0.35 ms through XGBoost (tests/triage/test_treeshap.py holds them identical); a batch, or a model
        without a table, from ``inplace_predict``.
        """
        if self.table is not None and self.table.has_margins and len(features) <= _TABLE_MAX_ROWS:
            return np.asarray(self.table.margins(features), dtype=float)
        return np.asarray(self.booster.inplace_predict(features, predict_type="margin"), dtype=float)

    def probabilities(self, features: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """Calibrated probabilities of levels 1-5 (temperature scaling of the margins)."""
        return softmax(self.margins(features) / self.temperature)

    def decide(self, probabilities: npt.NDArray[np.float64]) -> npt.NDArray[np.int_]:
        """The most probable level (ties to the more urgent): no threshold moves it (that is the alert's job)."""
        return np.asarray(probabilities.argmax(axis=1) + 1, dtype=int)

    def critical_alert(
        self, probabilities: npt.NDArray[np.float64], level: npt.ArrayLike, fired: list[list[FiredRule]]
    ) -> npt.NDArray[np.bool_]:
        """Raise "possible level 1-2": P(level 1-2) ≥ the alert threshold, the level is 1-2, or an alert rule fired."""
        probable = probabilities[:, :2].sum(axis=1) >= self.alert_threshold
        by_rule = np.array([any(f.level <= 2 for f in row) for row in fired], dtype=bool)
        return np.asarray(probable | (np.asarray(level) <= 2) | by_rule, dtype=bool)

    def score(self, records: pd.DataFrame | Sequence[TriageInputs]) -> Scored:
        """Score one patient or a batch, the same code: model level, the safety rules' caps, the alert.

        ``records``: a DataFrame (one column per input field, as ``read_ktas`` gives) or a list of inputs.
        """
        columns = columns_of(records)
        features = self.space.transform(columns)
        probabilities = self.probabilities(features)
        model_level = self.decide(probabilities)
        similarity = self.complaint_similarity(features)
        level, fired = apply_caps(model_level, columns, similarity, self.rules)
        return Scored(
            probabilities, model_level, level, fired, features, self.critical_alert(probabilities, level, fired)
        )

    def complaint_similarity(self, features: npt.NDArray[np.float32]) -> dict[str, npt.NDArray[np.float64]]:
        start = self.space.names.index(f"complaint:{self.space.complaints.category_ids[0]}")
        return {c: features[:, start + k].astype(float) for k, c in enumerate(self.space.complaints.category_ids)}

    def more_urgent_probability(self, probabilities: npt.NDArray[np.float64], nurse: npt.ArrayLike) -> npt.NDArray[Any]:
        """P(the patient needs a more urgent level than the nurse's), per row."""
        levels = np.asarray(nurse, dtype=int)
        cumulative = np.cumsum(probabilities, axis=1)
        return np.where(levels > 1, cumulative[np.arange(len(levels)), np.clip(levels - 2, 0, N_LEVELS - 1)], 0.0)

    def second_reader(self, scored: Scored, nurse: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Flag a likely under-triage of the nurse's level.

        Flagged when the model's probability of a more urgent level than the nurse's reaches the reader's
        threshold, or when a safety rule (effect ``level``) asks for a more urgent level than hers. Alert
        rules are left out: they fire on presentations the experts often keep at level 3, and their flags
        would drown the useful ones.
        """
        levels = np.asarray(nurse, dtype=int)
        probable = self.more_urgent_probability(scored.probabilities, levels) >= self.second_reader_threshold
        by_rule = (
            np.array([min([5, *(f.level for f in row if f.effect == "level")]) for row in scored.fired], dtype=int)
            < levels
        )
        return np.asarray(probable | by_rule, dtype=bool)


def softmax(margins: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    shifted = np.exp(margins - margins.max(axis=1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=1, keepdims=True), dtype=float)
