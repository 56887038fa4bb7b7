"""API fixtures: the app on the test store, a client, bearer headers per role and a seeded patient.

Loaded for the whole suite by ``tests/conftest.py`` (``pytest_plugins``), so any test package can use them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from medspeak.api import create_app
from medspeak.auth.roles import Actor
from medspeak.services import documents, patients
from medspeak.services.context import AppContext
from medspeak.store.db import Store
from medspeak.store.models import AuditEvent, Encounter, Ward
from medspeak.store.types import utcnow
from tests.conftest import PASSWORD

TEXT_NOTE = b"Discharge summary\nMetoprolol 25 mg twice daily.\nFollow-up in two weeks.\n"


@dataclass(frozen=True)
class Seeded:
    """Ids of one patient with an open inpatient stay and one uploaded document."""

    patient_id: int
    stay_id: int
    document_id: int
    job_id: int


@pytest.fixture
def app(ctx: AppContext) -> FastAPI:
    """The API over the test's own context (uploads are read by its runner; the ``ctx`` fixture closes it)."""
    return create_app(context=ctx)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def username_of(role: str) -> str:
    """The test account of a role (tests/conftest.py ``actors``)."""
    return role.replace("_", "")


@pytest.fixture
def login(client: TestClient, actors: dict[str, Actor]) -> Callable[[str], dict[str, str]]:
    """Log a role in through ``POST /token``; returns its bearer header."""

    def _login(role: str) -> dict[str, str]:
        r = client.post("/token", data={"username": username_of(role), "password": PASSWORD})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    return _login


@pytest.fixture
def seeded(ctx: AppContext, store: Store, actors: dict[str, Actor]) -> Seeded:
    clinician = actors["clinician"]
    created = patients.register_patient(
        store, clinician, given_name="Jeanne", family_name="Moreau", sex="female", birth_date=date(1950, 3, 2)
    )
    with store.transaction() as db:
        ward = Ward(code="MED", name="General Medicine", capacity=20)
        db.add(ward)
        db.flush()
        stay = Encounter(
            patient_id=created.id,
            kind="inpatient",
            ward_id=ward.id,
            started_at=utcnow() - timedelta(days=2),
            chief_complaint="shortness of breath",
            details={"admission_type": "emergency"},
        )
        db.add(stay)
        db.flush()
        stay_id = stay.id
    outcome = documents.upload(
        ctx, clinician, filename="summary.txt", content=TEXT_NOTE, patient_id=created.id, kind="discharge_summary"
    )
    assert outcome.job_id is not None
    return Seeded(created.id, stay_id, outcome.document_id, outcome.job_id)


def count_events(store: Store, **where: str) -> int:
    """Audit rows matching every column given."""
    with store.transaction() as db:
        stmt = select(func.count(AuditEvent.id))
        for column, value in where.items():
            stmt = stmt.where(getattr(AuditEvent, column) == value)
        return db.scalar(stmt) or 0
