"""Patients: search, one patient's page, and registration.

Every call is permission-checked and audited; a bed manager sees stays but
never documents or assessments.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field, computed_field
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from medspeak.auth.roles import Actor, Permission
from medspeak.clinical.patients import age_on, display_name
from medspeak.errors import NotFound, ValidationFailed
from medspeak.i18n import N_
from medspeak.services.audited import audited
from medspeak.services.read_models import Page, ReadModel
from medspeak.store.db import Store
from medspeak.store.models import Assessment, Document, Encounter, Patient
from medspeak.triage.levels import LEVELS

__all__ = [
    "AssessmentSummary",
    "DocumentSummary",
    "EncounterSummary",
    "PatientPage",
    "PatientSummary",
    "PatientView",
    "get_patient",
    "patient_summary",
    "register_patient",
    "search_patients",
]

_MAX_RESULTS = 200


class PatientSummary(ReadModel):
    """Who a patient is, as a list or a header shows them."""

    id: int
    mrn: str = Field(description="medical record number")
    name: str = Field(description='"FAMILY, Given"')
    sex: str = Field(description="female, male or unknown")
    birth_date: date
    age: int = Field(description="in whole years, today")
    current_ward: str | None = Field(description="the ward of the inpatient stay under way, if any")


class PatientPage(Page[PatientSummary]):
    """Patients by family name, a page at a time."""


_STAY_DETAILS = frozenset({"admission_type", "admission_source", "disposition"})  # logistics, not clinical


class EncounterSummary(ReadModel):
    """One stay (an emergency visit or an inpatient stay); the clinical fields are null for bed managers."""

    id: int
    kind: str = Field(description="emergency or inpatient")
    ward: str | None
    started_at: datetime
    ended_at: datetime | None = Field(description="null while the stay is under way")
    chief_complaint: str | None
    acuity: int | None = Field(description="the triage level given at the door (1 most urgent)")
    arrival_mode: str | None
    vitals: dict[str, Any] | None
    details: dict[str, Any] | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def length_of_stay_days(self) -> float | None:
        if self.ended_at is None:
            return None
        return round((self.ended_at - self.started_at).total_seconds() / 86400, 1)


class DocumentSummary(ReadModel):
    """One document as lists show it (no text, no facts)."""

    id: int
    patient_id: int | None = Field(description="null until the document is linked to a patient")
    display_name: str
    kind: str
    media_type: str
    language: str | None
    status: str = Field(description="queued, processing, ready, failed or cancelled")
    page_count: int | None
    created_at: datetime = Field(description="When it was uploaded")
    patient_name: str | None = Field(default=None, description='"FAMILY, Given", for lists that span patients')
    patient_mrn: str | None = None
    received_on: date | None = Field(default=None, description="The day the hospital received it, as given at upload")


class AssessmentSummary(ReadModel):
    """A stored triage or length-of-stay prediction, with the model that made it and what it was given."""

    id: int
    patient_id: int
    kind: str = Field(description="triage or los")
    model_version: str
    output: dict[str, Any] = Field(description="what was stored: the inputs, the result and its explanation")
    created_at: datetime
    patient_name: str | None = Field(default=None, description='"FAMILY, Given"')
    patient_mrn: str | None = None

    @property
    def result(self) -> str:
        """What the assessment concluded, in words (never the stored dictionary)."""
        return describe_assessment(self.kind, self.output)


def describe_assessment(kind: str, output: dict[str, Any]) -> str:
    """``"Level 2 · Emergency"`` (with the nurse's and the model's levels when they differ), or
    ``"Expected stay 5.2 days (3.1 to 8.4) · 2.3 days left"`` for a length of stay (medians, 80 % band)."""
    if kind == "triage" and isinstance(output.get("level"), int):
        level = LEVELS.get(output["level"])
        text = f"Level {output['level']}" + (f" · {level.name}" if level else "")
        nurse, model = output.get("nurse_level"), output.get("model_level")
        if isinstance(nurse, int) and nurse != output["level"]:
            text += f" (nurse: {nurse})"
        if isinstance(model, int) and model != output["level"]:
            text += f" (model: {model})"
        return text
    total, remaining = output.get("total_days"), output.get("remaining_days")
    if kind == "los" and isinstance(total, list) and len(total) >= 3:
        low, mid, high = total[0], total[len(total) // 2], total[-1]
        text = f"Expected stay {_days(mid)} ({_days(low, unit=False)} to {_days(high)})"
        if isinstance(remaining, list) and remaining:
            text += f" · {_days(remaining[len(remaining) // 2])} left"
        return text
    return "Result recorded (open the patient for details)"


def _days(value: object, *, unit: bool = True) -> str:
    days = float(value) if isinstance(value, int | float) else 0.0
    if days < 1:
        return f"{round(days * 24)} h"  # the largest sensible unit
    return f"{days:.1f} days" if unit else f"{days:.1f}"


class PatientView(ReadModel):
    """A patient's record; ``documents`` and ``assessments`` are null for roles that may not read them."""

    patient: PatientSummary
    language: str = Field(description="the language the patient's documents are written in (en or fr)")
    encounters: list[EncounterSummary] = Field(description="newest first")
    documents: list[DocumentSummary] | None = None
    assessments: list[AssessmentSummary] | None = None
    # The documents' text, for the page's search: kept out of the API's answer (GET /documents/... reads one).
    document_texts: dict[int, str] = Field(default_factory=dict, exclude=True)


