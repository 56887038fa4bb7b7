import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from medspeak.auth.roles import Actor
from medspeak.services import patients
from medspeak.services.audit_log import verify_store
from medspeak.store import audit
from medspeak.store.db import Store
from medspeak.store.models import AuditEvent


def _fill(store: Store, n: int = 5) -> None:
    with store.transaction() as db:
        for i in range(n):
            audit.record(db, username="u", role="clinician", action="patient.read", outcome="success", patient_id=i)


def _drop_protection(store: Store) -> None:
    """What an attacker with raw database access would do first."""
    with store.transaction() as db:
        if store.is_sqlite:
            db.execute(text("DROP TRIGGER audit_events_no_update"))
            db.execute(text("DROP TRIGGER audit_events_no_delete"))
        else:
            db.execute(text("DROP TRIGGER audit_events_no_update ON audit_events"))


def test_a_fresh_chain_verifies(store: Store) -> None:
    _fill(store)
    report = verify_store(store)
    assert report.ok and report.checked == 5


@pytest.mark.parametrize("sql", ["UPDATE audit_events SET outcome = 'denied'", "DELETE FROM audit_events"])
def test_the_database_refuses_updates_and_deletes(store: Store, sql: str) -> None:
    _fill(store)
    with pytest.raises(DBAPIError, match="append-only"), store.transaction() as db:
        db.execute(text(sql))
    assert verify_store(store).checked == 5


def test_an_altered_row_breaks_the_chain(store: Store) -> None:
    _fill(store)
    _drop_protection(store)
    with store.transaction() as db:
        third = db.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()[2]
        db.execute(text("UPDATE audit_events SET patient_id = 999 WHERE id = :id"), {"id": third})
    report = verify_store(store)
    assert not report.ok
    assert report.first_bad_id == third and "altered" in report.reason


def test_a_deleted_row_breaks_the_chain(store: Store) -> None:
    _fill(store)
    _drop_protection(store)
    with store.transaction() as db:
        second = db.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()[1]
        db.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": second})
    report = verify_store(store)
    assert not report.ok and "removed" in report.reason


def test_reads_of_patient_data_are_audited_with_who_and_what(store: Store, actors: dict[str, Actor]) -> None:
    clinician = actors["clinician"]
    created = patients.register_patient(
        store,
        clinician,
        given_name="Ada",
        family_name="Lovelace",
        sex="female",
        birth_date=__import__("datetime").date(1980, 5, 1),
    )
    patients.get_patient(store, clinician, created.id)
    with store.transaction() as db:
        events = db.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.outcome, e.patient_id, e.username, e.role) for e in events[-2:]] == [
        ("patient.create", "success", created.id, "clinician", "clinician"),
        ("patient.read", "success", created.id, "clinician", "clinician"),
    ]
    assert all("Lovelace" not in e.detail and "Ada" not in e.detail for e in events)  # no PHI in the trail
    assert verify_store(store).ok
