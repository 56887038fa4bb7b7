"""Workers as separate machines (issue 17): three ``medspeak worker`` processes, each in its own folder (own
``var/``, own temp dir, own working directory), share nothing but PostgreSQL (the queue, the store and the
originals, ``MEDSPEAK_FILE_STORE=database``). ``medspeak index archive`` enqueues 1,000 notes; one worker is
killed -9 in the middle of a document and the archive run is killed part-way, then run again.

Asserted: every note indexed exactly once (one document, one reading job, one successful task), nothing lost,
the facts of each document exactly those the extractor gives for its text (nothing duplicated), the killed
worker's task retried, and the second archive run read only what the first left.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from medspeak.auth.roles import Actor
from medspeak.indexing.extract import extract_facts
from medspeak.services.reading_queue import ensure_schema, queue_app, retry_stalled_jobs
from medspeak.store.db import Store
from medspeak.store.models import Document, Fact, IngestJob
from tests.conftest import TEST_COOKIE_KEY

ROOT = Path(__file__).resolve().parents[2]
_NOTES = 1000
_DRUGS = ("Metoprolol", "Amoxicillin", "Furosemide", "Lisinopril", "Atorvastatin")
_STALLED_AFTER_S = 30  # procrastinate's default: 3 missed heartbeats (one every 10 s) of a live worker

# One of the workers reads its first document for ever: it is killed -9 in the middle of it.
_STUCK_WORKER = """
import sys, time
from medspeak.services import reading
from medspeak.cli import main

def stuck(*args, **kwargs):
    time.sleep(600)

