"""Reading jobs on the task engine (procrastinate): deferred by the services, read by a worker, urgent first.

The engine runs on procrastinate's in-memory connector on every backend, and on PostgreSQL itself (the
``postgres`` marker) with its real schema, workers and ``SKIP LOCKED`` hand-out.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from procrastinate.testing import InMemoryConnector
from sqlalchemy import update

from medspeak.auth.roles import Actor
from medspeak.config import load_settings
from medspeak.services import documents, patients
from medspeak.services.context import AppContext
from medspeak.services.reading_queue import QUEUE, QueueRunner, build_app, queue_app, retry_stalled_jobs
from medspeak.store.db import Store
from medspeak.store.models import IngestJob
from tests.support.jobs import read_nothing, wait_for_job


def _note(n: int) -> bytes:
    return f"Discharge summary {n}.\nMetoprolol {n} mg twice daily.\n".encode()


@pytest.fixture
def patient_id(store: Store, actors: dict[str, Actor]) -> int:
    return patients.register_patient(
        store, actors["clinician"], given_name="Ana", family_name="Silva", sex="female", birth_date=date(1961, 2, 3)
    ).id


@pytest.fixture
def engine(ctx: AppContext) -> QueueRunner:
    """The services defer to an in-memory procrastinate; tests run its worker (reading through ``ctx``) until
    the queue is empty."""
    runner = QueueRunner(build_app(InMemoryConnector(), ctx))
    runner.app.open()
    ctx.use_runner(runner)
    return runner


def _drain(runner: QueueRunner) -> None:
    runner.app.run_worker(queues=[QUEUE], wait=False, concurrency=1, listen_notify=False)


def test_uploads_wait_in_the_engine_until_a_worker_reads_them_urgent_first(
    ctx: AppContext, store: Store, actors: dict[str, Actor], patient_id: int, engine: QueueRunner, reads: list[str]
) -> None:
    clinician = actors["clinician"]
    backlog = [
        documents.upload(ctx, clinician, filename=f"old-{n}.txt", content=_note(n), patient_id=patient_id, backlog=True)
        for n in (1, 2)
    ]
    urgent = documents.upload(ctx, clinician, filename="now.txt", content=_note(3), patient_id=patient_id)
    assert reads == []  # nothing is read in the process that uploads
    (view,) = documents.job_views(store, clinician, [urgent.job_id or 0])
    assert view.status == "queued"
    _drain(engine)
    assert reads == ["now.txt", "old-1.txt", "old-2.txt"]
    for outcome in [*backlog, urgent]:
        assert wait_for_job(store, clinician, outcome.job_id or 0, timeout_s=5).status == "done"


def test_a_job_deferred_twice_waits_once_and_is_read_once(
    ctx: AppContext, store: Store, actors: dict[str, Actor], patient_id: int, engine: QueueRunner, reads: list[str]
) -> None:
    outcome = documents.upload(ctx, actors["clinician"], filename="a.txt", content=_note(1), patient_id=patient_id)
    engine.submit(outcome.job_id or 0, urgent=False)  # an archive run resumed while the job still waits
    _drain(engine)
    assert reads == ["a.txt"]


def test_jobs_queued_without_the_engine_are_deferred_when_it_starts(
    ctx: AppContext,
    store: Store,
    actors: dict[str, Actor],
    patient_id: int,
    monkeypatch: pytest.MonkeyPatch,
    reads: list[str],
) -> None:
    clinician = actors["clinician"]
    read_nothing(ctx)  # queued before MEDSPEAK_QUEUE_URL was set, never read
    outcome = documents.upload(ctx, clinician, filename="a.txt", content=_note(1), patient_id=patient_id)
    runner = QueueRunner(build_app(InMemoryConnector(), ctx), store)
    runner.app.open()
    assert runner.resume_pending() == 1 and runner.resume_pending() == 1  # deferred once: the lock holds
    connector = runner.app.connector
    assert isinstance(connector, InMemoryConnector) and len(connector.jobs) == 1
    _drain(runner)
    assert reads == ["a.txt"]
    assert wait_for_job(store, clinician, outcome.job_id or 0, timeout_s=5).status == "done"


def test_a_retry_after_the_worker_died_reads_the_document_again_from_nothing(
    ctx: AppContext, store: Store, actors: dict[str, Actor], patient_id: int, engine: QueueRunner, reads: list[str]
) -> None:
    clinician = actors["clinician"]
    outcome = documents.upload(ctx, clinician, filename="a.txt", content=_note(1), patient_id=patient_id)
    # The first worker claimed the job and died: the row says running, the engine retries the task.
    with store.transaction() as db:
        db.execute(update(IngestJob).where(IngestJob.id == outcome.job_id).values(status="running"))
    connector = engine.app.connector
    assert isinstance(connector, InMemoryConnector)
    (row,) = connector.jobs.values()
    row["attempts"] = 1
    _drain(engine)
    assert reads == ["a.txt"]
    assert wait_for_job(store, clinician, outcome.job_id or 0, timeout_s=5).status == "done"
    assert len(documents.document_detail(store, clinician, outcome.document_id).facts) >= 1


@pytest.mark.postgres
def test_on_postgresql_a_worker_reads_what_the_app_deferred(
    store: Store, actors: dict[str, Actor], patient_id: int, monkeypatch: pytest.MonkeyPatch, env: Path
) -> None:
    if store.is_sqlite:
        pytest.skip("procrastinate needs PostgreSQL")
    monkeypatch.setenv("MEDSPEAK_QUEUE_URL", store.url)
    queued = AppContext(load_settings())  # the same database, opened with the engine configured
    clinician = actors["clinician"]
    assert isinstance(queued.runner, QueueRunner)
    outcome = documents.upload(queued, clinician, filename="a.txt", content=_note(1), patient_id=patient_id)
    (view,) = documents.job_views(store, clinician, [outcome.job_id or 0])
    assert view.status == "queued"
    queue_app(store.url, queued).run_worker(queues=[QUEUE], wait=False, concurrency=2, listen_notify=False)
    assert wait_for_job(store, clinician, outcome.job_id or 0, timeout_s=5).status == "done"
    queued.close()


def test_a_worker_without_a_queue_refuses_to_start(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from medspeak.cli import main

    monkeypatch.setattr("sys.argv", ["medspeak", "worker"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    assert "MEDSPEAK_QUEUE_URL is not set" in capsys.readouterr().err


_SLOW_WORKER = """
import sys, time
from medspeak.services import reading as jobs
from medspeak.services.context import AppContext
from medspeak.services.reading_queue import QUEUE, queue_app

