"""Train the triage model on a KTAS CSV, choose its thresholds, and evaluate it on a held-out part.

A stratified 20 % of the file is held out before anything else and used only for the reported
figures. On the other 80 %: 5-fold out-of-fold scores choose the calibration temperature, the
critical threshold (the least over-triage that keeps missed level 1-2 patients under a ceiling,
safety rules applied) and the second reader's threshold; then the final model is fitted on all of
it. Same file, same seed: same artifact. The model search behind these choices (features,
complaint text, class weights, hyperparameters) is in ``models/triage/SEARCH.md``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import xgboost as xgb
from sklearn.model_selection import StratifiedKFold, train_test_split

from medspeak.triage.complaints import PATHWAYS_FILE, matcher
from medspeak.triage.features import FeatureSpace
from medspeak.triage.ktas import KtasData, read_ktas
from medspeak.triage.metrics import agreement, second_reader_figures
from medspeak.triage.model import TriageModel, sha256_file, softmax
from medspeak.triage.rules import RULES_FILE, apply_caps, load_rules

__all__ = ["PARAMS", "TrainingResult", "evaluate", "holdout_part", "split", "train"]

SEED: Final = 20261128
HOLDOUT_SHARE: Final = 0.2
# Shallow trees, slow learning: 811 training rows. Depth 3 and 300 rounds had the best 5-fold
# quadratic kappa on the training part among depths 3/4/6 x 150/300/500 rounds.
PARAMS: Final[dict[str, Any]] = {
    "objective": "multi:softprob",
    "num_class": 5,
    "eta": 0.05,
    "max_depth": 3,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "tree_method": "hist",
    "seed": SEED,
    "nthread": 1,  # reproducible artifact
}
ROUNDS: Final = 300
# Training weight of each expert level 1-5 (cost-sensitive training against under-triage).
CLASS_WEIGHTS: Final = (1.0, 1.0, 1.0, 1.0, 1.0)
# The share of level 1-2 patients the system (model + safety rules) may place at level 3 or below, on the
# out-of-fold scores: the issue's ceiling, below the nurses' 13.8 %. The threshold is the highest (least
# over-triage) that keeps to it. Trauma-system practice accepts 25-35 % over-triage to keep under-triage
# near 5 % (ACS-COT, Resources for Optimal Care of the Injured Patient, 2014).
CRITICAL_UNDER_TRIAGE_CEILING: Final = 0.10
# The second reader's out-of-fold flag rate: under the 15 % with a margin of about half a
# standard error on 200 patients; 13 % caught 51 % of the nurses' under-triage out of fold, 12 % 49 %.
MAX_FLAG_RATE: Final = 0.13
_TEMPERATURES: Final = np.arange(0.5, 3.01, 0.05)
_THRESHOLDS: Final = np.arange(0.05, 0.96, 0.01)
_DECISION_KEYS: Final = ("temperature", "critical_threshold", "second_reader_threshold")
_CARD_KEYS: Final = ("accuracy", "kappa_quadratic", "critical_under_triage", "over_triage")


@dataclass(frozen=True)
class TrainingResult:
    model: TriageModel
    holdout: dict[str, Any]
    holdout_index: npt.NDArray[np.int_]
    train_index: npt.NDArray[np.int_]


def _fit(features: npt.NDArray[np.float32], labels: npt.NDArray[np.int_]) -> xgb.Booster:
    weights = np.asarray(CLASS_WEIGHTS, dtype=float)[labels - 1]
    return xgb.train(PARAMS, xgb.DMatrix(features, labels - 1, weight=weights), ROUNDS)


def _out_of_fold_margins(features: npt.NDArray[np.float32], labels: npt.NDArray[np.int_]) -> npt.NDArray[np.float64]:
    margins = np.zeros((len(labels), 5))
    for fit_rows, score_rows in StratifiedKFold(5, shuffle=True, random_state=SEED).split(features, labels):
        booster = _fit(features[fit_rows], labels[fit_rows])
        margins[score_rows] = booster.inplace_predict(features[score_rows], predict_type="margin")
    return margins


def _temperature(margins: npt.NDArray[np.float64], labels: npt.NDArray[np.int_]) -> float:
    """The temperature that minimises the out-of-fold negative log-likelihood (Guo et al., ICML 2017)."""
    rows = np.arange(len(labels))
    nll = [-np.log(softmax(margins / t)[rows, labels - 1] + 1e-12).mean() for t in _TEMPERATURES]
    return float(_TEMPERATURES[int(np.argmin(nll))])


def _levels(probabilities: npt.NDArray[np.float64], threshold: float, caps: npt.NDArray[np.int_]) -> npt.NDArray[Any]:
    level = probabilities.argmax(axis=1) + 1
    urgent = np.where(probabilities[:, 0] > probabilities[:, 1], 1, 2)
    level = np.where((probabilities[:, :2].sum(axis=1) >= threshold) & (level >= 3), urgent, level)
    return np.minimum(level, caps)


def _critical_threshold(probabilities: npt.NDArray[np.float64], labels: npt.NDArray[np.int_], caps: Any) -> float:
    """The highest threshold on P(level 1-2) whose critical under-triage stays within the ceiling.

    A higher threshold places fewer patients at level 1-2 without need; the ceiling bounds the level 1-2
    patients missed. When no threshold meets it, the lowest (the most protective) is returned.
    """
    critical = labels <= 2
    for t in _THRESHOLDS[::-1]:
        missed = float((_levels(probabilities, t, caps)[critical] >= 3).mean()) if critical.any() else 0.0
        if missed <= CRITICAL_UNDER_TRIAGE_CEILING:
            return float(t)
    return float(_THRESHOLDS[0])


def _operating_points(probabilities: npt.NDArray[np.float64], labels: npt.NDArray[np.int_], caps: Any) -> list[Any]:
    """Out-of-fold accuracy / kappa / critical under-triage at a few thresholds, for the model card."""
    points = []
    for t in (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 1.0):
        figures = agreement(labels, _levels(probabilities, t, caps))
        points.append({"threshold": t, **{k: figures[k] for k in _CARD_KEYS}})
    return points


def _second_reader_threshold(model: TriageModel, scored: Any, nurse: Any, expert: Any) -> float:
    """The lowest probability threshold whose flag rate stays at or below ``MAX_FLAG_RATE``: most catches."""
    for t in _THRESHOLDS:
        model.second_reader_threshold = float(t)
        if second_reader_figures(expert, nurse, model.second_reader(scored, nurse))["flag_rate"] <= MAX_FLAG_RATE:
            return round(float(t), 2)
    return round(float(_THRESHOLDS[-1]), 2)


def evaluate(model: TriageModel, data: KtasData) -> dict[str, Any]:
    """The issue's evaluation object for ``data``: the model, the nurses, and the second reader."""
    scored = model.score(data.inputs)
    out = agreement(data.expert, scored.level, scored.probabilities)
    if data.nurse is not None:
        out["nurse"] = agreement(data.expert, data.nurse)
        out["second_reader"] = second_reader_figures(data.expert, data.nurse, model.second_reader(scored, data.nurse))
    else:
        out["nurse"], out["second_reader"] = None, None
    return out


