"""Reading and verifying the audit trail (admins; the CLI verifies without an actor)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medspeak.auth.roles import Actor, Permission
from medspeak.errors import NotFound
from medspeak.services.audited import audited, record_alone
from medspeak.store.audit import ChainReport, Checkpoint, session_key, sign_checkpoint, verify_chain
from medspeak.store.db import Store
from medspeak.store.models import AuditEvent
from medspeak.store.types import utcnow

__all__ = [
    "AuditRow",
    "checkpoint",
    "checkpoint_of",
    "events_csv",
    "list_events",
    "record_error",
    "record_page_denied",
    "verify",
    "verify_store",
]

_MAX_ROWS = 5000
_BATCH = 2000  # rows streamed at a time while verifying
# A cell starting with one of these is a formula to Excel, LibreOffice and Sheets (OWASP "CSV injection").
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_CSV_HEADER = ("#", "When (UTC)", "User", "Role", "Action", "Patient", "Document", "Outcome", "Detail")


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


def record_error(
    store: Store, actor: Actor, where: str, correlation_id: str, error: str, action: str = "api.error"
) -> None:
    """Audit a request that failed on our side (outcome ``error``), with the id its log line carries.

    Args:
        where: the request's method and route template (``GET /patients/{patient_id}/fhir``): ids, no data.
        correlation_id: the id in the user's error message and in the log line, to join the three.
        error: the exception's type name or error code; never its message (it may quote patient data).
    """
    record_alone(store, actor, action, "error", detail=f"{where[:120]}: {error[:60]}; correlation {correlation_id}")


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


def _verify(db: Session, checkpoints: Sequence[str] = ()) -> ChainReport:
    rows = db.scalars(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=_BATCH))
    try:
        return verify_chain(rows, session_key(db), checkpoints)
    finally:
        rows.close()  # a server-side cursor (PostgreSQL) must not outlive its connection


def verify_store(store: Store, checkpoints: Sequence[str] = ()) -> ChainReport:
    """Verify the whole chain, streaming rows in id order, against the signed ``checkpoints`` given."""
    with store.transaction() as db:
        return _verify(db, checkpoints)


def verify(store: Store, actor: Actor, checkpoints: Sequence[str] = ()) -> ChainReport:
    """Verify the chain for an administrator (the check itself is audited), against ``checkpoints``."""
    with audited(store, actor, "audit.verify", Permission.READ_AUDIT) as call:
        report = _verify(call.db, checkpoints)
        call.detail = f"ok={report.ok} checked={report.checked} checkpoints={len(checkpoints)}"
        return report


def checkpoint(store: Store, actor: Actor) -> str:
    """A signed checkpoint of the trail as it stands (one JSON line), for the admin to keep off the server.

    Verifying later against it detects rows cut from the end and a re-chained trail.
    """
    with audited(store, actor, "audit.checkpoint", Permission.READ_AUDIT) as call:
        signed, last_id = checkpoint_of(call.db)
        call.detail = f"checkpoint at event {last_id}"
        return signed


def checkpoint_of(db: Session) -> tuple[str, int]:
    """The signed checkpoint of the trail in ``db`` and the id it names (the CLI audits it itself)."""
    last = db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one_or_none()
    if last is None:
        raise NotFound("The audit trail is empty.")
    count = db.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.id <= last.id)) or 0
    return sign_checkpoint(Checkpoint(last.id, last.hash, count, utcnow()), session_key(db)), last.id


def _cell(value: object) -> str:
    """A value as a CSV cell a spreadsheet shows as text: a leading quote defuses a formula prefix."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def events_csv(rows: list[AuditRow]) -> bytes:
    """The events as UTF-8 CSV for download; usernames and details are anyone's input (a failed login's
    username is typed by whoever tries), so no cell may start a formula."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_CSV_HEADER)
    for r in rows:
        row = (r.id, r.at.strftime("%Y-%m-%d %H:%M:%S"), r.username, r.role, r.action, r.patient_id, r.document_id,
               r.outcome, r.detail)  # fmt: skip
        writer.writerow([_cell(v) for v in row])
    return out.getvalue().encode("utf-8")
