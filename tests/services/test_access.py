"""Role checks live in the services: hiding a page is not protection."""

from datetime import date

import pytest
from sqlalchemy import select

from medspeak.auth.roles import Actor
from medspeak.errors import NotFound, PermissionDenied, ValidationFailed
from medspeak.services import audit_log, dashboard, patients, users
from medspeak.store.db import Store
from medspeak.store.models import AuditEvent, Document, Encounter, Ward
from medspeak.store.types import utcnow


@pytest.fixture
def patient_id(store: Store, actors: dict[str, Actor]) -> int:
    created = patients.register_patient(
        store,
        actors["clinician"],
        given_name="Jeanne",
        family_name="Moreau",
        sex="female",
        birth_date=date(1950, 3, 2),
        language="fr",
    )
    with store.transaction() as db:
        ward = Ward(code="MED", name="General Medicine", capacity=20)
        db.add(ward)
        db.flush()
        db.add(Encounter(patient_id=created.id, kind="inpatient", ward_id=ward.id, started_at=utcnow()))
        db.add(
            Document(
                patient_id=created.id,
                sha256="0" * 64,
                storage_key="00/x.txt",
                display_name="note.txt",
                media_type="text/plain",
                size_bytes=10,
                kind="discharge_summary",
                text="Metoprolol 25 mg",
            )
        )
    return created.id


def _last(store: Store) -> AuditEvent:
    with store.transaction() as db:
        event = db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
        db.expunge(event)
        return event


def test_clinician_sees_documents_bed_manager_sees_only_stays(
    store: Store, actors: dict[str, Actor], patient_id: int
) -> None:
    for_clinician = patients.get_patient(store, actors["clinician"], patient_id)
    assert for_clinician.documents is not None and len(for_clinician.documents) == 1
    assert "Metoprolol" in for_clinician.document_texts[for_clinician.documents[0].id]
    for_bed_manager = patients.get_patient(store, actors["bed_manager"], patient_id)
    assert for_bed_manager.documents is None and for_bed_manager.assessments is None
    assert for_bed_manager.document_texts == {}
    assert for_bed_manager.patient.current_ward == "General Medicine"


def test_admin_cannot_read_patients_and_the_denial_is_audited(
    store: Store, actors: dict[str, Actor], patient_id: int
) -> None:
    with pytest.raises(PermissionDenied):
        patients.get_patient(store, actors["admin"], patient_id)
    event = _last(store)
    assert (event.username, event.action, event.outcome, event.patient_id) == (
        "admin",
        "patient.read",
        "denied",
        patient_id,
    )


@pytest.mark.parametrize("role", ["clinician", "bed_manager"])
def test_only_admins_manage_users_and_read_the_audit(store: Store, actors: dict[str, Actor], role: str) -> None:
    with pytest.raises(PermissionDenied):
        users.list_users(store, actors[role])
    with pytest.raises(PermissionDenied):
        users.create_user(store, actors[role], "intruder", "X", "admin")
    with pytest.raises(PermissionDenied):
        audit_log.page_events(store, actors[role], audit_log.AuditFilter())


def test_bed_manager_cannot_register_patients(store: Store, actors: dict[str, Actor]) -> None:
    with pytest.raises(PermissionDenied):
        patients.register_patient(
            store, actors["bed_manager"], given_name="A", family_name="B", sex="male", birth_date=date(1990, 1, 1)
        )


def test_unknown_role_gets_nothing(store: Store, actors: dict[str, Actor], patient_id: int) -> None:
    ghost = Actor(None, "ghost", "superuser")
    with pytest.raises(PermissionDenied):
        dashboard.overview(store, ghost)
    with pytest.raises(PermissionDenied):
        patients.search_patients(store, ghost)


def test_missing_patient_is_a_clear_error_and_audited_as_failure(store: Store, actors: dict[str, Actor]) -> None:
    with pytest.raises(NotFound, match="No patient"):
        patients.get_patient(store, actors["clinician"], 4242)
    assert (_last(store).action, _last(store).outcome) == ("patient.read", "failure")


def test_search_by_name_or_mrn(store: Store, actors: dict[str, Actor], patient_id: int) -> None:
    found = patients.search_patients(store, actors["clinician"], "moreau")
    assert [p.id for p in found] == [patient_id]
    assert patients.search_patients(store, actors["clinician"], found[0].mrn.lower())[0].id == patient_id
    assert patients.search_patients(store, actors["clinician"], "nobody-like-this") == []


def test_overview_counts_and_census(store: Store, actors: dict[str, Actor], patient_id: int) -> None:
    seen = dashboard.overview(store, actors["clinician"])
    assert (seen.patients, seen.inpatients, seen.documents) == (1, 1, 1)
    assert [(w.name, w.capacity, w.occupied, w.free) for w in seen.census] == [("General Medicine", 20, 1, 19)]
    limited = dashboard.overview(store, actors["bed_manager"])
    assert limited.documents is None and limited.recent_documents is None and limited.census == seen.census


def test_admin_manages_accounts(store: Store, actors: dict[str, Actor]) -> None:
    admin = actors["admin"]
    summary, password = users.create_user(store, admin, "nurse.jo", "Jo", "clinician")
    assert len(password) >= 12 and summary.role == "clinician"
    users.set_role(store, admin, summary.id, "bed_manager")
    assert {u.username: u.role for u in users.list_users(store, admin)}["nurse.jo"] == "bed_manager"
    with pytest.raises(ValidationFailed, match="taken"):
        users.create_user(store, admin, "nurse.jo", "Jo", "clinician")
    with pytest.raises(ValidationFailed, match="at least 12"):
        users.create_user(store, admin, "shorty", "S", "clinician", password="short")
    with pytest.raises(ValidationFailed, match="own administrator role"):
        users.set_role(store, admin, admin.user_id or 0, "clinician")


def test_audit_log_filters(store: Store, actors: dict[str, Actor], patient_id: int) -> None:
    patients.get_patient(store, actors["bed_manager"], patient_id)
    rows = audit_log.page_events(
        store, actors["admin"], audit_log.AuditFilter(username="bedmanager", action="patient."), limit=500
    ).items
    assert [r.action for r in rows] == ["patient.read"] and rows[0].patient_id == patient_id
    assert audit_log.verify(store, actors["admin"]).ok
