"""Reading jobs in tests: a runner that never reads, and waiting for one that does."""

from __future__ import annotations

import time

import pytest

from medspeak.auth.roles import Actor
from medspeak.services import documents
from medspeak.store.db import Store


class IdleRunner:
    """Takes jobs and reads none of them: for tests about what an upload stores, not how it is read."""

    def submit(self, job_id: int, urgent: bool = True) -> None:
        return None


def read_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Uploads from the services are queued but never read."""
    monkeypatch.setattr("medspeak.services.documents.get_runner", lambda store: IdleRunner())


def wait_for_job(store: Store, actor: Actor, job_id: int, timeout_s: float = 60) -> documents.JobView:
    """The job's view once it has finished (done, failed or cancelled); fails the test after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        (view,) = documents.job_views(store, actor, [job_id])
        if view.finished:
            return view
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish within {timeout_s} s")
