"""Triage services for the pages and the API: assess, decide, override, the ED queue, and the form's prefill.

Every call is permission-checked and audited. An assessment for a known patient is stored with
its inputs, model version, probabilities, the rules fired, the critical alert, the nurse's own level and
the second reader's flag, and the explanation; the nurse's decision (she confirms her level or changes
it) and an override keep the proposal beside the level she chose.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field, PlainSerializer, computed_field
from sqlalchemy import or_, select

from medspeak.auth.roles import Actor, Permission
from medspeak.clinical.patients import age_on, display_name
from medspeak.clinical.vitals import TRIAGE_VITALS, vital
from medspeak.errors import IncompleteInputs, NotFound, ValidationFailed
from medspeak.i18n import N_, Said, listed
from medspeak.services.audited import audited
from medspeak.services.read_models import ReadModel, Sentence
from medspeak.store.db import Store
from medspeak.store.models import Assessment, Encounter, Patient
from medspeak.store.types import utcnow
from medspeak.triage.explain import Explainer, Explanation, Points, probability_points
from medspeak.triage.features import inputs_frame
from medspeak.triage.inputs import TriageInputs
from medspeak.triage.levels import LEVELS, Level
from medspeak.triage.model import TriageModel
from medspeak.triage.plausibility import ImplausibleInputs, check_inputs
from medspeak.triage.rules import FiredRule

if TYPE_CHECKING:
    from medspeak.services.context import AppContext

__all__ = [
    "CriticalAlert",
    "IncompleteInputs",
    "QueueEntry",
    "SecondReading",
    "TriageDecision",
    "TriageEngine",
    "TriageOverride",
    "TriageResult",
    "assess",
    "decide",
    "door_level",
    "needed_inputs",
    "override",
    "patient_label",
    "prefill",
    "queue",
]

_MIN_REASON_CHARS: Final = 5  # "agree" is not a reason; a few words are
_TRAINED_MIN_AGE: Final = 16  # the KTAS records are adults (16-92 years)
# A level needs the complaint and most of the first-order vital signs (KTAS: complaint, then the
# modifiers); fewer, and the form gets the list of what is needed instead of a level. A level rule that
# fires (an arrest, unresponsive) gives a level on any form.
_VITALS: Final = ("heart_rate", "respiratory_rate", "systolic_bp", "spo2", "temperature_c")
_MIN_VITALS: Final = 3
_WORDS: Final = {
    "chief_complaint": N_("the chief complaint"),
    **{key: vital(key).words for key in _VITALS},
    "systolic_bp": N_("blood pressure"),  # entered as one systolic/diastolic field
}


class CriticalAlert(ReadModel):
    """The critical alert, "possible level 1-2", beside the level (never replacing it)."""

    raised: bool
    probability: float = Field(description="calibrated P(level 1-2), 0-1")
    threshold: float
    reasons: list[Sentence] = Field(description="the rules that raised it, the level, or the probability, in words")


class SecondReading(ReadModel):
    """The second reader on the nurse's own level: flagged when a more urgent level is likely."""

    nurse_level: int
    flagged: bool
    probability: float = Field(description="P(a level more urgent than the nurse's), 0-1")
    threshold: float
    suggested_level: int = Field(description="the level medspeak shows")
    reasons: list[Sentence]


# The level is answered as its number (1 most urgent), its name and wait beside it (computed fields).
_LevelNumber = Annotated[Level, PlainSerializer(lambda level: level.number, return_type=int)]


class TriageResult(ReadModel):
    """A proposed level and everything it was decided from: what the triage page shows and ``POST /triage``
    answers."""

    level: _LevelNumber = Field(description="the level proposed, 1 (most urgent) to 5, after the safety rules")
    model_level: int = Field(description="the model's level before the safety rules")
    probabilities: dict[int, float] = Field(description="the model's probability of each level")
    rules_fired: list[FiredRule]
    explanation: Explanation = Field(description="SHAP contributions to the model's level")
    pathway: dict[str, Any] | None = Field(description="the care pathway the complaint suggests, if any")
    missing: dict[str, float] = Field(
        description="each input not recorded: the percentage points of P(level 1-2) its absence moved (absolute)"
    )
    inputs: TriageInputs = Field(description="what the level was proposed from, as recorded")
    model_version: str
    alert: CriticalAlert
    points: Points = Field(description="P(level 1-2) in percentage points, input by input: what the nurse reads")
    warnings: list[Sentence] = Field(default_factory=list)
    second_reading: SecondReading | None = Field(
        default=None, description="the second reader's flag on the nurse's own level, when she gave one"
    )
    assessment_id: int | None = Field(default=None, description="the stored assessment, when a patient was given")
    patient_id: int | None = None
    encounter_id: int | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def level_name(self) -> str:
        return self.level.name

    @computed_field  # type: ignore[prop-decorator]
    @property
    def max_wait_minutes(self) -> int:
        """The longest the patient should wait to be seen at this level (0: at once)."""
        return self.level.max_wait_minutes


