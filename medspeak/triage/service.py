"""Triage services for the pages and the API: assess, override, the ED queue, and the form's prefill.

Every call is permission-checked and audited. An assessment for a known patient is stored with
its inputs, model version, probabilities, the rules fired and the explanation; an override keeps
the model's proposal beside the clinician's level and reason.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from sqlalchemy import select

from medspeak.auth.roles import Actor, Permission
from medspeak.errors import NotFound, ValidationFailed
from medspeak.services.audited import audited
from medspeak.services.patients import age_on
from medspeak.store.db import Store
from medspeak.store.models import Assessment, Encounter, Patient
from medspeak.store.types import utcnow
from medspeak.triage.explain import Explainer, Explanation
from medspeak.triage.features import inputs_frame
from medspeak.triage.inputs import TriageInputs
from medspeak.triage.levels import LEVELS, Level
from medspeak.triage.model import TriageModel
from medspeak.triage.plausibility import ImplausibleInputs, check_inputs
from medspeak.triage.rules import FiredRule, apply_caps_one

__all__ = ["QueueEntry", "TriageResult", "assess", "engine", "override", "prefill", "queue"]

_MIN_REASON_CHARS: Final = 5  # "agree" is not a reason; a few words are
_TRAINED_MIN_AGE: Final = 16  # the KTAS records are adults (16-92 years)
_QUEUE_WINDOW: Final = timedelta(hours=24)


@dataclass(frozen=True)
class TriageResult:
    """What the triage page shows: the level and everything it was decided from."""

    level: Level
    model_level: int
    probabilities: dict[int, float]
    rules_fired: list[FiredRule]
    explanation: Explanation
    pathway: dict[str, Any] | None
    missing: dict[str, float]  # missing input → |SHAP| it carried on the predicted level
    inputs: TriageInputs
    model_version: str
    warnings: list[str] = field(default_factory=list)
    assessment_id: int | None = None
    patient_id: int | None = None


@dataclass(frozen=True)
class QueueEntry:
    patient_id: int
    encounter_id: int
    mrn: str
    name: str
    arrived_at: datetime
    waiting_minutes: int
    level: int | None
    source: str  # "override", "model", "record" (the level given at the door), "none"
    chief_complaint: str | None
    overdue: bool  # waiting longer than the level's maximum


@lru_cache(maxsize=1)
def engine() -> tuple[TriageModel, Explainer]:
    """The committed model and its explainer, loaded once per process (no patient data inside)."""
    model = TriageModel.load()
    return model, Explainer(model)


def _result(inputs: TriageInputs) -> TriageResult:
    """One patient, the fast way: a NumPy row, margins and SHAP values by table, the rules on plain values.

    What :func:`_reference_result` (the batch path: a DataFrame, shap's TreeExplainer) gives, in about a
    sixth of the CPU time: the same levels, probabilities and rules, SHAP values equal to float32 rounding
    (tests/triage/test_fast_path.py, on varied inputs).
    """
    model, explainer = engine()
    features = model.space.transform_one(inputs)
    probabilities = model.probabilities(features)
    model_level = int(model.decide(probabilities)[0])
    similarity = {c: float(v[0]) for c, v in model.complaint_similarity(features).items()}
    level, fired = apply_caps_one(model_level, _values(inputs), similarity, model.rules)
    return _assemble(inputs, features, probabilities[0], model_level, level, fired, explainer.contributions(features))


def _reference_result(inputs: TriageInputs) -> TriageResult:
    """One patient through the batch path (``TriageModel.score`` and shap): the reference for the fast path."""
    model, explainer = engine()
    scored = model.score(inputs_frame([inputs]))
    return _assemble(
        inputs,
        scored.features,
        scored.probabilities[0],
        int(scored.model_level[0]),
        int(scored.level[0]),
        scored.fired[0],
        explainer.values(scored.features),
    )


def _values(inputs: TriageInputs) -> dict[str, Any]:
    return {f.name: getattr(inputs, f.name) for f in fields(inputs)}


def _assemble(
    inputs: TriageInputs,
    features: npt.NDArray[np.float32],
    probabilities: npt.NDArray[np.float64],
    model_level: int,
    level: int,
    fired: list[FiredRule],
    shap_values: npt.NDArray[np.float64],
) -> TriageResult:
    model, explainer = engine()
    explanation = explainer.explain(features, model_level, shap_values)
    values = shap_values[0][:, model_level - 1]
    sources = [f.source for f in model.space.features]
    missing = {
        name: round(float(sum(abs(v) for s, v in zip(sources, values, strict=True) if s == name)), 4)
        for name in inputs.missing()
    }
    similarity = model.complaint_similarity(features)
    pathway = model.space.complaints.pathway_for(np.array([similarity[c][0] for c in similarity]))
    warnings = []
    if inputs.age is not None and inputs.age < _TRAINED_MIN_AGE:
        warnings.append("The model was trained on adults (16 years and over): use paediatric triage for this patient.")
    return TriageResult(
        LEVELS[level],
        model_level,
        {k + 1: float(p) for k, p in enumerate(probabilities)},
        fired,
        explanation,
        None if pathway is None else asdict(pathway),
        missing,
        inputs,
        model.version,
        warnings,
    )


def _output(result: TriageResult) -> dict[str, Any]:
    return {
        "level": result.level.number,
        "model_level": result.model_level,
        "probabilities": {str(k): v for k, v in result.probabilities.items()},
        "rules_fired": [asdict(r) for r in result.rules_fired],
        "pathway": result.pathway,
        "missing": result.missing,
        "warnings": result.warnings,
    }


def assess(
    store: Store, actor: Actor, inputs: TriageInputs, patient_id: int | None = None, encounter_id: int | None = None
) -> TriageResult:
    """Propose a triage level (1 most urgent … 5) with its reasons; stored when the patient is known.

    Raises:
        ImplausibleInputs: a value is out of range (conversions offered where a slip is likely).
        PermissionDenied: the role may not assess (audited).
        NotFound: no such patient, or no such encounter of this patient.
        ValidationFailed: an encounter without its patient.
    """
    issues = check_inputs(inputs)
    if issues:
        raise ImplausibleInputs(issues)
    if encounter_id is not None and patient_id is None:
        raise ValidationFailed("An encounter is linked only with its patient: give the patient too.")
    with audited(store, actor, "triage.assess", Permission.WRITE_CLINICAL, patient_id=patient_id) as call:
        result = _result(inputs)  # no lock held yet: the transaction begins (BEGIN IMMEDIATE) at its first query
        if patient_id is None:
            call.detail = f"level {result.level.number}, not stored (no patient)"
            return result
        if call.db.get(Patient, patient_id) is None:
            raise NotFound(f"No patient with id {patient_id}.")
        if encounter_id is not None:  # another patient's encounter would put this triage in their queue
            encounter = call.db.get(Encounter, encounter_id)
            if encounter is None or encounter.patient_id != patient_id:
                raise NotFound(f"No encounter {encounter_id} for patient {patient_id}.")
        row = Assessment(
            patient_id=patient_id,
            encounter_id=encounter_id,
            kind="triage",
            model_version=result.model_version,
            inputs=inputs.to_dict(),
            output=_output(result),
            explanation=result.explanation.to_dict(),
            created_by=actor.user_id,
        )
        call.db.add(row)
        call.db.flush()
        call.detail = f"assessment {row.id}, level {result.level.number}, {len(result.rules_fired)} rule(s)"
        return replace(result, assessment_id=row.id, patient_id=patient_id)


def override(store: Store, actor: Actor, assessment_id: int, level: int, reason: str) -> dict[str, Any]:
    """Record a clinician's level in place of the model's, with the reason; the proposal is kept.

    Raises:
        ValidationFailed: level outside 1-5 or no reason given.
        NotFound: no such triage assessment.
    """
    reason = reason.strip()
    if level not in LEVELS:
        raise ValidationFailed("The level must be 1 (most urgent) to 5.")
    if len(reason) < _MIN_REASON_CHARS:
        raise ValidationFailed("Please give the reason for the override (a few words).")
    with audited(store, actor, "triage.override", Permission.WRITE_CLINICAL) as call:
        row = call.db.get(Assessment, assessment_id)
        if row is None or row.kind != "triage":
            raise NotFound(f"No triage assessment {assessment_id}.")
        call.patient_id = row.patient_id
        record = {
            "level": level,
            "model_level": row.output["level"],
            "reason": reason[:500],
            "by": actor.user_id,
            "username": actor.username,
            "at": utcnow().isoformat(),
        }
        row.override = record
        call.detail = f"assessment {assessment_id}: level {row.output['level']} -> {level}"  # no free text: no PHI
        return record


def prefill(store: Store, actor: Actor, patient_id: int) -> tuple[TriageInputs, int | None]:
    """Inputs from the patient's record: latest emergency visit's vitals and complaint, age and sex.

    Returns the inputs and the encounter they came from (None when the patient has no visit).
    """
    with audited(store, actor, "triage.prefill", Permission.READ_CLINICAL, patient_id=patient_id) as call:
        patient = call.db.get(Patient, patient_id)
        if patient is None:
            raise NotFound(f"No patient with id {patient_id}.")
        visits = [e for e in patient.encounters if e.vitals or e.chief_complaint]
        latest = max(visits, key=lambda e: e.started_at, default=None)
        vitals: dict[str, Any] = dict(latest.vitals or {}) if latest else {}
        values: dict[str, Any] = {
            key: vitals.get(key)
            for key in ("temperature_c", "heart_rate", "respiratory_rate", "spo2", "systolic_bp", "diastolic_bp")
        }
        values.update(
            age=float(age_on(patient.birth_date, date.today())),
            sex=patient.sex if patient.sex in ("female", "male") else None,
            pain=vitals.get("pain"),
            mental_status=vitals.get("mental_status"),
            chief_complaint=latest.chief_complaint if latest else None,
            transport_mode=latest.arrival_mode if latest and latest.kind == "emergency" else None,
        )
        inputs = TriageInputs.from_form(values)
        call.detail = "from encounter" if latest else "demographics only"
        return inputs, latest.id if latest else None


def queue(store: Store, actor: Actor, now: datetime | None = None) -> list[QueueEntry]:
    """Emergency patients who arrived in the last 24 hours: most urgent first, then longest waiting."""
    now = now or utcnow()
    with audited(store, actor, "triage.queue", Permission.READ_CLINICAL) as call:
        visits = call.db.execute(
            select(Encounter, Patient)
            .join(Patient, Patient.id == Encounter.patient_id)
            .where(Encounter.kind == "emergency", Encounter.started_at >= now - _QUEUE_WINDOW)
            .where(Encounter.started_at <= now)
        ).all()
        ids = [e.patient_id for e, _ in visits]
        latest: dict[int, Assessment] = {}
        for row in call.db.scalars(
            select(Assessment)
            .where(Assessment.kind == "triage", Assessment.patient_id.in_(ids))
            .order_by(Assessment.created_at)
        ):
            latest[row.encounter_id or -row.patient_id] = row  # later rows replace earlier ones
        entries = []
        for enc, patient in visits:
            a: Assessment | None = latest.get(enc.id) or latest.get(-patient.id)
            if a is not None and a.created_at < enc.started_at:
                a = None  # an assessment from an earlier visit says nothing about today
            level, source = _queue_level(enc, a)
            end = min(enc.ended_at or now, now)
            waiting = int((end - enc.started_at).total_seconds() // 60)
            entries.append(
                QueueEntry(
                    patient.id,
                    enc.id,
                    patient.mrn,
                    f"{patient.family_name.upper()}, {patient.given_name}",
                    enc.started_at,
                    waiting,
                    level,
                    source,
                    enc.chief_complaint,
                    level is not None and waiting > LEVELS[level].max_wait_minutes,
                )
            )
        call.detail = f"{len(entries)} patient(s)"
        return sorted(entries, key=lambda q: (q.level or 6, -q.waiting_minutes))


def _queue_level(enc: Encounter, a: Assessment | None) -> tuple[int | None, str]:
    if a is not None and a.override:
        return int(a.override["level"]), "override"
    if a is not None:
        return int(a.output["level"]), "model"
    if enc.acuity is not None:
        return enc.acuity, "record"
    return None, "none"
