"""The train and eval commands: the committed artifact, and the exact JSON the issue asks for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medspeak.los import artifact
from medspeak.los.training.cli import eval_los_command, eval_occupancy_command
from medspeak.los.training.modelcard import write_model_card

MIMIC = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mimic_iv_demo"


def test_committed_artifact_is_intact_small_and_documented() -> None:
    artifact.verify(artifact.DEFAULT_DIR)  # every file matches the manifest
    files = list(artifact.DEFAULT_DIR.iterdir())
    assert sum(f.stat().st_size for f in files) < 5 * 2**20
    assert not [f for f in files if f.suffix in {".pkl", ".pickle", ".joblib"}]
    card = (artifact.DEFAULT_DIR / "MODEL_CARD.md").read_text()
    figures = artifact.read_metrics()
    assert str(figures["los"]["mae_days"]) in card and str(figures["occupancy"]["coverage_90"]) in card
    assert 0.75 <= figures["los"]["coverage_80"] <= 0.85


def test_committed_card_is_what_training_writes(tmp_path: Path) -> None:
    # The card is generated: an edit made only to the committed file would be lost at the next training.
    model = artifact.load_committed()
    rendered = write_model_card(tmp_path, model, artifact.read_metrics()).read_text(encoding="utf-8")
    assert rendered == (artifact.DEFAULT_DIR / "MODEL_CARD.md").read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.skipif(not MIMIC.exists(), reason="the MIMIC-IV demo is not in ../shared/data")
def test_eval_commands_print_the_issues_keys_and_reproduce_the_card(capsys: pytest.CaptureFixture[str]) -> None:
    eval_los_command(MIMIC, json_out=True)
    los = json.loads(capsys.readouterr().out)
    assert list(los) == ["admissions", "mae_days", "median_ae_days", "baseline_mae_days", "coverage_80", "pinball_loss"]
    assert los == artifact.read_metrics()["los"]  # the committed figures are what the command measures
    eval_occupancy_command(MIMIC, json_out=True)
    occ = json.loads(capsys.readouterr().out)
    assert list(occ) == ["days", "horizon_days", "mae_beds", "coverage_90"]
    assert occ["horizon_days"] == 14 and occ["coverage_90"] == artifact.read_metrics()["occupancy"]["coverage_90"]
