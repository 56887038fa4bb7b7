"""Shared fixtures: a fresh store per test (SQLite, and PostgreSQL when a server is given)."""

from __future__ import annotations

import atexit
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from medspeak.auth.roles import Actor, Role
from medspeak.config import Settings, load_settings
from medspeak.services.context import AppContext
from medspeak.services.users import add_user
from medspeak.store.db import Store

# Set by .ci/run after it starts PostgreSQL on loopback, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres
_PG_URL = os.environ.get("MEDSPEAK_TEST_POSTGRES_URL")
PASSWORD = "correct horse battery staple"
# Only MEDSPEAK_ENV=development accepts the public default key (issue 19): tests run in "test" mode with their own.
TEST_COOKIE_KEY = "test-only-cookie-key-" + "0123456789abcdef" * 2
# Tests that use no ``env`` fixture (pure functions that still read settings) run in test mode with that key,
# unless the environment says otherwise; the start-up refusals are tested with both removed.
os.environ.setdefault("MEDSPEAK_ENV", "test")
os.environ.setdefault("MEDSPEAK_COOKIE_KEY", TEST_COOKIE_KEY)

# The API fixtures (app, client, login, seeded) for every package: tests/api, tests/reliability, tests/bench.
pytest_plugins = ["tests.support.api"]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated install: its own home folder, no secrets file, a test key, fast bcrypt, no demo data."""
    for key in list(os.environ):
        if key.startswith("MEDSPEAK_") and key != "MEDSPEAK_TEST_POSTGRES_URL":
            monkeypatch.delenv(key)
    monkeypatch.setenv("MEDSPEAK_ENV", "test")
    monkeypatch.setenv("MEDSPEAK_COOKIE_KEY", TEST_COOKIE_KEY)
    monkeypatch.setenv("MEDSPEAK_HOME", str(tmp_path / "var"))
    monkeypatch.setenv("MEDSPEAK_SECRETS_FILE", str(tmp_path / "absent-secrets.toml"))
    monkeypatch.setenv("MEDSPEAK_BCRYPT_ROUNDS", "4")
    monkeypatch.setenv("MEDSPEAK_SEED_DEMO", "false")
    monkeypatch.chdir(tmp_path)  # no stray .env from the checkout
    return tmp_path


_template: list[str] = []  # this test process's migrated template database, made at its first PostgreSQL test


def _migrated_template(admin: URL) -> str:
    """A database migrated once per test process, copied for each test (``CREATE DATABASE ... TEMPLATE``):
    a copy takes about 40 ms where migrating a fresh database took 100-160 ms, over about 280 tests."""
    if not _template:
        name = f"medspeak_template_{uuid.uuid4().hex[:12]}"
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        template = Store(Settings(database_url=admin.set(database=name).render_as_string(hide_password=False)))
        template.migrate()
        template.dispose()  # a template is copied only while no one is connected to it
        _template.append(name)
        atexit.register(_drop_database, admin, name)
    return _template[0]


def _drop_database(admin: URL, name: str) -> None:
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _postgres_database() -> Iterator[str]:
    admin = make_url(_PG_URL or "")
    name = f"medspeak_test_{uuid.uuid4().hex[:12]}"
    template = _migrated_template(admin)
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ctx(request: pytest.FixtureRequest, env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppContext]:
    """The test's own application context over a migrated, empty store; each test runs on SQLite, and on
    PostgreSQL when one is configured. Closed after the test (its readers finish the documents in progress)."""
    if request.param == "postgresql":
        if not _PG_URL:
            pytest.skip("no PostgreSQL server: set MEDSPEAK_TEST_POSTGRES_URL (.ci/run does)")
        gen = _postgres_database()
        monkeypatch.setenv("MEDSPEAK_DATABASE_URL", next(gen))
    else:
        gen = None
    context = AppContext.open(migrate=True)
    yield context
    context.close()
    if gen is not None:
        gen.close()


@pytest.fixture
def store(ctx: AppContext) -> Store:
    """The test context's store (for the services that need only the database)."""
    return ctx.store


@pytest.fixture
def settings(env: Path) -> Settings:
    return load_settings()


@pytest.fixture
def actors(store: Store) -> dict[str, Actor]:
    """One account per role (password ``PASSWORD``), as the actors services receive."""
    out: dict[str, Actor] = {}
    with store.transaction() as db:
        for role in Role:
            name = role.value.replace("_", "")
            user = add_user(db, name, f"Test {role.value}", role.value, PASSWORD, rounds=store.settings.bcrypt_rounds)
            out[role.value] = Actor(user.id, user.username, user.role)
    return out