def _current_ward(patient: Patient) -> str | None:
    for enc in patient.encounters:
        if enc.kind == "inpatient" and enc.ended_at is None and enc.ward is not None:
            return enc.ward.name
    return None


def _display_name(patient: Patient) -> str:
    return display_name(patient.family_name, patient.given_name)


def _summary(patient: Patient) -> PatientSummary:
    return PatientSummary(
        id=patient.id,
        mrn=patient.mrn,
        name=_display_name(patient),
        sex=patient.sex,
        birth_date=patient.birth_date,
        age=age_on(patient.birth_date, date.today()),
        current_ward=_current_ward(patient),
    )


def document_summary(doc: Document) -> DocumentSummary:
    return DocumentSummary(
        id=doc.id,
        patient_id=doc.patient_id,
        display_name=doc.display_name,
        kind=doc.kind,
        media_type=doc.media_type,
        language=doc.language,
        status=doc.status,
        page_count=doc.page_count,
        created_at=doc.created_at,
        patient_name=_display_name(doc.patient) if doc.patient is not None else None,
        patient_mrn=doc.patient.mrn if doc.patient is not None else None,
        received_on=doc.received_on,
    )


def assessment_summary(a: Assessment, patient: Patient | None = None) -> AssessmentSummary:
    return AssessmentSummary(
        id=a.id,
        patient_id=a.patient_id,
        kind=a.kind,
        model_version=a.model_version,
        output=a.output,
        created_at=a.created_at,
        patient_name=_display_name(patient) if patient is not None else None,
        patient_mrn=patient.mrn if patient is not None else None,
    )


def _encounter_summary(e: Encounter) -> EncounterSummary:
    return EncounterSummary(
        id=e.id,
        kind=e.kind,
        ward=e.ward.name if e.ward else None,
        started_at=e.started_at,
        ended_at=e.ended_at,
        chief_complaint=e.chief_complaint,
        acuity=e.acuity,
        arrival_mode=e.arrival_mode,
        vitals=e.vitals,
        details=e.details,
    )


def _stay_summary(e: Encounter) -> EncounterSummary:
    """What planning a bed needs (where, since when, until when, how admitted): no complaint, acuity, vitals,
    arrival mode, reason or insurance, for roles without ``READ_CLINICAL`` (bed managers)."""
    details = {k: v for k, v in (e.details or {}).items() if k in _STAY_DETAILS}
    return EncounterSummary(
        id=e.id,
        kind=e.kind,
        ward=e.ward.name if e.ward else None,
        started_at=e.started_at,
        ended_at=e.ended_at,
        chief_complaint=None,
        acuity=None,
        arrival_mode=None,
        vitals=None,
        details=details or None,
    )


def _id_list(ids: list[int], budget: int = 440) -> str:
    """Ids for an audit detail (who saw which patients in a list), within the detail's length."""
    out = ""
    for n, i in enumerate(ids):
        item = f"{',' if out else ''}{i}"
        if len(out) + len(item) > budget:
            return f"{out} +{len(ids) - n} more"
        out += item
    return out or "none"


