"""A patient with two documents read through the real upload and indexing path (shared by record tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select

from medspeak.auth.roles import Actor
from medspeak.services import documents, patients
from medspeak.services.context import AppContext
from medspeak.store.db import Store
from medspeak.store.models import Document, Fact
from tests.support.jobs import wait_for_job

SUMMARY = (
    "Discharge summary\n"
    "Medications: Metoprolol tartrate 25 mg PO twice daily. Lisinopril 10 mg daily.\n"
    "Allergies: penicillin (rash).\n"
    "Vitals: BP 142/88 HR 96 T 38.2 C SpO2 94%\n"
    "Labs: Creatinine 1.4 mg/dL\n"
    "Assessment: Community acquired pneumonia. No chest pain. Family history of diabetes.\n"
)
PRESCRIPTION = (
    "Prescription\n"
    "Medications: Metoprolol 50 mg PO twice daily.\n"
    "Stopped: Lisinopril 10 mg daily.\n"
    "Vitals: HR 72 SpO2 98%\n"
)


@dataclass(frozen=True)
class SeededRecord:
    patient_id: int
    summary_id: int
    prescription_id: int


def wait_for(store: Store, actor: Actor, job_id: int, timeout: float = 60) -> None:
    view = wait_for_job(store, actor, job_id, timeout)
    assert view.status == "done", view.message


def upload_text(ctx: AppContext, actor: Actor, patient_id: int | None, name: str, text: str, when: datetime) -> int:
    """Upload a text file, wait for it to be read and indexed, and date it ``when``."""
    store = ctx.store
    outcome = documents.upload(
        ctx, actor, filename=name, content=text.encode(), patient_id=patient_id, kind="discharge_summary"
    )
    assert outcome.job_id is not None
    wait_for(store, actor, outcome.job_id)
    with store.transaction() as db:
        db.get_one(Document, outcome.document_id).created_at = when
    return outcome.document_id


def seed_record(ctx: AppContext, clinician: Actor) -> SeededRecord:
    created = patients.register_patient(
        ctx.store, clinician, given_name="Marie", family_name="Dupont", sex="female", birth_date=date(1950, 1, 1)
    )
    summary = upload_text(ctx, clinician, created.id, "summary.txt", SUMMARY, datetime(2026, 3, 4, tzinfo=UTC))
    prescription = upload_text(
        ctx, clinician, created.id, "prescription.txt", PRESCRIPTION, datetime(2026, 4, 2, tzinfo=UTC)
    )
    return SeededRecord(created.id, summary, prescription)


def fact_id(store: Store, document_id: int, category: str, contains: str) -> int:
    """The id of the document's first fact of ``category`` whose label contains ``contains``."""
    with store.transaction() as db:
        facts = db.scalars(select(Fact).where(Fact.document_id == document_id, Fact.category == category)).all()
        return next(f.id for f in facts if contains.lower() in f.label.lower())


def fact_ids(store: Store, document_id: int) -> list[int]:
    with store.transaction() as db:
        return list(db.scalars(select(Fact.id).where(Fact.document_id == document_id).order_by(Fact.id)))
