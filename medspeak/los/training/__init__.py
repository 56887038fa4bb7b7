"""Training with a conformal margin, and cross-validation grouped by patient.

Each finished stay gives up to three training snapshots (at admission, after 1 and after 3 days,
while the patient is still in): the model learns how the remaining stay depends on the time
already spent and on the reports written so far. Evaluation is at admission only, as the issue asks.

This package is training and evaluation only (``cli`` the train and eval commands, ``mimic`` the MIMIC-IV
reader, ``demo`` the generator's admissions, ``backtest`` the census back-test, ``modelcard``): the app,
the API and the services never import it (tests/test_architecture.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from numpy.typing import NDArray
from sklearn.model_selection import GroupKFold

from medspeak.los.admissions import Admission
from medspeak.los.features import Snapshot, snapshot
from medspeak.los.model import QUANTILES, Hyper, LosModel, log_days

__all__ = ["SNAPSHOT_DAYS", "CrossValidation", "LosMetrics", "cross_validate", "fit_calibrated", "metrics"]

SNAPSHOT_DAYS: Final = (0.0, 1.0, 3.0)  # training moments: admission, day 1, day 3
_COVERAGE: Final = 0.8  # the P10-P90 interval should hold 80 % of stays
_FOLDS: Final = 5
_INNER_FOLDS: Final = 3  # folds that give the conformal margin: fewer, as each fold refits the model


def training_rows(admissions: Sequence[Admission]) -> tuple[list[Snapshot], list[float]]:
    """Snapshots of finished stays at each training moment the patient was still in, with their LOS."""
    rows: list[Snapshot] = []
    days: list[float] = []
    for adm in admissions:
        los = adm.los_days
        if los is None:
            continue
        for elapsed in SNAPSHOT_DAYS:
            if los > elapsed:
                rows.append(snapshot(adm, elapsed))
                days.append(los)
    return rows, days


def _finished(admissions: Sequence[Admission]) -> list[Admission]:
    return [a for a in admissions if a.los_days is not None]


def _folds(admissions: Sequence[Admission], folds: int, seed: int) -> list[tuple[list[int], list[int]]]:
    groups = [a.patient_key for a in admissions]
    n = min(folds, len(set(groups)))
    splitter = GroupKFold(n_splits=n, shuffle=True, random_state=seed)
    return [(list(tr), list(te)) for tr, te in splitter.split(np.zeros(len(groups)), groups=groups)]


def _at_admission(model: LosModel, admissions: Sequence[Admission], *, calibrated: bool) -> NDArray[np.float64]:
    return model.log_quantiles([snapshot(a, 0.0) for a in admissions], calibrated=calibrated)


def fit_calibrated(admissions: Sequence[Admission], hyper: Hyper | None = None, seed: int = 0) -> LosModel:
    """Fit on all finished stays; the conformal margin comes from an inner grouped cross-validation."""
    finished = _finished(admissions)
    oof = np.zeros((len(finished), len(QUANTILES)))
    for train, test in _folds(finished, _INNER_FOLDS, seed):
        inner = LosModel(hyper).fit(*training_rows([finished[i] for i in train]))
        oof[test] = _at_admission(inner, [finished[i] for i in test], calibrated=False)
    y = log_days([a.los_days or 0.0 for a in finished])
    scores = np.maximum(oof[:, 0] - y, y - oof[:, 2])
    level = min(1.0, math.ceil((len(y) + 1) * _COVERAGE) / len(y))
    model = LosModel(hyper).fit(*training_rows(finished))
    model.margin_ = float(np.quantile(scores, level, method="higher"))
    return model


@dataclass(frozen=True)
class LosMetrics:
    """Figures on held-out admissions, predicted at admission (days)."""

    admissions: int
    mae_days: float
    median_ae_days: float
    baseline_mae_days: float
    coverage_80: float
    pinball_loss: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "admissions": self.admissions,
            "mae_days": round(self.mae_days, 3),
            "median_ae_days": round(self.median_ae_days, 3),
            "baseline_mae_days": round(self.baseline_mae_days, 3),
            "coverage_80": round(self.coverage_80, 3),
            "pinball_loss": round(self.pinball_loss, 3),
        }


def metrics(actual: NDArray[np.float64], predicted: NDArray[np.float64], baseline: NDArray[np.float64]) -> LosMetrics:
    """MAE of the median, coverage of P10-P90 and mean pinball loss over the three percentiles (days).

    Args:
        actual: observed lengths of stay, days.
        predicted: (n, 3) predicted P10, P50, P90, days.
        baseline: the baseline's prediction for each stay (the training median), days.
    """
    errors = np.abs(actual - predicted[:, 1])
    inside = (predicted[:, 0] <= actual) & (actual <= predicted[:, 2])
    pinball = [
        np.mean(np.maximum(q * (actual - predicted[:, i]), (q - 1) * (actual - predicted[:, i])))
        for i, q in enumerate(QUANTILES)
    ]
    return LosMetrics(
        admissions=len(actual),
        mae_days=float(errors.mean()),
        median_ae_days=float(np.median(errors)),
        baseline_mae_days=float(np.abs(actual - baseline).mean()),
        coverage_80=float(inside.mean()),
        pinball_loss=float(np.mean(pinball)),
    )


@dataclass(frozen=True)
class CrossValidation:
    """Out-of-fold predictions at admission for every finished stay, and their figures."""

    admissions: list[Admission]
    predicted: NDArray[np.float64]  # (n, 3) days
    baseline: NDArray[np.float64]  # (n,) days: the training folds' median
    figures: LosMetrics
    models: list[LosModel]  # one a fold
    fold_of: NDArray[np.int64]  # (n,) the fold whose model never saw the admission
    trained_on: list[frozenset[str]] = field(default_factory=list)  # each fold model's training patients

    def in_bed_figures(self, elapsed_days: float) -> LosMetrics:
        """Figures for the stays still going on ``elapsed_days`` after admission, predicted then.

        Each such stay is predicted by its out-of-fold model (``LosModel.in_bed``: the at-admission
        distribution conditioned on the days spent); the baseline is the median of the training
        folds' stays that lasted longer than ``elapsed_days``.
        """
        actual = np.array([a.los_days or 0.0 for a in self.admissions])
        rows = np.flatnonzero(actual > elapsed_days)
        predicted = np.zeros((len(rows), len(QUANTILES)))
        baseline = np.zeros(len(rows))
        for out, i in enumerate(rows):
            fold = int(self.fold_of[i])
            dist = self.models[fold].in_bed([self.admissions[i]], [elapsed_days])
            predicted[out] = elapsed_days + dist.remaining_quantiles(QUANTILES)[0]
            baseline[out] = np.median(actual[(self.fold_of != fold) & (actual > elapsed_days)])
        return metrics(actual[rows], predicted, baseline)


def cross_validate(
    admissions: Sequence[Admission], hyper: Hyper | None = None, folds: int = _FOLDS, seed: int = 0
) -> CrossValidation:
    """Grouped by patient: no patient is in both the training and the test part of a fold."""
    finished = _finished(admissions)
    predicted = np.zeros((len(finished), len(QUANTILES)))
    baseline = np.zeros(len(finished))
    models: list[LosModel] = []
    trained_on: list[frozenset[str]] = []
    fold_of = np.zeros(len(finished), dtype=np.int64)
    for fold, (train, test) in enumerate(_folds(finished, folds, seed)):
        part = [finished[i] for i in train]
        model = fit_calibrated(part, hyper, seed)
        models.append(model)
        trained_on.append(frozenset(a.patient_key for a in part))
        fold_of[test] = fold
        predicted[test] = np.exp(_at_admission(model, [finished[i] for i in test], calibrated=True))
        baseline[test] = float(np.median([a.los_days or 0.0 for a in part]))
    actual = np.array([a.los_days or 0.0 for a in finished])
    figures = metrics(actual, predicted, baseline)
    return CrossValidation(finished, predicted, baseline, figures, models, fold_of, trained_on)
