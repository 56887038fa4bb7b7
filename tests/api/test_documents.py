"""Uploads through the API: bad files get a clear 4xx and store nothing; a good one is read."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from medspeak.api import create_app
from medspeak.auth.roles import Actor
from medspeak.errors import ValidationFailed
from medspeak.services.documents import check_received
from medspeak.store.db import Store
from medspeak.store.models import Document
from tests.support.api import Seeded, count_events

Login = Callable[[str], dict[str, str]]
_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
_POLL_S = 30.0


def _documents(store: Store) -> int:
    with store.transaction() as db:
        return db.scalar(select(func.count(Document.id))) or 0


def _stored_files(store: Store) -> list[str]:
    folder = store.settings.documents_dir
    return [str(p) for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.mark.parametrize(
    ("filename", "content", "words"),
    [
        pytest.param("scan.pdf", _PNG, "PNG", id="png-named-pdf"),
        pytest.param("empty.txt", b"", "empty", id="empty"),
        pytest.param("tool.exe", b"MZ\x90\x00" + b"\x00" * 60, "", id="executable"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_stored(
    client: TestClient, store: Store, login: Login, filename: str, content: bytes, words: str
) -> None:
    r = client.post("/documents", headers=login("clinician"), files={"file": (filename, content)})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "upload_rejected" and error["message"]
    assert words.lower() in error["message"].lower()
    assert _documents(store) == 0 and _stored_files(store) == []
    assert count_events(store, action="document.upload", outcome="failure") == 1


def test_oversized_body_gets_413_before_reading(client: TestClient, store: Store, login: Login) -> None:
    big = b"a" * (store.settings.max_upload_mb * 2**20 + 128 * 1024)
    r = client.post("/documents", headers=login("clinician"), files={"file": ("big.txt", big, "text/plain")})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    assert _documents(store) == 0 and _stored_files(store) == []


def test_upload_limit_follows_the_settings(store: Store, actors: dict[str, Actor]) -> None:
    app = create_app(store.settings.model_copy(update={"max_upload_mb": 1}))
    with TestClient(app) as client:
        token = client.post("/token", data={"username": "clinician", "password": "correct horse battery staple"})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        r = client.post("/documents", headers=headers, files={"file": ("a.txt", b"a" * (2**20 + 100 * 1024))})
    assert r.status_code == 413 and "1.1 MiB" in r.json()["error"]["message"]


def test_a_text_upload_is_read_in_the_background(client: TestClient, store: Store, login: Login) -> None:
    headers = login("clinician")
    note = b"Discharge summary.\nAmoxicillin 500 mg three times daily for 7 days.\n"
    r = client.post(
        "/documents", headers=headers, files={"file": ("../../etc/passwd.txt", note)}, data={"kind": "report"}
    )
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["job_id"] and body["document_id"] and "/" not in body["display_name"]
    deadline = time.monotonic() + _POLL_S
    while True:
        job = client.get(f"/jobs/{body['job_id']}", headers=headers).json()
        if job["finished"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert job["status"] == "done", job
    assert job["document_id"] == body["document_id"] and job["pages_done"] == job["pages_total"] >= 1
    assert client.get("/jobs/987654", headers=headers).status_code == 404


def test_unknown_patient_or_kind_is_a_422(client: TestClient, login: Login) -> None:
    headers = login("clinician")
    r = client.post("/documents", headers=headers, files={"file": ("a.txt", b"note")}, data={"patient_id": "999"})
    assert r.status_code == 422 and "999" in r.json()["error"]["message"]
    r = client.post("/documents", headers=headers, files={"file": ("a.txt", b"note")}, data={"kind": "poem"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"


def test_the_received_date_given_at_upload_is_kept_and_listed(
    client: TestClient, store: Store, login: Login, seeded: Seeded
) -> None:
    headers = login("clinician")
    letter = b"Referral letter.\nPlease see this patient for chest pain.\n"
    data = {"patient_id": str(seeded.patient_id), "kind": "other", "received": "2026-11-28"}
    r = client.post("/documents", headers=headers, files={"file": ("referral.txt", letter)}, data=data)
    assert r.status_code == 202, r.text
    record = client.get(f"/patients/{seeded.patient_id}/record", headers=headers).json()
    listed = {d["id"]: d for d in record["documents"]}[r.json()["document_id"]]
    assert listed["received_on"] == "2026-11-28"
    with store.transaction() as db:
        assert db.get(Document, r.json()["document_id"]).received_on == date(2026, 11, 28)  # type: ignore[union-attr]
    other = client.post("/documents", headers=headers, files={"file": ("b.txt", b"Another letter.\n")})
    assert other.status_code == 202, other.text
    with store.transaction() as db:
        assert db.get(Document, other.json()["document_id"]).received_on is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("received", "words"), [("2999-01-01", "is in the future"), ("1850-03-01", "before 1900"), ("28/11/2026", "date")]
)
def test_an_impossible_received_date_is_refused_and_nothing_is_stored(
    client: TestClient, store: Store, login: Login, received: str, words: str
) -> None:
    r = client.post(
        "/documents", headers=login("clinician"), files={"file": ("a.txt", b"A letter.\n")}, data={"received": received}
    )
    assert r.status_code == 422, r.text
    assert words in r.json()["error"]["message"]
    assert _documents(store) == 0 and _stored_files(store) == []


def test_the_received_date_is_checked_against_the_day_given() -> None:
    today = date(2026, 12, 5)
    check_received(date(2026, 12, 6), today)  # a sender a time zone ahead
    with pytest.raises(ValidationFailed, match="2026-12-07 is in the future"):
        check_received(date(2026, 12, 7), today)