reading.extract = stuck
sys.argv = ["medspeak", "worker"]
main()
"""

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _note(n: int) -> str:
    drug = _DRUGS[n % len(_DRUGS)]
    return (
        f"Discharge summary {n:04d}.\n"
        f"Diagnosis: community acquired pneumonia.\n"
        f"{drug} {10 + n % 90} mg PO twice daily.\n"
        f"Temperature 38.{n % 10} C. Follow up in {1 + n % 4} weeks.\n"
    )


def _facts(rows: list[tuple[str, str, str | None]]) -> Counter[tuple[str, str, str | None]]:
    return Counter(rows)


class Machine:
    """A folder standing for one machine: its own home, temp dir and working directory."""

    def __init__(self, base: Path, name: str, url: str) -> None:
        self.dir = base / name
        (self.dir / "tmp").mkdir(parents=True)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            "TMPDIR": str(self.dir / "tmp"),
            "MEDSPEAK_ENV": "test",
            "MEDSPEAK_COOKIE_KEY": TEST_COOKIE_KEY,
            "MEDSPEAK_HOME": str(self.dir / "var"),
            "MEDSPEAK_SECRETS_FILE": str(self.dir / "absent-secrets.toml"),
            "MEDSPEAK_SEED_DEMO": "false",
            "MEDSPEAK_DATABASE_URL": url,
            "MEDSPEAK_QUEUE_URL": url,
            "MEDSPEAK_FILE_STORE": "database",
            "MEDSPEAK_LLM_BACKEND": "rules",
        }

    def start(self, *args: str, code: str | None = None) -> subprocess.Popen[bytes]:
        """Run ``medspeak ARGS`` (or Python ``code``) here; its output goes to ``log.txt`` (a pipe could fill)."""
        command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "medspeak", *args]
        with (self.dir / "log.txt").open("ab") as log:
            return subprocess.Popen(command, cwd=self.dir, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return (self.dir / "log.txt").read_text(encoding="utf-8", errors="replace")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _until(condition: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def test_three_workers_apart_index_a_thousand_notes_once_through_a_kill_and_an_interrupted_run(
    store: Store, actors: dict[str, Actor], tmp_path: Path
) -> None:
    if store.is_sqlite:
        pytest.skip("procrastinate needs PostgreSQL")
    url = store.url
    ensure_schema(queue_app(url))  # what the first `medspeak worker` does; done once here, not raced by three
    archive = tmp_path / "archive"
    archive.mkdir()
    for n in range(_NOTES):
        (archive / f"note-{n:04d}.txt").write_text(_note(n), encoding="utf-8")
    user = actors["clinician"].username
    office, stuck, first, second = (Machine(tmp_path, name, url) for name in ("office", "stuck", "w1", "w2"))

    def status_counts() -> dict[str, int]:
        with store.read() as db:
            return dict(db.execute(select(IngestJob.status, func.count()).group_by(IngestJob.status)).all())

    workers: list[subprocess.Popen[bytes]] = []
    run = office.start("index", "archive", str(archive), "--user", user)
    try:
        doomed = stuck.start(code=_STUCK_WORKER)
        _until(lambda: status_counts().get("running", 0) == 1, 120, "the stuck worker to start a document")
        _kill(doomed)  # kill -9 mid-document: its task stays "doing", its job row "running"
        with store.read() as db:
            killed_job = db.scalar(select(IngestJob.id).where(IngestJob.status == "running"))
        workers = [first.start("worker"), second.start("worker")]
        _until(lambda: status_counts().get("done", 0) >= 300, 300, "300 documents read")
        _kill(run)  # the archive run interrupted part-way
        app = queue_app(url)

        async def retry() -> int:
            async with app.open_async():
                return await retry_stalled_jobs(app, seconds_since_heartbeat=_STALLED_AFTER_S)

        retried: list[int] = []
        _until(lambda: retried.append(asyncio.run(retry())) or sum(retried) >= 1, 120, "the dead worker's task")
        assert sum(retried) == 1  # the killed worker's task only: the live workers' heartbeats are fresh
        with store.read() as db:
            stored_before = db.scalar(select(func.count()).select_from(Document)) or 0
            ready_before = db.scalar(select(func.count()).where(Document.status == "ready")) or 0
        assert stored_before < _NOTES  # the interruption left files never enqueued: the rerun must resume
        (office.dir / "log.txt").write_bytes(b"")  # the rerun's output only
        rerun = office.start("index", "archive", str(archive), "--user", user)
        assert rerun.wait(timeout=600) == 0, office.log()
        output = office.log()
    finally:
        for proc in [run, *workers]:
            if proc.poll() is None:
                _kill(proc)

    # Resumed, nothing read twice: the rerun read exactly the pages the first run had not seen finished.
    summary = re.search(r"(\d+) of (\d+) document\(s\) indexed \((\d+) pages read in this run\)", output)
    assert summary is not None, output
    assert (int(summary[1]), int(summary[2])) == (_NOTES, _NOTES)
    assert int(summary[3]) <= _NOTES - ready_before  # the notes read before the rerun are not counted again
    with store.read() as db:
        docs = {d.display_name: d for d in db.scalars(select(Document))}
        jobs = Counter(db.scalars(select(IngestJob.document_id)))
        job_states = Counter(db.scalars(select(IngestJob.status)))
        reads: dict[int, int] = {job_id: n for job_id, n in db.execute(select(IngestJob.id, IngestJob.attempts))}
        tasks = db.execute(
            text(
                "SELECT (args->>'job_id')::int, status, attempts FROM procrastinate_jobs "
                "WHERE task_name = 'medspeak.read_document'"
            )
        ).all()
        stored = db.execute(select(Fact.document_id, Fact.category, Fact.label, Fact.evidence_text)).all()
    assert sorted(docs) == sorted(f"note-{n:04d}.txt" for n in range(_NOTES))  # 0 lost, none stored twice
    assert all(d.status == "ready" for d in docs.values())
    assert set(jobs.values()) == {1} and job_states == {"done": _NOTES}  # one reading job a document
    # Reads are claims of the job row (``ingest_jobs.attempts``): the killed worker's job twice, every other once.
    # A task deferred again by the rerun while the first one was running finds the job claimed and reads nothing.
    assert reads == {job_id: 2 if job_id == killed_job else 1 for job_id in reads}
    assert {job_id for job_id, _, _ in tasks} == set(reads) and {status for _, status, _ in tasks} == {"succeeded"}
    assert max(n for job_id, _, n in tasks if job_id == killed_job) == 2  # its task retried by the engine
    by_document: dict[int, list[tuple[str, str, str | None]]] = {}
    for document_id, category, label, evidence in stored:
        by_document.setdefault(document_id, []).append((category, label, evidence))
    for n in range(_NOTES):
        doc = docs[f"note-{n:04d}.txt"]
        facts = extract_facts(_note(n), backend="rules").facts
        expected = [(f.category, f.label, f.evidence.text if f.evidence else None) for f in facts]
        assert expected, "the notes must give facts for the comparison to mean anything"
        assert _facts(by_document.get(doc.id, [])) == _facts(expected), doc.display_name