class TriageDecision(ReadModel):
    """The nurse's decision after reading a proposal, stored beside it (``POST /triage/{id}/decision``)."""

    level: int = Field(description="the level the patient is triaged at: hers, kept or changed")
    model_level: int = Field(description="the level medspeak showed")
    nurse_level: int | None = Field(description="her own level, entered before she saw medspeak's")
    flagged: bool = Field(description="the second reader had flagged her level as likely under-triage")
    decision: Literal["confirmed", "changed"]
    reason: str
    username: str
    at: datetime


class TriageOverride(ReadModel):
    """A clinician's level in place of the one proposed, with the reason (the proposal is kept)."""

    level: int
    model_level: int
    reason: str
    username: str
    at: datetime


class QueueEntry(ReadModel):
    """One patient waiting in the emergency department, as the ED queue lists them."""

    patient_id: int
    encounter_id: int
    mrn: str
    name: str
    arrived_at: datetime
    waiting_minutes: int
    level: int | None
    source: str  # "nurse" (her decision), "override", "model", "record" (the level given at the door), "none"
    chief_complaint: str | None
    overdue: bool  # waiting longer than the level's maximum
    alert: bool = False  # the critical alert was raised ("possible level 1-2")
    flagged: bool = False  # the second reader flagged the nurse's level and she has not decided yet
    age: int | None = None


@dataclass(frozen=True)
class TriageEngine:
    """The committed model and its explainer (no patient data inside): an application context loads it once
    (``AppContext.models.triage()``)."""

    model: TriageModel
    explainer: Explainer

    @classmethod
    def load(cls) -> TriageEngine:
        """The committed model, its files checked against their manifest, and its explainer (~1 s).

        Raises:
            ModelUnavailable: the model is missing or altered.
        """
        model = TriageModel.load()
        return cls(model, Explainer(model))


def _result(engine: TriageEngine, inputs: TriageInputs, *, reference: bool = False) -> TriageResult:
    """One patient through the one triage path (:meth:`TriageModel.score`), SHAP values by table.

    The same features, probabilities, levels, rules and alert as any batch. ``reference``: scored from a
    DataFrame with shap's TreeExplainer instead, what the tests compare the fast path with.
    """
    model, explainer = engine.model, engine.explainer
    scored = model.score(inputs_frame([inputs]) if reference else [inputs])
    shap_values = explainer.values if reference else explainer.contributions
    return _assemble(
        engine,
        inputs,
        scored.features,
        scored.probabilities[0],
        int(scored.model_level[0]),
        int(scored.level[0]),
        scored.fired[0],
        shap_values(scored.features),
        bool(scored.alert[0]),
    )


def _reference_result(engine: TriageEngine, inputs: TriageInputs) -> TriageResult:
    """One patient scored in a DataFrame with shap's TreeExplainer: the reference for the table's SHAP values."""
    return _result(engine, inputs, reference=True)


