"""Issue 20: `medspeak demo reset` (and the Admin button) put a demo install back to its seeded counts, audited;
outside demo mode they refuse and touch nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from medspeak.auth.roles import Actor
from medspeak.cli import app
from medspeak.config import load_settings
from medspeak.demo.seed import seed_demo
from medspeak.errors import PermissionDenied
from medspeak.services import demo, patients
from medspeak.services.context import AppContext
from medspeak.store.db import Store
from medspeak.store.models import AuditEvent, Document, Encounter, Fact, Patient, Ward
from tests.support.jobs import read_nothing

_PATIENTS, _SEED = 12, 20261128
_TABLES = (Patient, Encounter, Document, Ward, Fact)


@pytest.fixture
def demo_mode(store: Store, env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppContext]:
    """A demo install's context over the test's store (its documents are queued, never read)."""
    monkeypatch.setenv("MEDSPEAK_DEMO", "true")
    monkeypatch.setenv("MEDSPEAK_DEMO_PATIENTS", str(_PATIENTS))
    monkeypatch.setenv("MEDSPEAK_DEMO_SEED", str(_SEED))
    with AppContext(load_settings(), store) as demo_ctx:
        read_nothing(demo_ctx)
        yield demo_ctx


def _counts(store: Store) -> dict[str, int]:
    with store.transaction() as db:
        return {t.__tablename__: db.scalar(select(func.count()).select_from(t)) or 0 for t in _TABLES}


def _change_things(ctx: AppContext, clinician: Actor) -> None:
    """What a demo leaves behind: a new patient, an extra document."""
    extra = patients.register_patient(
        ctx.store, clinician, given_name="Zoé", family_name="Extra", sex="female", birth_date=date(1990, 1, 1)
    )
    from medspeak.services import samples

    samples.upload_sample(ctx, clinician, "negative-review", extra.id)


def test_reset_restores_the_seeded_counts_and_is_audited(
    demo_mode: AppContext, store: Store, actors: dict[str, Actor]
) -> None:
    seed_demo(store, n_patients=_PATIENTS, seed=_SEED)
    seeded = _counts(store)
    assert seeded["patients"] == _PATIENTS and seeded["documents"] > _PATIENTS
    _change_things(demo_mode, actors["clinician"])
    assert _counts(store) != seeded

    report = demo.reset(demo_mode, actors["admin"])

    assert _counts(store) == seeded
    assert report.seeded.patients == _PATIENTS and report.queued == seeded["documents"]
    with store.transaction() as db:
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "demo.reset")).one()
        assert (event.username, event.outcome) == ("admin", "success")
        assert f"removed patients={_PATIENTS + 1}" in event.detail


def test_only_an_administrator_may_reset_from_the_app(
    demo_mode: AppContext, store: Store, actors: dict[str, Actor]
) -> None:
    seed_demo(store, n_patients=_PATIENTS, seed=_SEED)
    before = _counts(store)
    with pytest.raises(PermissionDenied):
        demo.reset(demo_mode, actors["clinician"])
    assert _counts(store) == before


def test_reset_refuses_outside_demo_mode_and_touches_nothing(
    ctx: AppContext, store: Store, actors: dict[str, Actor]
) -> None:
    seed_demo(store, n_patients=_PATIENTS, seed=_SEED)
    before = _counts(store)
    with pytest.raises(PermissionDenied, match="not a demo install"):
        demo.reset(ctx, actors["admin"])
    assert _counts(store) == before
    with store.transaction() as db:
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "demo.reset")).one()
        assert event.outcome == "denied"


def test_the_command_refuses_outside_demo_mode_then_resets_in_it(
    env: Path, monkeypatch: pytest.MonkeyPatch, store: Store
) -> None:
    seed_demo(store, n_patients=_PATIENTS, seed=_SEED)
    seeded = _counts(store)
    refused = CliRunner().invoke(app, ["demo", "reset"])
    assert refused.exit_code != 0 and "not a demo install" in str(refused.exception)
    with store.transaction() as db:
        db.execute(Patient.__table__.delete().where(Patient.id == 1))  # a demo in progress
    monkeypatch.setenv("MEDSPEAK_DEMO", "true")
    monkeypatch.setenv("MEDSPEAK_DEMO_PATIENTS", str(_PATIENTS))
    monkeypatch.setenv("MEDSPEAK_DEMO_SEED", str(_SEED))
    done = CliRunner().invoke(app, ["demo", "reset"])
    assert done.exit_code == 0, done.output
    assert f"Demo data reset: {_PATIENTS} patients" in done.output
    assert _counts(store) == seeded  # the same database, read through the test's store
