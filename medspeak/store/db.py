"""Engines, transactions and migrations.

SQLite is the default (WAL journal, busy timeout, foreign keys, ``BEGIN IMMEDIATE``
so concurrent writers queue instead of failing); PostgreSQL runs the same code.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from medspeak.config import Settings, audit_signing_key
from medspeak.errors import StoreUnavailable
from medspeak.i18n import N_
from medspeak.store.private import private_dir, private_file

__all__ = ["AUDIT_KEY_INFO", "Store", "is_lock_timeout"]

_MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_READ_ONLY = "medspeak_read_only"  # execution option: Store.read() transactions begin without the write lock
# Set by Store.short_lock_waits() for the work of one task or thread (a context variable: no other sees it).
_LOCK_WAIT_MS: ContextVar[int | None] = ContextVar("medspeak_lock_wait_ms", default=None)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        # Let SQLAlchemy's "begin" hook emit BEGIN itself (pysqlite's own is deferred and late).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        record.info["busy_timeout_ms"] = busy_timeout_ms
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")  # safe with WAL; durable at checkpoints
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Most service transactions write (every read of patient data is audited), so take the
        # write lock up front: a deferred transaction that upgrades later fails with "locked".
        # Store.read() transactions never write: a plain (deferred) BEGIN reads a WAL snapshot
        # without queueing behind the writers.
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        if not read_only:
            _set_busy_timeout(connection, _LOCK_WAIT_MS.get() or busy_timeout_ms)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _set_busy_timeout(connection: Any, milliseconds: int) -> None:
    """How long this connection's next write waits for the write lock (remembered per connection: no
    statement at all when unchanged, the common case)."""
    info = connection.connection.info
    if info.get("busy_timeout_ms") != milliseconds:
        connection.connection.driver_connection.execute(f"PRAGMA busy_timeout = {int(milliseconds)}")
        info["busy_timeout_ms"] = milliseconds


def is_lock_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` is a write that gave up waiting for the database's write lock (nothing was written)."""
    reason = str(getattr(exc, "orig", exc)).lower()
    return isinstance(exc, OperationalError) and ("locked" in reason or "busy" in reason)


AUDIT_KEY_INFO = "medspeak.audit_key"  # the key of ``Session.info`` holding the audit chain's HMAC key


def _private_sqlite(database: Path, home: Path) -> None:
    """The database's folder 0700, its file 0600 before SQLite opens it: SQLite gives its journal, WAL and
    shared-memory files the database file's mode, so they are private too."""
    private_dir(database.parent, tighten=database.parent.resolve() == home.resolve())
    private_file(database)
    for suffix in ("-wal", "-shm", "-journal"):  # left by an earlier version with the umask's mode
        extra = Path(f"{database}{suffix}")
        if extra.exists():
            os.chmod(extra, 0o600)


class Store:
    """The one store: an engine, a session factory and the migrations for one database URL."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = settings.sqlalchemy_url
        url = make_url(self.url)
        self.is_sqlite = url.get_backend_name() == "sqlite"
        try:
            if self.is_sqlite and url.database not in (None, "", ":memory:"):
                _private_sqlite(Path(url.database), settings.home)
            # hide_parameters: an error's text never quotes the statement's values (patient data) into a log,
            # a page or a traceback, whoever formats it (issue 19).
            self.engine = create_engine(self.url, pool_pre_ping=not self.is_sqlite, hide_parameters=True)
        except (OSError, SQLAlchemyError, ImportError) as exc:
            raise StoreUnavailable(
                N_("Cannot open the database ({url}): {exc}"), url=_safe_url(self.url), exc=exc
            ) from exc
        if self.is_sqlite:
            _configure_sqlite(self.engine, settings.sqlite_busy_timeout_ms)
        # Every session carries the audit chain's key (``store.audit`` reads it): outside the database, by design.
        info = {AUDIT_KEY_INFO: audit_signing_key(settings)}
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info=info)
        self._read_sessions = sessionmaker(
            self.engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False, info=info
        )

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back if it raises."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work (a session check): on SQLite it takes no write lock.

        It sees every transaction committed before it began, so a revocation is never missed. Nothing
        may be written in it (SQLite would have to upgrade the lock, and could fail with "locked").
        """
        with self._read_sessions() as session, session.begin():
            yield session

    @contextmanager
    def short_lock_waits(self, milliseconds: int) -> Iterator[None]:
        """Writes begun in this block wait at most ``milliseconds`` for SQLite's write lock.

        Beyond, the write fails (:func:`is_lock_timeout`) and rolls back, so that a caller on the event loop
        can hand its work to a thread instead of blocking every other request for the lock's full wait.
        Nothing changes on PostgreSQL (its callers do their store work off the event loop).
        """
        token = _LOCK_WAIT_MS.set(milliseconds)
        try:
            yield
        finally:
            _LOCK_WAIT_MS.reset(token)

    def migrate(self) -> None:
        """Create or upgrade the schema to the latest revision (safe to run at every start)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS_DIR))
        config.attributes["engine"] = self.engine
        try:
            command.upgrade(config, "head")
        except (OSError, SQLAlchemyError) as exc:
            raise StoreUnavailable(
                N_(
                    "Cannot open or migrate the database ({url}): {error}: {detail}. Nothing was changed; "
                    "check MEDSPEAK_DATABASE_URL and the folder's permissions."
                ),
                url=_safe_url(self.url),
                error=exc.__class__.__name__,
                detail=_first_line(exc),
            ) from exc

    def is_migrated(self) -> bool:
        """Whether the schema exists (used to give a clear message instead of a stack trace)."""
        try:
            return inspect(self.engine).has_table("alembic_version")
        except SQLAlchemyError:
            return False

    def dispose(self) -> None:
        self.engine.dispose()


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else ""
