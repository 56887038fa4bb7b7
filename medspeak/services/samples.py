"""Sample documents for a demonstration: rendered for the chosen patient, then uploaded like any file.

A sample goes through the same checks, reading and audit as a clinician's upload: nothing about it is
special once it is in the store (``medspeak.demo.samples`` says what each one shows).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from medspeak.auth.roles import Actor, Permission
from medspeak.demo.samples import SAMPLES, Sample, SamplePatient, build_sample
from medspeak.errors import NotFound, ValidationFailed
from medspeak.i18n import N_
from medspeak.services import documents
from medspeak.services.audited import audited
from medspeak.store.models import Patient
from medspeak.store.types import utcnow

if TYPE_CHECKING:
    from medspeak.services.context import AppContext

__all__ = ["SAMPLES", "Sample", "upload_sample"]  # the samples themselves: medspeak.demo.samples


def upload_sample(
    ctx: AppContext, actor: Actor, key: str, patient_id: int, *, now: datetime | None = None
) -> documents.UploadOutcome:
    """Render the sample ``key`` for the patient and upload it to their chart; it is read in the background.

    Raises:
        ValidationFailed: no such sample.
        NotFound: no such patient.
        PermissionDenied: the role may not upload documents.
    """
    sample = next((s for s in SAMPLES if s.key == key), None)
    if sample is None:
        raise ValidationFailed(N_("No sample called {key!r}."), key=key)
    with audited(ctx.store, actor, "sample.prepare", Permission.WRITE_CLINICAL, patient_id=patient_id) as call:
        row = call.db.get(Patient, patient_id)
        if row is None:
            raise NotFound(N_("No patient with id {patient_id}."), patient_id=patient_id)
        patient = SamplePatient(row.mrn, row.given_name, row.family_name, row.sex, row.birth_date)
        call.detail = f"sample {key}"
    file = build_sample(key, patient, now or utcnow())
    return documents.upload(
        ctx,
        actor,
        filename=file.filename,
        content=file.content,
        patient_id=patient_id,
        kind=sample.kind,
        language="fr" if sample.language == "fr" else "en",
    )
