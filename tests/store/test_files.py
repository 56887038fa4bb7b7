"""Both storages of originals behave alike: content-addressed, written once, keys never leave the storage.

Every test runs on the disk and on the database storage (and each on SQLite, and on PostgreSQL when given).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from medspeak.auth.roles import Actor
from medspeak.errors import UploadRejected
from medspeak.services import documents, patients
from medspeak.services.context import AppContext
from medspeak.store.db import Store
from medspeak.store.files import DatabaseStorage, DocumentStorage, FileStorage, open_storage
from medspeak.store.models import Document, DocumentBlob
from tests.ingest import corpus
from tests.support.jobs import wait_for_job

TEXT = "Discharge summary. Metoprolol 25 mg PO twice daily. No chest pain."


@pytest.fixture(params=["disk", "database"])
def kind(request: pytest.FixtureRequest, env: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """``MEDSPEAK_FILE_STORE`` for the test, set before the store is opened (tests ask for it first)."""
    monkeypatch.setenv("MEDSPEAK_FILE_STORE", request.param)
    return str(request.param)


@pytest.fixture
def ctx(kind: str, ctx: AppContext) -> AppContext:
    """The test's context, opened after ``kind`` set the storage."""
    return ctx


@pytest.fixture
def storage(kind: str, store: Store) -> FileStorage:
    assert store.settings.file_store == kind
    return open_storage(store)


def _originals(store: Store, kind: str) -> int:
    """How many originals the chosen storage holds."""
    if kind == "disk":
        return sum(1 for p in store.settings.documents_dir.rglob("*") if p.is_file())
    with store.transaction() as db:
        return db.scalar(select(func.count()).select_from(DocumentBlob)) or 0


def test_the_setting_chooses_the_storage(kind: str, storage: FileStorage) -> None:
    assert isinstance(storage, DocumentStorage if kind == "disk" else DatabaseStorage)


def test_content_is_stored_once_under_its_sha256(kind: str, storage: FileStorage, store: Store) -> None:
    content = b"%PDF-1.4 original bytes"
    first = storage.put(content, "pdf")
    digest = hashlib.sha256(content).hexdigest()
    assert (first.sha256, first.key, first.size, first.created) == (digest, f"{digest[:2]}/{digest}.pdf", 23, True)
    again = storage.put(content, "pdf")
    assert (again.key, again.created) == (first.key, False)
    assert storage.read(first.key) == content
    assert _originals(store, kind) == 1


def test_an_unsafe_extension_or_a_foreign_key_is_refused(storage: FileStorage) -> None:
    with pytest.raises(ValueError, match="unsafe extension"):
        storage.put(b"x", "../pdf")
    with pytest.raises(ValueError):
        storage.read("../../etc/passwd")


def test_a_missing_original_is_file_not_found_and_discard_removes_one(
    kind: str, storage: FileStorage, store: Store
) -> None:
    stored = storage.put(b"to be discarded", "txt")
    storage.discard(stored.key)
    with pytest.raises(FileNotFoundError):
        storage.read(stored.key)
    assert _originals(store, kind) == 0


def test_a_write_inside_a_transaction_that_fails_leaves_nothing_in_the_database(
    kind: str, storage: FileStorage, store: Store
) -> None:
    with pytest.raises(RuntimeError), store.transaction() as db:
        storage.put(b"never committed", "txt", db)
        raise RuntimeError("the document row could not be written")
    if kind == "database":  # the blob rolls back with the row; a disk write is discarded by the service
        assert _originals(store, kind) == 0


@pytest.fixture
def two_patients(kind: str, actors: dict[str, Actor], store: Store) -> list[int]:
    return [
        patients.register_patient(
            store,
            actors["clinician"],
            given_name="A",
            family_name=name,
            sex="female",
            birth_date=date(1960, 1, 1),
        ).id
        for name in ("Silva", "Moreau")
    ]


def test_uploads_are_stored_once_and_read_back_by_the_job(
    ctx: AppContext, kind: str, actors: dict[str, Actor], two_patients: list[int], store: Store
) -> None:
    clinician, content = actors["clinician"], corpus.pdf(TEXT)
    first = documents.upload(ctx, clinician, filename="a.pdf", content=content, patient_id=two_patients[0])
    assert wait_for_job(store, clinician, first.job_id or 0).status == "done"
    linked = documents.upload(ctx, clinician, filename="a.pdf", content=content, patient_id=two_patients[1])
    assert wait_for_job(store, clinician, linked.job_id or 0).status == "done"
    assert _originals(store, kind) == 1
    assert documents.read_original(store, clinician, linked.document_id)[1] == content
    detail = documents.document_detail(store, clinician, first.document_id)
    assert "Metoprolol 25 mg" in detail.pages[0].text
    if kind == "database":
        assert not store.settings.documents_dir.exists() or not any(store.settings.documents_dir.rglob("*"))


def test_a_rejected_upload_stores_nothing(
    ctx: AppContext, kind: str, actors: dict[str, Actor], two_patients: list[int], store: Store
) -> None:
    with pytest.raises(UploadRejected):
        documents.upload(
            ctx, actors["clinician"], filename="x.pdf", content=corpus.encrypted_pdf(), patient_id=two_patients[0]
        )
    with store.transaction() as db:
        assert db.scalar(select(func.count()).select_from(Document)) == 0
    assert _originals(store, kind) == 0


def test_demo_originals_are_written_with_their_rows_and_read_back(kind: str, store: Store) -> None:
    from medspeak.demo.seed import seed_demo

    seed_demo(store, n_patients=4, seed=3, now=datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
    storage = open_storage(store)
    with store.transaction() as db:
        rows = db.execute(select(Document.storage_key, Document.sha256)).all()
    assert rows and _originals(store, kind) == len({sha for _, sha in rows})
    for key, sha256 in rows:
        assert hashlib.sha256(storage.read(key)).hexdigest() == sha256