def search_patients(store: Store, actor: Actor, query: str = "", limit: int = 50) -> list[PatientSummary]:
    """Patients whose name or MRN contains ``query`` (case-insensitive), by family name."""
    query = query.strip()[:80]
    with audited(store, actor, "patient.search", Permission.READ_PATIENTS) as call:
        stmt = (
            select(Patient)
            .options(selectinload(Patient.encounters))
            .order_by(Patient.family_name, Patient.given_name)
            .limit(min(limit, _MAX_RESULTS))
        )
        if query:
            like = f"%{query.lower()}%"
            stmt = stmt.where(
                or_(
                    func.lower(Patient.family_name).like(like),
                    func.lower(Patient.given_name).like(like),
                    func.lower(Patient.mrn).like(like),
                )
            )
        rows = [_summary(p) for p in call.db.scalars(stmt).unique()]
        call.detail = f"{len(rows)} result(s); ids {_id_list([r.id for r in rows])}"
        return rows


def patient_summary(store: Store, actor: Actor, patient_id: int) -> PatientSummary:
    """One patient's name, MRN and age (to show who is chosen), without the record.

    Raises:
        NotFound: no such patient.
    """
    with audited(store, actor, "patient.summary", Permission.READ_PATIENTS, patient_id=patient_id) as call:
        patient = call.db.get(Patient, patient_id)
        if patient is None:
            raise NotFound(N_("No patient with id {patient_id}."), patient_id=patient_id)
        return _summary(patient)


def get_patient(store: Store, actor: Actor, patient_id: int) -> PatientView:
    """One patient's page: stays for every reader, documents and assessments for clinicians."""
    with audited(store, actor, "patient.read", Permission.READ_PATIENTS, patient_id=patient_id) as call:
        patient = call.db.get(Patient, patient_id)
        if patient is None:
            raise NotFound(N_("No patient with id {patient_id}."), patient_id=patient_id)
        clinical = actor.can(Permission.READ_CLINICAL)
        encounters = [
            _encounter_summary(e) if clinical else _stay_summary(e)
            for e in sorted(patient.encounters, key=lambda e: e.started_at, reverse=True)
        ]
        view = PatientView(patient=_summary(patient), language=patient.language, encounters=encounters)
        if actor.can(Permission.READ_CLINICAL):
            docs = call.db.scalars(
                select(Document).where(Document.patient_id == patient_id).order_by(Document.created_at.desc())
            ).all()
            assessments = call.db.scalars(
                select(Assessment).where(Assessment.patient_id == patient_id).order_by(Assessment.created_at.desc())
            ).all()
            view = view.model_copy(
                update={
                    "documents": [document_summary(d) for d in docs],
                    "assessments": [assessment_summary(a, patient) for a in assessments],
                    "document_texts": {d.id: d.text for d in docs if d.text},
                }
            )
            call.detail = f"{len(docs)} document(s), {len(assessments)} assessment(s)"
        return view


def register_patient(
    store: Store,
    actor: Actor,
    *,
    given_name: str,
    family_name: str,
    sex: str,
    birth_date: date,
    mrn: str | None = None,
    language: str = "en",
) -> PatientSummary:
    """Create a patient (clinicians); the MRN is generated when not given."""
    given_name, family_name = given_name.strip(), family_name.strip()
    if not given_name or not family_name:
        raise ValidationFailed(N_("Given and family names are required."))
    if sex not in {"female", "male", "unknown"}:
        raise ValidationFailed(N_("Sex must be female, male or unknown."))
    if not date(1900, 1, 1) <= birth_date <= date.today():
        raise ValidationFailed(N_("The birth date must be between 1900 and today."))
    with audited(store, actor, "patient.create", Permission.WRITE_CLINICAL) as call:
        if mrn is None:
            count = call.db.scalar(select(func.count(Patient.id))) or 0
            mrn = f"MS{count + 1:06d}"
        if call.db.scalar(select(Patient.id).where(Patient.mrn == mrn)) is not None:
            raise ValidationFailed(N_("The MRN {mrn} is already used."), mrn=mrn)
        patient = Patient(
            mrn=mrn,
            given_name=given_name[:80],
            family_name=family_name[:80],
            sex=sex,
            birth_date=birth_date,
            language=language,
        )
        call.db.add(patient)
        call.db.flush()
        call.patient_id = patient.id
        return PatientSummary(
            id=patient.id,
            mrn=mrn,
            name=display_name(patient.family_name, patient.given_name),
            sex=sex,
            birth_date=birth_date,
            age=age_on(birth_date, date.today()),
            current_ward=None,
        )
