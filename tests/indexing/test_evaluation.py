"""Evaluation against Synthea-shaped truth and against hand-annotated gold lines."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from medspeak.indexing.evaluation import METRIC_KEYS, eval_extraction_command, evaluate_gold, evaluate_synthea

_SYNTHEA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "synthea_fhir"

# Our own note in Synthea's layout (never dataset text).
_NOTE = (
    "2020-05-02\n\n# Chief Complaint\nCough.\n\n# History of Present Illness\n"
    "Patient has a history of essential hypertension (disorder), stress (finding).\n\n"
    "# Allergies\nNo Known Allergies.\n\n# Medications\n"
    "lisinopril 10 mg oral tablet; amoxicillin 250 mg / clavulanate 125 mg oral tablet; aspirin 81 mg oral tablet\n\n"
    "# Assessment and Plan\nPatient is presenting with acute bronchitis (disorder). \n"
)


def _write(folder: Path, kind: str, rows: list[dict[str, Any]]) -> None:
    (folder / f"{kind}.000.ndjson").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _request(text: str, encounter: str, authored: str) -> dict[str, Any]:
    return {
        "medicationCodeableConcept": {"text": text},
        "subject": {"reference": "Patient/p1"},
        "encounter": {"reference": f"Encounter/{encounter}"},
        "authoredOn": authored,
    }


def _condition(text: str, encounter: str, recorded: str) -> dict[str, Any]:
    return {
        "code": {"text": text},
        "subject": {"reference": "Patient/p1"},
        "encounter": {"reference": f"Encounter/{encounter}"},
        "recordedDate": recorded,
    }


@pytest.fixture
def synthea(tmp_path: Path) -> Path:
    note = base64.b64encode(_NOTE.encode()).decode()
    _write(
        tmp_path,
        "DocumentReference",
        [
            {
                "subject": {"reference": "Patient/p1"},
                "date": "2020-05-02T10:00:00-04:00",
                "context": {"encounter": [{"reference": "Encounter/e2"}]},
                "content": [{"attachment": {"data": note}}],
            }
        ],
    )
    _write(
        tmp_path,
        "MedicationRequest",
        [
            _request("lisinopril 10 MG Oral Tablet", "e1", "2019-01-01T00:00:00-05:00"),
            _request("amoxicillin 250 MG / clavulanate 125 MG Oral Tablet", "e2", "2020-05-02T10:00:00-04:00"),
            _request("Acetaminophen 325 MG Oral Tablet", "e2", "2020-05-02T10:00:00-04:00"),
            _request("aspirin 81 MG Oral Tablet", "e3", "2021-01-01T00:00:00-05:00"),  # after the note: not yet known
        ],
    )
    _write(
        tmp_path,
        "Condition",
        [
            _condition("Essential hypertension (disorder)", "e1", "2010-01-01T00:00:00-05:00"),
            _condition("Stress (finding)", "e1", "2015-01-01T00:00:00-05:00"),
            _condition("Acute bronchitis (disorder)", "e2", "2020-05-02T10:00:00-04:00"),
            _condition("Sinusitis (disorder)", "e2", "2020-05-02T10:00:00-04:00"),
        ],
    )
    return tmp_path


def test_synthea_metrics_follow_the_definition(synthea: Path) -> None:
    result = evaluate_synthea(synthea)
    assert tuple(result) == METRIC_KEYS
    assert result["notes"] == 1
    # 3 extracted; lisinopril and amoxicillin/clavulanate known by then, aspirin only later
    assert result["medication_precision"] == pytest.approx(2 / 3, abs=1e-4)
    # the encounter asked for amoxicillin/clavulanate (found) and acetaminophen (not in the note)
    assert result["medication_recall"] == 0.5
    assert result["medication_f1"] == pytest.approx(0.5714, abs=1e-4)
    # cough is the chief complaint (an Encounter fact), so it is no problem prediction;
    # sinusitis is recorded but not in the note
    assert (result["problem_precision"], result["problem_recall"]) == (1.0, 0.5)
    assert result["grounded_rate"] == 1.0
    assert result["medication_attr_accuracy"] is None and result["assertion_accuracy"] is None
    assert result["notes_per_s"] > 0


@pytest.mark.skipif(not _SYNTHEA.is_dir(), reason="shared Synthea export not present")
def test_synthea_slice_runs_with_exactly_the_keys() -> None:
    result = evaluate_synthea(_SYNTHEA, limit=5)
    assert set(result) == set(METRIC_KEYS)
    assert result["notes"] == 5 and result["grounded_rate"] == 1.0


def test_gold_lines_with_lenient_matching(tmp_path: Path) -> None:
    text = "Medications: Lasix 40 mg p.o. b.i.d.\nNo chest pain. Diagnosis: pneumonia."
    gold = {
        "id": "local-1",
        "text": text,
        "medications": [
            {
                "name": "furosemide",
                "strength": "40 mg",
                "route": "oral",
                "frequency": "twice daily",
                "status": "active",
                "evidence": "Lasix 40 mg p.o. b.i.d.",
            },
        ],
        "problems": [{"text": "chest pain", "assertion": "absent"}, {"text": "Pneumonia", "assertion": "present"}],
        "allergies": [],
        "nkda": False,
        "vitals": [],
    }
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps(gold) + "\n", encoding="utf-8")
    result = evaluate_gold(path)
    assert tuple(result) == METRIC_KEYS
    assert (result["medication_precision"], result["medication_recall"], result["medication_attr_accuracy"]) == (
        1.0,
        1.0,
        1.0,
    )
    assert (result["problem_f1"], result["assertion_accuracy"]) == (1.0, 1.0)


def _medication_scores(tmp_path: Path, lang: str | None, names: list[str]) -> tuple[float, float]:
    text = "HISTORY: She took Prilosec for reflux.\nPLAN: Omeprazole 20 mg daily."
    gold: dict[str, Any] = {"id": "local-2", "text": text, "medications": [{"name": n} for n in names]}
    if lang:
        gold["lang"] = lang
    path = tmp_path / f"gold-{lang}.jsonl"
    path.write_text(json.dumps(gold) + "\n", encoding="utf-8")
    result = evaluate_gold(path)
    return result["medication_precision"], result["medication_recall"]


def test_a_brand_and_its_generic_both_written_are_two_medications_in_english_gold(tmp_path: Path) -> None:
    """The conventions: in English a brand and its generic both written get an entry each (they were scored as one
    drug, so a report listing both could never be fully recalled); in French, one entry per drug per report."""
    assert _medication_scores(tmp_path, "en", ["Prilosec", "Omeprazole"]) == (1.0, 1.0)  # was recall 0.5
    assert _medication_scores(tmp_path, "en", ["Omeprazole"]) == (0.5, 1.0)  # the brand found is a second entry
    assert _medication_scores(tmp_path, "fr", ["Oméprazole"]) == (1.0, 1.0)
    assert _medication_scores(tmp_path, None, ["omeprazole"]) == (1.0, 1.0)  # gold from before the conventions


def test_gold_text_comes_from_the_reports_csv(tmp_path: Path) -> None:
    reports = tmp_path / "reports.csv"
    reports.write_text('note_id,transcription\n7,"Aspirin 81 mg daily."\n', encoding="utf-8")
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "mtsamples-7", "medications": [{"name": "ASA", "strength": "81 mg"}]}) + "\n")
    printed = json.loads(eval_extraction_command(None, gold, reports, "rules", json_out=True))
    assert printed["medication_recall"] == 1.0 and printed["notes"] == 1
    with pytest.raises(ValueError, match="no text for 'mtsamples-7'"):
        evaluate_gold(gold)


def test_command_needs_exactly_one_input(synthea: Path) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        eval_extraction_command(None, None, None, "rules", json_out=True)
    lines = eval_extraction_command(synthea, None, None, "auto", json_out=False).splitlines()
    assert [line.split(":")[0] for line in lines] == list(METRIC_KEYS)
