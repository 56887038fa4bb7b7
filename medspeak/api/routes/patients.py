"""``GET /patients`` (search, paginated), ``GET /patients/{id}/record`` (what the role may see) and
``GET /patients/{id}/fhir`` (the merged record as a FHIR R4 Bundle, clinicians only)."""

from typing import Annotated, Final

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from medspeak.api.deps import Credentials, CredentialsDep, CurrentActor, DbId, StoreDep
from medspeak.errors import ValidationFailed
from medspeak.services import patients
from medspeak.services import record as record_service
from medspeak.services.patients import PatientPage, PatientView

router = APIRouter(tags=["patients"])

# search_patients returns at most 200 rows and has no offset: pages are cut from its first
# offset + limit rows, so offset + limit may not pass 200.
_SEARCH_WINDOW: Final = 200


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
        items=page,
        limit=limit,
        offset=offset,
        has_more=len(rows) > offset + limit,
    )


@router.get("/patients/{patient_id}/record")
async def patient_record(patient_id: DbId, credentials: CredentialsDep) -> PatientView:
    """Stays for every reader; documents and assessments for clinicians only."""
    return await run_in_threadpool(_patient_record, patient_id, credentials)  # one thread-pool trip, as triage


def _patient_record(patient_id: int, credentials: Credentials) -> PatientView:
    return patients.get_patient(credentials.store, credentials.actor(), patient_id)


@router.get(
    "/patients/{patient_id}/fhir",
    response_class=Response,
    responses={200: {"content": {"application/fhir+json": {"schema": {"type": "object"}}}}},
)
def patient_fhir(patient_id: DbId, actor: CurrentActor, store: StoreDep) -> Response:
    """The patient's merged record as a FHIR R4 collection Bundle, each resource with its Provenance."""
    export = record_service.fhir_export(store, actor, patient_id)
    return Response(
        export.content,
        media_type="application/fhir+json",
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )
