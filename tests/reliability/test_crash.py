"""kill -9 an ingestion worker 20 times at random moments while it reads and indexes documents:
the store never holds half a document, every job ends done or failed, and the audit chain verifies."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from medspeak.auth.roles import Actor
from medspeak.cli import app as cli_app
from medspeak.services import documents, patients
from medspeak.services.context import AppContext
from medspeak.services.reading import JobRunner
from medspeak.store.db import Store
from medspeak.store.models import Document, DocumentPage, Fact, IngestJob
from medspeak.store.types import utcnow
from tests.ingest import corpus
from tests.support.jobs import read_nothing

ROOT = Path(__file__).resolve().parents[2]
_KILLS = 20
_TARGETS = ("ready", "extract", "index", "commit")  # the phase after which a kill is aimed, in turn
_MEDICATIONS = ("Metoprolol 25 mg PO twice daily", "Amoxicillin 500 mg PO three times daily", "Furosemide 40 mg IV")


class Zygote:
    """A process that imported the worker code once and forks workers on demand."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability._zygote"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, line: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.close()  # end of input: the zygote returns
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        finally:
            self.proc.stdout.close()


@pytest.fixture
def zygote(store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[Zygote]:
    # 20 kills land on few jobs: each is resumed as often as it takes (in service, 3 interruptions fail it).
    monkeypatch.setenv("MEDSPEAK_INGEST_MAX_ATTEMPTS", "100")
    z = Zygote()
    yield z
    z.close()


def _upload(ctx: AppContext, clinician: Actor, patient_id: int, n: int, monkeypatch: pytest.MonkeyPatch) -> int:
    text = f"Discharge summary {n}. {_MEDICATIONS[n % 3]}. No chest pain. Review in {n + 2} days."
    outcome = documents.upload(
        ctx, clinician, filename=f"summary-{n}.pdf", content=corpus.pdf(text, pages=2), patient_id=patient_id
    )
    assert outcome.job_id is not None
    return outcome.job_id


def _phases(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def _wait_for(path: Path, phase: str, timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if phase in _phases(path):
            return True
        time.sleep(0.005)
    return False


def _age_running_jobs(store: Store) -> None:
    """The killed worker's heartbeat stopped: make its job stale, so the next start takes it back."""
    with store.transaction() as db:
        stale = utcnow() - timedelta(hours=1)
        db.execute(update(IngestJob).where(IngestJob.status == "running").values(updated_at=stale))


def _assert_no_partial_documents(store: Store) -> None:
    with store.transaction() as db:
        for doc in db.scalars(select(Document)):
            pages = db.scalar(select(func.count(DocumentPage.id)).where(DocumentPage.document_id == doc.id))
            facts = db.scalar(select(func.count(Fact.id)).where(Fact.document_id == doc.id))
            if doc.status == "ready":
                assert pages == doc.page_count == 2 and facts and doc.text, f"document {doc.id} half-written"
            else:
                assert doc.status in {"queued", "processing", "failed"} and pages == facts == 0, (
                    f"document {doc.id} ({doc.status}) has {pages} pages and {facts} facts"
                )


@pytest.mark.slow  # ~30-60 s on 2 busy cores
def test_killing_the_worker_at_random_moments_loses_nothing_and_leaves_nothing_half_done(
    ctx: AppContext, store: Store, actors: dict[str, Actor], zygote: Zygote, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not store.is_sqlite:
        pytest.skip("crash atomicity is SQLite's journal here; PostgreSQL's is its own (tested by its suite)")
    read_nothing(ctx)  # uploads are queued only: the killed workers are the ones that read them
    clinician = actors["clinician"]
    patient_id = patients.register_patient(
        store, clinician, given_name="Crash", family_name="Test", sex="male", birth_date=date(1955, 5, 5)
    ).id
    rng = random.Random(20261128)  # noqa: S311 - reproducible kill moments, not a secret
    job_ids: list[int] = []
    killed_in: list[str] = []
    for n in range(_KILLS):
        job_ids.append(_upload(ctx, clinician, patient_id, n, monkeypatch))
        _age_running_jobs(store)
        phases_file = env / f"phases-{n}.txt"
        pid = int(zygote.ask(f"run {phases_file}"))
        target = _TARGETS[n % len(_TARGETS)]
        reached = _wait_for(phases_file, target)
        time.sleep(rng.uniform(0.0, 0.3))  # a random moment inside (or just after) the phase
        os.kill(pid, signal.SIGKILL)
        assert zygote.ask(f"reap {pid}") == "reaped"
        seen = _phases(phases_file)
        killed_in.append(seen[-1] if seen else "start")
        assert reached or target == "commit", f"round {n}: the worker never reached {target} ({seen})"
        _assert_no_partial_documents(store)

    assert {"extract", "index"} <= set(killed_in), f"no kill landed mid-read or mid-index: {killed_in}"
    # The restart: stale jobs go back to the queue and are read to the end.
    _age_running_jobs(store)
    runner = JobRunner(store)
    try:
        runner.resume_pending()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with store.transaction() as db:
                open_jobs = db.scalar(
                    select(func.count(IngestJob.id)).where(IngestJob.status.in_(("queued", "running")))
                )
            if not open_jobs:
                break
            time.sleep(0.1)
    finally:
        runner.shutdown()
    with store.transaction() as db:
        statuses = dict(db.execute(select(IngestJob.id, IngestJob.status).where(IngestJob.id.in_(job_ids))).all())
    assert set(statuses.values()) <= {"done", "failed"} and len(statuses) == _KILLS, statuses
    assert list(statuses.values()).count("done") == _KILLS, "a killed job was not resumed to the end"
    _assert_no_partial_documents(store)
    verify = CliRunner().invoke(cli_app, ["audit", "verify"])
    assert verify.exit_code == 0 and "Audit chain OK" in verify.output, verify.output
