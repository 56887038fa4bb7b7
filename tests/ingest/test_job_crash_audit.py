"""Issue 19, low finding "unexpected errors leave no audit row", in the job runner: a reading job that
crashes tells its uploader a reference, logs it by type and place only, and audits it as an error."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from medspeak.auth.roles import Actor
from medspeak.services import reading as jobs_module
from medspeak.services.context import AppContext
from medspeak.services.reading import JobRunner
from medspeak.store.db import Store
from medspeak.store.models import AuditEvent, IngestJob
from tests.support.jobs import queued_note

_PHI = "Zarkowski, chest pain since Tuesday"


def test_a_crashed_job_leaves_a_reference_a_scrubbed_log_line_and_an_error_audit_row(
    ctx: AppContext,
    store: Store,
    actors: dict[str, Actor],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    document_id, job_id = queued_note(ctx, actors["clinician"])

    def crash(*args: object, **kwargs: object) -> object:
        raise RuntimeError(_PHI)

    monkeypatch.setattr(jobs_module, "_index", crash)
    caplog.set_level(logging.INFO)
    runner = JobRunner(store, workers=0)
    try:
        runner.run(job_id)
    finally:
        runner.shutdown()
    with store.read() as db:
        job = db.get_one(IngestJob, job_id)
        status, message = job.status, job.message or ""
        rows = db.execute(
            select(AuditEvent.username, AuditEvent.outcome, AuditEvent.detail).where(
                AuditEvent.action == "document.ingest", AuditEvent.document_id == document_id
            )
        ).all()
    assert status == "failed"
    reference = message.rsplit("Reference: ", 1)[1].rstrip(".")  # before: no reference to quote
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert reference in logged and "RuntimeError" in logged and "Zarkowski" not in logged
    assert [(u, o) for u, o, _ in rows] == [("clinician", "error")]
    assert reference in rows[0][2]
