"""``GET /audit``: the audit trail, newest first (administrators)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from medspeak.api.deps import CurrentActor, DbId, StoreDep
from medspeak.services import audit_log
from medspeak.services.audit_log import AuditFilter, AuditPage

router = APIRouter(tags=["audit"])


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
    """Events matching every filter given, newest first, ``limit`` at a time from ``offset`` (the whole trail);
    ``total`` counts them all."""
    filters = AuditFilter(
        username=username, action=action, outcome=outcome, patient_id=patient_id, since=since, until=until
    )
    return audit_log.page_events(store, actor, filters, offset=offset, limit=limit, past_end=True)