def _assemble(
    engine: TriageEngine,
    inputs: TriageInputs,
    features: npt.NDArray[np.float32],
    probabilities: npt.NDArray[np.float64],
    model_level: int,
    level: int,
    fired: list[FiredRule],
    shap_values: npt.NDArray[np.float64],
    raised: bool,
) -> TriageResult:
    model, explainer = engine.model, engine.explainer
    explanation = explainer.explain(features, model_level, shap_values)
    similarity = model.complaint_similarity(features)
    pathway = model.space.complaints.pathway_for(np.array([similarity[c][0] for c in similarity]))
    warnings = []
    if inputs.age is not None and inputs.age < _TRAINED_MIN_AGE:
        warnings.append(
            N_("The model was trained on adults (16 years and over): use paediatric triage for this patient.")
        )
    critical = float(probabilities[0] + probabilities[1])
    points = probability_points(model, features, shap_values, inputs.to_dict())
    return TriageResult(
        level=LEVELS[level],
        model_level=model_level,
        probabilities={k + 1: float(p) for k, p in enumerate(probabilities)},
        rules_fired=fired,
        explanation=explanation,
        pathway=None if pathway is None else asdict(pathway),
        missing={name: round(abs(points.by_input.get(name, 0.0)), 4) for name in inputs.missing()},
        inputs=inputs,
        model_version=model.version,
        alert=CriticalAlert(
            raised=raised,
            probability=critical,
            threshold=model.alert_threshold,
            reasons=_alert_reasons(model.alert_threshold, critical, level, fired),
        ),
        points=points,
        warnings=warnings,
    )


def _alert_reasons(threshold: float, critical: float, level: int, fired: list[FiredRule]) -> list[str]:
    """Why the alert is raised, in English sentences that a page can translate (:class:`Said`)."""
    reasons: list[str] = []
    if critical >= threshold:
        reasons.append(
            Said(N_("P(level 1-2) {critical:.0%} (alert from {threshold:.0%})"), critical=critical, threshold=threshold)
        )
    reasons += [Said(N_("{name} ({threshold})"), name=f.name, threshold=f.threshold) for f in fired if f.level <= 2]
    if level <= 2 and not reasons:
        reasons.append(Said(N_("Level {level}"), level=level))
    return reasons


def needed_inputs(inputs: TriageInputs) -> IncompleteInputs | None:
    """What must still be recorded before a level can be proposed (``None``: enough)."""
    needed = [] if inputs.chief_complaint else [_WORDS["chief_complaint"]]
    recorded = [v for v in _VITALS if getattr(inputs, v) is not None]
    if len(recorded) < _MIN_VITALS:
        missing = listed([_WORDS[v] for v in _VITALS if getattr(inputs, v) is None])
        needed.append(Said(N_("at least {more} more of: {missing}"), more=_MIN_VITALS - len(recorded), missing=missing))
    return IncompleteInputs(needed) if needed else None


def _second_reading(engine: TriageEngine, result: TriageResult, nurse_level: int) -> SecondReading:
    """The second reader on one patient: as :meth:`TriageModel.second_reader`, with its reasons in words."""
    model = engine.model
    probability = float(sum(p for level, p in result.probabilities.items() if level < nurse_level))
    by_rule = [f for f in result.rules_fired if f.effect == "level" and f.level < nurse_level]
    flagged = probability >= model.second_reader_threshold or bool(by_rule)
    reasons: list[str] = []
    if probability >= model.second_reader_threshold:
        reasons.append(
            Said(
                N_("P(a level more urgent than {nurse_level}) {probability:.0%} (flag from {threshold:.0%})"),
                nurse_level=nurse_level,
                probability=probability,
                threshold=model.second_reader_threshold,
            )
        )
    reasons += [
        Said(N_("{name} ({threshold}) → level {level} at most"), name=f.name, threshold=f.threshold, level=f.level)
        for f in by_rule
    ]
    if flagged:
        reasons += [
            Said(N_("{label}: {points:+.0f} points towards level 1-2"), label=d.label, points=d.points)
            for d in result.points.drivers
            if d.points > 0
        ][:3]
    return SecondReading(
        nurse_level=nurse_level,
        flagged=flagged,
        probability=probability,
        threshold=model.second_reader_threshold,
        suggested_level=result.level.number,
        reasons=reasons,
    )


def _output(result: TriageResult) -> dict[str, Any]:
    return {
        "level": result.level.number,
        "model_level": result.model_level,
        "probabilities": {str(k): v for k, v in result.probabilities.items()},
        "rules_fired": [asdict(r) for r in result.rules_fired],
        "alert": result.alert.model_dump(),
        "second_reading": None if result.second_reading is None else result.second_reading.model_dump(),
        "pathway": result.pathway,
        "missing": result.missing,
        "warnings": result.warnings,
    }


