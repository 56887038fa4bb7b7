"""Issue 19, finding 10: the audit chain is keyed and anchored, so every tampering is detected.

Before: rows were chained by plain SHA-256, which anyone with the database can recompute: altering a row
and re-hashing it, deleting a row and re-chaining the rest, appending a forged row, or cutting the last 25
rows all passed ``audit verify``. Now each link is an HMAC under a key kept outside the database, and an
admin exports signed checkpoints (last id and hash) that a later verification checks the trail against.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select, text

from medspeak.auth.roles import Actor
from medspeak.services import audit_log
from medspeak.store import audit
from medspeak.store.db import Store
from medspeak.store.models import AuditEvent
from tests.store.test_audit import _drop_protection


def _fill(store: Store, n: int = 40) -> None:
    with store.transaction() as db:
        for i in range(n):
            audit.record(db, username="clinician", role="clinician", action="patient.read", outcome="success",
                         patient_id=i + 1)  # fmt: skip


def _sha256_link(row: AuditEvent, prev: str) -> str:
    """What an attacker without the key computes: the unkeyed hash of the row's fields."""
    payload = {
        "at": row.at.isoformat(), "username": row.username, "role": row.role, "action": row.action,
        "patient_id": row.patient_id, "document_id": row.document_id, "outcome": row.outcome,
        "detail": row.detail, "prev_hash": prev,
    }  # fmt: skip
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _rechain(store: Store) -> None:
    """Recompute every link after tampering, as an attacker with the database (not the key) can."""
    with store.transaction() as db:
        prev = "0" * 64
        for row in db.scalars(select(AuditEvent).order_by(AuditEvent.id)).all():
            new = _sha256_link(row, prev)
            db.execute(
                text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE id = :id"),
                {"p": prev, "h": "tmp-" + str(row.id), "id": row.id},
            )
            db.execute(text("UPDATE audit_events SET hash = :h WHERE id = :id"), {"h": new, "id": row.id})
            prev = new


def _ids(store: Store) -> list[int]:
    with store.read() as db:
        return list(db.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def test_an_altered_row_rehashed_without_the_key_is_detected(store: Store) -> None:
    _fill(store)
    _drop_protection(store)
    with store.transaction() as db:
        db.execute(text("UPDATE audit_events SET patient_id = 999 WHERE id = :id"), {"id": _ids(store)[5]})
    _rechain(store)
    assert not audit_log.verify_store(store).ok


def test_a_deleted_row_with_the_rest_rechained_is_detected(store: Store) -> None:
    _fill(store)
    _drop_protection(store)
    with store.transaction() as db:
        db.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": _ids(store)[10]})
    _rechain(store)
    assert not audit_log.verify_store(store).ok


def test_a_forged_row_appended_is_detected(store: Store) -> None:
    _fill(store)
    with store.read() as db:
        last = db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
        forged = AuditEvent(at=last.at, username="admin", role="admin", action="user.create", outcome="success",
                            patient_id=None, document_id=None, detail="role admin", prev_hash=last.hash)  # fmt: skip
    forged.hash = _sha256_link(forged, last.hash)
    with store.transaction() as db:
        db.add(forged)
    assert not audit_log.verify_store(store).ok


def test_cutting_the_last_rows_is_detected_against_an_exported_checkpoint(
    store: Store, actors: dict[str, Actor]
) -> None:
    _fill(store, 60)
    checkpoint = audit_log.checkpoint(store, actors["admin"])  # exported by the admin, kept off the server
    assert audit_log.verify(store, actors["admin"], checkpoints=[checkpoint]).ok
    _drop_protection(store)
    with store.transaction() as db:
        cut = _ids(store)[-27:]  # the checkpoint's own row and the 25 before it (and the audit.verify row)
        db.execute(text(f"DELETE FROM audit_events WHERE id >= {cut[0]}"))  # noqa: S608 - test ids
    assert audit_log.verify_store(store).ok  # the rest of the chain is intact: only the anchor can tell
    report = audit_log.verify(store, actors["admin"], checkpoints=[checkpoint])
    assert not report.ok and "checkpoint" in report.reason


def test_a_checkpoint_altered_or_signed_by_another_install_is_refused(store: Store, actors: dict[str, Actor]) -> None:
    _fill(store, 5)
    checkpoint = json.loads(audit_log.checkpoint(store, actors["admin"]))
    checkpoint["last_id"] = 1
    report = audit_log.verify(store, actors["admin"], checkpoints=[json.dumps(checkpoint)])
    assert not report.ok and "signature" in report.reason
