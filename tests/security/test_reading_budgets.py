"""Issue 19, finding 3: reading time linear in the text, under a per-document budget, cancellable inside a page.

Before: ``grounding._page_and_box`` scanned every word of the page for every fact (200 KB of text: 57 s),
there was no time budget, cancel was checked only between pages, and a job that crashed its process was
resumed at every start. Work is counted here, not timed: bench/reading_budgets.py measures the clock.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from medspeak.auth.roles import Actor
from medspeak.errors import BudgetExceeded, Cancelled, UploadRejected
from medspeak.indexing.extract import extract_facts
from medspeak.indexing.grounding import ground_facts
from medspeak.indexing.rules.backend import RulesBackend
from medspeak.ingest.textlayer import typed_page
from medspeak.ingest.types import PageText, Word
from medspeak.ingest.validate import MAX_TEXT_CHARS, validate_upload
from medspeak.services.context import AppContext
from medspeak.services.reading import JobRunner
from medspeak.store.db import Store
from medspeak.store.models import Document, IngestJob
from medspeak.store.types import utcnow
from medspeak.work_budget import WorkBudget
from tests.support.jobs import queued_note

_LINES = (
    "Metoprolol 25 mg PO twice daily.",
    "Allergies: penicillin (rash).",
    "Lisinopril 10 mg daily.",
    "Follow-up in two weeks with cardiology.",
)


class CountingWords(list[Word]):
    """A page's words that count how often they are walked."""

    walks = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        CountingWords.walks += 1
        return super().__iter__()


def _page(lines: int) -> tuple[str, PageText]:
    text = "\n".join(_LINES[i % len(_LINES)] for i in range(lines))
    typed = typed_page(text)
    return text, PageText(1, "typed", typed.text, CountingWords(typed.words))


def test_grounding_walks_the_words_of_a_page_once_whatever_the_number_of_facts() -> None:
    text, page = _page(400)
    facts = RulesBackend().extract(text, "en")
    assert len(facts) > 300
    CountingWords.walks = 0
    grounded, _ = ground_facts(facts, text, [page])
    assert len(grounded) == len(facts) and all(f.evidence and f.evidence.page == 1 for f in grounded)
    assert CountingWords.walks <= 2  # was one walk a fact: quadratic in the text


def test_grounding_still_finds_the_words_under_each_fact() -> None:
    text = "Discharge.\nMetoprolol 25 mg daily.\nAspirin 75 mg daily."
    words = [
        Word(t, float(i), float(line), float(i) + 1, float(line) + 1, 95.0, line)
        for line, row in enumerate(text.split("\n"))
        for i, t in enumerate(row.split())
    ]
    page = PageText(1, "ocr:tesseract", text, words)
    grounded, _ = ground_facts(RulesBackend().extract(text, "en"), text, [page])
    aspirin = next(f for f in grounded if "aspirin" in f.label.lower())
    assert aspirin.evidence is not None and aspirin.evidence.bbox is not None
    assert aspirin.evidence.bbox[1] == 2.0  # the third line's words, not the whole page


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_document_over_its_time_budget_stops_inside_the_page() -> None:
    text, page = _page(200)
    clock = _Clock()
    budget = WorkBudget(30.0, clock=clock)
    clock.now += 31.0  # pinned clock: the budget is spent before grounding starts
    with pytest.raises(BudgetExceeded, match="30 s"):
        extract_facts(text, pages=[page], backend="rules", budget=budget)


def test_a_cancel_is_honoured_inside_a_single_page() -> None:
    text, page = _page(200)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        extract_facts(text, pages=[page], backend="rules", budget=WorkBudget(60.0, cancel=cancel))


def test_a_text_longer_than_the_reading_limit_is_refused_at_upload() -> None:
    content = ("Metoprolol 25 mg daily. " * (MAX_TEXT_CHARS // 20)).encode()
    with pytest.raises(UploadRejected, match="too long"):
        validate_upload("note.txt", content, max_bytes=20 * 2**20, max_pages=50)


def test_a_docx_with_more_xml_than_the_reading_limit_is_refused_at_upload() -> None:
    import io

    from docx import Document as Docx

    doc = Docx()
    for _ in range(MAX_TEXT_CHARS // 1000 * 3):
        doc.add_paragraph("Metoprolol 25 mg daily. " * 40)
    out = io.BytesIO()
    doc.save(out)
    with pytest.raises(UploadRejected, match="too long|unsafe size"):
        validate_upload("note.docx", out.getvalue(), max_bytes=20 * 2**20, max_pages=50)


def test_a_job_whose_indexing_ran_out_of_budget_ends_with_its_text_and_is_not_resumed(
    ctx: AppContext, store: Store, actors: dict[str, Actor], monkeypatch: pytest.MonkeyPatch
) -> None:
    import medspeak.services.reading as jobs

    def over_budget(*args: object, **kwargs: object) -> object:
        raise BudgetExceeded("Reading stopped: over the document's budget of 60 s.")

    monkeypatch.setattr(jobs, "extract_facts", over_budget)
    document_id, job_id = queued_note(ctx, actors["clinician"])
    runner = JobRunner(store, workers=0)
    try:
        runner.run(job_id)
        with store.read() as db:
            job, doc = db.get_one(IngestJob, job_id), db.get_one(Document, document_id)
            assert job.status == "done" and doc.status == "ready" and doc.text
            assert "budget" in (job.message or "")
        assert runner.resume_pending() == 0
    finally:
        runner.shutdown()


def test_a_job_that_keeps_killing_its_process_is_failed_not_resumed_forever(
    ctx: AppContext, store: Store, actors: dict[str, Actor], monkeypatch: pytest.MonkeyPatch
) -> None:
    document_id, job_id = queued_note(ctx, actors["clinician"])
    runner = JobRunner(store, workers=0)  # no worker: this test plays the crashed processes
    try:
        for _ in range(10):  # each start finds the job "running", stale: its process died mid-job
            with store.transaction() as db:
                job = db.get_one(IngestJob, job_id)
                if job.status == "failed":
                    break
                job.status, job.updated_at = "running", utcnow() - timedelta(hours=1)
            runner.resume_pending()
            with store.transaction() as db:  # the worker claims it, then the process "dies" again
                db.execute(
                    update(IngestJob)
                    .where(IngestJob.id == job_id, IngestJob.status == "queued")
                    .values(status="running", attempts=IngestJob.attempts + 1, updated_at=utcnow())
                )
        with store.read() as db:
            job = db.get_one(IngestJob, job_id)
            doc_status = db.scalar(select(Document.status).where(Document.id == document_id))
        assert job.status == "failed" and doc_status == "failed"
        assert "interrupted 3 times" in (job.message or "")
    finally:
        runner.shutdown()
