"""Dependencies failing: no OCR engine, a full database, a language-model server down or silent.
Each degrades with a clear message and never corrupts data or the audit trail."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, text

from medspeak.api import create_app
from medspeak.config import load_settings
from medspeak.services.audit_log import verify_store
from medspeak.services.context import AppContext
from medspeak.store.db import Store
from medspeak.store.models import Assessment, Document, Fact, IngestJob
from tests.ingest import corpus
from tests.support.api import Seeded

Login = Callable[[str], dict[str, str]]
_NOTE = b"Discharge summary.\nMetoprolol 25 mg PO twice daily.\nNo chest pain.\n"


def _finished_job(client: TestClient, headers: dict[str, str], job_id: int, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/jobs/{job_id}", headers=headers).json()
        if job["finished"]:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {timeout_s} s")


# --- OCR engine missing ------------------------------------------------------------------------
def test_a_scan_without_an_ocr_engine_fails_its_job_with_the_fix(
    client: TestClient, ctx: AppContext, store: Store, login: Login, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from medspeak.ingest.ocr import tesseract

    monkeypatch.setattr(tesseract, "_tessdata", lambda: None)  # as on a server where its models were never installed
    tesseract_only = store.settings.model_copy(update={"ocr_engine": "tesseract"})
    monkeypatch.setattr(store, "settings", tesseract_only)  # what the reading job reads
    monkeypatch.setattr(ctx, "settings", tesseract_only)  # what the upload reads
    headers = login("clinician")
    r = client.post("/documents", headers=headers, files={"file": ("scan.png", corpus.png(400, 200))})
    assert r.status_code == 202, r.text
    job = _finished_job(client, headers, r.json()["job_id"])
    assert job["status"] in {"failed", "done"}
    message = job["message"] or ""
    assert "tesseract" in message and "not installed" in message and "apt-get install" in message, job
    assert verify_store(store).ok


# --- disk full ---------------------------------------------------------------------------------
@pytest.fixture
def capped(store: Store) -> Iterator[Callable[[bool], None]]:
    """Switch a size cap on the SQLite file (``PRAGMA max_page_count``): a full disk, as SQLite sees it."""
    if not store.is_sqlite:
        pytest.skip("max_page_count is SQLite's")

    def cap(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        pages = cursor.execute("PRAGMA page_count").fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {int(pages)}")
        cursor.close()

    def switch(on: bool) -> None:
        if on:
            event.listen(store.engine, "connect", cap)
        elif event.contains(store.engine, "connect", cap):
            event.remove(store.engine, "connect", cap)
        store.engine.dispose()  # new connections get (or lose) the cap

    yield switch
    switch(False)


def _count(store: Store, column: Any) -> int:
    with store.transaction() as db:
        return db.scalar(select(func.count(column))) or 0


def test_a_full_database_refuses_writes_clearly_and_stays_sound(
    client: TestClient, store: Store, login: Login, seeded: Seeded, capped: Callable[[bool], None]
) -> None:
    headers = login("clinician")
    triage = {"heart_rate": 128, "spo2": 89, "age": 71, "sex": "female", "patient_id": seeded.patient_id}
    assessments = _count(store, Assessment.id)
    # Fill the last free pages first, so the next write needs a new one.
    capped(True)
    statuses = []
    for _ in range(200):
        r = client.post("/triage", headers=headers, json={**triage, "chief_complaint": "x" * 200})
        statuses.append(r.status_code)
        if r.status_code != 200:
            break
    assert statuses[-1] == 503, statuses
    error = r.json()["error"]
    assert error["code"] == "storage_full" and "nothing was saved" in error["message"]
    assert "sqlite" not in error["message"].lower() and "INSERT" not in error["message"]
    written = statuses.count(200)
    capped(False)
    with store.transaction() as db:
        assert db.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    assert _count(store, Assessment.id) == assessments + written  # the refused write left nothing behind
    assert verify_store(store).ok
    assert client.post("/triage", headers=headers, json=triage).status_code == 200  # space again: work resumes


def test_an_upload_refused_by_a_full_database_leaves_no_file_in_storage(
    client: TestClient, store: Store, login: Login, seeded: Seeded, capped: Callable[[bool], None]
) -> None:
    headers = login("clinician")
    capped(True)
    statuses = []
    for i in range(200):
        note = f"Clinic note {i}. Metoprolol 25 mg PO twice daily. " + "x" * 2000
        files = {"file": (f"note-{i}.txt", note.encode(), "text/plain")}
        r = client.post("/documents", headers=headers, data={"patient_id": str(seeded.patient_id)}, files=files)
        statuses.append(r.status_code)
        if r.status_code != 202:
            break
    assert statuses[-1] == 503, statuses
    capped(False)
    with store.transaction() as db:
        keys = set(db.scalars(select(Document.storage_key)).all())
    root = store.settings.documents_dir
    on_disk = {str(f.relative_to(root)) for f in root.rglob("*") if f.is_file()} if root.exists() else set()
    assert on_disk == keys  # every stored original belongs to a committed document, none is orphaned
    # Every job ends done, failed saying why, or (when even that could not be written) is left for the next
    # start to resume; and the reader survived the full disk: a document uploaded now is read.
    with store.transaction() as db:
        jobs = db.execute(select(IngestJob.status, IngestJob.message)).all()
    assert all("could not be saved" in (message or "") for status, message in jobs if status == "failed"), jobs
    files = {"file": ("after.txt", b"Seen after the disk was freed. Aspirin 81 mg PO daily.", "text/plain")}
    r = client.post("/documents", headers=headers, data={"patient_id": str(seeded.patient_id)}, files=files)
    assert r.status_code == 202, r.text
    job_id, deadline = r.json()["job_id"], time.monotonic() + 60
    while (state := client.get(f"/jobs/{job_id}", headers=headers).json()["status"]) not in ("done", "failed"):
        assert time.monotonic() < deadline, state
        time.sleep(0.2)
    assert state == "done"


# --- language-model server down or silent ------------------------------------------------------
@pytest.fixture
def llm_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Point the openai extraction backend at a server that is ``down`` (refused) or ``silent`` (no answer)."""
    held: list[socket.socket] = []

    def configure(kind: str) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        if kind == "silent":
            listener.listen(16)  # connections are queued, never answered
            held.append(listener)
        else:
            listener.close()  # nothing listens: connection refused
        monkeypatch.setenv("MEDSPEAK_LLM_BACKEND", "openai")
        monkeypatch.setenv("MEDSPEAK_LLM_URL", f"http://127.0.0.1:{port}/v1")
        monkeypatch.setenv("MEDSPEAK_LLM_TIMEOUT_S", "0.5")

    yield configure
    for listener in held:
        listener.close()


@pytest.mark.parametrize("kind", ["down", "silent"])
def test_documents_are_still_indexed_by_the_rules_when_the_llm_server_fails(
    client: TestClient, store: Store, login: Login, llm_server: Callable[[str], None], kind: str
) -> None:
    headers = login("clinician")
    llm_server(kind)
    # An API started with the server configured: its context reads documents through the openai backend.
    with TestClient(create_app(load_settings()), raise_server_exceptions=False) as configured:
        assert configured.app.state.context.models.extractors.settings.llm_backend == "openai"  # type: ignore[attr-defined]
        started = time.monotonic()
        r = configured.post("/documents", headers=headers, files={"file": (f"{kind}.txt", _NOTE)})
        assert r.status_code == 202, r.text
        job = _finished_job(configured, headers, r.json()["job_id"])
    assert job["status"] == "done", job
    assert time.monotonic() - started < 30, "a dead server must cost seconds, not the page's budget"
    with store.transaction() as db:
        extractors = set(db.scalars(select(Fact.extractor).where(Fact.document_id == r.json()["document_id"])))
    assert extractors and all("llm" not in e and "openai" not in e for e in extractors), extractors
    assert verify_store(store).ok
