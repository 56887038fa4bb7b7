"""The home page's figures: counts, the ward census, recent documents and assessments."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medspeak.auth.roles import Actor, Permission
from medspeak.services.audited import audited
from medspeak.services.patients import AssessmentSummary, DocumentSummary, assessment_summary, document_summary
from medspeak.services.read_models import ReadModel
from medspeak.store.db import Store
from medspeak.store.models import Assessment, Document, Encounter, Patient, Ward
from medspeak.store.types import utcnow

__all__ = ["Overview", "WardCensus", "overview", "ward_census"]

_RECENT = 10


class WardCensus(ReadModel):
    code: str
    name: str
    capacity: int
    occupied: int

    @property
    def free(self) -> int:
        return self.capacity - self.occupied

    @property
    def occupancy(self) -> float:
        return self.occupied / self.capacity if self.capacity else 0.0


class Overview(ReadModel):
    patients: int
    inpatients: int
    ed_visits_24h: int
    documents: int | None
    assessments: int | None
    census: list[WardCensus]
    recent_documents: list[DocumentSummary] | None
    recent_assessments: list[AssessmentSummary] | None


def _census(db: Session) -> list[WardCensus]:
    occupied = (
        select(Encounter.ward_id, func.count(Encounter.id).label("n"))
        .where(Encounter.kind == "inpatient", Encounter.ended_at.is_(None))
        .group_by(Encounter.ward_id)
        .subquery()
    )
    rows = db.execute(
        select(Ward.code, Ward.name, Ward.capacity, func.coalesce(occupied.c.n, 0))
        .outerjoin(occupied, occupied.c.ward_id == Ward.id)
        .order_by(Ward.name)
    ).all()
    return [WardCensus(code=code, name=name, capacity=capacity, occupied=int(n)) for code, name, capacity, n in rows]


def ward_census(store: Store, actor: Actor) -> list[WardCensus]:
    """Occupied and free beds per ward, now."""
    with audited(store, actor, "census.read", Permission.READ_CENSUS) as call:
        return _census(call.db)


def overview(store: Store, actor: Actor) -> Overview:
    """What the home page shows; clinical lists only for roles that may read them."""
    with audited(store, actor, "dashboard.read", Permission.READ_CENSUS) as call:
        db = call.db
        since = utcnow() - timedelta(hours=24)
        clinical = actor.can(Permission.READ_CLINICAL)
        docs = assessments = None
        n_docs = n_assessments = None
        if clinical:
            n_docs = db.scalar(select(func.count(Document.id))) or 0
            n_assessments = db.scalar(select(func.count(Assessment.id))) or 0
            docs = [
                document_summary(d)
                for d in db.scalars(select(Document).order_by(Document.created_at.desc()).limit(_RECENT))
            ]
            rows = db.scalars(select(Assessment).order_by(Assessment.created_at.desc()).limit(_RECENT)).all()
            named = {p.id: p for p in db.scalars(select(Patient).where(Patient.id.in_({a.patient_id for a in rows})))}
            assessments = [assessment_summary(a, named.get(a.patient_id)) for a in rows]
        return Overview(
            patients=db.scalar(select(func.count(Patient.id))) or 0,
            inpatients=db.scalar(
                select(func.count(Encounter.id)).where(Encounter.kind == "inpatient", Encounter.ended_at.is_(None))
            )
            or 0,
            ed_visits_24h=db.scalar(
                select(func.count(Encounter.id)).where(Encounter.kind == "emergency", Encounter.started_at >= since)
            )
            or 0,
            documents=n_docs,
            assessments=n_assessments,
            census=_census(db),
            recent_documents=docs,
            recent_assessments=assessments,
        )
