"""``POST /documents`` (upload, read in the background), ``GET /jobs/{id}`` (its progress) and
``PUT /documents/{id}/patient`` (link or move a document to a patient, with a reason)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from pydantic import BaseModel, Field

from medspeak.api.deps import ContextDep, CurrentActor, DbId, StoreDep
from medspeak.api.errors import ErrorBody
from medspeak.errors import NotFound, ValidationFailed
from medspeak.services import documents
from medspeak.services.documents import JobView, Language, UploadOutcome
from medspeak.services.patients import DocumentSummary

router = APIRouter(tags=["documents"])


async def _one_file(request: Request) -> None:
    """Refuse a second file (or file field): it was silently dropped, the sender believing it stored."""
    form = await request.form()  # already parsed for the route (Starlette keeps it): no second read
    files = [v for _, v in form.multi_items() if not isinstance(v, str)]
    if len(files) > 1:
        raise ValidationFailed(f"Send one file per request ({len(files)} were sent): upload them one by one.")


class LinkIn(BaseModel):
    patient_id: DbId
    reason: str = Field(min_length=1, max_length=500, description="why the document belongs to this patient")


@router.post(
    "/documents",
    status_code=202,
    dependencies=[Depends(_one_file)],
    responses={
        411: {"model": ErrorBody, "description": "No Content-Length (chunked bodies are refused)"},
        413: {"model": ErrorBody, "description": "Larger than max_upload_mb"},
    },
)
def upload_document(
    file: UploadFile,
    actor: CurrentActor,
    ctx: ContextDep,
    patient_id: Annotated[DbId | None, Form()] = None,
    kind: Annotated[str, Form()] = "other",
    language: Annotated[Language, Form()] = "auto",
    received: Annotated[
        date | None, Form(description="The day the hospital received it (YYYY-MM-DD), shown where documents are listed")
    ] = None,
) -> UploadOutcome:
    """Upload a PDF, image, DOCX or text file; it is checked, stored, and read in the background.

    Poll ``GET /jobs/{job_id}`` for progress. The body is capped at ``max_upload_mb`` (413 beyond).
    """
    # The body limit (BodySizeLimit) bounds this read; the service checks the size again.
    content = file.file.read()
    outcome = documents.upload(
        ctx,
        actor,
        filename=file.filename or "upload",
        content=content,
        patient_id=patient_id,
        kind=kind,
        language=language,
        received=received,
    )
    return outcome


@router.get("/jobs/{job_id}")
def get_job(job_id: DbId, actor: CurrentActor, store: StoreDep) -> JobView:
    """Progress of one reading job (no patient data)."""
    views = documents.job_views(store, actor, [job_id])
    if not views:
        raise NotFound(f"No job {job_id}.")
    return views[0]


@router.put("/documents/{document_id}/patient")
def link_document(document_id: DbId, body: LinkIn, actor: CurrentActor, store: StoreDep) -> DocumentSummary:
    """Link a document to a patient, or move it from the wrong one; its facts follow (audited, reason kept)."""
    return documents.link_to_patient(store, actor, document_id, body.patient_id, reason=body.reason)


class ConfirmIn(BaseModel):
    reason: str = Field(
        min_length=1, max_length=500, description="how the clinician checked the document is this patient's"
    )


@router.post("/documents/{document_id}/patient/confirm")
def confirm_document_patient(
    document_id: DbId, body: ConfirmIn, actor: CurrentActor, store: StoreDep
) -> DocumentSummary:
    """Confirm that a document flagged as possibly another patient's is its patient's (audited, reason kept).

    Until then its facts stay out of the patient's FHIR export.
    """
    return documents.confirm_patient(store, actor, document_id, reason=body.reason)
