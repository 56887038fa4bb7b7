"""The length-of-stay model: ordered intervals, calibrated, saved without pickle, explained in words."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from medspeak.los.admissions import Admission
from medspeak.los.artifact import ModelUnavailable, load_committed
from medspeak.los.distribution import StayDistribution
from medspeak.los.encoder import FeatureEncoder
from medspeak.los.explain import drivers
from medspeak.los.features import snapshot
from medspeak.los.model import LosModel
from medspeak.los.training import training_rows


def test_percentiles_are_ordered_for_every_patient(model_dir: Path, demo_admissions: list[Admission]) -> None:
    model = LosModel.load(model_dir)
    q = model.quantiles([snapshot(a, e) for a in demo_admissions[:150] for e in (0.0, 2.0)])
    assert (q[:, 0] <= q[:, 1]).all() and (q[:, 1] <= q[:, 2]).all() and (q > 0).all()


def test_saved_model_predicts_the_same_and_holds_no_pickle(model_dir: Path, demo_admissions: list[Admission]) -> None:
    snaps = [snapshot(a, 1.0) for a in demo_admissions[:40]]
    first = LosModel.load(model_dir).quantiles(snaps)
    assert np.allclose(load_committed(model_dir).quantiles(snaps), first)
    assert {p.suffix for p in model_dir.iterdir()} <= {".json", ".sha256"}


def test_an_altered_artifact_is_refused(model_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    (copy / "model.json").write_text((copy / "model.json").read_text().replace('"margin"', '"margin" ', 1))
    with pytest.raises(ModelUnavailable, match="altered"):
        load_committed(copy)


def test_text_features_replay_scikit_learn(demo_admissions: list[Admission]) -> None:
    snaps, _ = training_rows(demo_admissions)
    enc = FeatureEncoder().fit(snaps)
    assert enc.vocabulary_, "the generator's orders give a vocabulary"
    reference = TfidfVectorizer(vocabulary=enc.vocabulary_, token_pattern=r"(?u)\b[^\W\d_]{3,}\b", sublinear_tf=True)
    reference.idf_ = enc.idf_
    texts = [s.text for s in snaps[:50]]
    assert np.allclose(enc._tfidf(texts), reference.transform(texts).toarray())
    again = FeatureEncoder.from_state(enc.state())
    assert np.allclose(again.transform(snaps[:50]), enc.transform(snaps[:50]))


def test_remaining_stay_depends_on_the_time_already_spent() -> None:
    q = np.array([[1.5, 4.0, 12.0]] * 3)
    dist = StayDistribution.from_quantiles(q, np.array([0.0, 5.0, 15.0]))
    remaining = dist.remaining_quantiles()
    assert (remaining > 0).all()
    assert remaining[0, 1] == pytest.approx(4.0, rel=0.01)  # at admission: the predicted median
    total_median = remaining[:, 1] + dist.elapsed
    assert total_median[0] < total_median[1] < total_median[2]  # the longer one has stayed, the longer the stay
    stays = dist.still_in(np.array([1.0]))[0]
    assert 0 < stays[0] < 1 and 0 < stays[2] < 1


def test_drivers_are_in_words_and_add_up(model_dir: Path, demo_admissions: list[Admission]) -> None:
    model = LosModel.load(model_dir)
    snap = snapshot(demo_admissions[0], 0.0)
    contrib = model.contributions([snap])[0]
    raw_median = float(np.exp(model.log_quantiles([snap], calibrated=False)[0, 1]))
    assert np.exp(contrib.sum()) == pytest.approx(raw_median, rel=1e-3)  # SHAP values sum to the prediction
    found = drivers(contrib, model.encoder_.groups, snap, raw_median, top=20)
    assert found and all(d.sentence.split(":")[0] for d in found)
    assert [abs(d.effect_pct) for d in found] == sorted((abs(d.effect_pct) for d in found), reverse=True)
    assert any(d.sentence.startswith("Ward ") for d in found) or any("Admission type" in d.text for d in found)


def test_a_patient_in_bed_gets_the_admission_prediction_conditioned_on_the_days_spent(
    model_dir: Path, demo_admissions: list[Admission]
) -> None:
    model = LosModel.load(model_dir)
    adm = next(a for a in demo_admissions if a.reports and a.reports[-1].at > a.admitted_at)
    at_admission = model.quantiles([snapshot(adm, 0.0)])[0]
    dist = model.in_bed([adm, adm, adm], [0.0, 2.0, 6.0])
    assert np.exp(dist.mu[0]) == pytest.approx(at_admission[1])  # day 0: the at-admission median
    assert np.allclose(dist.mu, dist.mu[0]) and np.allclose(dist.sigma, dist.sigma[0])  # later reports: no effect
    total = dist.remaining_quantiles()[:, 1] + dist.elapsed
    assert total[0] < total[1] < total[2] and total[2] > 6.0  # never an earlier discharge than the days spent
    assert model.in_bed([], []).mu.shape == (0,)
