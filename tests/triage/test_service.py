from datetime import date, timedelta

import pytest
from sqlalchemy import select

from medspeak.auth.roles import Actor
from medspeak.errors import PermissionDenied, ValidationFailed
from medspeak.i18n import translated, translations
from medspeak.services import patients
from medspeak.services import triage as service
from medspeak.services.context import AppContext
from medspeak.store import audit
from medspeak.store.db import Store
from medspeak.store.models import Assessment, AuditEvent, Encounter
from medspeak.store.types import utcnow
from medspeak.triage.inputs import TriageInputs
from medspeak.triage.model import ModelUnavailable
from medspeak.triage.plausibility import ImplausibleInputs
from tests.triage.conftest import HYPOXIC, SPRAIN


@pytest.fixture(params=["sqlite"])
def ctx(
    request: pytest.FixtureRequest, ctx: AppContext
) -> AppContext:  # one backend: the audit logic is tested elsewhere
    return ctx


@pytest.fixture
def patient_id(store: Store, actors: dict[str, Actor]) -> int:
    return patients.register_patient(
        store, actors["clinician"], given_name="Ana", family_name="Lima", sex="female", birth_date=date(1950, 3, 1)
    ).id


def test_an_assessment_is_stored_with_inputs_version_and_explanation(
    ctx: AppContext, store: Store, actors: dict[str, Actor], patient_id: int
) -> None:
    result = service.assess(ctx, actors["clinician"], HYPOXIC, patient_id)
    assert result.level.number <= 2 and result.assessment_id is not None
    assert any(r.id == "spo2_below_92" for r in result.rules_fired)
    assert result.alert.raised and result.alert.probability >= result.alert.threshold
    assert result.pathway is not None and result.pathway["category"] == "breathing"
    with store.transaction() as db:
        row = db.get(Assessment, result.assessment_id)
        assert row is not None and row.kind == "triage" and row.model_version.startswith("triage-xgb-")
        assert row.inputs["spo2"] == 88 and row.output["level"] == result.level.number
        assert row.explanation["contributions"] and row.output["rules_fired"][0]["source"]
        actions = [e.action for e in db.scalars(select(AuditEvent))]
    assert "triage.assess" in actions


def test_a_blank_or_nearly_blank_form_gets_no_level_but_what_is_needed(
    ctx: AppContext, store: Store, actors: dict[str, Actor]
) -> None:
    with pytest.raises(service.IncompleteInputs) as blank:
        service.assess(ctx, actors["clinician"], TriageInputs())
    assert blank.value.needed[0] == "the chief complaint" and "heart rate" in blank.value.needed[1]
    with pytest.raises(service.IncompleteInputs) as sparse:
        service.assess(ctx, actors["clinician"], TriageInputs(chief_complaint="ankle sprain", age=30, heart_rate=80))
    assert sparse.value.needed == ["at least 2 more of: respiratory rate, blood pressure, SpO2, temperature"]


def test_an_arrest_on_an_otherwise_blank_form_is_level_1_with_the_rule(
    ctx: AppContext, store: Store, actors: dict[str, Actor]
) -> None:
    result = service.assess(ctx, actors["clinician"], TriageInputs(heart_rate=0))
    assert result.level.number == 1 and [r.id for r in result.rules_fired] == ["no_pulse", "hr_40_or_less"]
    assert result.alert.raised


def test_the_issues_shock_patient_is_level_1_with_the_rule_shown(
    ctx: AppContext, store: Store, actors: dict[str, Actor]
) -> None:
    shock = TriageInputs(
        spo2=85,
        heart_rate=130,
        respiratory_rate=28,
        systolic_bp=85,
        diastolic_bp=50,
        temperature_c=39.2,
        age=70,
        chief_complaint="shortness of breath",
    )
    result = service.assess(ctx, actors["clinician"], shock)
    assert result.level.number == 1 and "shock" in [r.id for r in result.rules_fired]
    assert result.alert.raised and any("Shock" in reason for reason in result.alert.reasons)
    # the explanation in probability points of P(level 1-2), adding up to the change from the base
    points = result.points
    assert abs(sum(d.points for d in points.drivers) + points.other - (points.probability - points.base)) < 0.5
    assert all(abs(d.points) >= 1.0 for d in points.drivers)
    assert "Systolic BP 85 mmHg" in [d.label for d in points.drivers]
    # in a French session the same drivers read in French; stored and answered by the API in English, as before
    french = translations("fr").gettext
    assert "PA systolique 85 mmHg" in [translated(french, d.label) for d in points.drivers]
    stored = points.to_dict()["drivers"]
    assert "Systolic BP 85 mmHg" in [d["label"] for d in stored]
    assert all(set(d) == {"input", "section", "label", "points"} for d in stored)


