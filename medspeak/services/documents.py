"""Documents: upload (validated, stored once, read off the page thread), progress, pages, originals.

Clinicians only; every call that reveals a document is audited. Progress polling reveals no
patient data and is permission-checked without flooding the audit trail.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import TYPE_CHECKING, Final, Literal

from PIL import Image
from pydantic import Field, computed_field
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from medspeak.auth.roles import Actor, Permission
from medspeak.errors import NotFound, UploadRejected, ValidationFailed
from medspeak.i18n import N_, Said
from medspeak.ingest.pipeline import render_page
from medspeak.ingest.types import FileKind, ValidatedUpload, Word
from medspeak.ingest.validate import sniff, validate_upload
from medspeak.services.audited import audited, record_alone, require
from medspeak.services.patients import DocumentSummary, document_summary
from medspeak.services.read_models import ReadModel, Sentence
from medspeak.store.db import Store
from medspeak.store.files import open_storage
from medspeak.store.models import Document, DocumentLink, DocumentPage, Fact, IngestJob, Patient

if TYPE_CHECKING:
    from medspeak.services.context import AppContext

__all__ = [
    "DOCUMENT_KINDS",
    "DocumentDetail",
    "FactView",
    "JobView",
    "PageView",
    "UploadOutcome",
    "cancel",
    "document_detail",
    "job_views",
    "link_to_patient",
    "list_documents",
    "page_image",
    "queue_unread",
    "read_original",
    "upload",
]

DOCUMENT_KINDS = ("discharge_summary", "prescription", "lab_order", "imaging_order", "report", "other")
Language = Literal["auto", "en", "fr"]
_FINISHED = {"done", "failed", "cancelled"}
_MAX_REASON = 500  # characters: a reason is a sentence, not a note
_log = logging.getLogger(__name__)


class UploadOutcome(ReadModel):
    """What became of an upload: stored and queued for reading, or found already uploaded."""

    document_id: int
    job_id: int | None = Field(description="null: the same file was already uploaded for this patient")
    display_name: str
    duplicate_of: int | None = Field(description="the first upload of the same file, if any")
    message: Sentence = Field(description="what happened, in words")  # a page shows it translated


class JobView(ReadModel):
    """How far the reading of one document has gone (no patient data)."""

    id: int
    document_id: int
    status: str = Field(description="queued, running, done, failed or cancelled")
    pages_done: int
    pages_total: int
    message: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def finished(self) -> bool:
        return self.status in _FINISHED

    @property
    def fraction(self) -> float:
        return self.pages_done / self.pages_total if self.pages_total else 0.0


class PageView(ReadModel):
    """One page's text and words (with their boxes), as read."""

    number: int
    source: str
    text: str
    words: list[Word]
    mean_confidence: float | None
    seconds: float
    error: str | None


class FactView(ReadModel):
    """An extracted fact with the words it came from (only grounded facts are stored)."""

    id: int
    category: str
    label: str
    assertion: str
    value: dict[str, object]
    evidence_text: str | None
    evidence_start: int | None
    evidence_end: int | None
    page: int | None
    bbox: tuple[float, float, float, float] | None
    grounding: str
    confidence: float
    extractor: str
    review_status: str = "proposed"  # proposed | accepted | corrected | rejected (services.record)


class DocumentDetail(ReadModel):
    """One document with its pages, its text and the facts read from it."""

    summary: DocumentSummary
    pages: list[PageView]
    error: str | None
    has_image: bool  # PDFs and images can be shown as pages; typed text cannot
    facts: list[FactView]
    text: str


def upload(
    ctx: AppContext,
    actor: Actor,
    *,
    filename: str,
    content: bytes,
    patient_id: int | None,
    kind: str = "other",
    language: Language = "auto",
    received: date | None = None,
    backlog: bool = False,
) -> UploadOutcome:
    """Validate and store an upload, then queue reading it; returns at once.

    ``backlog`` uploads (an archive import) are read after every clinician's upload.

    Raises:
        UploadRejected: the file is refused, with the reason (the refusal is audited).
        ValidationFailed: unknown kind or patient.
    """
    if kind not in DOCUMENT_KINDS:
        raise ValidationFailed(N_("Unknown document kind {kind!r}."), kind=kind)
    check_received(received)
    store, settings = ctx.store, ctx.settings
    require(store, actor, "document.upload", Permission.WRITE_CLINICAL)
    try:
        checked = validate_upload(filename, content, max_bytes=settings.max_upload_bytes, max_pages=settings.max_pages)
    except UploadRejected as exc:
        record_alone(store, actor, "document.upload", "failure", patient_id=patient_id, detail=f"rejected: {exc}")
        raise
    try:
        outcome = _record_upload(store, actor, checked, patient_id, kind, language, received)
    except BaseException:
        _discard_orphan(store, checked.sha256, f"{checked.sha256[:2]}/{checked.sha256}.{checked.extension}")
        raise
    if outcome.job_id is not None:
        ctx.runner.submit(outcome.job_id, urgent=not backlog)  # after the commit: the worker must see the rows
    return outcome


