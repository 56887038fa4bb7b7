"""Reading and verifying the audit trail (admins; the CLI verifies without an actor)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from medspeak.auth.roles import Actor, Permission
from medspeak.services.audited import audited
from medspeak.store.audit import ChainReport, verify_chain
from medspeak.store.db import Store
from medspeak.store.models import AuditEvent

__all__ = ["AuditRow", "events_csv", "list_events", "verify", "verify_store"]

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
