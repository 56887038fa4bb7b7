"""Reading jobs on an established task engine, procrastinate on PostgreSQL, when ``MEDSPEAK_QUEUE_URL`` is set.

The job rows (``ingest_jobs``) stay what the app shows and what claiming guards; procrastinate carries the
work to the workers (``medspeak worker``, on any machine that reaches the database): it stores each task in
PostgreSQL (``procrastinate_jobs``), hands it to one worker with ``SELECT ... FOR UPDATE SKIP LOCKED``,
retries a failed one, and runs higher priorities first, so a clinician's upload goes before the backlog.
A worker killed mid-document leaves the task ``doing``: the periodic ``retry_stalled`` task puts it back
once the worker has missed its heartbeats, and the document is read again from nothing (the result is
written in one transaction, so nothing of the lost attempt stays).

References: procrastinate documentation, "Retry stalled jobs" and "Priorities" (procrastinate.readthedocs.io).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import procrastinate
from sqlalchemy import select, update

from medspeak.i18n import N_
from medspeak.services.reading import JobRunner
from medspeak.store.db import Store
from medspeak.store.models import IngestJob
from medspeak.store.types import utcnow

if TYPE_CHECKING:
    from medspeak.services.context import AppContext

__all__ = [
    "QUEUE",
    "QueueRunner",
    "build_app",
    "ensure_schema",
    "libpq_url",
    "open_queue",
    "queue_app",
    "retry_stalled_jobs",
]

QUEUE = "ingest"
_URGENT, _BACKLOG = 100, 0  # procrastinate runs the highest priority first
_RETRY = procrastinate.RetryStrategy(max_attempts=3, exponential_wait=5)  # 5 s, 25 s, 125 s
_STALLED_AFTER_S = 300  # a worker silent this long (no heartbeat) is dead: its tasks go back to the queue


def libpq_url(url: str) -> str:
    """``MEDSPEAK_QUEUE_URL`` as psycopg wants it (an SQLAlchemy ``postgresql+psycopg://`` URL is accepted)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def build_app(connector: procrastinate.BaseConnector, ctx: AppContext | None = None) -> procrastinate.App:
    """The procrastinate app with medspeak's tasks, over ``connector`` (PostgreSQL; in memory in tests).

    ``ctx``: the worker's application context, whose store and extractors read the documents; an app that
    only defers tasks (the web process's :class:`QueueRunner`) needs none.
    """
    app = procrastinate.App(connector=connector)

    @app.task(name="medspeak.read_document", queue=QUEUE, retry=_RETRY, pass_context=True)
    def read_document(context: procrastinate.JobContext, job_id: int, urgent: bool) -> None:
        if ctx is None:
            raise RuntimeError("This queue app only defers tasks: a worker is built with its application context.")
        if context.job.attempts:  # an earlier attempt died with its worker: its claim is void
            _reopen(ctx.store, job_id)
        JobRunner(ctx.store, workers=0, models=ctx.models).run(job_id, urgent=urgent)

    @app.periodic(cron="*/5 * * * *", periodic_id="retry_stalled")
    @app.task(name="medspeak.retry_stalled", queue=QUEUE, queueing_lock="retry_stalled", pass_context=True)
    async def retry_stalled(context: procrastinate.JobContext, timestamp: int) -> None:
        await retry_stalled_jobs(context.app)

    return app


async def retry_stalled_jobs(app: procrastinate.App, seconds_since_heartbeat: float = _STALLED_AFTER_S) -> int:
    """Put back in the queue the tasks of workers silent for ``seconds_since_heartbeat``; returns how many."""
    stalled = list(await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=seconds_since_heartbeat))
    for job in stalled:
        await app.job_manager.retry_job(job)
    return len(stalled)


def _reopen(store: Store, job_id: int) -> None:
    with store.transaction() as db:
        db.execute(
            update(IngestJob)
            .where(IngestJob.id == job_id, IngestJob.status == "running")
            .values(status="queued", message=N_("Retried after its worker stopped."), updated_at=utcnow())
        )


class QueueRunner:
    """``submit`` defers a task to the engine; the workers (``medspeak worker``) read the documents."""

    def __init__(self, app: procrastinate.App, store: Store | None = None) -> None:
        self.app, self.store = app, store

    def submit(self, job_id: int, *, urgent: bool = True) -> None:
        # queueing_lock: a job waits at most once in the queue (an archive run resumed twice defers it twice).
        deferrer = self.app.configure_task(
            "medspeak.read_document", priority=_URGENT if urgent else _BACKLOG, queueing_lock=f"ingest-job-{job_id}"
        )
        try:
            deferrer.defer(job_id=job_id, urgent=urgent)
        except procrastinate.exceptions.AlreadyEnqueued:
            pass

    def resume_pending(self) -> int:
        """Defer the jobs queued without the engine (``medspeak init``'s demo documents, jobs queued before
        ``MEDSPEAK_QUEUE_URL`` was set); the queueing lock leaves those already waiting alone."""
        if self.store is None:
            return 0
        with self.store.transaction() as db:
            pending = list(db.scalars(select(IngestJob.id).where(IngestJob.status == "queued").order_by(IngestJob.id)))
        for job_id in pending:
            self.submit(job_id, urgent=False)
        return len(pending)

    def shutdown(self) -> None:
        self.app.close()


def queue_app(url: str, ctx: AppContext | None = None, **options: Any) -> procrastinate.App:
    """The app over the PostgreSQL at ``url`` (not yet open); ``ctx`` for a worker (see :func:`build_app`)."""
    return build_app(procrastinate.PsycopgConnector(conninfo=libpq_url(url), **options), ctx)


def open_queue(url: str, store: Store | None = None) -> QueueRunner:
    """A runner deferring to the PostgreSQL at ``url``; creates procrastinate's tables there on first use."""
    app = queue_app(url)
    ensure_schema(app)
    app.open()
    return QueueRunner(app, store)


def ensure_schema(app: procrastinate.App) -> None:
    """Create procrastinate's tables on first use (its schema is versioned by procrastinate's own migrations)."""
    with app.open():
        connector = app.connector.get_sync_connector()
        exists = connector.execute_query_one("SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS found")
        if not exists["found"]:
            app.schema_manager.apply_schema()
