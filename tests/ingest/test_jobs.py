"""Uploads are read off the page thread; the store never holds half a document."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from medspeak.auth.roles import Actor
from medspeak.errors import PermissionDenied, UploadRejected
from medspeak.services import documents, patients
from medspeak.services.audit_log import verify_store
from medspeak.services.context import AppContext
from medspeak.services.models import Models
from medspeak.services.reading import JobRunner
from medspeak.store.db import Store
from medspeak.store.models import AuditEvent, Document, DocumentPage, IngestJob
from medspeak.store.types import utcnow
from tests.ingest import corpus
from tests.support.jobs import read_nothing, wait_for_job
from tests.support.ocr import SlowEngine, marked_tiff

ROOT = Path(__file__).resolve().parents[2]
TEXT = "Discharge summary. Metoprolol 25 mg PO twice daily. No chest pain."


@pytest.fixture
def patient_id(store: Store, actors: dict[str, Actor]) -> int:
    return patients.register_patient(
        store, actors["clinician"], given_name="Ana", family_name="Silva", sex="female", birth_date=date(1961, 2, 3)
    ).id


def _count(store: Store, model: type) -> int:
    with store.transaction() as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def test_upload_is_read_in_the_background_and_audited(
    ctx: AppContext, store: Store, actors: dict[str, Actor], patient_id: int
) -> None:
    clinician = actors["clinician"]
    outcome = documents.upload(
        ctx,
        clinician,
        filename="../../summary.pdf",
        content=corpus.pdf(TEXT, pages=2),
        patient_id=patient_id,
        kind="discharge_summary",
        language="en",
    )
    assert outcome.display_name == "summary.pdf" and outcome.job_id is not None
    view = wait_for_job(store, clinician, outcome.job_id)
    assert (view.status, view.pages_done, view.pages_total) == ("done", 2, 2)
    detail = documents.document_detail(store, clinician, outcome.document_id)
    assert detail.summary.status == "ready" and [p.source for p in detail.pages] == ["text-layer"] * 2
    assert "Metoprolol 25 mg" in detail.pages[0].text
    # Indexed on the way: each fact points to its words, page and box (a PDF text layer has exact boxes).
    medication = next(f for f in detail.facts if f.category == "medication")
    assert medication.label.startswith("Metoprolol 25 mg") and medication.grounding == "exact"
    assert detail.text[medication.evidence_start : medication.evidence_end] == medication.evidence_text
    assert medication.page == 1 and medication.bbox is not None and 0 <= medication.bbox[0] < medication.bbox[2] <= 1
    chest_pain = next(f for f in detail.facts if f.category == "problem" and "chest pain" in f.label.lower())
    assert chest_pain.assertion == "absent"
    stored = list(store.settings.documents_dir.rglob("*.pdf"))
    assert len(stored) == 1 and "summary" not in stored[0].name  # generated name, never the client's
    with store.transaction() as db:
        actions = db.scalars(select(AuditEvent.action).where(AuditEvent.document_id == outcome.document_id)).all()
    assert {"document.upload", "document.ingest", "document.read"} <= set(actions)
    assert verify_store(store).ok


def test_the_same_file_is_stored_once(ctx: AppContext, store: Store, actors: dict[str, Actor], patient_id: int) -> None:
    clinician = actors["clinician"]
    content = corpus.pdf(TEXT)
    first = documents.upload(ctx, clinician, filename="a.pdf", content=content, patient_id=patient_id)
    wait_for_job(store, clinician, first.job_id or 0)
    again = documents.upload(ctx, clinician, filename="copy.pdf", content=content, patient_id=patient_id)
    assert again.job_id is None and again.document_id == first.document_id and "Already uploaded" in again.message
    other = patients.register_patient(
        store, clinician, given_name="B", family_name="C", sex="male", birth_date=date(1970, 1, 1)
    ).id
    linked = documents.upload(ctx, clinician, filename="a.pdf", content=content, patient_id=other)
    assert linked.duplicate_of == first.document_id
    assert wait_for_job(store, clinician, linked.job_id or 0).status == "done"
    assert len(list(store.settings.documents_dir.rglob("*.pdf"))) == 1


def test_a_rejected_upload_writes_nothing_but_the_audit(
    ctx: AppContext, store: Store, actors: dict[str, Actor], patient_id: int
) -> None:
    with pytest.raises(UploadRejected, match="password-protected"):
        documents.upload(
            ctx, actors["clinician"], filename="x.pdf", content=corpus.encrypted_pdf(), patient_id=patient_id
        )
    assert _count(store, Document) == 0 and not list(store.settings.documents_dir.rglob("*"))
    with store.transaction() as db:
        last = db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
        assert (last.action, last.outcome) == ("document.upload", "failure")


_WORKER = """
import sys, time
from medspeak.config import load_settings
from medspeak.services import reading as jobs
from medspeak.store.db import Store

