"""Issue 19, low findings on uploads: a corrupt DOCX, a PDF with scripts, a second file field."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from medspeak.errors import UploadRejected
from medspeak.ingest.validate import validate_upload
from tests.ingest import corpus
from tests.ingest.corpus import raw_pdf
from tests.support.api import Seeded

_LIMITS = {"max_bytes": 20 * 2**20, "max_pages": 50}


def _corrupt_docx() -> bytes:
    """A valid archive of a Word document whose main part is not XML (accepted before)."""
    good = zipfile.ZipFile(io.BytesIO(corpus.docx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in good.infolist():
            data = good.read(info.filename)
            z.writestr(info, b"<w:document><w:body><w:p>broken" if info.filename == "word/document.xml" else data)
    return out.getvalue()


def test_a_corrupt_docx_is_refused_at_upload() -> None:
    with pytest.raises(UploadRejected, match="damaged"):
        validate_upload("letter.docx", _corrupt_docx(), **_LIMITS)


def _script_pdf(where: str) -> bytes:
    js = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"
    catalog = (
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>"
        if where == "open"
        else (b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript << /Names [(x) 5 0 R] >> >> >>")
    )
    return raw_pdf(
        catalog,
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length 0 >>\nstream\n\nendstream",
        js,
    )


@pytest.mark.parametrize("where", ["open", "names"])
def test_a_pdf_with_javascript_is_refused_at_upload(where: str) -> None:
    with pytest.raises(UploadRejected, match="script"):
        validate_upload("scan.pdf", _script_pdf(where), **_LIMITS)


def test_a_second_file_field_is_refused_not_dropped(
    client: TestClient, seeded: Seeded, login: Callable[[str], dict[str, str]]
) -> None:
    files = [("file", ("a.txt", b"Metoprolol 25 mg daily.\n", "text/plain")),
             ("file", ("b.txt", b"Aspirin 75 mg daily.\n", "text/plain"))]  # fmt: skip
    r = client.post("/documents", headers=login("clinician"), files=files, data={"patient_id": seeded.patient_id})
    assert r.status_code == 422, r.text
    assert "one file" in r.json()["error"]["message"]


def test_a_full_disk_is_a_503_storage_full_and_nothing_is_kept(
    client: TestClient,
    store: object,
    seeded: Seeded,
    login: Callable[[str], dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Before: the original's write failing with ENOSPC answered 500 internal_error.
    import os
    import tempfile

    from sqlalchemy import func, select

    from medspeak.store.models import Document

    def full_disk(dir: str, prefix: str) -> tuple[int, str]:  # noqa: A002 - tempfile's own parameter name
        return os.open("/dev/full", os.O_WRONLY), os.path.join(dir, prefix + "never-written")

    monkeypatch.setattr(tempfile, "mkstemp", full_disk)
    with store.read() as db:  # type: ignore[attr-defined]
        before = db.scalar(select(func.count(Document.id)))
    r = client.post(
        "/documents",
        headers=login("clinician"),
        files={"file": ("new.txt", b"Furosemide 40 mg daily.\n", "text/plain")},
        data={"patient_id": seeded.patient_id},
    )
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "storage_full"
    # Before: no audit row said who met it; now one names the clinician and the id the log line carries.
    from medspeak.store.models import AuditEvent

    with store.read() as db:  # type: ignore[attr-defined]
        details = db.scalars(select(AuditEvent.detail).where(AuditEvent.outcome == "error")).all()
    assert any(r.json()["error"]["correlation_id"] in d and "POST /documents" in d for d in details), details
    with store.read() as db:  # type: ignore[attr-defined]
        assert db.scalar(select(func.count(Document.id))) == before
