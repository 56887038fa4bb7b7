"""Merging facts into one record: reconciliation by date, assertions, grounding and review."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count
from typing import Any

import pytest

from medspeak.indexing.record import RecordFact, Source, ingredient_key, merge_facts

_ids = count(1)


def _fact(
    category: str,
    value: dict[str, Any],
    *,
    day: int = 1,
    doc: int = 1,
    assertion: str = "present",
    grounding: str = "exact",
    review: str = "proposed",
    evidence: str = "words",
) -> RecordFact:
    source = Source(
        fact_id=next(_ids),
        document_id=doc,
        document_name=f"doc-{doc}.txt",
        date=datetime(2026, 1, day, tzinfo=UTC),
        evidence_text=evidence,
        grounding=grounding,
        review_status=review,
    )
    label = str(value.get("name") or value.get("text") or value.get("substance") or value.get("type"))
    return RecordFact(source, category, label, assertion, value)


def _med(name: str, status: str = "active", strength: str = "10 mg", **kw: Any) -> RecordFact:
    value = {"name": name, "normalized_name": name.lower(), "strength": strength, "status": status}
    return _fact("medication", value, **kw)


@pytest.mark.parametrize(
    ("name", "key"),
    [("Metoprolol tartrate", "metoprolol"), ("Lopressor", "metoprolol"), ("Metformin ER", "metformin"),
     ("Potassium chloride", "potassium chloride"), ("Tylenol", "paracetamol")],
)  # fmt: skip
def test_ingredient_key_joins_brands_salts_and_release_forms(name: str, key: str) -> None:
    assert ingredient_key(name) == key


def test_the_newest_document_decides_a_medication_status() -> None:
    rec = merge_facts(
        [
            _med("Lisinopril", day=9, doc=2, status="stopped"),
            _med("Lisinopril", day=1, doc=1),
            _med("Zestril", day=20, doc=3, assertion="hypothetical"),  # "if BP rises, start..." is not a treatment
        ]
    )
    (line,) = rec.medications
    assert line.ingredient == "lisinopril" and line.status == "stopped"
    assert [s.document_id for s in line.sources] == [1, 2]


def test_a_restart_in_the_newest_document_beats_an_older_stop() -> None:
    rec = merge_facts([_med("Aspirin", day=1, status="stopped"), _med("Aspirin", day=5, doc=2, status="started")])
    assert rec.medications[0].status == "active"


def test_stopped_wins_within_one_document_and_negation_counts_as_stopped() -> None:
    rec = merge_facts(
        [
            _med("Warfarin", day=3, strength="5 mg"),
            _med("Warfarin", day=3, status="stopped", strength="5 mg"),
            _med("Aspirin", day=3, assertion="absent"),
        ]
    )
    assert {m.ingredient: m.status for m in rec.medications} == {"warfarin": "stopped", "aspirin": "stopped"}
    assert rec.active_medications == []


def test_differing_strengths_are_flagged_and_the_newest_shown() -> None:
    rec = merge_facts([_med("Metoprolol", strength="25 mg"), _med("Metoprolol tartrate", strength="50 mg", day=4)])
    (line,) = rec.medications
    assert line.changed and line.strength == "50 mg" and line.name == "Metoprolol tartrate"


def test_problems_follow_their_newest_statement() -> None:
    rec = merge_facts(
        [
            _fact("problem", {"text": "Chest pain"}, day=1),
            _fact("problem", {"text": "chest  pain"}, day=2, assertion="absent"),
            _fact("problem", {"text": "fever"}, day=1, assertion="absent"),
            _fact("problem", {"text": "fever"}, day=6, doc=2),
            _fact("problem", {"text": "pulmonary embolism"}, assertion="possible"),
            _fact("problem", {"text": "stroke"}, assertion="hypothetical"),
            _fact("problem", {"text": "breast cancer"}, assertion="family"),
            _fact("problem", {"text": "appendicitis"}, assertion="historical"),
        ]
    )
    shown = {p.text: (p.verification, p.historical) for p in rec.problems}
    assert shown == {
        "fever": ("confirmed", False),
        "pulmonary embolism": ("provisional", False),
        "appendicitis": ("confirmed", True),
    }
    assert [p.text for p in rec.refuted] == ["chest  pain"]
    assert [p.text for p in rec.family_history] == ["breast cancer"]
    assert len(rec.refuted[0].sources) == 2


def test_allergies_nkda_and_their_conflict() -> None:
    rec = merge_facts(
        [
            _fact("allergy", {"substance": "Penicillin", "reaction": "rash"}),
            _fact("allergy", {"substance": "penicillin", "reaction": "hives"}, day=2),
            _fact("allergy", {"substance": "latex"}, assertion="absent"),
            _fact("allergy", {"nkda": True}, day=3),
        ]
    )
    assert [(a.substance, a.reactions) for a in rec.allergies] == [("penicillin", ["rash", "hives"])]
    assert len(rec.nkda) == 1 and rec.allergy_conflict


def test_only_grounded_unrejected_facts_with_evidence_enter_the_record() -> None:
    rec = merge_facts(
        [
            _med("Heparin", grounding="none"),
            _med("Insulin", evidence=""),
            _med("Amoxicillin", review="rejected"),
            _med("Ceftriaxone", grounding="fuzzy", review="corrected"),
            _fact("vital", {"type": "heart_rate", "value": 88, "unit": "/min"}, day=2),
            _fact("vital", {"type": "heart_rate", "value": 120, "unit": "/min"}, day=1),
            _fact("lab", {"name": "creatinine", "value": "n/a"}),
        ]
    )
    assert [m.ingredient for m in rec.medications] == ["ceftriaxone"]
    assert rec.left_out == {"ungrounded": 2, "rejected": 1}
    assert [(p.name, p.value) for p in rec.timeline] == [("heart_rate", 120.0), ("heart_rate", 88.0)]
