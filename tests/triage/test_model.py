import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from medspeak.triage.features import inputs_frame
from medspeak.triage.inputs import TriageInputs
from medspeak.triage.model import MODEL_DIR, ModelUnavailable, TriageModel
from medspeak.triage.training.card import write_manifest
from tests.triage.conftest import HYPOXIC, SPRAIN


def test_the_committed_artifact_is_small_hashed_and_not_a_pickle() -> None:
    manifest = json.loads((MODEL_DIR / "manifest.json").read_text())["sha256"]
    assert {"model.ubj", "model.json", "MODEL_CARD.md", "calibration.png"} <= set(manifest)
    from medspeak.triage.model import sha256_file

    for name in ("model.ubj", "model.json", "MODEL_CARD.md", "calibration.png"):
        assert sha256_file(MODEL_DIR / name) == manifest[name], f"{name} changed since the manifest was written"
    assert (MODEL_DIR / "model.ubj").stat().st_size < 5 * 2**20
    assert not list(MODEL_DIR.glob("*.pkl")) and not list(MODEL_DIR.glob("*.joblib"))


def test_a_hypoxic_breathless_patient_is_urgent_and_a_sprain_is_not(engine) -> None:  # type: ignore[no-untyped-def]
    model = engine.model
    scored = model.score(inputs_frame([HYPOXIC, SPRAIN]))
    assert np.allclose(scored.probabilities.sum(axis=1), 1.0)
    assert scored.level[0] <= 2
    assert scored.level[1] >= 4
    assert "spo2_below_92" in [r.id for r in scored.fired[0]] and scored.fired[1] == []
    assert scored.alert.tolist() == [True, False]  # "possible level 1-2" for the hypoxic patient only


def test_the_level_is_the_most_probable_one_and_no_threshold_moves_it(engine) -> None:  # type: ignore[no-untyped-def]
    model = engine.model
    # P(level 1-2) = 0.30: enough for the alert, not for the level (the old decision rule said level 2 at 0.11)
    probabilities = np.array([[0.05, 0.25, 0.45, 0.2, 0.05]])
    assert model.decide(probabilities).tolist() == [3]
    assert model.critical_alert(probabilities, [3], [[]]).tolist() == [
        probabilities[0, :2].sum() >= model.alert_threshold
    ]
    assert model.alert_threshold < 0.3


def test_the_model_copes_with_every_input_missing(engine) -> None:  # type: ignore[no-untyped-def]
    model = engine.model
    scored = model.score(inputs_frame([TriageInputs()]))
    assert 1 <= scored.level[0] <= 5 and np.isfinite(scored.probabilities).all()


def test_shap_values_add_up_to_the_predicted_score(engine) -> None:  # type: ignore[no-untyped-def]
    model, explainer = engine.model, engine.explainer
    features = model.space.transform(inputs_frame([HYPOXIC]))
    values = explainer.values(features)[0]
    margins = model.margins(features)[0]
    base = np.asarray(explainer._tree.expected_value)
    assert np.allclose(values.sum(axis=0) + base, margins, atol=1e-4)
    explanation = explainer.explain(features, 2)
    assert explanation.contributions[0].label == "SpO2 88 %"
    assert explanation.contributions[0].direction == "more urgent"


def test_a_model_trained_with_other_rules_refuses_to_load(tmp_path: Path) -> None:
    folder = tmp_path / "triage"
    shutil.copytree(MODEL_DIR, folder)
    meta = json.loads((folder / "model.json").read_text())
    meta["rules_sha256"] = "0" * 64
    (folder / "model.json").write_text(json.dumps(meta))
    write_manifest(folder)  # a consistent artifact, trained against other rules
    with pytest.raises(ModelUnavailable, match="safety rules changed since training: retrain"):
        TriageModel.load(folder)
    with pytest.raises(ModelUnavailable, match="medspeak train triage"):
        TriageModel.load(tmp_path / "absent")


def test_the_second_reader_flags_a_nurse_who_under_triages_a_hypoxic_patient(engine) -> None:  # type: ignore[no-untyped-def]
    model = engine.model
    scored = model.score(inputs_frame([HYPOXIC, SPRAIN]))
    flags = model.second_reader(scored, [4, 4])
    assert flags.tolist() == [True, False]


@pytest.mark.parametrize(
    ("name", "tamper"),
    [
        ("model.ubj", lambda data: data[:-1] + bytes([data[-1] ^ 1])),  # one bit of one tree
        ("model.json", lambda data: data.replace(b'"alert_threshold": 0.', b'"alert_threshold": 0.9', 1)),
        ("MODEL_CARD.md", lambda data: data + b"\nAll subgroups perfect.\n"),
    ],
)
def test_a_tampered_artifact_file_is_refused_at_load(tmp_path: Path, name: str, tamper) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "triage"
    shutil.copytree(MODEL_DIR, folder)
    TriageModel.load(folder)  # the untouched copy loads
    original = (folder / name).read_bytes()
    (folder / name).write_bytes(tamper(original))
    assert (folder / name).read_bytes() != original
    with pytest.raises(ModelUnavailable, match=f"{name} is missing or altered since training"):
        TriageModel.load(folder)


def test_an_artifact_without_its_manifest_or_a_listed_file_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "triage"
    shutil.copytree(MODEL_DIR, folder)
    (folder / "calibration.png").unlink()
    with pytest.raises(ModelUnavailable, match="calibration.png is missing or altered"):
        TriageModel.load(folder)
    (folder / "manifest.json").unlink()
    with pytest.raises(ModelUnavailable, match="no manifest.json: its files cannot be verified"):
        TriageModel.load(folder)
