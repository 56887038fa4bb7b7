"""Issue 20: each demo sample, uploaded for a patient and read by the rules backend, shows what it is meant to."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from medspeak.auth.roles import Actor
from medspeak.errors import PermissionDenied, ValidationFailed
from medspeak.indexing.record import PatientRecord
from medspeak.services import documents, patients, record, samples
from medspeak.services.context import AppContext
from medspeak.store.db import Store
from tests.support.jobs import wait_for_job

_NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def clinician(store: Store, actors: dict[str, Actor], monkeypatch: pytest.MonkeyPatch) -> Actor:
    monkeypatch.setenv("MEDSPEAK_LLM_BACKEND", "rules")
    return actors["clinician"]


def _read(ctx: AppContext, actor: Actor, key: str) -> tuple[PatientRecord, documents.DocumentDetail]:
    store = ctx.store
    patient = patients.register_patient(
        store, actor, given_name="Marie", family_name="Dupont", sex="female", birth_date=date(1950, 3, 2)
    )
    outcome = samples.upload_sample(ctx, actor, key, patient.id, now=_NOW)
    assert outcome.job_id is not None
    assert wait_for_job(store, actor, outcome.job_id, timeout_s=120).status == "done"
    return record.patient_record(store, actor, patient.id), documents.document_detail(store, actor, outcome.document_id)


def _meds(rec: PatientRecord) -> set[tuple[str, str | None]]:
    return {(m.name.casefold(), m.strength) for m in rec.medications}


def test_the_french_scan_is_read_by_ocr_and_its_french_facts_point_to_the_page(
    ctx: AppContext, store: Store, clinician: Actor
) -> None:
    rec, detail = _read(ctx, clinician, "fr-scanned-letter")
    assert {("bisoprolol", "5 mg"), ("apixaban", "5 mg")} <= _meds(rec)
    assert "fibrillation auriculaire" in {p.text.casefold() for p in rec.problems}
    assert any("pénicilline" in a.substance.casefold() for a in rec.allergies)
    # no text layer: every medication is located on the page image (page number and box)
    assert all(s.page == 1 and s.bbox is not None for m in rec.medications for s in m.sources)
    assert detail.pages and not rec.identity_warnings


def test_the_english_pdf_gives_its_medications_problems_and_vitals(
    ctx: AppContext, store: Store, clinician: Actor
) -> None:
    rec, _ = _read(ctx, clinician, "en-discharge-pdf")
    assert _meds(rec) == {("bisoprolol", "5 mg"), ("apixaban", "5 mg"), ("atorvastatin", "40 mg")}
    assert {"atrial fibrillation with rapid ventricular response", "hypertension"} <= {
        p.text.casefold() for p in rec.problems
    }
    assert not rec.identity_warnings


def test_the_tilted_prescription_photo_is_straightened_and_read(
    ctx: AppContext, store: Store, clinician: Actor
) -> None:
    rec, _ = _read(ctx, clinician, "prescription-photo")
    assert {("apixaban", "5 mg"), ("bisoprolol", "5 mg")} <= _meds(rec)
    assert all(m.frequency for m in rec.medications)


def test_denied_symptoms_are_recorded_as_absent_never_as_problems(
    ctx: AppContext, store: Store, clinician: Actor
) -> None:
    rec, _ = _read(ctx, clinician, "negative-review")
    denied = {"chest pain", "fever", "shortness of breath", "nausea", "vomiting", "headache", "abdominal pain"}
    assert denied <= {p.text.casefold() for p in rec.refuted + rec.findings if p.verification == "refuted"}
    assert not denied & {p.text.casefold() for p in rec.problems}


def test_the_letter_about_another_patient_raises_the_wrong_patient_warning(
    ctx: AppContext, store: Store, clinician: Actor
) -> None:
    rec, _ = _read(ctx, clinician, "other-patient")
    (warning,) = rec.identity_warnings
    assert "another patient" in warning.message and "male" in warning.message


def test_the_injected_instruction_changes_nothing(ctx: AppContext, store: Store, clinician: Actor) -> None:
    rec, detail = _read(ctx, clinician, "injected-text")
    assert samples.SAMPLES[-1].key == "injected-text" and "Ignore previous instructions" in detail.text
    assert _meds(rec) == {("bisoprolol", "5 mg")}  # no morphine, whatever the text asks
    lines = [*rec.medications, *rec.problems, *rec.allergies]
    assert lines and all(s.review_status == "proposed" and s.grounding == "exact" for x in lines for s in x.sources)


def test_unknown_sample_and_a_role_that_may_not_upload_are_refused(
    ctx: AppContext, store: Store, actors: dict[str, Actor]
) -> None:
    patient = patients.register_patient(
        store, actors["clinician"], given_name="A", family_name="B", sex="male", birth_date=date(1970, 1, 1)
    )
    with pytest.raises(ValidationFailed):
        samples.upload_sample(ctx, actors["clinician"], "nope", patient.id)
    with pytest.raises(PermissionDenied):
        samples.upload_sample(ctx, actors["bed_manager"], "en-discharge-pdf", patient.id)
