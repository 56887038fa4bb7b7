"""A writer process for the concurrency test (spawned: it imports this module afresh)."""

from __future__ import annotations

import logging

from medspeak.auth.roles import Actor, Permission
from medspeak.config import Settings
from medspeak.services.audited import audited
from medspeak.store.db import Store
from medspeak.store.models import Assessment


def write_assessments(worker: int, count: int, patient_id: int, actor: tuple[int, str, str]) -> list[str]:
    """``count`` audited assessment writes, each its own transaction as the triage service does.

    Returns the warnings and errors logged in this process (none expected).
    """
    logged: list[str] = []

    class _Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged.append(record.getMessage())

    logging.getLogger().addHandler(_Keep(level=logging.WARNING))
    store = Store(Settings())
    who = Actor(*actor)
    try:
        for n in range(count):
            with audited(store, who, "triage.assess", Permission.WRITE_CLINICAL, patient_id=patient_id) as call:
                call.db.add(
                    Assessment(
                        patient_id=patient_id,
                        kind="triage",
                        model_version="concurrency-test",
                        inputs={"worker": worker, "n": n},
                        output={"level": 1 + n % 5},
                        explanation={},
                    )
                )
                call.detail = f"worker {worker} write {n}"
    finally:
        store.dispose()
    return logged
