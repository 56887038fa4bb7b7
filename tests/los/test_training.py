"""Cross-validation: every figure the eval prints for the training folder is out of fold, grouped by patient."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from medspeak.errors import ValidationFailed
from medspeak.los import artifact
from medspeak.los.admissions import Admission
from medspeak.los.features import snapshot
from medspeak.los.training import CrossValidation, cross_validate, fit_calibrated, metrics
from medspeak.los.training.cli import _committed_cv
from tests.los.conftest import FAST


@pytest.fixture(scope="module")
def cv_small(demo_admissions: list[Admission]) -> CrossValidation:
    return cross_validate(demo_admissions[:300], FAST, folds=3)


def test_each_stay_is_scored_by_a_model_that_never_saw_its_patient(cv_small: CrossValidation) -> None:
    cv = cv_small
    assert len(cv.trained_on) == len(cv.models) == 3
    for i, adm in enumerate(cv.admissions):
        assert adm.patient_key not in cv.trained_on[int(cv.fold_of[i])]
    # the figures are those of these out-of-fold predictions, from the admission snapshot
    for fold, model in enumerate(cv.models):
        rows = np.flatnonzero(cv.fold_of == fold)
        expected = model.quantiles([snapshot(cv.admissions[i], 0.0) for i in rows])
        assert np.allclose(cv.predicted[rows], expected)
    actual = np.array([a.los_days for a in cv.admissions], dtype=float)
    assert cv.figures == metrics(actual, cv.predicted, cv.baseline)
    inside = (cv.predicted[:, 0] <= actual) & (actual <= cv.predicted[:, 2])
    assert cv.figures.coverage_80 == pytest.approx(inside.mean())


def test_in_bed_figures_score_only_stays_still_going_on(cv_small: CrossValidation) -> None:
    cv = cv_small
    later = cv.in_bed_figures(3.0)
    assert later.admissions == sum(1 for a in cv.admissions if (a.los_days or 0) > 3.0) < cv.figures.admissions
    assert 0.0 <= later.coverage_80 <= 1.0 and later.mae_days > 0


def test_eval_on_the_training_folder_reruns_cross_validation(demo_admissions: list[Admission], tmp_path: Path) -> None:
    part = demo_admissions[:150]
    model = fit_calibrated(part, FAST)
    finished = [a for a in part if a.los_days is not None]
    model.meta_ = {"version": "los-x", "training_fingerprint": artifact.fingerprint(part), "training_median_days": 4.0}
    artifact.write_manifest(tmp_path, model.save(tmp_path))
    cv, mode = _committed_cv(part, tmp_path)
    assert "cross-validation" in mode and len(cv.models) == 5
    in_sample = model.quantiles([snapshot(a, 0.0) for a in finished])
    assert not np.allclose(cv.predicted, in_sample)  # not the committed model scoring its own training stays
    other, mode = _committed_cv(demo_admissions[150:], tmp_path)  # another folder: the committed model as it is
    assert mode.startswith("committed model los-x") and json.dumps(other.figures.as_dict())
    with pytest.raises(ValidationFailed, match="no finished stay"):
        _committed_cv([a for a in demo_admissions[150:] if a.los_days is None], tmp_path)