def assess(
    ctx: AppContext,
    actor: Actor,
    inputs: TriageInputs,
    patient_id: int | None = None,
    encounter_id: int | None = None,
    nurse_level: int | None = None,
) -> TriageResult:
    """Propose a triage level (1 most urgent … 5) with its reasons, the critical alert, and, when the nurse gave
    her own level, the second reader's flag; stored when the patient is known.

    A stored assessment belongs to the patient's open emergency visit (``encounter_id`` when it is open, else
    the latest open one, else a new visit from now): the ED queue shows it at once.

    Raises:
        ImplausibleInputs: a value is out of range (conversions offered where a slip is likely).
        IncompleteInputs: too little recorded for a level (and no level rule fired); lists what is needed.
        ValidationFailed: ``nurse_level`` outside 1-5.
        PermissionDenied: the role may not assess (audited).
        NotFound: no such patient, or no such encounter of this patient.
        ValidationFailed: an encounter without its patient.
    """
    issues = check_inputs(inputs)
    if issues:
        raise ImplausibleInputs(issues)
    if nurse_level is not None and nurse_level not in LEVELS:
        raise ValidationFailed(N_("The nurse's level must be 1 (most urgent) to 5."))
    if encounter_id is not None and patient_id is None:
        raise ValidationFailed(N_("An encounter is linked only with its patient: give the patient too."))
    engine = ctx.models.triage()
    with audited(ctx.store, actor, "triage.assess", Permission.WRITE_CLINICAL, patient_id=patient_id) as call:
        result = _result(
            engine, inputs
        )  # no lock held yet: the transaction begins (BEGIN IMMEDIATE) at its first query
        incomplete = needed_inputs(inputs)
        if incomplete is not None and not any(f.effect == "level" for f in result.rules_fired):
            raise incomplete
        if nurse_level is not None:
            result = result.model_copy(update={"second_reading": _second_reading(engine, result, nurse_level)})
        flag = (
            ""
            if result.second_reading is None
            else f", nurse {nurse_level}" + (" flagged" if result.second_reading.flagged else "")
        )
        alert = ", alert" if result.alert.raised else ""
        if patient_id is None:
            call.detail = f"level {result.level.number}{alert}{flag}, not stored (no patient)"
            return result
        patient = call.db.get(Patient, patient_id)
        if patient is None:
            raise NotFound(N_("No patient with id {patient_id}."), patient_id=patient_id)
        if encounter_id is not None:  # another patient's encounter would put this triage in their queue
            encounter = call.db.get(Encounter, encounter_id)
            if encounter is None or encounter.patient_id != patient_id:
                raise NotFound(
                    N_("No encounter {encounter_id} for patient {patient_id}."),
                    encounter_id=encounter_id,
                    patient_id=patient_id,
                )
        visit = _open_visit(call.db, patient, encounter_id, inputs)
        row = Assessment(
            patient_id=patient_id,
            encounter_id=visit.id,
            kind="triage",
            model_version=result.model_version,
            inputs=inputs.to_dict(),
            output={**_output(result), "nurse_level": nurse_level},
            explanation={**result.explanation.to_dict(), "points": result.points.to_dict()},
            created_by=actor.user_id,
        )
        call.db.add(row)
        call.db.flush()
        call.detail = (
            f"assessment {row.id}, level {result.level.number}, {len(result.rules_fired)} rule(s){alert}{flag}"
        )
        return result.model_copy(update={"assessment_id": row.id, "patient_id": patient_id, "encounter_id": visit.id})


def _open_visit(db: Any, patient: Patient, encounter_id: int | None, inputs: TriageInputs) -> Encounter:
    """The emergency visit a triage belongs to: the given one if still open, the latest open one, or a new one."""
    now = utcnow()
    open_visits = [e for e in patient.encounters if e.kind == "emergency" and (e.ended_at is None or e.ended_at > now)]
    chosen = next((e for e in open_visits if e.id == encounter_id), None)
    if chosen is None and open_visits:
        chosen = max(open_visits, key=lambda e: e.started_at)
    if chosen is None:
        vitals = {k: v for k, v in inputs.to_dict().items() if k in (*_VITALS, "diastolic_bp", "pain", "mental_status")}
        chosen = Encounter(
            patient_id=patient.id,
            kind="emergency",
            started_at=now,
            arrival_mode=inputs.transport_mode,
            chief_complaint=inputs.chief_complaint,
            vitals={k: v for k, v in vitals.items() if v is not None},
        )
        db.add(chosen)
        db.flush()
    return chosen


