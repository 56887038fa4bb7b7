"""Issue 19, finding 11: the database, its journal files and the folders under ``var/`` are private.

Before: the SQLite files were 0644 and the folders 0755 (the process umask): any local user could read
names, MRNs, document text and password hashes.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from medspeak.config import load_settings
from medspeak.services.bootstrap import ensure_demo_users
from medspeak.store.db import Store
from medspeak.store.files import DocumentStorage


@pytest.fixture
def open_umask(env: Path) -> Iterator[None]:
    """The common default umask (022): what a careless operator's shell has."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_install_creates_private_files_and_folders(env: Path, open_umask: None) -> None:
    settings = load_settings()
    store = Store(settings)
    store.migrate()
    ensure_demo_users(store)
    with store.transaction() as db:  # a write: SQLite creates its WAL and shared-memory files
        db.connection().exec_driver_sql("CREATE TABLE IF NOT EXISTS probe (x INTEGER)")
    DocumentStorage(settings.documents_dir).put(b"Metoprolol 25 mg daily", "txt")
    home = settings.home
    assert _mode(home) == 0o700
    database = home / "medspeak.db"
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        if path.exists():
            assert _mode(path) == 0o600, path
    assert _mode(database) == 0o600
    folders = [settings.documents_dir, *(p for p in settings.documents_dir.rglob("*") if p.is_dir())]
    files = [p for p in settings.documents_dir.rglob("*") if p.is_file()]
    assert len(folders) >= 2 and files
    assert {_mode(p) for p in folders} == {0o700}
    assert {_mode(p) for p in files} == {0o600}
    assert _mode(settings.credentials_file) == 0o600
    store.engine.dispose()


def test_an_existing_database_left_readable_is_made_private(env: Path, open_umask: None) -> None:
    settings = load_settings()
    settings.home.mkdir(mode=0o755)
    database = settings.home / "medspeak.db"
    database.touch(mode=0o644)
    os.chmod(database, 0o644)
    store = Store(settings)
    store.migrate()
    assert _mode(database) == 0o600 and _mode(settings.home) == 0o700
    store.engine.dispose()
