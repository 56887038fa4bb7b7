"""Issue 19, finding 12: a job left "processing" by a killed process is taken up again without a restart.

Before: stale jobs were looked for only when a process started, and only after 10 minutes of silence: after
a ``kill -9``, two documents stayed "processing" 11 minutes later despite 14 new uploads.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from medspeak.auth.roles import Actor
from medspeak.services.context import AppContext
from medspeak.services.reading import JobRunner
from medspeak.store.db import Store
from medspeak.store.models import Document, IngestJob
from medspeak.store.types import utcnow
from tests.support.jobs import queued_note


def _orphan(ctx: AppContext, actor: Actor, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """A job claimed by a process killed mid-document a while ago: "running", silent since."""
    store = ctx.store
    document_id, job_id = queued_note(ctx, actor)
    with store.transaction() as db:
        db.execute(
            update(IngestJob)
            .where(IngestJob.id == job_id)
            .values(status="running", attempts=1, updated_at=utcnow() - timedelta(minutes=5))
        )
        db.execute(update(Document).where(Document.id == document_id).values(status="processing"))
    return document_id, job_id


def test_a_running_process_takes_up_a_dead_processs_job_without_a_restart(
    ctx: AppContext, store: Store, actors: dict[str, Actor], monkeypatch: pytest.MonkeyPatch
) -> None:
    document_id, job_id = _orphan(ctx, actors["clinician"], monkeypatch)
    runner = JobRunner(store, workers=1, maintenance_s=0.05)  # already running: no resume at start
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline:
            with store.read() as db:
                status = db.get_one(Document, document_id).status
            if status == "ready":
                break
            time.sleep(0.1)
        assert status == "ready"
    finally:
        runner.shutdown()


def test_a_job_whose_process_is_alive_is_not_taken_from_it(
    ctx: AppContext, store: Store, actors: dict[str, Actor], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, job_id = _orphan(ctx, actors["clinician"], monkeypatch)
    with store.transaction() as db:  # its process reported 10 s ago: alive, reading a long page
        db.execute(update(IngestJob).where(IngestJob.id == job_id).values(updated_at=utcnow() - timedelta(seconds=10)))
    runner = JobRunner(store, workers=0)
    try:
        assert runner.reclaim_stale() == 0
    finally:
        runner.shutdown()


def test_a_process_keeps_its_running_jobs_alive(
    ctx: AppContext, store: Store, actors: dict[str, Actor], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, job_id = _orphan(ctx, actors["clinician"], monkeypatch)
    runner = JobRunner(store, workers=0)
    try:
        runner._running.add(job_id)  # as while run() reads it
        runner.heartbeat()
        with store.read() as db:
            assert db.get_one(IngestJob, job_id).updated_at > utcnow() - timedelta(seconds=30)
        assert runner.reclaim_stale() == 0
    finally:
        runner.shutdown()
