"""Eight processes writing at once (the env fixture's SQLite file; PostgreSQL when configured): every write
lands, none fails on a lock, the database stays sound and the audit chain intact."""

from __future__ import annotations

import multiprocessing
import sys
import types
from concurrent.futures import ProcessPoolExecutor
from datetime import date

import pytest
from sqlalchemy import func, select, text

from medspeak.auth.roles import Actor
from medspeak.services import patients
from medspeak.services.audit_log import verify_store
from medspeak.store.db import Store
from medspeak.store.models import Assessment, AuditEvent
from tests.reliability._writers import write_assessments

_PROCESSES = 8
_WRITES = 250


@pytest.mark.slow  # ~30 s on 2 busy cores: 2,000 serialised commits plus 8 interpreter starts
def test_eight_processes_write_2000_assessments_and_audit_events(
    store: Store, actors: dict[str, Actor], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Spawned children re-run the parent's __main__; Streamlit's AppTest (earlier in the suite) leaves a
    # page script there, which must not run in a writer. A bare __main__ gives each child a clean start.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    clinician = actors["clinician"]
    patient = patients.register_patient(
        store, clinician, given_name="Load", family_name="Test", sex="female", birth_date=date(1980, 1, 1)
    )
    who = (clinician.user_id, clinician.username, clinician.role)
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(_PROCESSES, mp_context=spawn) as pool:
        futures = [pool.submit(write_assessments, w, _WRITES, patient.id, who) for w in range(_PROCESSES)]
        logged = [line for f in futures for line in f.result(timeout=120)]  # a worker's exception re-raises here
    assert not [line for line in logged if "locked" in line.lower()], logged[:5]
    with store.transaction() as db:
        assessments = db.scalar(select(func.count(Assessment.id)).where(Assessment.model_version == "concurrency-test"))
        events = db.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.action == "triage.assess", AuditEvent.outcome == "success"
            )
        )
        details = set(db.scalars(select(AuditEvent.detail).where(AuditEvent.action == "triage.assess")))
        integrity = db.execute(text("PRAGMA integrity_check")).scalar() if store.is_sqlite else "ok"
    assert assessments == _PROCESSES * _WRITES == 2000
    assert events == 2000 and len(details) == 2000  # one event per write, none duplicated or lost
    assert integrity == "ok"
    report = verify_store(store)
    assert report.ok and report.checked >= 2000, report
