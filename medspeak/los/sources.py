"""Admissions from the store's rows (the demo generator's dataset: ``medspeak.los.training.demo``).

Both map to ``Admission`` the same way: the emergency visit that ends when a stay begins gives the
ED time; the patient's finished stays that ended before give the history; documents on file give
the reports, each at its creation time (a discharge summary, written at discharge, is therefore
never seen by a prediction made before it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from medspeak.los.admissions import Admission, PriorStay, Report
from medspeak.store.models import Document, Encounter, Patient

__all__ = ["from_store"]

_ED_LINK: Final = timedelta(minutes=5)  # an ED visit ending this close to the admission led to it


def _age(birth: date, on: datetime) -> float:
    return (on.date() - birth).days / 365.25


def _ed_hours(start: datetime, visits: Iterable[tuple[datetime, datetime | None]]) -> float:
    for begin, end in visits:
        if end is not None and abs(end - start) <= _ED_LINK:
            return (end - begin).total_seconds() / 3600
    return 0.0


def _admission(
    key: str,
    patient_key: str,
    stay: tuple[datetime, datetime | None, str | None, dict[str, object] | None],
    person: tuple[str, date],
    history: Sequence[tuple[str, datetime, datetime | None]],
    reports: Sequence[Report],
) -> Admission:
    start, end, ward, details = stay
    info = details or {}
    return Admission(
        key=key,
        patient_key=patient_key,
        admitted_at=start,
        discharged_at=end,
        admission_type=str(info.get("admission_type", "emergency")),
        admission_source=str(info.get("admission_source", "emergency department")),
        ward=ward or "GMED",
        sex=person[0],
        insurance=str(info.get("insurance", "public")),
        age_years=_age(person[1], start),
        ed_hours=_ed_hours(start, [(b, e) for kind, b, e in history if kind == "emergency"]),
        prior_stays=tuple(
            PriorStay(b, e) for kind, b, e in history if kind == "inpatient" and e is not None and e <= start
        ),
        reports=tuple(sorted((r for r in reports if r.at >= start - timedelta(days=1)), key=lambda r: r.at)),
    )


def from_store(db: Session, encounters: Sequence[Encounter]) -> list[Admission]:
    """Admissions for inpatient encounters of the store, with their patients' history and documents."""
    patient_ids = {e.patient_id for e in encounters}
    if not patient_ids:
        return []
    people = {p.id: (p.sex, p.birth_date) for p in db.scalars(select(Patient).where(Patient.id.in_(patient_ids)))}
    history: dict[int, list[tuple[str, datetime, datetime | None]]] = defaultdict(list)
    for kind, pid, begin, end in db.execute(
        select(Encounter.kind, Encounter.patient_id, Encounter.started_at, Encounter.ended_at).where(
            Encounter.patient_id.in_(patient_ids)
        )
    ):
        history[pid].append((kind, begin, end))
    reports: dict[int, list[Report]] = defaultdict(list)
    for doc_patient, created, text in db.execute(
        select(Document.patient_id, Document.created_at, Document.text).where(
            Document.patient_id.in_(patient_ids), Document.text.is_not(None)
        )
    ):
        if doc_patient is not None and text:
            reports[doc_patient].append(Report(created, text))
    return [
        _admission(
            str(e.id),
            str(e.patient_id),
            (e.started_at, e.ended_at, e.ward.code if e.ward else None, e.details),
            people[e.patient_id],
            history[e.patient_id],
            reports[e.patient_id],
        )
        for e in encounters
    ]
