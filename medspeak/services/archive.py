"""Index a whole archive: every file uploaded through the document service, then its reading job awaited.

Idempotent and resumable by construction: originals are content-addressed and an upload of the same file
for the same patient returns the existing document, so a second run stores nothing; a document already read
is reported done, a job left queued by an interrupted run is queued again, a failed one is reported with its
reason (never read again). At most ``_IN_FLIGHT`` jobs wait at once, so an interruption strands few.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from sqlalchemy import select

from medspeak.auth.roles import Actor, Permission
from medspeak.errors import MedspeakError
from medspeak.ingest.archive import ArchiveEntry, read_archive
from medspeak.services import documents
from medspeak.services.audited import audited, require
from medspeak.services.read_models import ReadModel
from medspeak.store.db import Store
from medspeak.store.models import Document, IngestJob, Patient

if TYPE_CHECKING:
    from medspeak.services.context import AppContext

__all__ = [
    "ArchiveEntry",
    "ArchiveItem",
    "ArchiveReport",
    "enqueue",
    "finish_reading",
    "index_archive",
    "patients_by_mrn",
    "read_archive",
]

_IN_FLIGHT = 256  # jobs queued and not yet finished; beyond, the run waits (memory, and little to resume)
_CHUNK = 500  # ids per IN (...) query: well under SQLite's and PostgreSQL's parameter limits
Progress = Callable[[int, int, int], None]  # (documents finished, documents in all, pages read)


class ArchiveItem(ReadModel):
    """Where one file of the archive stands."""

    index: int  # its place in the archive, to list failures in order
    entry: ArchiveEntry
    state: Literal["queued", "done", "failed"]
    document_id: int | None = None
    job_id: int | None = None
    reason: str | None = None


@dataclass
class ArchiveReport:
    """The tally of an archive run, counted up while it runs (mutable, so not a read model)."""

    total: int
    done: int = 0
    pages: int = 0
    failed: list[ArchiveItem] = field(default_factory=list)


def patients_by_mrn(store: Store, actor: Actor, mrns: Iterable[str]) -> dict[str, int]:
    """The patient id of every known MRN among ``mrns`` (one audited lookup for the whole manifest)."""
    wanted = sorted(set(mrns))
    with audited(store, actor, "archive.resolve", Permission.WRITE_CLINICAL) as call:
        found: dict[str, int] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            rows = call.db.execute(select(Patient.mrn, Patient.id).where(Patient.mrn.in_(chunk)))
            found.update({mrn: pid for mrn, pid in rows})
        call.detail = f"{len(found)} of {len(wanted)} MRNs known"
    return found


def enqueue(ctx: AppContext, actor: Actor, index: int, entry: ArchiveEntry, patient_ids: dict[str, int]) -> ArchiveItem:
    """Upload one file (as a backlog job) or find where an earlier run left it; a failure stays with this file."""
    patient_id = None
    if entry.mrn is not None:
        if not entry.mrn:
            return ArchiveItem(
                index=index, entry=entry, state="failed", reason="No MRN in the manifest: the patient is never guessed."
            )
        if entry.mrn not in patient_ids:
            return ArchiveItem(
                index=index, entry=entry, state="failed", reason=f"Unknown MRN {entry.mrn}: register the patient first."
            )
        patient_id = patient_ids[entry.mrn]
    try:
        content = entry.path.read_bytes()
    except OSError as exc:
        reason = f"Cannot read the file ({exc.strerror or type(exc).__name__})."
        return ArchiveItem(index=index, entry=entry, state="failed", reason=reason)
    try:
        outcome = documents.upload(
            ctx, actor, filename=entry.path.name, content=content, patient_id=patient_id, backlog=True
        )
    except MedspeakError as exc:
        return ArchiveItem(index=index, entry=entry, state="failed", reason=str(exc))
    except OSError as exc:  # the originals' disk refused the write (full, read-only): this file only
        return ArchiveItem(
            index=index, entry=entry, state="failed", reason=f"Storage failed ({exc.strerror or type(exc).__name__})."
        )
    if outcome.job_id is not None:
        return ArchiveItem(
            index=index, entry=entry, state="queued", document_id=outcome.document_id, job_id=outcome.job_id
        )
    return _earlier(ctx, actor, index, entry, outcome.document_id)


def _earlier(ctx: AppContext, actor: Actor, index: int, entry: ArchiveEntry, document_id: int) -> ArchiveItem:
    """The same file for the same patient, uploaded before: report it, or queue its unfinished job again."""
    require(ctx.store, actor, "archive.resume", Permission.READ_CLINICAL)  # status only: no patient data
    with ctx.store.transaction() as db:
        doc = db.get_one(Document, document_id)
        job = db.scalar(
            select(IngestJob).where(IngestJob.document_id == document_id).order_by(IngestJob.id.desc()).limit(1)
        )
        status, error = doc.status, doc.error
        job_id, job_status = (job.id, job.status) if job is not None else (None, None)
    if status == "ready":
        return ArchiveItem(index=index, entry=entry, state="done", document_id=document_id, job_id=job_id)
    if job_id is not None and job_status in ("queued", "running"):
        if job_status == "queued":
            ctx.runner.submit(job_id, urgent=False)  # left by an interrupted run; claiming is atomic
        return ArchiveItem(index=index, entry=entry, state="queued", document_id=document_id, job_id=job_id)
    reason = error or "Not read (no reading job)."
    return ArchiveItem(
        index=index,
        entry=entry,
        state="failed",
        document_id=document_id,
        job_id=job_id,
        reason=f"Earlier run: {reason}",
    )


def index_archive(
    ctx: AppContext,
    actor: Actor,
    entries: list[ArchiveEntry],
    *,
    progress: Progress | None = None,
    poll_s: float = 0.2,
) -> ArchiveReport:
    """Upload every entry and wait for every reading job; returns counts and the failures in archive order."""
    report = ArchiveReport(total=len(entries))
    store = ctx.store
    patient_ids = patients_by_mrn(store, actor, (e.mrn for e in entries if e.mrn))
    pending: dict[int, list[ArchiveItem]] = {}  # job id -> the files it reads (the same bytes listed twice)

    def settle(item: ArchiveItem, pages: int = 0) -> None:
        if item.state == "failed":
            report.failed.append(item)
        else:
            report.done += 1
        report.pages += pages

    def collect() -> None:
        ids = sorted(pending)
        for start in range(0, len(ids), _CHUNK):
            for view in documents.job_views(store, actor, ids[start : start + _CHUNK]):
                if view.finished:
                    for n, item in enumerate(pending.pop(view.id)):
                        ok = view.status == "done"
                        pages = view.pages_done if n == 0 else 0  # pages read once, whatever the listings
                        settle(item if ok else _failed(item, view.message or view.status), pages)
        tell()

    def tell() -> None:
        if progress is not None:
            progress(report.done + len(report.failed), report.total, report.pages)

    last_poll = time.monotonic()
    for index, entry in enumerate(entries):
        item = enqueue(ctx, actor, index, entry, patient_ids)
        if item.state == "queued" and item.job_id is not None:
            pending.setdefault(item.job_id, []).append(item)
        else:
            settle(item)
            tell()
        if time.monotonic() - last_poll >= poll_s:  # keep the progress moving while files are uploaded
            collect()
            last_poll = time.monotonic()
        while len(pending) >= _IN_FLIGHT:
            time.sleep(poll_s)
            collect()
    collect()
    while pending:
        time.sleep(poll_s)
        collect()
    report.failed.sort(key=lambda item: item.index)
    return report


def _failed(item: ArchiveItem, reason: str) -> ArchiveItem:
    return item.model_copy(update={"state": "failed", "reason": reason})


def finish_reading(ctx: AppContext) -> None:
    """After an interruption: let the documents being read finish; queued ones stay queued for the next run."""
    ctx.close()
