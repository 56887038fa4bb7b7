"""Reading and verifying the audit trail (admins; the CLI verifies without an actor)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar

from pydantic import Field
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from medspeak.auth.roles import Actor, Permission
from medspeak.errors import NotFound
from medspeak.i18n import N_
from medspeak.services.audited import audited, record_alone
from medspeak.services.read_models import Page, ReadModel
from medspeak.store.audit import ChainReport, Checkpoint, session_key, sign_checkpoint, verify_chain
from medspeak.store.db import Store
from medspeak.store.models import AuditEvent, Patient
from medspeak.store.types import utcnow

__all__ = [
    "AuditFilter",
    "AuditPage",
    "AuditRow",
    "checkpoint",
    "checkpoint_of",
    "events_csv",
    "export_csv",
    "mrn_of",
    "page_events",
    "patient_for_mrn",
    "record_error",
    "record_page_denied",
    "verify",
    "verify_store",
]

_MAX_ROWS = 5000  # one page at most; the whole trail goes out through ``export_csv``, streamed
_BATCH = 2000  # rows streamed at a time while verifying or exporting
# A cell starting with one of these is a formula to Excel, LibreOffice and Sheets (OWASP "CSV injection").
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])
_CSV_HEADER = ("#", "When (UTC)", "User", "Role", "Action", "Patient", "Document", "Outcome", "Detail", "Patient MRN")


class AuditRow(ReadModel):
    """One event of the audit trail: who did what, to which patient or document, and how it ended."""

    id: int
    at: datetime = Field(description="when (UTC)")
    username: str
    role: str
    action: str = Field(description="what was done, e.g. patient.read, document.upload")
    patient_id: int | None
    document_id: int | None
    outcome: str = Field(description="success, failure, denied or error")
    detail: str
    patient_mrn: str | None = Field(
        default=None, description="what staff know a patient by; the id alone says nothing to an auditor"
    )


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


@dataclass(frozen=True)
class AuditFilter:
    """Which events to show: every filter given must match (``action`` as a prefix)."""

    username: str | None = None
    action: str | None = None
    outcome: str | None = None
    patient_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def of_days(
        cls,
        *,
        username: str | None = None,
        action: str | None = None,
        outcome: str | None = None,
        patient_id: int | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> AuditFilter:
        """Filters over whole UTC days, as the Admin page and its CSV link give them (empty text: no filter)."""
        return cls(
            username or None,
            action or None,
            outcome or None,
            patient_id,
            datetime.combine(since, time.min, UTC) if since else None,
            datetime.combine(until, time.max, UTC) if until else None,
        )

    def where(self, stmt: _Query) -> _Query:
        if self.username:
            stmt = stmt.where(AuditEvent.username == self.username.strip().lower())
        if self.action:
            stmt = stmt.where(AuditEvent.action.startswith(self.action.strip(), autoescape=True))
        if self.outcome:
            stmt = stmt.where(AuditEvent.outcome == self.outcome)
        if self.patient_id is not None:
            stmt = stmt.where(AuditEvent.patient_id == self.patient_id)
        if self.since is not None:
            stmt = stmt.where(AuditEvent.at >= self.since)
        if self.until is not None:
            stmt = stmt.where(AuditEvent.at <= self.until)
        return stmt

    def describe(self) -> str:
        """The filters given, for the audit row of a read or an export (ids and names, no free text kept long)."""
        given = {k: v for k, v in vars(self).items() if v not in (None, "")}
        return " ".join(f"{k}={str(v)[:40]}" for k, v in given.items()) or "all"


class AuditPage(Page[AuditRow]):
    """One page of matching events, newest first: ``items`` are events ``offset + 1`` to ``offset + len(items)``
    of ``total``."""

    total: int = Field(description="how many events match the filters in all")


def _row(e: AuditEvent, mrn: str | None) -> AuditRow:
    return AuditRow(
        id=e.id,
        at=e.at,
        username=e.username,
        role=e.role,
        action=e.action,
        patient_id=e.patient_id,
        document_id=e.document_id,
        outcome=e.outcome,
        detail=e.detail,
        patient_mrn=mrn,
    )


def _events(filters: AuditFilter) -> Select[AuditEvent, str]:
    """The matching events, newest first, each with its patient's MRN (none for a deleted patient)."""
    stmt = select(AuditEvent, Patient.mrn).outerjoin(Patient, Patient.id == AuditEvent.patient_id)
    return filters.where(stmt).order_by(AuditEvent.id.desc())


