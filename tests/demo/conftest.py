"""Fixtures for the demo generator's tests: generated datasets and temporary stores."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from medspeak.config import load_settings
from medspeak.demo.dataset import DemoDataset
from medspeak.demo.generator import generate
from medspeak.demo.seed import SeedReport, seed_demo
from medspeak.store.db import Store
from tests.conftest import TEST_COOKIE_KEY

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SEED = 20261128


@dataclass(frozen=True)
class Seeded:
    store: Store
    report: SeedReport


def open_store(home: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """A migrated SQLite store under ``home``, isolated from the developer's settings (as ``env`` in tests/)."""
    for key in list(os.environ):
        if key.startswith("MEDSPEAK_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("MEDSPEAK_HOME", str(home))
    monkeypatch.setenv("MEDSPEAK_ENV", "test")
    monkeypatch.setenv("MEDSPEAK_COOKIE_KEY", TEST_COOKIE_KEY)
    monkeypatch.setenv("MEDSPEAK_SECRETS_FILE", str(home / "absent-secrets.toml"))
    monkeypatch.chdir(home)  # no stray .env from the checkout
    store = Store(load_settings())
    store.migrate()
    return store


@pytest.fixture(scope="session")
def demo_now() -> datetime:
    """The moment every generated test dataset describes."""
    return NOW


@pytest.fixture(scope="session")
def dataset() -> DemoDataset:
    """The default demo size: 60 patients."""
    return generate(SEED, 60, NOW)


@pytest.fixture(scope="session")
def big_dataset() -> DemoDataset:
    """Enough patients for proportions to settle."""
    return generate(SEED, 600, NOW)


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """One store seeded with the default 60 patients (seeding is the slow part: done once)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        store = open_store(tmp_path_factory.mktemp("seeded"), monkeypatch)
        report = seed_demo(store, n_patients=60, seed=SEED, now=NOW)
        yield Seeded(store, report)
        store.dispose()