_OLDEST_RECEIVED: Final = date(1900, 1, 1)


def check_received(received: date | None, today: date | None = None) -> None:
    """A received date is a day the hospital already had the document: not in the future, not before 1900.

    ``today`` defaults to the machine's date; a day of slack covers a sender a time zone ahead.

    Raises:
        ValidationFailed: the date is in the future or implausibly old.
    """
    if received is None:
        return
    today = today or date.today()
    if received > today + timedelta(days=1):
        raise ValidationFailed(N_("The received date {received:%Y-%m-%d} is in the future."), received=received)
    if received < _OLDEST_RECEIVED:
        raise ValidationFailed(
            N_("The received date {received:%Y-%m-%d} is before 1900: check the year."), received=received
        )


def _discard_orphan(store: Store, sha256: str, key: str) -> None:
    """After a failed upload transaction (a full disk, a lost database), remove the original it stored
    unless a committed document points to it; when even that check fails, the file is left (harmless)."""
    try:
        with store.transaction() as db:
            referenced = db.scalar(select(Document.id).where(Document.sha256 == sha256).limit(1))
            if referenced is None:
                open_storage(store).discard(key, db)
    except Exception:  # noqa: BLE001 - best effort: the upload's own error is what the user must see
        _log.warning("could not check for an orphaned original after a failed upload")


def _record_upload(
    store: Store,
    actor: Actor,
    checked: ValidatedUpload,
    patient_id: int | None,
    kind: str,
    language: Language,
    received: date | None,
) -> UploadOutcome:
    settings = store.settings
    with audited(store, actor, "document.upload", Permission.WRITE_CLINICAL, patient_id=patient_id) as call:
        if patient_id is not None and call.db.get(Patient, patient_id) is None:
            raise ValidationFailed(N_("No patient with id {patient_id}."), patient_id=patient_id)
        same = call.db.scalars(select(Document).where(Document.sha256 == checked.sha256).order_by(Document.id)).all()
        for doc in same:
            if doc.patient_id == patient_id:
                call.document_id, call.detail = doc.id, "duplicate of an existing upload"
                said = Said(
                    N_("Already uploaded on {day:%Y-%m-%d} as “{name}”."), day=doc.created_at, name=doc.display_name
                )
                return UploadOutcome(
                    document_id=doc.id,
                    job_id=None,
                    display_name=checked.display_name,
                    duplicate_of=doc.id,
                    message=said,
                )
        stored = open_storage(store).put(checked.content, checked.extension, call.db)
        doc = Document(
            patient_id=patient_id,
            sha256=checked.sha256,
            storage_key=stored.key,
            display_name=checked.display_name,
            media_type=checked.kind.media_type,
            size_bytes=len(checked.content),
            kind=kind,
            language=None if language == "auto" else language,
            status="queued",
            page_count=checked.page_count,
            uploaded_by=actor.user_id,
            received_on=received,
            duplicate_of_id=same[0].id if same else None,
        )
        call.db.add(doc)
        call.db.flush()
        job = IngestJob(
            document_id=doc.id,
            pages_total=checked.page_count,
            engine=settings.ocr_engine,
            language=language,
            created_by=actor.user_id,
        )
        call.db.add(job)
        call.db.flush()
        call.document_id, call.detail = doc.id, f"{checked.kind.value}, {checked.page_count} page(s), job {job.id}"
        queued = (
            N_("Queued for reading. The same file exists for another record: its text is reused.")
            if same
            else N_("Queued for reading.")
        )
        outcome = UploadOutcome(
            document_id=doc.id,
            job_id=job.id,
            display_name=checked.display_name,
            duplicate_of=doc.duplicate_of_id,
            message=queued,
        )
    return outcome


def job_views(store: Store, actor: Actor, job_ids: list[int]) -> list[JobView]:
    """Progress of the given jobs (no patient data: ids, counts, status)."""
    require(store, actor, "document.progress", Permission.READ_CLINICAL)
    if not job_ids:
        return []
    with store.transaction() as db:
        jobs = db.scalars(select(IngestJob).where(IngestJob.id.in_(job_ids)).order_by(IngestJob.id)).all()
        return [JobView.model_validate(j) for j in jobs]


