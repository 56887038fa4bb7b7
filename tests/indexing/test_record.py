"""Merging facts into one record: reconciliation by date, assertions, grounding and review."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import count
from typing import Any

import pytest

from medspeak.indexing.record import PatientIdentity, RecordFact, Source, ingredient_key, merge_facts

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


def _visit_facts(doc: int, day: int, *extra: RecordFact) -> list[RecordFact]:
    return [
        _fact("encounter", {"date_kind": "admission", "date_text": f"2026-01-0{day}", "parsed_date": f"2026-01-0{day}"},
              doc=doc, day=day + 1),
        _fact("encounter", {"department": "Cardiology"}, doc=doc, day=day + 1),
        _fact("encounter", {"chief_complaint": "Palpitations"}, doc=doc, day=day + 1),
        *extra,
    ]  # fmt: skip


def test_each_document_gives_one_encounter_line_with_its_statements() -> None:
    rec = merge_facts(_visit_facts(1, 2) + _visit_facts(2, 5))
    newest, oldest = rec.encounters
    assert (newest.document_id, newest.admission, newest.department) == (2, "2026-01-05", "Cardiology")
    assert newest.start == date(2026, 1, 5) and newest.end is None and newest.chief_complaints == ["Palpitations"]
    assert len(oldest.statements) == 3
    assert all(s.document_id == 1 for s in oldest.sources)


def test_procedures_take_their_status_from_the_newest_document() -> None:
    rec = merge_facts(
        [
            _fact("procedure", {"text": "Colonoscopy"}, day=1, assertion="hypothetical"),
            _fact("procedure", {"text": "colonoscopy"}, day=9, doc=2),
            _fact("procedure", {"text": "Appendectomy"}, day=3, assertion="historical"),
            _fact("procedure", {"text": "Stress test"}, day=4, assertion="absent"),
        ]
    )
    status = {p.text.lower(): (p.status, p.historical, len(p.sources)) for p in rec.procedures}
    assert status == {
        "colonoscopy": ("completed", False, 2),  # planned, then done
        "appendectomy": ("completed", True, 1),
        "stress test": ("not-done", False, 1),
    }


def test_follow_ups_are_listed_per_document() -> None:
    rec = merge_facts(
        [
            _fact("follow_up", {"text": "Follow up with cardiology in 2 weeks", "with_whom": "cardiology",
                                "interval": "2 weeks"}, day=3),
            _fact("follow_up", {"text": "Revoir dans 1 mois", "interval": "1 mois"}, day=8, doc=2),
        ]
    )  # fmt: skip
    assert [(f.with_whom, f.interval, f.sources[0].document_id) for f in rec.follow_ups] == [
        (None, "1 mois", 2),
        ("cardiology", "2 weeks", 1),
    ]


_ON_FILE = PatientIdentity("female", date(1974, 9, 20))


@pytest.mark.parametrize(
    ("value", "warned"),
    [
        ({"age": 51, "sex": "female"}, False),  # 51 on 2026-01-01: fits
        ({"age": 52}, False),  # one year off: a birthday, or the age at admission
        ({"age": 45, "sex": "female"}, True),  # does not fit the birth date
        ({"sex": "male"}, True),
        ({"birth_date_text": "1974-09-20", "birth_date": "1974-09-20"}, False),
        ({"birth_date_text": "20/09/1947", "birth_date": "1947-09-20"}, True),
    ],
)
def test_demographics_that_contradict_the_patient_on_file_raise_a_warning(value: dict[str, Any], warned: bool) -> None:
    rec = merge_facts([_fact("demographics", value, evidence="a 45-year-old gentleman")], _ON_FILE)
    assert len(rec.demographics) == 1
    assert bool(rec.identity_warnings) is warned
    if warned:
        (warning,) = rec.identity_warnings
        assert "may belong to another patient" in warning.message and "doc-1.txt" in warning.message
        assert warning.source.evidence_text == "a 45-year-old gentleman"


def test_the_age_is_checked_at_the_date_the_document_states() -> None:
    # uploaded in 2026 (source date), but the document is about a 2006 admission: 32 then
    old_letter = [
        _fact("encounter", {"date_kind": "admission", "date_text": "2006-05-01", "parsed_date": "2006-05-01"}),
        _fact("demographics", {"age": 32, "sex": "female"}),
    ]
    assert merge_facts(old_letter, _ON_FILE).identity_warnings == []
    assert merge_facts(old_letter[1:], _ON_FILE).identity_warnings  # dated 2026 it would not fit
    rejected = _fact("demographics", {"sex": "male"}, review="rejected")  # a clinician cleared it
    assert merge_facts([rejected], _ON_FILE).identity_warnings == []