def decide(store: Store, actor: Actor, assessment_id: int, level: int, reason: str = "") -> TriageDecision:
    """Record the nurse's decision after reading the proposal: she confirms her level or changes it.

    Stored beside the proposal (the level medspeak showed, her first level, the flag) and audited. A reason
    is required when she keeps a flagged level, or chooses a level less urgent than the one shown.

    Raises:
        ValidationFailed: level outside 1-5, or a reason needed and not given.
        NotFound: no such triage assessment.
    """
    reason = reason.strip()
    if level not in LEVELS:
        raise ValidationFailed(N_("The level must be 1 (most urgent) to 5."))
    with audited(store, actor, "triage.decide", Permission.WRITE_CLINICAL) as call:
        row = call.db.get(Assessment, assessment_id)
        if row is None or row.kind != "triage":
            raise NotFound(N_("No triage assessment {assessment_id}."), assessment_id=assessment_id)
        call.patient_id = row.patient_id
        shown, nurse = int(row.output["level"]), row.output.get("nurse_level")
        reading = row.output.get("second_reading") or {}
        flagged = bool(reading.get("flagged"))
        if (flagged and nurse is not None and level >= nurse or level > shown) and len(reason) < _MIN_REASON_CHARS:
            raise ValidationFailed(
                N_("Please give the reason for level {level} (medspeak shows level {shown} and flagged your level).")
                if flagged
                else N_("Please give the reason for level {level} (medspeak shows level {shown})."),
                level=level,
                shown=shown,
            )
        record = {
            "level": level,
            "model_level": shown,
            "nurse_level": nurse,
            "flagged": flagged,
            "decision": "confirmed" if nurse is not None and level == nurse else "changed",
            "reason": reason[:500],
            "by": actor.user_id,
            "username": actor.username,
            "at": utcnow().isoformat(),
        }
        row.override = record
        call.detail = (  # no free text: no PHI
            f"assessment {assessment_id}: nurse {nurse}, medspeak {shown}{' flagged' if flagged else ''}, "
            f"final {level} ({record['decision']})"
        )
        return TriageDecision.model_validate(record)


def door_level(store: Store, actor: Actor, encounter_id: int) -> int | None:
    """The level the nurse gave at the door for a visit still open (the second reader's input), else None."""
    with audited(store, actor, "triage.door_level", Permission.READ_CLINICAL) as call:
        visit = call.db.get(Encounter, encounter_id)
        if visit is None:
            raise NotFound(N_("No visit {encounter_id}."), encounter_id=encounter_id)
        call.patient_id = visit.patient_id
        still_open = visit.ended_at is None or visit.ended_at > utcnow()
        return visit.acuity if still_open and visit.kind == "emergency" else None


def patient_label(store: Store, actor: Actor, patient_id: int) -> str:
    """How a patient is named on the triage page, never by a database id: "FAMILY, Given · MRN … · 76 years"."""
    with audited(store, actor, "patient.read", Permission.READ_CLINICAL, patient_id=patient_id) as call:
        patient = call.db.get(Patient, patient_id)
        if patient is None:
            raise NotFound(N_("No patient with id {patient_id}."), patient_id=patient_id)
        age = age_on(patient.birth_date, date.today())
        name = display_name(patient.family_name, patient.given_name)
        return Said(N_("{name} · MRN {mrn} · {age} years"), name=name, mrn=patient.mrn, age=age)


def override(store: Store, actor: Actor, assessment_id: int, level: int, reason: str) -> TriageOverride:
    """Record a clinician's level in place of the model's, with the reason; the proposal is kept.

    Raises:
        ValidationFailed: level outside 1-5 or no reason given.
        NotFound: no such triage assessment.
    """
    reason = reason.strip()
    if level not in LEVELS:
        raise ValidationFailed(N_("The level must be 1 (most urgent) to 5."))
    if len(reason) < _MIN_REASON_CHARS:
        raise ValidationFailed(N_("Please give the reason for the override (a few words)."))
    with audited(store, actor, "triage.override", Permission.WRITE_CLINICAL) as call:
        row = call.db.get(Assessment, assessment_id)
        if row is None or row.kind != "triage":
            raise NotFound(N_("No triage assessment {assessment_id}."), assessment_id=assessment_id)
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
        return TriageOverride.model_validate(record)