def patient_for_mrn(store: Store, actor: Actor, mrn: str) -> int:
    """The id of the patient with ``mrn``, for an auditor's filter (the audit role reads no patient's data).

    Raises:
        NotFound: no patient has that MRN.
    """
    with audited(store, actor, "audit.patient_lookup", Permission.READ_AUDIT) as call:
        patient_id = call.db.scalar(select(Patient.id).where(Patient.mrn == mrn.strip().upper()))
        if patient_id is None:
            raise NotFound(N_("No patient has the MRN {value!r}."), value=mrn.strip()[:32])
        call.patient_id = patient_id
        return patient_id


def mrn_of(store: Store, actor: Actor, patient_id: int) -> str:
    """The MRN of a patient named by id (a link into the audit trail), for the auditor's filter box.

    Raises:
        NotFound: no such patient.
    """
    with audited(store, actor, "audit.patient_lookup", Permission.READ_AUDIT, patient_id=patient_id) as call:
        mrn = call.db.scalar(select(Patient.mrn).where(Patient.id == patient_id))
        if mrn is None:
            raise NotFound(N_("No patient {patient_id}."), patient_id=patient_id)
        return mrn


def page_events(
    store: Store, actor: Actor, filters: AuditFilter, *, offset: int = 0, limit: int = 100, past_end: bool = False
) -> AuditPage:
    """A page of the events matching ``filters`` and how many match in all (one audited read).

    An offset past the end gives the last page (a page number typed on the Admin page), or, with
    ``past_end`` (the API, whose clients page on until ``has_more`` is false), an empty page.
    """
    with audited(store, actor, "audit.read", Permission.READ_AUDIT) as call:
        total = call.db.scalar(filters.where(select(func.count(AuditEvent.id)))) or 0
        limit = min(max(limit, 1), _MAX_ROWS)
        offset = max(offset, 0)
        if not past_end:
            offset = min(offset, max(total - 1, 0) // limit * limit)
        stmt = _events(filters).offset(offset).limit(limit)
        rows = [_row(e, mrn) for e, mrn in call.db.execute(stmt)]
        call.detail = f"{filters.describe()}; events {offset + 1}-{offset + len(rows)} of {total}"
        return AuditPage(items=rows, limit=limit, offset=offset, has_more=offset + len(rows) < total, total=total)


def export_csv(store: Store, actor: Actor, filters: AuditFilter) -> Iterator[bytes]:
    """Every event matching ``filters`` as CSV (newest first), streamed in batches: no cap, bounded memory.

    The permission is checked and the export audited (``audit.export``, with the filters and the count)
    before the first byte; the rows are then read in one read-only transaction, a snapshot of the trail.

    Raises:
        PermissionDenied: the actor may not read the audit trail (raised here, not while streaming).
    """
    with audited(store, actor, "audit.export", Permission.READ_AUDIT) as call:
        total = call.db.scalar(filters.where(select(func.count(AuditEvent.id)))) or 0
        call.detail = f"{filters.describe()}; {total} events"

    def stream() -> Iterator[bytes]:
        yield _csv_lines([_CSV_HEADER])
        with store.read() as db:
            result = db.execute(_events(filters).execution_options(yield_per=_BATCH))
            try:
                for batch in result.partitions(_BATCH):
                    yield _csv_lines(_csv_row(_row(e, mrn)) for e, mrn in batch)
            finally:
                result.close()  # a server-side cursor (PostgreSQL) must not outlive its connection

    return stream()


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
        raise NotFound(N_("The audit trail is empty."))
    count = db.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.id <= last.id)) or 0
    return sign_checkpoint(Checkpoint(last.id, last.hash, count, utcnow()), session_key(db)), last.id


def _cell(value: object) -> str:
    """A value as a CSV cell a spreadsheet shows as text: a leading quote defuses a formula prefix."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def _csv_row(r: AuditRow) -> list[str]:
    row = (r.id, r.at.strftime("%Y-%m-%d %H:%M:%S"), r.username, r.role, r.action, r.patient_id, r.document_id,
           r.outcome, r.detail, r.patient_mrn)  # fmt: skip
    return [_cell(v) for v in row]


def _csv_lines(rows: Iterator[Sequence[object]] | Sequence[Sequence[object]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def events_csv(rows: list[AuditRow]) -> bytes:
    """The events as UTF-8 CSV for download; usernames and details are anyone's input (a failed login's
    username is typed by whoever tries), so no cell may start a formula."""
    return _csv_lines([_CSV_HEADER, *(_csv_row(r) for r in rows)])