def slow_extract(*args, **kwargs):
    time.sleep(120)  # killed long before this returns

jobs.extract = slow_extract
runner = jobs.JobRunner(Store(load_settings()))
runner.submit(int(sys.argv[1]))
time.sleep(120)
"""


def test_a_worker_killed_mid_document_leaves_no_pages_and_the_job_resumes(
    ctx: AppContext, store: Store, actors: dict[str, Actor], patient_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_nothing(ctx)
    outcome = documents.upload(
        ctx, actors["clinician"], filename="a.pdf", content=corpus.pdf(TEXT, pages=3), patient_id=patient_id
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", _WORKER, str(outcome.job_id)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    try:
        for _ in range(200):  # until the worker has claimed the job and is in the middle of it
            with store.transaction() as db:
                if db.get_one(IngestJob, outcome.job_id).status == "running":
                    break
            time.sleep(0.05)
        else:
            pytest.fail("the worker never started the job")
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    with store.transaction() as db:
        assert db.get_one(Document, outcome.document_id).status == "processing"
        assert db.scalar(select(func.count()).select_from(DocumentPage)) == 0  # nothing half-written
        db.execute(update(IngestJob).values(updated_at=utcnow() - timedelta(hours=1)))  # its heartbeat stopped
    restarted = JobRunner(store)
    try:
        assert restarted.resume_pending() == 1
        assert wait_for_job(store, actors["clinician"], outcome.job_id or 0).status == "done"
    finally:
        restarted.shutdown()
    assert _count(store, DocumentPage) == 3
    assert verify_store(store).ok


def test_a_queued_job_can_be_cancelled(
    ctx: AppContext, store: Store, actors: dict[str, Actor], patient_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_nothing(ctx)
    outcome = documents.upload(
        ctx, actors["clinician"], filename="a.pdf", content=corpus.pdf(TEXT), patient_id=patient_id
    )
    documents.cancel(store, actors["clinician"], outcome.job_id or 0)
    (view,) = documents.job_views(store, actors["clinician"], [outcome.job_id or 0])
    assert view.status == "cancelled"
    assert documents.document_detail(store, actors["clinician"], outcome.document_id).summary.status == "cancelled"


@pytest.mark.parametrize("role", ["bed_manager", "admin"])
def test_only_clinicians_upload_and_read_documents(
    ctx: AppContext, store: Store, actors: dict[str, Actor], patient_id: int, role: str
) -> None:
    with pytest.raises(PermissionDenied):
        documents.upload(ctx, actors[role], filename="a.txt", content=b"text", patient_id=patient_id)
    with pytest.raises(PermissionDenied):
        documents.list_documents(store, actors[role])
    with pytest.raises(PermissionDenied):
        documents.job_views(store, actors[role], [1])


def test_a_clinicians_upload_gets_every_core_and_a_backlog_one_page_at_a_time(
    ctx: AppContext, store: Store, actors: dict[str, Actor], patient_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_nothing(ctx)  # this test's runner decides which job is urgent
    monkeypatch.setattr(store, "settings", store.settings.model_copy(update={"ocr_page_workers": 2}))
    engine = SlowEngine(0.1)  # thread-safe, one core a page: the kind of engine pages may share the cores on
    models = Models(store.settings)
    monkeypatch.setattr(models, "ocr", lambda name: engine)
    runner = JobRunner(store, models=models)
    try:
        for n, urgent in enumerate((True, False)):  # a clinician waiting, then the backlog
            outcome = documents.upload(
                ctx,
                actors["clinician"],
                filename=f"fax{n}.tif",
                content=marked_tiff(4, width=300 + n),
                patient_id=patient_id,
            )
            runner.submit(outcome.job_id or 0, urgent=urgent)
            assert wait_for_job(store, actors["clinician"], outcome.job_id or 0).status == "done"
            assert engine.calls == 4  # every scanned page was OCR'd, none twice
            assert engine.most_at_once == (2 if urgent else 1), f"urgent={urgent}: {engine.most_at_once} at once"
            engine.calls = engine.most_at_once = 0
    finally:
        runner.shutdown()