def cancel(store: Store, actor: Actor, job_id: int) -> None:
    """Ask a job to stop after its current page; a queued job stops at once."""
    with audited(store, actor, "document.cancel", Permission.WRITE_CLINICAL) as call:
        job = call.db.get(IngestJob, job_id)
        if job is None:
            raise NotFound(N_("No job {job_id}."), job_id=job_id)
        call.document_id = job.document_id
        if job.status == "queued":
            job.status, job.message = "cancelled", N_("Cancelled before it started.")
            doc = call.db.get_one(Document, job.document_id)
            doc.status, doc.error = "cancelled", job.message
        elif job.status == "running":
            job.cancel_requested = True


def list_documents(
    store: Store, actor: Actor, *, patient_id: int | None = None, unlinked: bool = False, limit: int = 100
) -> list[DocumentSummary]:
    """The newest documents of one patient, or those linked to no patient yet (``unlinked``), or of all.

    Each summary names its patient, so a list never leaves the reader guessing whose document it is.
    """
    with audited(store, actor, "document.list", Permission.READ_CLINICAL, patient_id=patient_id) as call:
        stmt = (
            select(Document)
            .options(selectinload(Document.patient))
            .order_by(Document.created_at.desc(), Document.id.desc())
            .limit(min(limit, 500))
        )
        if patient_id is not None:
            stmt = stmt.where(Document.patient_id == patient_id)
        elif unlinked:
            stmt = stmt.where(Document.patient_id.is_(None))
            call.detail = "unlinked"
        return [document_summary(d) for d in call.db.scalars(stmt)]


def _stated(reason: str, missing: str) -> str:
    """A clinician's reason, stripped; ``missing`` when there is none, refused when too long."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(missing)
    if len(reason) > _MAX_REASON:
        raise ValidationFailed(N_("The reason is longer than {MAX_REASON} characters."), MAX_REASON=_MAX_REASON)
    return reason


def link_to_patient(store: Store, actor: Actor, document_id: int, patient_id: int, *, reason: str) -> DocumentSummary:
    """Link a document to a patient, or move it from the patient it was filed under; its facts follow.

    The reason is kept with the link (in ``document_links``, not in the audit trail, which keeps ids only).

    Raises:
        ValidationFailed: no reason, a reason too long, or no such patient.
        NotFound: no such document.
        PermissionDenied: the role may not write clinical data (the denial is audited).
    """
    reason = _stated(reason, N_("Say why the document belongs to this patient (the reason is kept with the link)."))
    with audited(
        store, actor, "document.link", Permission.WRITE_CLINICAL, patient_id=patient_id, document_id=document_id
    ) as call:
        doc = call.db.get(Document, document_id)
        if doc is None:
            raise NotFound(N_("No document with id {document_id}."), document_id=document_id)
        if call.db.get(Patient, patient_id) is None:
            raise ValidationFailed(N_("No patient with id {patient_id}."), patient_id=patient_id)
        previous = doc.patient_id
        if previous == patient_id:
            call.detail = "already linked to this patient"
            return document_summary(doc)
        doc.patient_id = patient_id
        call.db.execute(update(Fact).where(Fact.document_id == document_id).values(patient_id=patient_id))
        call.db.add(
            DocumentLink(
                document_id=document_id,
                from_patient_id=previous,
                to_patient_id=patient_id,
                user_id=actor.user_id,
                username=actor.username,
                reason=reason,
            )
        )
        call.db.flush()
        call.db.refresh(doc)
        call.detail = "linked" if previous is None else f"moved from patient {previous}"
        return document_summary(doc)


def confirm_patient(store: Store, actor: Actor, document_id: int, *, reason: str) -> DocumentSummary:
    """A clinician states that a document flagged as possibly another patient's is its patient's.

    Until then its facts stay out of the FHIR export; the record shows who confirmed it and when. The
    statement is kept with the reason like a link (``document_links``, the same patient on both sides).

    Raises:
        ValidationFailed: no reason, a reason too long, or a document filed under no patient.
        NotFound: no such document.
        PermissionDenied: the role may not write clinical data (the denial is audited).
    """
    reason = _stated(reason, N_("Say how you checked that the document is this patient's (the reason is kept)."))
    with audited(store, actor, "document.confirm_patient", Permission.WRITE_CLINICAL, document_id=document_id) as call:
        doc = call.db.get(Document, document_id)
        if doc is None:
            raise NotFound(N_("No document with id {document_id}."), document_id=document_id)
        if doc.patient_id is None:
            raise ValidationFailed(N_("This document is filed under no patient: link it to one instead."))
        call.patient_id = doc.patient_id
        call.db.add(
            DocumentLink(
                document_id=document_id,
                from_patient_id=doc.patient_id,
                to_patient_id=doc.patient_id,
                user_id=actor.user_id,
                username=actor.username,
                reason=reason,
            )
        )
        call.db.flush()
        call.detail = "confirmed as this patient's"
        return document_summary(doc)


def document_detail(store: Store, actor: Actor, document_id: int) -> DocumentDetail:
    """A document with its pages' text and words."""
    with audited(store, actor, "document.read", Permission.READ_CLINICAL, document_id=document_id) as call:
        doc = call.db.get(Document, document_id)
        if doc is None:
            raise NotFound(N_("No document with id {document_id}."), document_id=document_id)
        call.patient_id = doc.patient_id
        rows = call.db.scalars(
            select(DocumentPage).where(DocumentPage.document_id == document_id).order_by(DocumentPage.number)
        ).all()
        pages = [
            PageView(
                number=r.number,
                source=r.source,
                text=r.text,
                words=[Word.from_json(w) for w in r.words],
                mean_confidence=r.mean_confidence,
                seconds=r.seconds,
                error=r.error,
            )
            for r in rows
        ]
        facts = [
            FactView(
                id=f.id,
                category=f.category,
                label=f.label,
                assertion=f.assertion,
                value=dict(f.value),
                evidence_text=f.evidence_text,
                evidence_start=f.evidence_start,
                evidence_end=f.evidence_end,
                page=f.page,
                bbox=tuple(f.bbox) if f.bbox and len(f.bbox) == 4 else None,
                grounding=f.grounding,
                confidence=f.confidence,
                extractor=f.extractor,
                review_status=f.review_status,
            )
            for f in call.db.scalars(
                select(Fact).where(Fact.document_id == document_id).order_by(Fact.category, Fact.evidence_start)
            )
        ]
        kind = _kind_of(doc.media_type)
        return DocumentDetail(
            summary=document_summary(doc),
            pages=pages,
            error=doc.error,
            has_image=kind is not None and kind is not FileKind.TXT and kind is not FileKind.DOCX,
            facts=facts,
            text=doc.text or "",
        )


