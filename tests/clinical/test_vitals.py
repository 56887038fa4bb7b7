"""One definition of each clinical concept: the forms, triage validation, indexing and the API read the
vitals spec (medspeak/clinical/vitals.py), and agree with it at its bounds."""

from __future__ import annotations

import json
from datetime import date
from typing import get_args

import pytest

from medspeak.clinical.patients import age_on, display_name
from medspeak.clinical.vitals import AVPU, RECORD_TYPES, TRIAGE_VITALS, VITALS, VitalSign, vital
from medspeak.errors import ValidationFailed
from medspeak.indexing.rules.measurements import find_vitals, plausible
from medspeak.triage.inputs import TriageInputs
from medspeak.triage.plausibility import check_inputs
from medspeak.triage.rules import RULES_FILE


def _issue_fields(spec: VitalSign, value: float) -> set[str]:
    return {issue.field for issue in check_inputs(TriageInputs(**{spec.key: value}))}


@pytest.mark.parametrize("spec", TRIAGE_VITALS, ids=lambda v: v.key)
def test_triage_accepts_the_plausible_range_and_refuses_just_beyond_it(spec: VitalSign) -> None:
    low, high = spec.plausible.low, spec.plausible.high
    assert _issue_fields(spec, low) == set() and _issue_fields(spec, high) == set()
    assert _issue_fields(spec, high + 1) == {spec.key}
    if low > 0:
        assert _issue_fields(spec, low - 0.5) == {spec.key}


@pytest.mark.parametrize("spec", VITALS, ids=lambda v: v.key)
def test_indexing_reads_a_vital_exactly_within_the_plausible_range(spec: VitalSign) -> None:
    low, high = spec.plausible.low, spec.plausible.high
    assert plausible(spec.fact_type, low, spec.ucum) and plausible(spec.fact_type, high, spec.ucum)
    assert not plausible(spec.fact_type, high + 1, spec.ucum)
    assert not plausible(spec.fact_type, low - 0.5, spec.ucum)


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("SpO2 45% on air", [("spo2", 45.0)]),  # indexing refused below 50 % while triage took down to 20 %
        ("SpO2 19% on air", []),
        ("SpO2 100% on air", [("spo2", 100.0)]),
        ("BP 280/45 mmHg", [("systolic_bp", 280.0), ("diastolic_bp", 45.0)]),  # indexing stopped at 260
        ("BP 310/90 mmHg", []),
        ("Temperature 26.5 °C", [("temperature", 26.5)]),  # severe hypothermia, refused below 30 before
        ("Temperature 104 °F", [("temperature", 104.0)]),
        ("Temperature 115 °F", []),  # 46.1 °C
        ("Heart rate 15 bpm", [("heart_rate", 15.0)]),  # profound bradycardia, refused below 20 before
        ("Heart rate 260 bpm", []),
    ],
)
def test_indexing_plausibility_follows_the_spec_in_notes(text: str, read: list[tuple[str, float]]) -> None:
    assert [(v.type, v.value) for v in find_vitals(text, "en")] == read


def test_danger_thresholds_are_the_safety_rules_thresholds() -> None:
    """The rules file is the executable form (hashed into the model); the spec names the same thresholds."""
    raw = json.loads(RULES_FILE.read_text(encoding="utf-8"))["rules"]
    rules = {
        (rule["field"], rule["op"], float(rule["value"]), rule["source"])
        for rule in raw
        if "field" in rule and rule["field"] in {v.key for v in VITALS} and rule["op"] != "in"
    }
    spec = {(v.key, t.op, float(t.bound), t.source) for v in VITALS for t in v.danger}
    assert spec == rules
    assert vital("spo2").in_danger(91) and not vital("spo2").in_danger(92)
    assert vital("heart_rate").in_danger(0) and not vital("heart_rate").in_danger(90)


def test_the_forms_and_the_patient_page_label_vitals_as_the_spec_does() -> None:
    from components import patient_view, triage_form

    numbers = {field: (label, fmt) for field, label, fmt in triage_form._NUMBERS}
    for key in ("temperature_c", "heart_rate", "respiratory_rate", "spo2", "pain"):
        assert numbers[key] == (vital(key).form_label, vital(key).number_format)
    assert numbers["temperature_c"] == ("Temperature (°C)", "%.1f") and numbers["spo2"] == ("SpO2 (%)", "%.0f")
    columns = dict(patient_view._VITALS)
    assert {key: columns[key] for key in (v.key for v in TRIAGE_VITALS)} == {v.key: v for v in TRIAGE_VITALS}
    assert columns["mental_status"] is None  # "AVPU"
    assert vital("heart_rate").column_label == "HR (/min)"
    french = {"HR": "FC", "Heart rate": "Fréquence cardiaque"}.get
    assert vital("heart_rate").column_label_in(lambda m: french(m) or m) == "FC (/min)"
    assert vital("heart_rate").form_label_in(lambda m: french(m) or m) == "Fréquence cardiaque (/min)"


def test_the_api_describes_each_vital_with_the_spec_and_takes_avpu_from_it() -> None:
    from medspeak.api.routes.triage import TriageIn

    fields = TriageIn.model_fields
    for spec in TRIAGE_VITALS:
        assert fields[spec.key].description == spec.describe()
    assert "plausible 20-100 %" in (fields["spo2"].description or "")
    assert get_args(get_args(fields["mental_status"].annotation)[0]) == AVPU


def test_avpu_is_one_tuple_for_triage_the_demo_and_the_llm_vital_types_are_the_specs() -> None:
    from medspeak.demo.vitals import MENTAL_STATUSES
    from medspeak.indexing.llm.prompt import VITAL_TYPES

    assert AVPU == ("alert", "verbal", "pain", "unresponsive") and MENTAL_STATUSES is AVPU
    with pytest.raises(ValidationFailed, match="AVPU"):
        TriageInputs(mental_status="drowsy")
    assert VITAL_TYPES == RECORD_TYPES and "temperature" in RECORD_TYPES


def test_display_name_and_age_on() -> None:
    assert display_name("Dubois", "Marie") == "DUBOIS, Marie"
    born = date(1980, 2, 29)
    assert age_on(born, date(2026, 2, 28)) == 45
    assert age_on(born, date(2026, 3, 1)) == 46
    assert age_on(date(1990, 12, 5), date(2026, 12, 5)) == 36


def test_each_stored_code_a_form_offers_has_its_word_in_order() -> None:
    from medspeak.clinical.vitals import AVPU_WORDS
    from medspeak.triage.inputs import TRANSPORT_MODES, TRANSPORT_WORDS

    assert tuple(AVPU_WORDS) == AVPU and tuple(TRANSPORT_WORDS) == TRANSPORT_MODES
