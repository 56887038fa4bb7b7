"""``medspeak eval triage --json`` and ``train``: the figures the README reports come from here."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medspeak.triage.model import MODEL_DIR
from medspeak.triage.training.cli import app

KTAS = Path(__file__).resolve().parents[3] / "shared" / "data" / "ktas" / "ktas_train.csv"
_KEYS = {
    "n",
    "accuracy",
    "macro_f1",
    "kappa_linear",
    "kappa_quadratic",
    "under_triage",
    "over_triage",
    "critical_under_triage",
    "ece",
    "nurse",
    "second_reader",
    "critical_alert",
}
_HEADER = (
    "Group;Sex;Age;Patients number per hour;Arrival mode;Injury;Chief_complain;Mental;Pain;NRS_pain;SBP;DBP;HR;RR;"
    "BT;Saturation;KTAS_RN;Diagnosis in ED;Disposition;KTAS_expert;Error_group;Length of stay_min;"
    "KTAS duration_min;mistriage"
)
# Made-up rows in the KTAS format (not from the dataset): a hypoxic patient the nurse under-triaged, a sprain.
_ROWS = (
    "2;2;78;5;2;1;dyspnea;1;1;3;100;60;118;26;36.8;86;4;Pneumonia;2;2;2;300;2,00;2",
    "1;1;25;5;1;2;ankle sprain;1;1;3;125;80;80;18;36.6;;4;Sprain;1;4;0;60;1,00;0",
    "1;1;40;5;3;1;??;1;0;#BOÞ!;??;??;??;??;??;;3;x;1;3;0;60;1,00;0",
)


@pytest.fixture
def small_csv(tmp_path: Path) -> Path:
    path = tmp_path / "ktas_like.csv"
    path.write_text("\n".join((_HEADER, *_ROWS)) + "\n", encoding="latin-1")
    return path


def test_eval_json_prints_the_issue_keys_for_model_nurse_and_second_reader(small_csv: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "--data", str(small_csv), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert set(figures) == _KEYS
    assert figures["n"] == 3
    assert set(figures["nurse"]) == _KEYS - {"nurse", "second_reader", "critical_alert"}
    assert set(figures["critical_alert"]) == {"sensitivity", "alert_rate"}
    assert set(figures["second_reader"]) == {
        "flag_rate",
        "nurse_under_triage_caught",
        "nurse_critical_under_triage",
        "combined_critical_under_triage",
    }
    assert figures["critical_under_triage"] == 0.0  # the hypoxic level 2 is caught (SpO2 rule)
    assert figures["critical_alert"]["sensitivity"] == 1.0  # ... and alerted
    assert figures["nurse"]["critical_under_triage"] == 1.0  # the nurse gave 4
    assert figures["second_reader"]["nurse_under_triage_caught"] == 1.0
    assert figures["second_reader"]["nurse_critical_under_triage"] == 1.0
    assert figures["second_reader"]["combined_critical_under_triage"] == 0.0  # the reader flagged her 4


def test_eval_refuses_a_file_that_is_not_ktas(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a;b\n1;2\n")
    result = CliRunner().invoke(app, ["eval", "--data", str(bad)])
    assert result.exit_code != 0
    assert "not in the KTAS format" in str(result.exception)


@pytest.mark.slow
@pytest.mark.skipif(not KTAS.exists(), reason="the KTAS file is not in ../shared/data")
def test_training_reproduces_the_committed_artifact(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["train", "--data", str(KTAS), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    committed = json.loads((MODEL_DIR / "model.json").read_text())
    fresh = json.loads((tmp_path / "model.json").read_text())
    assert fresh["version"] == committed["version"]  # the version hashes the trees and the thresholds
    assert fresh["holdout"] == committed["holdout"]
    manifest = json.loads((tmp_path / "manifest.json").read_text())["sha256"]
    assert manifest["model.ubj"] == json.loads((MODEL_DIR / "manifest.json").read_text())["sha256"]["model.ubj"]
    card = (tmp_path / "MODEL_CARD.md").read_text()
    assert "Subgroups" in card and "sex female" in card and "site: regional ED" in card and "Limits" in card


def test_the_cli_names_the_same_artifact_folder_as_the_model() -> None:
    from medspeak.triage.training import cli

    assert cli.MODEL_DIR == MODEL_DIR


@pytest.mark.skipif(not KTAS.exists(), reason="the KTAS file is not in ../shared/data")
def test_eval_holdout_prints_the_figures_of_the_model_card() -> None:
    result = CliRunner().invoke(app, ["eval", "--data", str(KTAS), "--holdout", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    committed = json.loads((MODEL_DIR / "model.json").read_text())["holdout"]
    assert figures == committed  # the README's held-out figures are reproducible from the command line
    assert figures["n"] == 203


def test_eval_holdout_refuses_a_file_the_model_was_not_trained_on(small_csv: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "--data", str(small_csv), "--holdout"])
    assert result.exit_code != 0
    assert "--holdout needs the file the model was trained on" in str(result.exception)
