"""The audit trail: append-only rows chained by SHA-256.

Each row's hash covers its own fields and the previous row's hash, so altering,
inserting or deleting a row in the middle breaks every later link. The database
also refuses UPDATE and DELETE on the table (triggers in the first migration).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from medspeak.store.models import AuditEvent
from medspeak.store.types import utcnow

__all__ = ["GENESIS_HASH", "ChainReport", "event_hash", "record", "verify_chain"]

GENESIS_HASH = "0" * 64
_PG_AUDIT_LOCK = 0x6D6564  # advisory lock id serialising appends on PostgreSQL
_MAX_DETAIL_CHARS = 500
# Built once: SQLAlchemy then reuses their compiled form (an audit row is written on every request).
_LAST_HASH = select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
_APPEND = insert(AuditEvent)


def event_hash(event: AuditEvent) -> str:
    """The hash a row must carry, from its fields and ``prev_hash``."""
    payload = {
        "at": event.at.isoformat(),
        "username": event.username,
        "role": event.role,
        "action": event.action,
        "patient_id": event.patient_id,
        "document_id": event.document_id,
        "outcome": event.outcome,
        "detail": event.detail,
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def record(
    db: Session,
    *,
    username: str,
    role: str,
    action: str,
    outcome: str,
    patient_id: int | None = None,
    document_id: int | None = None,
    detail: str = "",
) -> AuditEvent:
    """Append one event in the caller's transaction (so it commits or rolls back with the work).

    ``detail`` must hold no patient data: ids, counts and reason codes only.
    """
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK})
    db.flush()  # the work this event describes goes first, as with any row added before it
    prev = db.scalar(_LAST_HASH)
    event = AuditEvent(
        at=utcnow(),
        username=username,
        role=role,
        action=action,
        patient_id=patient_id,
        document_id=document_id,
        outcome=outcome,
        detail=detail[:_MAX_DETAIL_CHARS],
        prev_hash=prev or GENESIS_HASH,
    )
    event.hash = event_hash(event)
    # A plain INSERT rather than the ORM's unit of work: the same row for a third of the CPU time. The
    # returned event is not attached to the session (nothing may change it: the table refuses updates).
    columns = ("at", "username", "role", "action", "patient_id", "document_id", "outcome", "detail", "prev_hash")
    inserted = db.connection().execute(_APPEND, {c: getattr(event, c) for c in (*columns, "hash")})
    event.id = int(inserted.inserted_primary_key[0])  # type: ignore[index]  # always set for a single-row INSERT
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str = ""


def verify_chain(events: Iterable[AuditEvent]) -> ChainReport:
    """Check every link of the chain, in id order; report the first broken row."""
    prev = GENESIS_HASH
    checked = 0
    for event in events:
        if event.prev_hash != prev:
            return ChainReport(False, checked, event.id, "previous-hash link broken (a row was removed or inserted)")
        if event_hash(event) != event.hash:
            return ChainReport(False, checked, event.id, "row content does not match its hash (a row was altered)")
        prev = event.hash
        checked += 1
    return ChainReport(True, checked)