def slow_extract(*args, **kwargs):
    time.sleep(120)  # killed long before this returns

jobs.extract = slow_extract
queue_app(sys.argv[1], AppContext.open()).run_worker(queues=[QUEUE], concurrency=1, listen_notify=False)
"""


@pytest.mark.postgres
def test_on_postgresql_a_worker_killed_mid_document_is_retried_and_the_document_indexed_once(
    store: Store, actors: dict[str, Actor], patient_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    if store.is_sqlite:
        pytest.skip("procrastinate needs PostgreSQL")
    monkeypatch.setenv("MEDSPEAK_QUEUE_URL", store.url)
    queued, clinician = AppContext(load_settings()), actors["clinician"]
    outcome = documents.upload(queued, clinician, filename="a.txt", content=_note(25), patient_id=patient_id)
    root = Path(__file__).resolve().parents[2]
    worker = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WORKER, store.url], cwd=root, env={**os.environ, "PYTHONPATH": str(root)}
    )
    try:
        for _ in range(400):  # until the worker has claimed the job and is in the middle of it
            (view,) = documents.job_views(store, clinician, [outcome.job_id or 0])
            if view.status == "running":
                break
            time.sleep(0.05)
        else:
            pytest.fail("the worker never started the job")
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    app = queue_app(store.url, queued)

    async def retry() -> int:
        async with app.open_async():
            return await retry_stalled_jobs(app, seconds_since_heartbeat=0)  # the test does not wait 5 minutes

    assert asyncio.run(retry()) == 1
    app.run_worker(queues=[QUEUE], wait=False, concurrency=1, listen_notify=False)
    assert wait_for_job(store, clinician, outcome.job_id or 0, timeout_s=10).status == "done"
    detail = documents.document_detail(store, clinician, outcome.document_id)
    queued.close()
    labels = [f.label for f in detail.facts]
    assert len(detail.pages) == 1 and labels and len(labels) == len(set(labels))  # nothing twice
