"""Reading jobs in tests: a runner that never reads, counting what one reads, and waiting for it."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import pytest

from medspeak.auth.roles import Actor
from medspeak.ingest.types import ValidatedUpload
from medspeak.services import documents, patients
from medspeak.services import reading as jobs_module
from medspeak.services.context import AppContext
from medspeak.store.db import Store


class IdleRunner:
    """Takes jobs and reads none of them: for tests about what an upload stores, not how it is read."""

    def submit(self, job_id: int, urgent: bool = True) -> None:
        return None

    def resume_pending(self) -> int:
        return 0

    def shutdown(self) -> None:
        return None


def read_nothing(ctx: AppContext) -> None:
    """Uploads through ``ctx`` are queued but never read."""
    ctx.use_runner(IdleRunner())


def queued_note(ctx: AppContext, actor: Actor) -> tuple[int, int]:
    """(document id, job id) of a one-line note uploaded for a new patient and left queued: the test reads it."""
    read_nothing(ctx)
    patient = patients.register_patient(
        ctx.store, actor, given_name="Ada", family_name="Test", sex="female", birth_date=date(1960, 1, 1)
    )
    out = documents.upload(
        ctx, actor, filename="n.txt", content=b"Metoprolol 25 mg daily.\n", patient_id=patient.id, kind="other"
    )
    assert out.job_id is not None
    return out.document_id, out.job_id


def count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The display names of the documents the job runner actually reads (OCR or text layer), in order."""
    seen: list[str] = []
    real = jobs_module.extract

    def counting(upload: ValidatedUpload, *args: Any, **kwargs: Any) -> Any:
        seen.append(upload.display_name)
        return real(upload, *args, **kwargs)

    monkeypatch.setattr(jobs_module, "extract", counting)
    return seen


def wait_for_job(store: Store, actor: Actor, job_id: int, timeout_s: float = 60) -> documents.JobView:
    """The job's view once it has finished (done, failed or cancelled); fails the test after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        (view,) = documents.job_views(store, actor, [job_id])
        if view.finished:
            return view
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish within {timeout_s} s")
