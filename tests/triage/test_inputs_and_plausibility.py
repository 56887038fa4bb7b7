import pytest

from medspeak.errors import ValidationFailed
from medspeak.triage.inputs import TriageInputs, parse_blood_pressure
from medspeak.triage.plausibility import apply_conversion, check_inputs


def test_blood_pressure_is_split_and_blanks_are_missing() -> None:
    inputs = TriageInputs.from_form({"blood_pressure": "142/88", "heart_rate": "", "transport_mode": "Ambulance"})
    assert (inputs.systolic_bp, inputs.diastolic_bp) == (142.0, 88.0)
    assert inputs.heart_rate is None
    assert inputs.transport_mode == "public ambulance"
    assert "heart_rate" in inputs.missing() and "systolic_bp" not in inputs.missing()


@pytest.mark.parametrize("text", ["142-88", "high", "142/"])
def test_a_malformed_blood_pressure_is_refused(text: str) -> None:
    with pytest.raises(ValidationFailed, match="systolic/diastolic"):
        parse_blood_pressure(text)


def test_unknown_categories_are_refused() -> None:
    with pytest.raises(ValidationFailed, match="AVPU"):
        TriageInputs(mental_status="sleepy")
    with pytest.raises(ValidationFailed, match="Unknown triage field"):
        TriageInputs.from_form({"shoe_size": 42})


def test_fahrenheit_is_caught_and_a_conversion_offered() -> None:
    issues = check_inputs(TriageInputs(temperature_c=101.3))
    assert len(issues) == 1 and issues[0].converted == 38.5 and issues[0].conversion == "°F → °C"
    assert apply_conversion(TriageInputs(temperature_c=101.3), issues[0]).temperature_c == 38.5


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("heart_rate", 300.0),
        ("heart_rate", -5.0),
        ("spo2", 140.0),
        ("temperature_c", 250.0),
        ("respiratory_rate", 120.0),
    ],
)
def test_impossible_values_are_refused_without_a_conversion(field: str, value: float) -> None:
    issues = check_inputs(TriageInputs(**{field: value}))
    assert [i.field for i in issues] == [field]
    assert issues[0].converted is None and "impossible" in issues[0].message
    with pytest.raises(ValidationFailed):
        apply_conversion(TriageInputs(**{field: value}), issues[0])


def test_spo2_as_a_fraction_and_bp_in_kpa_are_converted() -> None:
    issues = {i.field: i for i in check_inputs(TriageInputs(spo2=0.94, systolic_bp=16, diastolic_bp=10))}
    assert issues["spo2"].converted == 94.0
    assert issues["systolic_bp"].converted == 120 and issues["diastolic_bp"].converted == 75


def test_plausible_values_pass_and_a_swapped_pressure_is_caught() -> None:
    assert (
        check_inputs(TriageInputs(heart_rate=180, spo2=72, temperature_c=34.0, systolic_bp=70, diastolic_bp=40)) == []
    )
    assert check_inputs(TriageInputs(systolic_bp=80, diastolic_bp=120))[0].field == "diastolic_bp"