def page_image(store: Store, actor: Actor, document_id: int, number: int, *, dpi: int = 110) -> Image.Image:
    """Page ``number`` of a PDF or image document, for display under its words."""
    with audited(store, actor, "document.page", Permission.READ_CLINICAL, document_id=document_id) as call:
        doc = call.db.get(Document, document_id)
        if doc is None:
            raise NotFound(N_("No document with id {document_id}."), document_id=document_id)
        call.patient_id = doc.patient_id
        content = open_storage(store).read(doc.storage_key)
    kind = sniff(content)
    if kind is None or kind in (FileKind.DOCX, FileKind.TXT):
        raise NotFound(N_("This document has no page image (typed text)."))
    return render_page(kind, content, number, dpi=dpi)


def read_original(store: Store, actor: Actor, document_id: int) -> tuple[DocumentSummary, bytes]:
    """The stored original of a document, for download."""
    with audited(store, actor, "document.download", Permission.READ_CLINICAL, document_id=document_id) as call:
        doc = call.db.get(Document, document_id)
        if doc is None:
            raise NotFound(N_("No document with id {document_id}."), document_id=document_id)
        call.patient_id = doc.patient_id
        try:
            content = open_storage(store).read(doc.storage_key)
        except (OSError, ValueError) as exc:
            raise NotFound(N_("The original file of this document is missing from storage.")) from exc
        return document_summary(doc), content


def queue_unread(store: Store) -> int:
    """Queue reading for documents that never had a job (demo data, imports); returns how many."""
    with store.transaction() as db:
        has_job = select(IngestJob.document_id)
        docs = db.scalars(select(Document).where(Document.status == "received", Document.id.not_in(has_job))).all()
        for doc in docs:
            doc.status = "queued"
            db.add(
                IngestJob(
                    document_id=doc.id,
                    pages_total=doc.page_count or 1,
                    engine=store.settings.ocr_engine,
                    language=doc.language or "auto",
                )
            )
        return len(docs)


def _kind_of(media_type: str) -> FileKind | None:
    return next((k for k in FileKind if k.media_type == media_type), None)
