"""``GET /audit``: the audit trail, newest first (administrators)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from medspeak.api.deps import CurrentActor, DbId, StoreDep
from medspeak.services import audit_log

router = APIRouter(tags=["audit"])


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    username: str
    role: str
    action: str
    patient_id: int | None
    document_id: int | None
    outcome: str
    detail: str


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    limit: int
    offset: int
    has_more: bool


@router.get("/audit")
def audit_events(
    actor: CurrentActor,
    store: StoreDep,
    username: str | None = None,
    action: Annotated[str | None, Query(description="prefix, e.g. 'document.'")] = None,
    outcome: Annotated[str | None, Query(pattern="^(success|failure|denied|error)$")] = None,
    patient_id: DbId | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AuditPage:
    """Events matching every filter given, newest first, ``limit`` at a time from ``offset`` (the whole trail)."""
    rows = audit_log.list_events(
        store,
        actor,
        username=username,
        action=action,
        outcome=outcome,
        patient_id=patient_id,
        since=since,
        until=until,
        limit=limit + 1,
        offset=offset,
    )
    return AuditPage(
        items=[AuditEventOut.model_validate(r) for r in rows[:limit]],
        limit=limit,
        offset=offset,
        has_more=len(rows) > limit,
    )