def test_missing_inputs_are_listed_with_their_weight(ctx: AppContext, store: Store, actors: dict[str, Actor]) -> None:
    sprain = TriageInputs(chief_complaint="ankle sprain", age=30, heart_rate=80, respiratory_rate=18, systolic_bp=120)
    result = service.assess(ctx, actors["clinician"], sprain)
    assert {"spo2", "pain"} <= set(result.missing)
    assert all(v >= 0 for v in result.missing.values())
    assert result.assessment_id is None  # no patient: shown, not stored


def test_a_child_gets_a_warning_that_the_model_is_for_adults(
    ctx: AppContext, store: Store, actors: dict[str, Actor]
) -> None:
    child = TriageInputs(age=6, chief_complaint="fever", heart_rate=120, respiratory_rate=24, temperature_c=38.5)
    result = service.assess(ctx, actors["clinician"], child)
    assert any("adults" in w for w in result.warnings)


def test_implausible_values_stop_the_assessment(ctx: AppContext, store: Store, actors: dict[str, Actor]) -> None:
    with pytest.raises(ImplausibleInputs) as caught:
        service.assess(ctx, actors["clinician"], TriageInputs(heart_rate=300, temperature_c=98.6))
    by_field = {i.field: i for i in caught.value.issues}
    assert by_field["temperature_c"].converted == 37.0
    assert by_field["heart_rate"].converted is None


def test_a_bed_manager_may_not_triage_and_the_denial_is_audited(
    ctx: AppContext, store: Store, actors: dict[str, Actor]
) -> None:
    with pytest.raises(PermissionDenied):
        service.assess(ctx, actors["bed_manager"], SPRAIN)
    with store.transaction() as db:
        outcomes = [(e.action, e.outcome) for e in db.scalars(select(AuditEvent))]
    assert ("triage.assess", "denied") in outcomes


def test_the_model_runs_without_holding_the_write_lock(
    ctx: AppContext, store: Store, actors: dict[str, Actor], monkeypatch: pytest.MonkeyPatch
) -> None:
    # While one server process computes a level, another must be able to write (its own audit rows):
    # the model runs before the audited transaction takes the database's write lock.
    compute = service._result
    others_wrote: list[bool] = []

    def while_computing(engine: service.TriageEngine, inputs: TriageInputs) -> service.TriageResult:
        # BEGIN IMMEDIATE: fails after 50 ms if the assessment's transaction held the lock.
        with store.short_lock_waits(50), store.transaction() as db:
            audit.record(db, username="other", role="clinician", action="x", outcome="success")
            db.rollback()
        others_wrote.append(True)
        return compute(engine, inputs)

    monkeypatch.setattr(service, "_result", while_computing)
    assert service.assess(ctx, actors["clinician"], SPRAIN).level.number >= 3
    assert others_wrote == [True]


