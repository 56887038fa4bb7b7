"""Visit facts through the real upload path: encounters, procedures, follow-up, FHIR, and the warning
raised when a document's demographics do not fit the patient it was filed under."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from medspeak.auth.roles import Actor
from medspeak.services import record
from medspeak.services.context import AppContext
from medspeak.store.db import Store
from tests.services.record_seed import SeededRecord, fact_id, seed_record, upload_text

# Marie Dupont, female, born 1950-01-01 (record_seed): 76 in March 2026.
FITTING = (
    "Clinic letter\nDate: 2026-03-10\nService: Cardiology\nChief complaint: Palpitations.\n"
    "The patient is a 76-year-old woman, s/p appendectomy.\nFollow up with cardiology in 2 weeks.\n"
)
ANOTHER_PATIENT = "Clinic letter\nDate: 2026-03-12\nThe patient is a 45-year-old gentleman with a cough.\n"


@pytest.fixture
def seeded(ctx: AppContext, store: Store, actors: dict[str, Actor]) -> SeededRecord:
    return seed_record(ctx, actors["clinician"])


def _upload(ctx: AppContext, actor: Actor, patient_id: int, name: str, text: str) -> int:
    return upload_text(ctx, actor, patient_id, name, text, datetime(2026, 3, 12, tzinfo=UTC))


def test_a_fitting_letter_adds_its_visit_and_raises_no_warning(
    ctx: AppContext, store: Store, actors: dict[str, Actor], seeded: SeededRecord
) -> None:
    clinician = actors["clinician"]
    _upload(ctx, clinician, seeded.patient_id, "letter.txt", FITTING)
    rec = record.patient_record(store, clinician, seeded.patient_id)
    assert rec.identity_warnings == []
    (visit,) = [e for e in rec.encounters if e.document_name == "letter.txt"]
    assert (visit.visit, visit.department, visit.chief_complaints) == ("2026-03-10", "Cardiology", ["Palpitations"])
    assert [(p.text, p.status, p.historical) for p in rec.procedures] == [("appendectomy", "completed", True)]
    assert [(f.with_whom, f.interval) for f in rec.follow_ups] == [("cardiology", "2 weeks")]
    assert "palpitations" not in {p.text.lower() for p in rec.problems}  # the reason for the visit, not a problem
    bundle = json.loads(record.fhir_export(store, clinician, seeded.patient_id).content)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert {"Procedure", "ServiceRequest"} <= set(kinds)
    reasons = [e["resource"].get("reasonCode") for e in bundle["entry"] if e["resource"]["resourceType"] == "Encounter"]
    assert [{"text": "Palpitations"}] in reasons


def test_a_document_about_another_patient_is_flagged(
    ctx: AppContext, store: Store, actors: dict[str, Actor], seeded: SeededRecord
) -> None:
    clinician = actors["clinician"]
    _upload(ctx, clinician, seeded.patient_id, "misfiled.txt", ANOTHER_PATIENT)
    rec = record.patient_record(store, clinician, seeded.patient_id)
    (warning,) = rec.identity_warnings
    assert warning.document_name == "misfiled.txt"
    assert "may belong to another patient" in warning.message
    assert "it says male, the patient on file is female" in warning.message
    assert "it gives the age 45, the patient on file was 76 on 2026-03-12" in warning.message
    assert warning.source.evidence_text == "45-year-old gentleman"


def test_rejecting_the_misread_demographics_clears_the_warning_and_a_corrected_date_is_read_again(
    ctx: AppContext, store: Store, actors: dict[str, Actor], seeded: SeededRecord
) -> None:
    clinician = actors["clinician"]
    misfiled = _upload(ctx, clinician, seeded.patient_id, "misfiled.txt", ANOTHER_PATIENT)
    letter = _upload(ctx, clinician, seeded.patient_id, "letter.txt", FITTING + "Seen again on 2026-03-11.\n")
    demographics = fact_id(store, misfiled, "demographics", "45")
    record.review_fact(store, clinician, demographics, "rejected", reason="Dictation error: wrong template")
    assert record.patient_record(store, clinician, seeded.patient_id).identity_warnings == []
    visit = fact_id(store, letter, "encounter", "visit date")
    record.review_fact(store, clinician, visit, "corrected", corrected={"date_text": "2026-03-11"}, reason="typo")
    rec = record.patient_record(store, clinician, seeded.patient_id)
    (line,) = [e for e in rec.encounters if e.document_name == "letter.txt"]
    assert (line.visit, line.start) == ("2026-03-11", date(2026, 3, 11))


def test_a_flagged_document_stays_out_of_fhir_until_a_clinician_confirms_the_patient(
    ctx: AppContext, store: Store, actors: dict[str, Actor], seeded: SeededRecord
) -> None:
    # Issue 18 item 3: a document the record flags as possibly another patient's was exported unflagged.
    from medspeak.errors import PermissionDenied, ValidationFailed
    from medspeak.services import documents
    from tests.support.api import count_events

    clinician = actors["clinician"]
    misfiled = _upload(ctx, clinician, seeded.patient_id, "misfiled.txt", ANOTHER_PATIENT)

    def exported_text() -> tuple[str, tuple[str, ...]]:
        export = record.fhir_export(store, clinician, seeded.patient_id)
        return export.content.lower(), export.left_out

    text, left_out = exported_text()
    assert left_out == ("misfiled.txt",) and "cough" not in text and "misfiled.txt" not in text
    with pytest.raises(PermissionDenied):
        documents.confirm_patient(store, actors["bed_manager"], misfiled, reason="checked the wristband")
    assert count_events(store, action="document.confirm_patient", outcome="denied") == 1
    with pytest.raises(ValidationFailed, match="Say how you checked"):
        documents.confirm_patient(store, clinician, misfiled, reason="  ")
    assert exported_text()[1] == ("misfiled.txt",)

    documents.confirm_patient(store, clinician, misfiled, reason="Called the GP: same patient, template error")
    (warning,) = record.patient_record(store, clinician, seeded.patient_id).identity_warnings
    assert warning.confirmed_by is not None and warning.confirmed_by.startswith(clinician.username)
    text, left_out = exported_text()
    assert left_out == () and "cough" in text
    assert count_events(store, action="document.confirm_patient", outcome="success") == 1
