"""Ingestion jobs: rows in the store, run by a small thread pool off the page's thread.

A job reads a stored original and writes all its pages, the document's text and status in ONE
transaction at the end: a crash mid-document leaves the document "processing" with no page rows,
and the next start puts the job back in the queue (``resume_pending``), at most ``ingest_max_attempts``
times: a document that kills its process each time is failed, not resumed forever. Progress is
written after every page; cancel is a flag in the row, so any process can ask for it. Fact extraction
runs under a time budget (``index_budget_s``) that also watches the cancel flag, inside the page.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
import uuid
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from medspeak.errors import Cancelled, MedspeakError, safe_traceback
from medspeak.i18n import N_
from medspeak.indexing.extract import NO_MODEL_NOTICE, ExtractionOutput, Extractors, extract_facts
from medspeak.indexing.schema import Fact as FactModel
from medspeak.ingest.ocr import OcrEngine
from medspeak.ingest.pipeline import ExtractionResult, extract
from medspeak.ingest.types import PageText, Word
from medspeak.ingest.validate import MAX_TEXT_CHARS, validate_upload
from medspeak.services.models import Models
from medspeak.store import audit
from medspeak.store.db import Store
from medspeak.store.files import open_storage
from medspeak.store.models import Document, DocumentPage, Fact, IngestJob, User
from medspeak.store.types import utcnow
from medspeak.work_budget import WorkBudget

__all__ = ["JobRunner", "Runner", "new_runner"]

_log = logging.getLogger(__name__)
# A live process reports its running jobs every _HEARTBEAT_S (``heartbeat``); a "running" job silent for
# _STALE_AFTER lost its process (killed, crashed) and any runner takes it up (``reclaim_stale``), checked
# every _MAINTENANCE_S: no restart needed.
_HEARTBEAT_S = 20.0
_MAINTENANCE_S = 30.0
_STALE_AFTER = timedelta(minutes=2)
_GAVE_UP = N_(
    "Reading was interrupted {attempts} times (the server stopped while reading it); it is not retried. "
    "Check the file, split it if it is large, and upload it again."
)
_STOP, _URGENT, _BACKLOG = -1, 0, 1  # queue priorities: lower first


class JobRunner:
    """Runs ingestion jobs for one store on worker threads; ``submit`` returns at once.

    A clinician's upload goes before the backlog (documents imported or left by a restart), so
    nobody waits behind a batch.
    """

    def __init__(
        self,
        store: Store,
        workers: int = 1,
        *,
        models: Models | None = None,
        maintenance_s: float = _MAINTENANCE_S,
    ) -> None:
        self.store = store
        self.models = models if models is not None else Models(store.settings)  # a context gives its own
        self._queue: queue.PriorityQueue[tuple[int, int, int]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._stopping = threading.Event()
        self._running: set[int] = set()  # jobs this process is reading now: kept alive by ``heartbeat``
        self._threads = [
            threading.Thread(target=self._work, name=f"medspeak-ingest-{n}", daemon=True) for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()
        self._maintenance = threading.Thread(
            target=self._maintain, args=(maintenance_s,), name="medspeak-ingest-maintenance", daemon=True
        )
        if workers:
            self._maintenance.start()

    def _maintain(self, every_s: float) -> None:
        """Keep this process's jobs alive and take up the jobs of dead processes, until shutdown."""
        last_beat = 0.0
        while not self._stopping.wait(every_s):
            try:
                if time.monotonic() - last_beat >= min(every_s, _HEARTBEAT_S):
                    self.heartbeat()
                    last_beat = time.monotonic()
                self.reclaim_stale()
            except Exception as exc:  # noqa: BLE001 - the database may be away for a while: try again later
                _log.warning("ingest maintenance skipped:\n%s", safe_traceback(exc))

    def heartbeat(self) -> None:
        """Tell other processes that the jobs this one is reading are alive."""
        running = list(self._running)
        if running:
            with self.store.transaction() as db:
                db.execute(
                    update(IngestJob)
                    .where(IngestJob.id.in_(running), IngestJob.status == "running")
                    .values(updated_at=utcnow())
                )

    def reclaim_stale(self) -> int:
        """Queue here the jobs whose process died (``running``, silent for ``_STALE_AFTER``); returns how many.

        A job already claimed ``ingest_max_attempts`` times (3) is failed instead, with its document: its file
        likely kills the process (memory), and resuming it forever would take every restart down with it.
        """
        stale: tuple[Any, ...] = (IngestJob.status == "running", IngestJob.updated_at < utcnow() - _STALE_AFTER)
        if self._running:  # never this process's own jobs, however slow
            stale = (*stale, IngestJob.id.not_in(list(self._running)))
        with self.store.read() as db:  # the usual answer, none, without taking the write lock every 30 s
            if db.scalar(select(IngestJob.id).where(*stale).limit(1)) is None:
                return 0
        with self.store.transaction() as db:
            self._fail_exhausted(db, stale)
            ids = list(db.scalars(select(IngestJob.id).where(*stale)))
            if ids:
                db.execute(
                    update(IngestJob)
                    .where(IngestJob.id.in_(ids), IngestJob.status == "running")
                    .values(status="queued", message=N_("Resumed after an interruption."))
                )
        for job_id in ids:
            self.submit(job_id, urgent=False)
        return len(ids)

    def submit(self, job_id: int, *, urgent: bool = True) -> None:
        self._queue.put((_URGENT if urgent else _BACKLOG, next(self._order), job_id))

    def _work(self) -> None:
        while True:
            priority, _, job_id = self._queue.get()
            if self._stopping.is_set():
                return
            try:
                self.run(job_id, urgent=priority == _URGENT)
            except Exception as exc:  # the store refused even the job's outcome: keep the worker alive
                _log.error("ingest job %s could not be recorded:\n%s", job_id, safe_traceback(exc))
                self._mark_failed(job_id)

    def _mark_failed(self, job_id: int) -> None:
        """Best effort, in a fresh transaction: the job and its document say why nothing was saved.

        When even this fails (the database is gone), the job stays ``running`` and the next start
        resumes it (``resume_pending``): the document's text is read again, nothing half-written stays.
        """
        message = "The result could not be saved (storage full or unavailable); nothing was kept. Upload again later."
        try:
            with self.store.transaction() as db:
                job = db.get(IngestJob, job_id)
                if job is None:
                    return
                job.status, job.message, job.updated_at = "failed", message, utcnow()
                db.execute(
                    update(Document).where(Document.id == job.document_id).values(status="failed", error=message)
                )
        except Exception as exc:  # noqa: BLE001 - nothing more can be done here; the restart resumes it
            _log.error("ingest job %s left for the next start:\n%s", job_id, safe_traceback(exc))

    def resume_pending(self) -> int:
        """Queue again the jobs a previous process left queued or running (crash, restart).

        A job already claimed ``ingest_max_attempts`` times (3) is failed instead, with its document: its file
        likely kills the process (memory), and resuming it forever would take every restart down with it.
        """
        with self.store.transaction() as db:
            stale = (IngestJob.status == "running", IngestJob.updated_at < utcnow() - _STALE_AFTER)
            self._fail_exhausted(db, stale)
            db.execute(
                update(IngestJob).where(*stale).values(status="queued", message=N_("Resumed after an interruption."))
            )
            pending = list(db.scalars(select(IngestJob.id).where(IngestJob.status == "queued")))
        for job_id in pending:
            self.submit(job_id, urgent=False)
        return len(pending)

    def _fail_exhausted(self, db: Session, stale: tuple[Any, ...]) -> None:
        """Fail, with their documents, the stale jobs already claimed ``ingest_max_attempts`` times."""
        limit = self.store.settings.ingest_max_attempts
        exhausted = list(db.scalars(select(IngestJob).where(*stale, IngestJob.attempts >= limit)))
        for job in exhausted:
            message = _GAVE_UP.format(attempts=job.attempts)
            job.status, job.message, job.updated_at = "failed", message, utcnow()
            db.execute(update(Document).where(Document.id == job.document_id).values(status="failed", error=message))
            audit.record(
                db,
                username="system",
                role="system",
                action="document.ingest",
                outcome="failure",
                document_id=job.document_id,
                detail=f"failed; interrupted {job.attempts} times",
            )

    def shutdown(self) -> None:
        """Finish the jobs in progress, leave the queued ones queued (the next start resumes them)."""
        self._stopping.set()
        if self._maintenance.is_alive():
            self._maintenance.join()
        for _ in self._threads:
            self._queue.put((_STOP, next(self._order), 0))
        for thread in self._threads:
            thread.join()

    def _claim(self, job_id: int) -> bool:
        with self.store.transaction() as db:
            claimed = db.execute(
                update(IngestJob)
                .where(IngestJob.id == job_id, IngestJob.status == "queued")
                .values(status="running", attempts=IngestJob.attempts + 1, updated_at=utcnow())
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return False  # another worker or process has it, or it was cancelled
            job = db.get_one(IngestJob, job_id)
            db.execute(update(Document).where(Document.id == job.document_id).values(status="processing"))
            return True

    def run(self, job_id: int, *, urgent: bool = True) -> None:
        """Run one job to its end; every outcome is written to the job, the document and the audit trail."""
        if not self._claim(job_id):
            return
        self._running.add(job_id)
        try:
            self._run_claimed(job_id, urgent=urgent)
        finally:
            self._running.discard(job_id)

    def _run_claimed(self, job_id: int, *, urgent: bool) -> None:
        try:
            result, language = self._extract(job_id, urgent=urgent)
            budget = WorkBudget(self.store.settings.index_budget_s, poll=lambda: self._cancel_requested(job_id))
            facts, note = _index(result, budget, language, self.models.extractors)
        except Cancelled:
            self._finish(job_id, "cancelled", "Cancelled by the user.", None)
        except MedspeakError as exc:
            self._finish(job_id, "failed", str(exc), None)
        except Exception as exc:  # a bug must not kill the worker: record it, keep serving
            # The shape of the failure only: an exception's message may quote the document's text.
            reference = uuid.uuid4().hex  # in the user's message, the log line and the audit row
            _log.error(
                "ingest job %s crashed: %s [correlation %s]\n%s",
                job_id,
                type(exc).__qualname__,
                reference,
                safe_traceback(exc),
            )
            crash_message = f"Internal error while reading the document; it was logged. Reference: {reference}."
            self._finish(job_id, "failed", crash_message, None, error_reference=reference)
        else:
            failed = result.failed_pages
            message = f"Pages {', '.join(map(str, failed))} could not be read." if failed else None
            self._finish(job_id, "done", " ".join(m for m in (message, note) if m) or None, result, facts)

    def _cancel_requested(self, job_id: int) -> bool:
        with self.store.read() as db:
            return bool(db.scalar(select(IngestJob.cancel_requested).where(IngestJob.id == job_id)))

    def _extract(self, job_id: int, *, urgent: bool) -> tuple[ExtractionResult, str]:
        """The document's pages read, and the language the uploader chose (``auto``: found from the text)."""
        with self.store.transaction() as db:
            job = db.get_one(IngestJob, job_id)
            doc = db.get_one(Document, job.document_id)
            engine_name, language, key, display = job.engine, job.language, doc.storage_key, doc.display_name
            twin = self._ready_twin(db, doc)
        if twin is not None:
            return twin, language
        settings = self.store.settings
        content = open_storage(self.store).read(key)
        upload = validate_upload(display, content, max_bytes=settings.max_upload_bytes, max_pages=settings.max_pages)
        cancel = threading.Event()

        def progress(done: int, total: int) -> None:
            with self.store.transaction() as db:
                job = db.get_one(IngestJob, job_id)
                job.pages_done, job.pages_total, job.updated_at = done, total, utcnow()
                if job.cancel_requested:
                    cancel.set()

        progress(0, upload.page_count)
        result = extract(
            upload,
            lambda: self._engine(engine_name),
            language=language,
            page_budget_s=settings.ocr_page_budget_s,
            progress=progress,
            cancel=cancel,
            # A clinician waiting gets every core (0: one a core); a backlog (demo documents, jobs resumed
            # after a restart) is read a page at a time, leaving the other cores to the people using the app.
            workers=(settings.ocr_page_workers or None) if urgent else 1,
        )
        return result, language

    def _engine(self, name: str) -> OcrEngine:
        # the context's engine, its models kept between documents
        return self.models.ocr(name if name != "auto" else self.store.settings.ocr_engine)

    @staticmethod
    def _ready_twin(db: Session, doc: Document) -> ExtractionResult | None:
        """Pages of an identical file already read (same SHA-256): reuse them instead of OCR again."""
        twin_id = db.scalar(
            select(Document.id)
            .where(Document.sha256 == doc.sha256, Document.id != doc.id, Document.status == "ready")
            .limit(1)
        )
        if twin_id is None:
            return None
        rows = db.scalars(
            select(DocumentPage).where(DocumentPage.document_id == twin_id).order_by(DocumentPage.number)
        ).all()
        return ExtractionResult(
            [
                PageText(
                    r.number,
                    r.source,
                    r.text,
                    [Word.from_json(w) for w in r.words],
                    r.width,
                    r.height,
                    r.seconds,
                    r.error,
                )
                for r in rows
            ]
        )

    def _finish(
        self,
        job_id: int,
        status: str,
        message: str | None,
        result: ExtractionResult | None,
        facts: ExtractionOutput | None = None,
        *,
        error_reference: str | None = None,
    ) -> None:
        with self.store.transaction() as db:
            job = db.get_one(IngestJob, job_id)
            doc = db.get_one(Document, job.document_id)
            job.status, job.message, job.updated_at = status, message, utcnow()
            db.execute(delete(DocumentPage).where(DocumentPage.document_id == doc.id))
            if result is not None:
                db.add_all(
                    [
                        DocumentPage(
                            document_id=doc.id,
                            number=p.number,
                            source=p.source,
                            text=p.text,
                            words=[w.to_json() for w in p.words],
                            width=p.width,
                            height=p.height,
                            mean_confidence=p.mean_confidence,
                            seconds=p.seconds,
                            error=p.error,
                        )
                        for p in result.pages
                    ]
                )
                doc.text, doc.page_count = result.text, len(result.pages)
                job.pages_done = job.pages_total = len(result.pages)
            db.execute(delete(Fact).where(Fact.document_id == doc.id))
            if facts is not None:  # grounded facts only: unsupported ones never enter the record
                db.add_all([_fact_row(doc, fact) for fact in facts.facts])
                doc.language = doc.language or facts.language  # "English or French" at upload: the one found
            doc.status = {"done": "ready"}.get(status, status)
            doc.error = message if status != "done" else (message or None)
            user = db.get(User, job.created_by) if job.created_by else None
            audit.record(
                db,
                username=user.username if user else "system",
                role=user.role if user else "system",
                action="document.ingest",
                outcome="success" if status == "done" else "error" if error_reference else "failure",
                patient_id=doc.patient_id,
                document_id=doc.id,
                detail=f"{status}; {job.pages_done}/{job.pages_total} pages"
                + (f"; internal error, correlation {error_reference}" if error_reference else ""),
            )


def _index(
    result: ExtractionResult, budget: WorkBudget, language: str, extractors: Extractors
) -> tuple[ExtractionOutput | None, str | None]:
    """The document's clinical facts, grounded to its words; indexing failing never loses the text.

    Raises:
        Cancelled: the user cancelled while the facts were being extracted.
    """
    if len(result.text) > MAX_TEXT_CHARS:  # a long PDF's text layers: kept, searchable, not indexed
        return None, f"Facts were not extracted: the text is over {MAX_TEXT_CHARS // 10**6} million characters."
    try:
        output = extract_facts(result.text, language=language, pages=result.pages, budget=budget, extractors=extractors)
    except Cancelled:
        raise
    except MedspeakError as exc:
        return None, f"Facts could not be extracted: {exc}"
    dropped = len(output.unsupported)
    # A language model that failed is news (the facts came from the rules instead); having none is the default.
    notes = [n for n in output.notices if n != NO_MODEL_NOTICE]
    if dropped:
        notes.append(f"{dropped} statement(s) without evidence in the text were left out.")
    return output, " ".join(notes) or None


def _fact_row(doc: Document, fact: FactModel) -> Fact:
    evidence = fact.evidence
    return Fact(
        document_id=doc.id,
        patient_id=doc.patient_id,
        category=fact.category,
        label=fact.label[:255],
        value=fact.payload(),
        assertion=fact.assertion.value,
        evidence_start=evidence.start if evidence else None,
        evidence_end=evidence.end if evidence else None,
        evidence_text=evidence.text if evidence else None,
        page=evidence.page if evidence else None,
        bbox=list(evidence.bbox) if evidence and evidence.bbox else None,
        extractor=fact.extractor,
        confidence=fact.confidence,
        grounding=fact.grounding.value,
        review_status="proposed",
    )


class Runner(Protocol):
    """Where reading jobs go: the in-process :class:`JobRunner`, or the task engine (``services.reading_queue``)."""

    def submit(self, job_id: int, *, urgent: bool = True) -> None: ...

    def resume_pending(self) -> int: ...

    def shutdown(self) -> None: ...


def new_runner(store: Store, models: Models) -> Runner:
    """The runner an application context starts (``AppContext.runner``).

    With ``MEDSPEAK_QUEUE_URL`` set, jobs are deferred to the task engine and read by ``medspeak worker``
    processes; unset (the default, ``make run``), they are read here on threads.
    """
    queue_url = store.settings.queue_url
    if not queue_url:
        return JobRunner(store, store.settings.ingest_workers, models=models)
    from medspeak.services.reading_queue import open_queue  # procrastinate is loaded only where it is used

    return open_queue(queue_url, store)