def test_a_failing_model_is_audited_as_a_failure(
    ctx: AppContext, store: Store, actors: dict[str, Actor], monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(engine: service.TriageEngine, inputs: TriageInputs) -> service.TriageResult:
        raise ModelUnavailable("No triage model")

    monkeypatch.setattr(service, "_result", unavailable)
    with pytest.raises(ModelUnavailable):
        service.assess(ctx, actors["clinician"], SPRAIN)
    with store.transaction() as db:
        outcomes = [(e.action, e.outcome, e.detail) for e in db.scalars(select(AuditEvent))]
    assert ("triage.assess", "failure", "ModelUnavailable") in outcomes


def test_an_override_needs_a_reason_and_keeps_the_models_level(
    ctx: AppContext, store: Store, actors: dict[str, Actor], patient_id: int
) -> None:
    result = service.assess(ctx, actors["clinician"], SPRAIN, patient_id)
    assert result.assessment_id is not None
    with pytest.raises(ValidationFailed, match="reason"):
        service.override(store, actors["clinician"], result.assessment_id, 2, "")
    record = service.override(store, actors["clinician"], result.assessment_id, 2, "looks grey and sweaty")
    assert record.level == 2 and record.model_level == result.level.number
    with store.transaction() as db:
        row = db.get(Assessment, result.assessment_id)
        assert row is not None and row.override is not None and row.override["reason"] == "looks grey and sweaty"


def test_the_queue_puts_urgent_then_longest_waiting_first(
    ctx: AppContext, store: Store, actors: dict[str, Actor], patient_id: int
) -> None:
    other = patients.register_patient(
        store, actors["clinician"], given_name="Bo", family_name="Kim", sex="male", birth_date=date(1980, 1, 1)
    ).id
    gone = patients.register_patient(
        store, actors["clinician"], given_name="Cy", family_name="Park", sex="male", birth_date=date(1970, 1, 1)
    ).id
    now = utcnow()
    with store.transaction() as db:
        for pid, minutes, acuity in ((patient_id, 20, 4), (other, 90, 4)):
            db.add(
                Encounter(patient_id=pid, kind="emergency", started_at=now - timedelta(minutes=minutes), acuity=acuity)
            )
        # visits that ended (admitted, discharged) are not in the queue, however recent
        ended = now - timedelta(minutes=5)
        db.add(
            Encounter(patient_id=other, kind="emergency", started_at=now - timedelta(days=3), ended_at=ended, acuity=1)
        )
        db.add(
            Encounter(patient_id=gone, kind="emergency", started_at=now - timedelta(hours=3), ended_at=ended, acuity=2)
        )
    entries = service.queue(store, actors["clinician"], now)
    assert [e.patient_id for e in entries] == [other, patient_id]  # same level: longest waiting first
    assert entries[0].name == "KIM, Bo" and entries[0].mrn and entries[0].age is not None
    assert entries[0].overdue and not entries[1].overdue  # 90 min > 60 min for level 4
    service.assess(ctx, actors["clinician"], HYPOXIC, patient_id, nurse_level=4)
    entries = service.queue(store, actors["clinician"], utcnow())
    assert entries[0].patient_id == patient_id and entries[0].source == "model" and entries[0].level <= 2  # type: ignore[operator]
    assert entries[0].alert and entries[0].flagged and not entries[1].alert


def test_the_form_is_prefilled_from_the_latest_visit(store: Store, actors: dict[str, Actor], patient_id: int) -> None:
    with store.transaction() as db:
        db.add(
            Encounter(
                patient_id=patient_id,
                kind="emergency",
                started_at=utcnow(),
                chief_complaint="chest pain",
                arrival_mode="ambulance",
                vitals={
                    "heart_rate": 104,
                    "spo2": 93.0,
                    "systolic_bp": 150,
                    "diastolic_bp": 90,
                    "mental_status": "alert",
                },
            )
        )
    inputs, encounter_id = service.prefill(store, actors["clinician"], patient_id)
    assert encounter_id is not None
    assert inputs.chief_complaint == "chest pain" and inputs.heart_rate == 104 and inputs.sex == "female"
    assert inputs.transport_mode == "public ambulance" and inputs.age is not None and inputs.age >= 70


def test_the_second_reader_flags_the_nurses_level_and_her_decision_is_stored_and_audited(
    ctx: AppContext, store: Store, actors: dict[str, Actor], patient_id: int
) -> None:
    result = service.assess(ctx, actors["clinician"], HYPOXIC, patient_id, nurse_level=4)
    reading = result.second_reading
    assert reading is not None and reading.flagged and reading.nurse_level == 4
    assert reading.probability > 0.5 and reading.suggested_level == result.level.number
    assert any("SpO2 below 92" in r for r in reading.reasons)
    assert result.encounter_id is not None  # a new open visit: the ED queue shows the patient
    assert result.assessment_id is not None
    with pytest.raises(ValidationFailed, match="reason"):  # keeping a flagged level needs a reason
        service.decide(store, actors["clinician"], result.assessment_id, 4)
    record = service.decide(store, actors["clinician"], result.assessment_id, 2)
    assert record.decision == "changed" and record.nurse_level == 4 and record.flagged
    with store.transaction() as db:
        row = db.get(Assessment, result.assessment_id)
        assert row is not None and row.output["nurse_level"] == 4 and row.output["second_reading"]["flagged"]
        assert row.override is not None and row.override["level"] == 2
        events = [(e.outcome, e.detail) for e in db.scalars(select(AuditEvent)) if e.action == "triage.decide"]
    assert events[0] == ("failure", "ValidationFailed")  # the refused decision is audited too
    details = [d for outcome, d in events if outcome == "success"]
    assert details == [
        f"assessment {result.assessment_id}: nurse 4, medspeak {result.level.number} flagged, final 2 (changed)"
    ]
    entry = next(e for e in service.queue(store, actors["clinician"]) if e.patient_id == patient_id)
    assert entry.level == 2 and entry.source == "nurse" and not entry.flagged  # decided: no longer flagged


def test_a_nurse_level_that_agrees_is_not_flagged_and_confirmed_without_a_reason(
    ctx: AppContext, store: Store, actors: dict[str, Actor], patient_id: int
) -> None:
    result = service.assess(ctx, actors["clinician"], SPRAIN, patient_id, nurse_level=4)
    assert result.second_reading is not None and not result.second_reading.flagged
    assert result.assessment_id is not None
    assert service.decide(store, actors["clinician"], result.assessment_id, 4).decision == "confirmed"
    with pytest.raises(ValidationFailed):
        service.assess(ctx, actors["clinician"], SPRAIN, patient_id, nurse_level=7)


def test_the_patient_is_named_by_name_and_mrn(store: Store, actors: dict[str, Actor], patient_id: int) -> None:
    label = service.patient_label(store, actors["clinician"], patient_id)
    assert label.startswith("LIMA, Ana · MRN ") and label.endswith("years") and f" {patient_id} " not in label