def split(data: KtasData) -> tuple[npt.NDArray[np.int_], npt.NDArray[np.int_]]:
    """Row indices for training and tuning, and the held-out rows (stratified by level, seeded)."""
    rows = np.arange(len(data.expert))
    parts = train_test_split(rows, test_size=HOLDOUT_SHARE, stratify=data.expert, random_state=SEED)
    return np.asarray(parts[0]), np.asarray(parts[1])


def holdout_part(data: KtasData, rows: npt.NDArray[np.int_]) -> KtasData:
    """The records at ``rows`` (the held-out part, for the card and ``medspeak eval triage --holdout``)."""
    return KtasData(
        data.inputs.iloc[rows].reset_index(drop=True),
        data.expert[rows],
        None if data.nurse is None else data.nurse[rows],
        data.site[rows],
    )


def train(data_path: Path) -> TrainingResult:
    """Fit, calibrate, choose thresholds on the training part, and evaluate on the held-out part."""
    data = read_ktas(data_path)
    space = FeatureSpace(matcher())
    features = space.transform(data.inputs)
    train_rows, holdout_rows = split(data)
    x, y = features[train_rows], data.expert[train_rows]
    margins = _out_of_fold_margins(x, y)
    temperature = round(_temperature(margins, y), 2)
    oof = softmax(margins / temperature)
    frame = data.inputs.iloc[train_rows].reset_index(drop=True)
    meta: dict[str, Any] = {
        "version": "",  # set below from the trees and the decision parameters: same model, same version
        "features": space.names,
        "temperature": temperature,
        "critical_threshold": 0.5,
        "second_reader_threshold": 0.5,
        "pathways_sha256": sha256_file(PATHWAYS_FILE),
        "rules_sha256": sha256_file(RULES_FILE),
        "params": PARAMS,
        "rounds": ROUNDS,
        "seed": SEED,
        "class_weights": list(CLASS_WEIGHTS),
        "critical_under_triage_ceiling": CRITICAL_UNDER_TRIAGE_CEILING,
        "max_flag_rate": MAX_FLAG_RATE,
        "data_sha256": sha256_file(data_path),  # `eval --holdout` re-derives the held-out rows from this file only
        "training_rows": len(train_rows),
        "holdout_rows": len(holdout_rows),
    }
    booster = _fit(x, y)
    model = TriageModel(booster, meta, space)
    caps, _ = apply_caps(np.full(len(y), 5), frame, model.complaint_similarity(x), load_rules())
    model.critical_threshold = meta["critical_threshold"] = round(_critical_threshold(oof, y, caps), 2)
    meta["operating_points"] = _operating_points(oof, y, caps)
    meta["out_of_fold"] = agreement(y, _levels(oof, model.critical_threshold, caps), oof)
    if data.nurse is not None:
        oof_scored = replace(model.score(frame), probabilities=oof)  # thresholds from out-of-fold scores only
        meta["second_reader_threshold"] = _second_reader_threshold(model, oof_scored, data.nurse[train_rows], y)
        model.second_reader_threshold = meta["second_reader_threshold"]
    # A stored assessment names its model version: new thresholds on the same trees are a new version.
    decision = json.dumps({k: meta[k] for k in _DECISION_KEYS}, sort_keys=True).encode()
    meta["version"] = "triage-xgb-" + hashlib.sha256(booster.save_raw("ubj") + decision).hexdigest()[:12]
    model.version = meta["version"]
    holdout = holdout_part(data, holdout_rows)
    meta["holdout"] = evaluate(model, holdout)
    alone = model.score(holdout.inputs)  # the model's own level, before the safety rules: for the card only
    meta["holdout_model_only"] = agreement(holdout.expert, alone.model_level, alone.probabilities)
    return TrainingResult(model, meta["holdout"], holdout_rows, train_rows)
