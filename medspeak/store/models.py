"""The store's tables: one schema for SQLite and PostgreSQL, migrated with Alembic.

Clinical payloads whose shape later work refines (vitals, extracted values,
model inputs and explanations) are JSON columns; what is searched or joined on
is a real column.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from medspeak.store.types import UTCDateTime, utcnow

__all__ = [
    "ApiKey",
    "Assessment",
    "AuditEvent",
    "AuthSession",
    "Base",
    "Document",
    "Encounter",
    "DocumentBlob",
    "DocumentPage",
    "Fact",
    "FactReview",
    "IngestJob",
    "Patient",
    "User",
    "Ward",
]

# Stable constraint names so Alembic migrations are the same on every backend.
_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=_NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(128))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")  # the interface's


class LoginThrottle(Base):
    """Failed logins of one (typed username, client address) pair, and until when it must wait.

    Both are kept as keyed fingerprints (HMAC under the audit key): what was typed as a username is often a
    password, and an address is personal data. ``account`` fingerprints the username alone, so that an
    administrator's unlock lifts every address's delay for it.
    """

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    account: Mapped[str] = mapped_column(String(64), index=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime | None]
    last_failure_at: Mapped[datetime]


class AuthSession(Base):
    """A server-side login session; the cookie carries only a token whose hash is the id."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class ApiKey(Base):
    """A service account's API key: only its SHA-256 is kept; the key itself is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))  # what the key is for, e.g. "lab interface"
    prefix: Mapped[str] = mapped_column(String(16))  # the key's first characters, to recognise it in lists
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the whole key
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined", foreign_keys=[user_id])


class Ward(Base):
    __tablename__ = "wards"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    capacity: Mapped[int] = mapped_column(Integer)


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str] = mapped_column(String(32), unique=True)
    given_name: Mapped[str] = mapped_column(String(80))
    family_name: Mapped[str] = mapped_column(String(80), index=True)
    sex: Mapped[str] = mapped_column(String(8))  # "female" | "male" | "unknown"
    birth_date: Mapped[date] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    encounters: Mapped[list[Encounter]] = relationship(back_populates="patient", order_by="Encounter.started_at")


class Encounter(Base):
    """An emergency visit or an inpatient stay."""

    __tablename__ = "encounters"
    __table_args__ = (Index("ix_encounters_ward_open", "ward_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "emergency" | "inpatient"
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("wards.id"))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    arrival_mode: Mapped[str | None] = mapped_column(String(32))
    chief_complaint: Mapped[str | None] = mapped_column(String(200))
    acuity: Mapped[int | None] = mapped_column(Integer)  # triage level given at the door, 1 = most urgent
    vitals: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # admission type, source, disposition...

    patient: Mapped[Patient] = relationship(back_populates="encounters")
    ward: Mapped[Ward | None] = relationship(lazy="joined")


class Document(Base):
    """An uploaded original, stored once under its SHA-256; the client's filename is display text only."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounters.id", ondelete="SET NULL"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    storage_key: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))  # discharge_summary, prescription, lab_order, imaging_order...
    language: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(
        String(20), default="received"
    )  # received|queued|processing|ready|failed|cancelled
    error: Mapped[str | None] = mapped_column(Text)
    page_count: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # uploaded
    # The day the hospital received it (a letter scanned a week later), when the uploader gave it.
    received_on: Mapped[date | None] = mapped_column(Date)
    # The same file uploaded again (for another patient, say): it shares the stored original.
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))

    patient: Mapped[Patient | None] = relationship()


class DocumentBlob(Base):
    """An original's bytes, once per SHA-256 (``MEDSPEAK_FILE_STORE=database``): every worker reaches them."""

    __tablename__ = "document_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DocumentPage(Base):
    """One page's text and words (with boxes), written together with the document's status."""

    __tablename__ = "document_pages"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # from 1
    source: Mapped[str] = mapped_column(String(32))  # text-layer | ocr:<engine> | typed
    text: Mapped[str] = mapped_column(Text, default="")
    words: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [text, x0, y0, x1, y1, conf, line]
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    mean_confidence: Mapped[float | None] = mapped_column(Float)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text)


class IngestJob(Base):
    """Reading a document's text off the page thread: progress, cancel, and recovery after a crash."""

    __tablename__ = "ingest_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    # queued | running | done | failed | cancelled
    pages_done: Mapped[int] = mapped_column(Integer, default=0)
    pages_total: Mapped[int] = mapped_column(Integer, default=0)
    engine: Mapped[str] = mapped_column(String(16), default="auto")
    language: Mapped[str] = mapped_column(String(8), default="auto")
    message: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # Times a worker claimed it: a job whose process keeps dying (out of memory, killed) is failed, not resumed forever.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Fact(Base):
    """A clinical fact extracted from a document, with the evidence it came from."""

    __tablename__ = "facts"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(32))  # problem, medication, vital, lab, allergy, order...
    label: Mapped[str] = mapped_column(String(255))
    value: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    assertion: Mapped[str] = mapped_column(String(16), default="present")
    evidence_start: Mapped[int | None] = mapped_column(Integer)
    evidence_end: Mapped[int | None] = mapped_column(Integer)
    evidence_text: Mapped[str | None] = mapped_column(Text)
    page: Mapped[int | None] = mapped_column(Integer)
    bbox: Mapped[list[Any] | None] = mapped_column(JSON)
    extractor: Mapped[str] = mapped_column(String(40))
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    grounding: Mapped[str] = mapped_column(String(8))  # exact | fuzzy | none
    review_status: Mapped[str] = mapped_column(String(16), default="proposed")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FactReview(Base):
    """A clinician's decision on an extracted fact: accepted, corrected (with the value) or rejected.

    Rows are only added: the newest decision is the fact's ``review_status``; the history stays.
    """

    __tablename__ = "fact_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    fact_id: Mapped[int] = mapped_column(ForeignKey("facts.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewer: Mapped[str] = mapped_column(String(64))  # username, kept when the account goes
    decision: Mapped[str] = mapped_column(String(16))  # accepted | corrected | rejected
    corrected: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # fields that replace the extracted ones
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DocumentLink(Base):
    """A clinician's linking or moving of a document to a patient, with the reason (rows are only added)."""

    __tablename__ = "document_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    from_patient_id: Mapped[int | None] = mapped_column(Integer)  # no FK: the history outlives a record
    to_patient_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    username: Mapped[str] = mapped_column(String(64))  # kept when the account goes
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Assessment(Base):
    """A triage or length-of-stay prediction, kept with what it was computed from."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounters.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))  # "triage" | "los"
    model_version: Mapped[str] = mapped_column(String(64))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    output: Mapped[dict[str, Any]] = mapped_column(JSON)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON)
    override: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AuditEvent(Base):
    """Append-only, hash-chained: each row's hash covers its fields and the previous row's hash.

    The database refuses UPDATE and DELETE on this table (triggers in the migration).
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64), index=True)
    patient_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no FK: the trail outlives records
    document_id: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))  # success | denied | failure
    detail: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
