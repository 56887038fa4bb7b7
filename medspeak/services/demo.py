"""The stakeholder demo: its patient (the one the guided path follows) and putting its data back.

A reset wipes every patient, stay, document and assessment, so it refuses outside a demo install
(``MEDSPEAK_DEMO=true``): the refusal is in the core, whatever a page or a command shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from medspeak.auth.roles import SYSTEM, Actor, Permission
from medspeak.clinical.patients import display_name
from medspeak.demo.seed import SeedReport, reset_demo
from medspeak.errors import PermissionDenied
from medspeak.i18n import N_
from medspeak.services.audited import audited, record_alone, require
from medspeak.services.documents import queue_unread
from medspeak.services.read_models import ReadModel
from medspeak.store.db import Store
from medspeak.store.models import Document, Encounter, Patient

if TYPE_CHECKING:
    from medspeak.services.context import AppContext

__all__ = ["DemoPatient", "ResetReport", "demo_patient", "reset"]


class DemoPatient(ReadModel):
    """Who the guided path follows: a patient in a bed now, admitted through the emergency department."""

    patient_id: int
    label: str  # "DUPONT, Marie · MS001234"
    stay_id: int  # the open inpatient stay (length of stay)


class ResetReport(ReadModel):
    seeded: SeedReport
    queued: int  # documents queued for reading again


def reset(ctx: AppContext, actor: Actor = SYSTEM, *, read_now: bool = True) -> ResetReport:
    """Put the demo data back to its seeded state (same seed and size, as of now); audited.

    ``SYSTEM`` is the command line's operator (who holds the database anyway); any other actor must be
    allowed to manage the install. ``read_now``: the context's runner reads the queued documents at once (the
    app); a short-lived command leaves them queued for the app, which reads them when it starts.

    Raises:
        PermissionDenied: not a demo install (audited), or the role may not manage the install.
    """
    store, settings = ctx.store, ctx.settings
    if not settings.demo:
        record_alone(store, actor, "demo.reset", "denied", detail="not a demo install")
        raise PermissionDenied(
            N_("This is not a demo install: its data is never reset. A demonstration runs with MEDSPEAK_DEMO=true.")
        )
    if actor != SYSTEM:
        require(store, actor, "demo.reset", Permission.MANAGE_USERS)
    seeded = reset_demo(
        store, n_patients=settings.demo_patients, seed=settings.demo_seed, username=actor.username, role=actor.role
    )
    queued = queue_unread(store)
    if read_now:
        ctx.runner.resume_pending()
    return ResetReport(seeded=seeded, queued=queued)


def demo_patient(store: Store, actor: Actor) -> DemoPatient | None:
    """The guided path's patient: in a bed now after an emergency visit, with documents; the lowest MRN of those.

    None when the store holds no such patient (an empty or a real install).

    Raises:
        PermissionDenied: the role may not read patients (audited).
    """
    with audited(store, actor, "demo.patient", Permission.READ_PATIENTS) as call:
        with_documents = select(Document.patient_id).where(Document.patient_id.is_not(None))
        emergency = select(Encounter.patient_id).where(Encounter.kind == "emergency")
        row = call.db.execute(
            select(Patient, Encounter.id)
            .join(Encounter, Encounter.patient_id == Patient.id)
            .where(
                Encounter.kind == "inpatient",
                Encounter.ended_at.is_(None),
                Patient.id.in_(with_documents),
                Patient.id.in_(emergency),
            )
            .order_by(Patient.mrn)
            .limit(1)
        ).first()
        if row is None:
            return None
        patient, stay_id = row
        call.patient_id = patient.id
        label = f"{display_name(patient.family_name, patient.given_name)} · {patient.mrn}"
        return DemoPatient(patient_id=patient.id, label=label, stay_id=stay_id)
