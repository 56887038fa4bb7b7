"""Reading and verifying the audit trail (admins; the CLI verifies without an actor)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from medspeak.auth.roles import Actor, Permission
from medspeak.services.audited import audited, record_alone
from medspeak.store.audit import ChainReport, verify_chain
from medspeak.store.db import Store
from medspeak.store.models import AuditEvent

__all__ = ["AuditRow", "list_events", "record_page_denied", "verify", "verify_store"]

_MAX_ROWS = 5000
_BATCH = 2000  # rows streamed at a time while verifying


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    username: str
    role: str
    action: str
    patient_id: int | None
    document_id: int | None
    outcome: str
    detail: str


def record_page_denied(store: Store, actor: Actor, page: str) -> None:
    """Audit an attempt to open a page the actor's role does not include (``page.open``, denied)."""
    record_alone(store, actor, "page.open", "denied", detail=f"page {page[:60]}: role {actor.role}")


def list_events(
    store: Store,
    actor: Actor,
    *,
    username: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    patient_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 500,
) -> list[AuditRow]:
    """The newest events matching every filter given (``action`` matches as a prefix)."""
    with audited(store, actor, "audit.read", Permission.READ_AUDIT) as call:
        stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(min(limit, _MAX_ROWS))
        if username:
            stmt = stmt.where(AuditEvent.username == username.strip().lower())
        if action:
            stmt = stmt.where(AuditEvent.action.startswith(action.strip(), autoescape=True))
        if outcome:
            stmt = stmt.where(AuditEvent.outcome == outcome)
        if patient_id is not None:
            stmt = stmt.where(AuditEvent.patient_id == patient_id)
        if since is not None:
            stmt = stmt.where(AuditEvent.at >= since)
        if until is not None:
            stmt = stmt.where(AuditEvent.at <= until)
        return [
            AuditRow(e.id, e.at, e.username, e.role, e.action, e.patient_id, e.document_id, e.outcome, e.detail)
            for e in call.db.scalars(stmt)
        ]


def _verify(db: Session) -> ChainReport:
    rows = db.scalars(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=_BATCH))
    try:
        return verify_chain(rows)
    finally:
        rows.close()  # a server-side cursor (PostgreSQL) must not outlive its connection


def verify_store(store: Store) -> ChainReport:
    """Verify the whole chain, streaming rows in id order."""
    with store.transaction() as db:
        return _verify(db)


def verify(store: Store, actor: Actor) -> ChainReport:
    """Verify the chain for an administrator (the check itself is audited)."""
    with audited(store, actor, "audit.verify", Permission.READ_AUDIT) as call:
        report = _verify(call.db)
        call.detail = f"ok={report.ok} checked={report.checked}"
        return report