def prefill(store: Store, actor: Actor, patient_id: int) -> tuple[TriageInputs, int | None]:
    """Inputs from the patient's record: latest emergency visit's vitals and complaint, age and sex.

    Returns the inputs and the encounter they came from (None when the patient has no visit).
    """
    with audited(store, actor, "triage.prefill", Permission.READ_CLINICAL, patient_id=patient_id) as call:
        patient = call.db.get(Patient, patient_id)
        if patient is None:
            raise NotFound(N_("No patient with id {patient_id}."), patient_id=patient_id)
        visits = [e for e in patient.encounters if e.vitals or e.chief_complaint]
        latest = max(visits, key=lambda e: e.started_at, default=None)
        vitals: dict[str, Any] = dict(latest.vitals or {}) if latest else {}
        values: dict[str, Any] = {v.key: vitals.get(v.key) for v in TRIAGE_VITALS}
        values.update(
            age=float(age_on(patient.birth_date, date.today())),
            sex=patient.sex if patient.sex in ("female", "male") else None,
            mental_status=vitals.get("mental_status"),
            chief_complaint=latest.chief_complaint if latest else None,
            transport_mode=latest.arrival_mode if latest and latest.kind == "emergency" else None,
        )
        inputs = TriageInputs.from_form(values)
        call.detail = "from encounter" if latest else "demographics only"
        return inputs, latest.id if latest else None


def queue(store: Store, actor: Actor, now: datetime | None = None) -> list[QueueEntry]:
    """Emergency patients still waiting or being seen (visit not ended): most urgent first, then longest waiting."""
    now = now or utcnow()
    with audited(store, actor, "triage.queue", Permission.READ_CLINICAL) as call:
        visits = call.db.execute(
            select(Encounter, Patient)
            .join(Patient, Patient.id == Encounter.patient_id)
            .where(Encounter.kind == "emergency", Encounter.started_at <= now)
            .where(or_(Encounter.ended_at.is_(None), Encounter.ended_at > now))
        ).all()
        ids = [e.patient_id for e, _ in visits]
        latest: dict[int, Assessment] = {}
        for row in call.db.scalars(
            select(Assessment)
            .where(Assessment.kind == "triage", Assessment.patient_id.in_(ids))
            .order_by(Assessment.created_at, Assessment.id)
        ):
            latest[row.encounter_id or -row.patient_id] = row  # later rows replace earlier ones
        entries = []
        for enc, patient in visits:
            a: Assessment | None = latest.get(enc.id) or latest.get(-patient.id)
            if a is not None and a.created_at < enc.started_at:
                a = None  # an assessment from an earlier visit says nothing about today
            level, source = _queue_level(enc, a)
            waiting = int((now - enc.started_at).total_seconds() // 60)
            reading = (a.output.get("second_reading") or {}) if a is not None else {}
            entries.append(
                QueueEntry(
                    patient_id=patient.id,
                    encounter_id=enc.id,
                    mrn=patient.mrn,
                    name=display_name(patient.family_name, patient.given_name),
                    arrived_at=enc.started_at,
                    waiting_minutes=waiting,
                    level=level,
                    source=source,
                    chief_complaint=enc.chief_complaint,
                    overdue=level is not None and waiting > LEVELS[level].max_wait_minutes,
                    alert=bool(a is not None and (a.output.get("alert") or {}).get("raised")),
                    flagged=bool(reading.get("flagged")) and not (a is not None and a.override),
                    age=age_on(patient.birth_date, now.date()),
                )
            )
        call.detail = f"{len(entries)} patient(s)"
        return sorted(entries, key=lambda q: (q.level or 6, -q.waiting_minutes))


def _queue_level(enc: Encounter, a: Assessment | None) -> tuple[int | None, str]:
    if a is not None and a.override:
        return int(a.override["level"]), "nurse" if "decision" in a.override else "override"
    if a is not None:
        return int(a.output["level"]), "model"
    if enc.acuity is not None:
        return enc.acuity, "record"
    return None, "none"
