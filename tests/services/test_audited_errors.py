"""Issue 19, low finding: an unexpected error in a service call leaves an audit row.

Before: only domain errors (``MedspeakError``) were audited as failures; a bug or a disk error (a 500)
left no trace of who tried what on which patient.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from medspeak.auth.roles import Actor
from medspeak.services import patients, triage
from medspeak.services.context import AppContext
from medspeak.store.db import Store
from medspeak.store.models import AuditEvent
from medspeak.triage.inputs import TriageInputs


def test_an_unexpected_error_is_audited_as_a_failure(
    ctx: AppContext, store: Store, actors: dict[str, Actor], monkeypatch: pytest.MonkeyPatch
) -> None:
    clinician = actors["clinician"]
    patient = patients.register_patient(
        store, clinician, given_name="Eve", family_name="Error", sex="female", birth_date=date(1980, 2, 2)
    )

    def broken(*args: object) -> object:
        raise RuntimeError("a bug, with words that must not reach the audit trail")

    monkeypatch.setattr(triage, "_result", broken)
    with pytest.raises(RuntimeError):
        triage.assess(ctx, clinician, TriageInputs.from_form({"heart_rate": 80}), patient_id=patient.id)
    with store.read() as db:
        rows = db.execute(
            select(AuditEvent.outcome, AuditEvent.patient_id, AuditEvent.detail).where(
                AuditEvent.action == "triage.assess"
            )
        ).all()
    assert [(r.outcome, r.patient_id) for r in rows] == [("failure", patient.id)]
    assert "RuntimeError" in rows[0].detail and "words" not in rows[0].detail
