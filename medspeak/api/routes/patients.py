"""``GET /patients`` (search, paginated), ``GET /patients/{id}/record`` (what the role may see) and
``GET /patients/{id}/fhir`` (the merged record as a FHIR R4 Bundle, clinicians only)."""

from datetime import date, datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from medspeak.api.deps import Credentials, CredentialsDep, CurrentActor, DbId, StoreDep
from medspeak.errors import ValidationFailed
from medspeak.services import patients
from medspeak.services import record as record_service

router = APIRouter(tags=["patients"])

# search_patients returns at most 200 rows and has no offset: pages are cut from its first
# offset + limit rows, so offset + limit may not pass 200.
_SEARCH_WINDOW: Final = 200


class PatientOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    mrn: str
    name: str
    sex: str
    birth_date: date
    age: int
    current_ward: str | None


class PatientPage(BaseModel):
    items: list[PatientOut]
    limit: int
    offset: int
    has_more: bool


class EncounterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    ward: str | None
    started_at: datetime
    ended_at: datetime | None
    chief_complaint: str | None
    acuity: int | None
    arrival_mode: str | None
    vitals: dict[str, Any] | None
    details: dict[str, Any] | None
    length_of_stay_days: float | None


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    patient_id: int | None
    display_name: str
    kind: str
    media_type: str
    language: str | None
    status: str
    page_count: int | None
    created_at: datetime = Field(description="When it was uploaded")
    received_on: date | None = Field(description="The day the hospital received it, as given at upload")


class AssessmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    patient_id: int
    kind: str
    model_version: str
    output: dict[str, Any]
    created_at: datetime


class PatientRecord(BaseModel):
    """A patient's record; ``documents`` and ``assessments`` are null for roles that may not read them."""

    model_config = ConfigDict(from_attributes=True)

    patient: PatientOut
    language: str
    encounters: list[EncounterOut]
    documents: list[DocumentOut] | None
    assessments: list[AssessmentOut] | None


@router.get("/patients")
def list_patients(
    actor: CurrentActor,
    store: StoreDep,
    q: Annotated[str, Query(max_length=80, description="part of a name or MRN")] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, lt=_SEARCH_WINDOW)] = 0,
) -> PatientPage:
    """Patients by family name, a page at a time (the first 200 matches can be paged through)."""
    if offset + limit > _SEARCH_WINDOW:
        raise ValidationFailed(f"offset + limit may not exceed {_SEARCH_WINDOW}; narrow the search with q.")
    rows = patients.search_patients(store, actor, q, limit=offset + limit + 1)
    page = rows[offset : offset + limit]
    return PatientPage(
        items=[PatientOut.model_validate(p) for p in page],
        limit=limit,
        offset=offset,
        has_more=len(rows) > offset + limit,
    )


@router.get("/patients/{patient_id}/record")
async def patient_record(patient_id: DbId, credentials: CredentialsDep) -> PatientRecord:
    """Stays for every reader; documents and assessments for clinicians only."""
    return await run_in_threadpool(_patient_record, patient_id, credentials)  # one thread-pool trip, as triage


def _patient_record(patient_id: int, credentials: Credentials) -> PatientRecord:
    return PatientRecord.model_validate(patients.get_patient(credentials.store, credentials.actor(), patient_id))


@router.get(
    "/patients/{patient_id}/fhir",
    response_class=Response,
    responses={200: {"content": {"application/fhir+json": {"schema": {"type": "object"}}}}},
)
def patient_fhir(patient_id: DbId, actor: CurrentActor, store: StoreDep) -> Response:
    """The patient's merged record as a FHIR R4 collection Bundle, each resource with its Provenance."""
    export = record_service.fhir_export(store, actor, patient_id)
    return Response(
        export.json,
        media_type="application/fhir+json",
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )
