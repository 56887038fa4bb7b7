"""Length-of-stay services for the pages and the API: one patient's predicted stay and its history.

``predict_stay`` needs ``READ_PATIENTS`` (clinicians and bed managers plan with stays; administrators
see no patient data); the words of the reports behind a prediction only for ``READ_CLINICAL``. A
prediction is the at-admission one (admission data, earlier stays, reports written before entry)
conditioned on the days already spent (``LosModel.in_bed``): each new day in hospital or new model
gives a new ``Assessment`` of kind ``los``, the history of updates. Reports written after admission
do not move it: on the MIMIC-IV demo's grouped cross-validation, updating from them did no better
at day 1 and was biased short beyond (see the model card). Every call is audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from medspeak.auth.roles import Actor, Permission
from medspeak.clinical.patients import display_name
from medspeak.errors import NotFound, PermissionDenied, ValidationFailed
from medspeak.i18n import N_
from medspeak.los.artifact import DEFAULT_DIR, read_metrics
from medspeak.los.explain import Driver, drivers
from medspeak.los.features import snapshot
from medspeak.los.sources import from_store
from medspeak.services.audited import audited
from medspeak.services.beds import PlannedElectives, forecast_occupancy
from medspeak.services.read_models import ReadModel
from medspeak.store.db import Store
from medspeak.store.models import Assessment, Encounter, Patient
from medspeak.store.types import utcnow

if TYPE_CHECKING:
    from medspeak.services.context import AppContext

__all__ = [
    "PlannedElectives",
    "StayPrediction",
    "StayRef",
    "StayUpdate",
    "backtest_figures",
    "current_stays",
    "forecast_occupancy",
    "predict_stay",
    "stay_history",
]

_KIND: Final = "los"


class StayPrediction(ReadModel):
    """A patient's predicted stay: total and remaining days at P10/P50/P90, discharge dates, drivers.

    For a stay already over, the prediction is the one made at admission, beside the actual length.
    """

    encounter_id: int
    patient_id: int
    model_version: str
    as_of: datetime = Field(description="the moment the prediction is for (admission, for a stay already over)")
    admitted_at: datetime
    elapsed_days: float
    total_days: tuple[float, float, float] = Field(description="the whole stay, days at P10, P50, P90")
    remaining_days: tuple[float, float, float] = Field(description="days left after as_of, at P10, P50, P90")
    discharge: tuple[datetime, datetime, datetime] = Field(description="discharge moments at P10, P50, P90")
    drivers: list[Driver] = Field(description="what moved the median stay, input by input")
    reports_seen: int = Field(description="reports written before admission that the prediction read")
    actual_days: float | None = Field(description="the stay's actual length, once it is over")


class StayRef(ReadModel):
    """A patient in a bed now, for choosing whose stay to look at."""

    encounter_id: int
    patient_id: int
    name: str
    mrn: str
    ward: str
    admitted_at: datetime


class StayUpdate(ReadModel):
    """One stored prediction of the stay (the history the LOS page shows)."""

    created_at: datetime
    model_version: str
    elapsed_days: float
    reports_seen: int
    total_days: tuple[float, float, float]


def _encounter(db: Session, encounter_id: int) -> Encounter:
    enc = db.get(Encounter, encounter_id)
    if enc is None:
        raise NotFound(N_("No stay with id {encounter_id}."), encounter_id=encounter_id)
    if enc.kind != "inpatient":
        raise ValidationFailed(N_("Length of stay is predicted for inpatient stays only."))
    return enc


def predict_stay(
    ctx: AppContext,
    actor: Actor,
    encounter_id: int,
    *,
    now: datetime | None = None,
    model_dir: Path = DEFAULT_DIR,
    save: bool = False,
) -> StayPrediction:
    """Predict the stay of an inpatient encounter from what is known now (or at admission, once it is over).

    Reading a prediction writes nothing clinical (issue 18: opening the page used to store an assessment, even
    for a bed manager). ``save=True`` is a clinician's explicit act: the prediction joins the stay's history
    (an assessment row, once a day in hospital, model and inputs), audited as ``los.save``.

    Raises:
        PermissionDenied: the role may not read patients' stays, or (``save``) may not write clinical records.
        NotFound: no such encounter.
        ValidationFailed: the encounter is an emergency visit.
        ModelUnavailable: the model is missing or altered.
    """
    model = ctx.models.los(model_dir)
    version = str(model.meta_.get("version", "unversioned"))
    action, permission = ("los.save", Permission.WRITE_CLINICAL) if save else ("los.predict", Permission.READ_PATIENTS)
    with audited(ctx.store, actor, action, permission) as call:
        enc = _encounter(call.db, encounter_id)
        call.patient_id = enc.patient_id
        admission = from_store(call.db, [enc])[0]
        as_of = admission.admitted_at if enc.ended_at is not None else (now or utcnow())
        elapsed = max(0.0, (as_of - admission.admitted_at).total_seconds() / 86400)
        snap = snapshot(admission, 0.0)  # what the prediction rests on: known at admission
        dist = model.in_bed([admission], [elapsed])  # conditioned on the days already spent
        remaining = dist.remaining_quantiles()[0]
        words = model.encoder_.top_words(snap.text) if actor.can(Permission.READ_CLINICAL) else []
        total = elapsed + remaining
        prediction = StayPrediction(
            encounter_id=enc.id,
            patient_id=enc.patient_id,
            model_version=version,
            as_of=as_of,
            admitted_at=admission.admitted_at,
            elapsed_days=elapsed,
            total_days=(float(total[0]), float(total[1]), float(total[2])),
            remaining_days=(float(remaining[0]), float(remaining[1]), float(remaining[2])),
            discharge=(
                as_of + timedelta(days=float(remaining[0])),
                as_of + timedelta(days=float(remaining[1])),
                as_of + timedelta(days=float(remaining[2])),
            ),
            drivers=drivers(
                model.contributions([snap])[0], model.encoder_.groups, snap, float(np.exp(dist.mu[0])), words
            ),
            reports_seen=int(snap.values["reports_so_far"]),
            actual_days=admission.los_days,
        )
        if save:
            _remember(call.db, actor, enc, prediction, snap.values)
        call.detail = f"model {version}"
        return prediction


def _remember(db: Session, actor: Actor, enc: Encounter, p: StayPrediction, values: dict[str, float | str]) -> None:
    """Store the prediction when something changed since the last one (day in hospital, model, inputs)."""
    inputs = {"values": values, "elapsed_day": int(p.elapsed_days)}
    last = db.scalars(
        select(Assessment)
        .where(Assessment.encounter_id == enc.id, Assessment.kind == _KIND)
        .order_by(Assessment.created_at.desc(), Assessment.id.desc())
        .limit(1)
    ).first()
    if (
        last is not None
        and last.model_version == p.model_version
        and last.inputs.get("elapsed_day") == inputs["elapsed_day"]
    ):
        if last.inputs.get("values", {}).get("reports_so_far") == values["reports_so_far"]:
            return
    db.add(
        Assessment(
            patient_id=enc.patient_id,
            encounter_id=enc.id,
            kind=_KIND,
            model_version=p.model_version,
            inputs=inputs,
            output={
                "as_of": p.as_of.isoformat(),
                "elapsed_days": round(p.elapsed_days, 3),
                "total_days": [round(x, 3) for x in p.total_days],
                "remaining_days": [round(x, 3) for x in p.remaining_days],
                "discharge": [d.isoformat() for d in p.discharge],
            },
            explanation={"drivers": [{"feature": d.feature, "effect_pct": round(d.effect_pct, 1)} for d in p.drivers]},
            created_by=actor.user_id,
        )
    )


def current_stays(store: Store, actor: Actor) -> list[StayRef]:
    """Patients in a bed now, by ward then name."""
    with audited(store, actor, "los.stays", Permission.READ_PATIENTS) as call:
        rows = call.db.execute(
            select(Encounter, Patient)
            .join(Patient, Patient.id == Encounter.patient_id)
            .where(Encounter.kind == "inpatient", Encounter.ended_at.is_(None))
        ).all()
        out = [
            StayRef(
                encounter_id=e.id,
                patient_id=p.id,
                name=display_name(p.family_name, p.given_name),
                mrn=p.mrn,
                ward=e.ward.name if e.ward else "-",
                admitted_at=e.started_at,
            )
            for e, p in rows
        ]
        call.detail = f"{len(out)} stay(s)"
        return sorted(out, key=lambda r: (r.ward, r.name))


def stay_history(store: Store, actor: Actor, encounter_id: int) -> list[StayUpdate]:
    """Every stored length-of-stay prediction of a stay, oldest first."""
    with audited(store, actor, "los.history", Permission.READ_PATIENTS) as call:
        enc = _encounter(call.db, encounter_id)
        call.patient_id = enc.patient_id
        rows = call.db.scalars(
            select(Assessment)
            .where(Assessment.encounter_id == encounter_id, Assessment.kind == _KIND)
            .order_by(Assessment.created_at, Assessment.id)
        ).all()
        return [
            StayUpdate(
                created_at=a.created_at,
                model_version=a.model_version,
                elapsed_days=float(a.output.get("elapsed_days", 0.0)),
                reports_seen=int(a.inputs.get("values", {}).get("reports_so_far", 0)),
                total_days=tuple(float(x) for x in a.output["total_days"]),
            )
            for a in rows
        ]


def backtest_figures(actor: Actor, model_dir: Path = DEFAULT_DIR) -> dict[str, Any]:
    """The committed model's evaluation figures (no patient data): for roles that read the census."""
    if not actor.can(Permission.READ_CENSUS):
        raise PermissionDenied(N_("Your role ({role}) does not allow this (los.figures)."), role=actor.role)
    return read_metrics(model_dir)
