"""The audit trail: append-only rows chained by HMAC-SHA256 under a key kept outside the database.

Each row's hash covers its own fields and the previous row's hash, so altering, inserting or deleting
a row in the middle breaks every later link; the key (``audit_signing_key``, from the secrets file)
means that whoever holds only the database cannot compute a valid link: a re-hashed or re-chained
trail fails. Cutting the newest rows leaves a valid chain, so an admin exports signed checkpoints (the
last id and hash at a time) and verification checks the trail still holds each one. The database also
refuses UPDATE and DELETE on the table (triggers in the first migration).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from medspeak.store.db import AUDIT_KEY_INFO
from medspeak.store.models import AuditEvent
from medspeak.store.types import utcnow

__all__ = [
    "GENESIS_HASH",
    "ChainReport",
    "Checkpoint",
    "event_hash",
    "read_checkpoint",
    "record",
    "session_key",
    "sign_checkpoint",
    "verify_chain",
]

GENESIS_HASH = "0" * 64
_PG_AUDIT_LOCK = 0x6D6564  # advisory lock id serialising appends on PostgreSQL
_MAX_DETAIL_CHARS = 500
# Built once: SQLAlchemy then reuses their compiled form (an audit row is written on every request).
_LAST_HASH = select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
_APPEND = insert(AuditEvent)


def session_key(db: Session) -> bytes:
    """The audit key of the store this session belongs to (see ``Store``)."""
    key = db.info.get(AUDIT_KEY_INFO)
    if not isinstance(key, bytes):
        raise RuntimeError("This session has no audit key: open sessions through Store.")
    return key


def event_hash(event: AuditEvent, key: bytes) -> str:
    """The hash a row must carry: HMAC-SHA256 under ``key`` of its fields and ``prev_hash``."""
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
    return hmac.new(key, canonical.encode("ascii"), hashlib.sha256).hexdigest()


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
    event.hash = event_hash(event, session_key(db))
    # A plain INSERT rather than the ORM's unit of work: the same row for a third of the CPU time. The
    # returned event is not attached to the session (nothing may change it: the table refuses updates).
    columns = ("at", "username", "role", "action", "patient_id", "document_id", "outcome", "detail", "prev_hash")
    inserted = db.connection().execute(_APPEND, {c: getattr(event, c) for c in (*columns, "hash")})
    event.id = int(inserted.inserted_primary_key[0])  # type: ignore[index]  # always set for a single-row INSERT
    return event


@dataclass(frozen=True)
class Checkpoint:
    """The trail's newest row at a time, signed with the audit key: an anchor kept outside the server."""

    last_id: int
    last_hash: str
    events: int  # rows in the trail up to and including ``last_id``
    at: datetime

    def payload(self) -> dict[str, object]:
        return {"version": 1, "last_id": self.last_id, "last_hash": self.last_hash, "events": self.events,
                "at": self.at.isoformat()}  # fmt: skip


def _checkpoint_signature(payload: dict[str, object], key: bytes) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, b"medspeak audit checkpoint\0" + canonical.encode("ascii"), hashlib.sha256).hexdigest()


def sign_checkpoint(checkpoint: Checkpoint, key: bytes) -> str:
    """The checkpoint as one line of JSON with its signature, for the admin to keep."""
    payload = checkpoint.payload()
    return json.dumps({**payload, "signature": _checkpoint_signature(payload, key)}, sort_keys=True)


def read_checkpoint(text: str, key: bytes) -> Checkpoint | None:
    """The checkpoint in ``text`` if its signature is this install's; ``None`` when altered or foreign."""
    try:
        data = json.loads(text)
        checkpoint = Checkpoint(
            int(data["last_id"]), str(data["last_hash"]), int(data["events"]), datetime.fromisoformat(data["at"])
        )
        signature = str(data["signature"])
    except (ValueError, KeyError, TypeError):
        return None
    expected = _checkpoint_signature(checkpoint.payload(), key)
    return checkpoint if hmac.compare_digest(signature, expected) else None


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str = ""


def verify_chain(events: Iterable[AuditEvent], key: bytes, checkpoints: Sequence[str] = ()) -> ChainReport:
    """Check every link of the chain, in id order, and that the trail still holds each checkpoint.

    Reports the first broken row, a checkpoint whose signature is not this install's, or one whose row is
    gone or changed (the newest rows were cut, or the trail re-chained).
    """
    anchors: dict[int, Checkpoint] = {}
    for text_ in checkpoints:
        checkpoint = read_checkpoint(text_, key)
        if checkpoint is None:
            return ChainReport(False, 0, None, "a checkpoint's signature is not valid (altered, or another install's)")
        anchors[checkpoint.last_id] = checkpoint
    prev = GENESIS_HASH
    checked = 0
    for event in events:
        if event.prev_hash != prev:
            return ChainReport(False, checked, event.id, "previous-hash link broken (a row was removed or inserted)")
        if event_hash(event, key) != event.hash:
            return ChainReport(False, checked, event.id, "row content does not match its hash (a row was altered)")
        prev = event.hash
        checked += 1
        anchor = anchors.pop(event.id, None)
        if anchor is not None and (anchor.last_hash != event.hash or anchor.events != checked):
            return ChainReport(
                False, checked, event.id, f"the trail differs from the checkpoint of {anchor.at:%Y-%m-%d %H:%M} UTC"
            )
    if anchors:
        oldest = min(anchors.values(), key=lambda a: a.last_id)
        return ChainReport(
            False,
            checked,
            oldest.last_id,
            f"event {oldest.last_id}, named by the checkpoint of {oldest.at:%Y-%m-%d %H:%M} UTC, is missing "
            "(the newest rows were cut)",
        )
    return ChainReport(True, checked)
