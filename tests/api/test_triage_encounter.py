"""Issue 19, finding 4: ``POST /triage`` links an encounter only to its own patient.

Before: any ``encounter_id`` was stored with any patient (a chest-pain patient showed in the ED queue from
another patient's triage), and an encounter that does not exist gave a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from medspeak.auth.roles import Actor
from medspeak.services import patients
from medspeak.store.db import Store
from medspeak.store.models import Assessment, Encounter
from medspeak.store.types import utcnow
from tests.support.api import Seeded

Login = Callable[[str], dict[str, str]]
# the complaint and three vitals: enough for a level (a sparser form gets the list of what is needed)
_BODY = {"heart_rate": 110, "spo2": 95, "respiratory_rate": 18, "age": 60, "chief_complaint": "chest pain"}


def _assessments(store: Store) -> int:
    with store.read() as db:
        return db.scalar(select(func.count(Assessment.id))) or 0


def test_an_encounter_of_another_patient_is_refused_and_nothing_is_stored(
    client: TestClient, store: Store, seeded: Seeded, actors: dict[str, Actor], login: Login
) -> None:
    other = patients.register_patient(
        store, actors["clinician"], given_name="Paul", family_name="Other", sex="male", birth_date=date(1970, 5, 5)
    )
    r = client.post(
        "/triage", headers=login("clinician"), json={**_BODY, "patient_id": other.id, "encounter_id": seeded.stay_id}
    )
    assert r.status_code in (404, 422), r.text
    assert "encounter" in r.json()["error"]["message"].lower()
    assert _assessments(store) == 0


def test_an_encounter_that_does_not_exist_is_a_clear_error_not_a_500(
    client: TestClient, store: Store, seeded: Seeded, login: Login
) -> None:
    r = client.post(
        "/triage", headers=login("clinician"), json={**_BODY, "patient_id": seeded.patient_id, "encounter_id": 999_999}
    )
    assert r.status_code == 404, r.text
    assert _assessments(store) == 0


def test_an_encounter_without_its_patient_is_refused(
    client: TestClient, store: Store, seeded: Seeded, login: Login
) -> None:
    r = client.post("/triage", headers=login("clinician"), json={**_BODY, "encounter_id": seeded.stay_id})
    assert r.status_code == 422, r.text
    assert _assessments(store) == 0


def test_the_patients_own_encounter_is_linked(client: TestClient, store: Store, seeded: Seeded, login: Login) -> None:
    with store.transaction() as db:  # the patient's visit to the emergency department, still open
        visit = Encounter(patient_id=seeded.patient_id, kind="emergency", started_at=utcnow() - timedelta(minutes=20))
        db.add(visit)
        db.flush()
        visit_id = visit.id
    body = {**_BODY, "patient_id": seeded.patient_id, "encounter_id": visit_id}
    r = client.post("/triage", headers=login("clinician"), json=body)
    assert r.status_code == 200, r.text
    with store.read() as db:
        assert db.scalar(select(Assessment.encounter_id)) == visit_id
