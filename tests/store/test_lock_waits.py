"""A write on the event loop waits a bounded time for SQLite's write lock; any other write waits its full timeout."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from medspeak.services.context import AppContext
from medspeak.store import audit
from medspeak.store.db import Store, is_lock_timeout
from medspeak.store.models import AuditEvent


@pytest.fixture(params=["sqlite"])
def ctx(request: pytest.FixtureRequest, ctx: AppContext) -> AppContext:  # SQLite's write lock
    return ctx


@contextmanager
def lock_held_by_another_process(store: Store, seconds: float) -> Iterator[None]:
    """Another writer (a connection of its own, as another server process would have) holds the lock."""
    path = store.engine.url.database
    assert path
    taken = threading.Event()

    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        taken.set()
        time.sleep(seconds)
        other.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(10)
    try:
        yield
    finally:
        holder.join(30)


def _write(store: Store) -> None:
    with store.transaction() as db:
        audit.record(db, username="u", role="clinician", action="triage.assess", outcome="success")


def _events(store: Store) -> int:
    with store.read() as db:
        return db.scalar(select(func.count(AuditEvent.id))) or 0


def test_a_short_lock_wait_gives_up_quickly_and_writes_nothing(store: Store) -> None:
    hold_s = 1.0
    with lock_held_by_another_process(store, hold_s):
        started = time.monotonic()
        with pytest.raises(OperationalError) as caught, store.short_lock_waits(20):
            _write(store)
        # It gave up while the other writer still held the lock (a full wait would have succeeded after it).
        assert time.monotonic() - started < hold_s
        assert is_lock_timeout(caught.value)
    assert _events(store) == 0


def test_outside_the_block_a_write_waits_for_the_lock_as_before(store: Store) -> None:
    with store.short_lock_waits(20):
        _write(store)  # the pooled connection now has a 20 ms timeout: it must not keep it
    with lock_held_by_another_process(store, 0.4):
        started = time.monotonic()
        _write(store)  # waits for the other writer, then succeeds
        assert time.monotonic() - started >= 0.3
    assert _events(store) == 2


def test_other_errors_are_not_taken_for_a_lock_timeout() -> None:
    assert not is_lock_timeout(OperationalError("INSERT", {}, sqlite3.OperationalError("disk I/O error")))
    assert not is_lock_timeout(ValueError("database is locked"))
    assert is_lock_timeout(OperationalError("BEGIN", {}, sqlite3.OperationalError("database is locked")))
