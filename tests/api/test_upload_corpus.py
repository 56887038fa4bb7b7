"""The hostile upload corpus through the API: a clear 4xx each, nothing stored or written elsewhere,
bounded memory for bombs and oversized bodies; any filename is only ever display text."""

from __future__ import annotations

import re
import tempfile
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from medspeak.services.context import AppContext
from medspeak.store.db import Store
from medspeak.store.models import Document
from tests.ingest import corpus
from tests.support.jobs import read_nothing

Login = Callable[[str], dict[str, str]]
_MB = 2**20
# Peak Python memory a refused upload may cost beyond the request body itself. pypdf inflates a stream
# up to its own output cap (~40 MB measured) before the refusal; the whole bomb (100 MB of PDF stream,
# or a 30000 x 30000 image: 2.7 GB) would go far past this.
_MEMORY_BOUND = 64 * _MB

CASES: list[tuple[str, Callable[[], bytes], int, str]] = [
    ("empty.pdf", lambda: b"", 422, "empty"),
    ("truncated.pdf", lambda: corpus.pdf()[:300], 422, "damaged"),
    ("locked.pdf", corpus.encrypted_pdf, 422, "password-protected"),
    ("bomb.pdf", corpus.flate_bomb_pdf, 422, "damaged or unreadable"),
    ("bomb.png", lambda: corpus.png_claiming(30000, 30000), 422, "too large"),
    ("truncated.png", lambda: corpus.png(400, 400)[:120], 422, "damaged or truncated"),
    ("image.pdf", corpus.png, 422, "named .pdf but its content is a PNG image"),
    ("report.exe", lambda: b"MZ\x90\x00" + b"\x00" * 60, 422, "not supported"),
    ("archive.docx", corpus.zip_not_docx, 422, "not a Word document"),
    ("binary.txt", lambda: bytes(range(256)) * 10, 422, "not readable text"),
    ("long.pdf", lambda: corpus.pdf(pages=51), 422, "the limit is 50"),
    ("fax.tif", lambda: corpus.tiff(51), 422, "the limit is 50"),
    ("../../../etc/cron.d/evil.pdf", lambda: b"%PDF-1.7\n" + bytes(range(256)) * 40, 422, "damaged"),
    ("huge.txt", lambda: b"a" * (21 * _MB), 413, "20.1 MiB"),
]
_HEAVY = {"bomb.pdf", "bomb.png", "huge.txt", "long.pdf", "fax.tif"}


def _documents(store: Store) -> int:
    with store.transaction() as db:
        return db.scalar(select(func.count(Document.id))) or 0


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The process's temporary folder, for this test alone (spooled upload bodies land here)."""
    folder = tmp_path / "process-tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder


@pytest.fixture
def clinician(login: Login) -> dict[str, str]:
    """One login for all of a Hypothesis test's examples (POST /token is rate limited)."""
    return login("clinician")


def _outside_storage(store: Store, env_root: Path) -> set[Path]:
    """Files under the test's folder that are neither the database nor stored originals."""
    db = store.settings.home / "medspeak.db"
    allowed = {db, db.with_name("medspeak.db-wal"), db.with_name("medspeak.db-shm")}
    return {p for p in _files(env_root) - allowed if store.settings.documents_dir not in p.parents}


@pytest.mark.parametrize(("name", "make", "status", "reason"), CASES, ids=[c[0] for c in CASES])
def test_each_bad_upload_gets_a_clear_4xx_and_leaves_nothing(
    client: TestClient,
    store: Store,
    login: Login,
    env: Path,
    private_tmp: Path,
    name: str,
    make: Callable[[], bytes],
    status: int,
    reason: str,
) -> None:
    headers = login("clinician")
    content = make()
    before = _outside_storage(store, env)
    tracemalloc.start()
    try:
        r = client.post("/documents", headers=headers, files={"file": (name, content)})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == ("payload_too_large" if status == 413 else "upload_rejected")
    assert reason.lower() in error["message"].lower(), error["message"]
    assert _documents(store) == 0 and _files(store.settings.documents_dir) == set()
    assert _outside_storage(store, env) == before, "the upload left files outside document storage"
    assert _files(private_tmp) == set(), "a spooled upload outlived its request"
    if name in _HEAVY:
        # The client builds the multipart body in this process too: ~2 copies of the content.
        assert peak - 2 * len(content) < _MEMORY_BOUND, f"{name}: peak {peak / _MB:.0f} MiB"


@pytest.fixture
def no_reading(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """Uploads are queued but not read: this test is about names, not ingestion."""
    read_nothing(ctx)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(filename=st.text(max_size=300))
def test_any_filename_is_display_text_only(
    client: TestClient,
    store: Store,
    clinician: dict[str, str],
    env: Path,
    private_tmp: Path,
    no_reading: None,
    filename: str,
) -> None:
    headers = clinician
    note = b"Progress note.\nParacetamol 1 g four times daily.\n"
    before = _outside_storage(store, env)
    r = client.post("/documents", headers=headers, files={"file": (filename, note, "text/plain")})
    assert r.status_code in (202, 422), r.text
    if r.status_code == 202:
        shown = r.json()["display_name"]
        assert shown and not any(c in shown for c in "/\\\x00") and len(shown) <= 120
    for stored in _files(store.settings.documents_dir):
        # Named by content (SHA-256) with a vetted extension: nothing of the client's name survives.
        assert re.fullmatch(r"[0-9a-f]{64}\.txt", stored.name), stored.name
    assert _outside_storage(store, env) == before
    assert _files(private_tmp) == set()
