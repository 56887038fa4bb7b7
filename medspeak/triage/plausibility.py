"""Catch values a living adult cannot have before they reach the model.

A value outside the plausible range is either a likely unit or typing slip, for which a conversion is
offered (98.6 looks like °F: 37.0 °C), or impossible, and refused with the reason. The model is never
run on a refused value. A heart rate of 0 is not refused: it is an arrest, and the safety rules give it
level 1 with the rule shown; so is an SpO2 below 70 %.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from medspeak.clinical.vitals import TRIAGE_VITALS
from medspeak.errors import ImplausibleInputs, InputIssue, ValidationFailed
from medspeak.i18n import N_
from medspeak.triage.inputs import TriageInputs

__all__ = ["ImplausibleInputs", "InputIssue", "apply_conversion", "check_inputs"]


@dataclass(frozen=True, slots=True)
class _Range:
    label: str
    unit: str
    low: float
    high: float
    # A conversion (name, function, range of raw values where it applies) for a common slip.
    conversion: tuple[str, Callable[[float], float], float, float] | None = None


_SLIP: Final = N_("{label} {value:g} is outside {low:g}-{high:g} {unit}; did you mean {converted:g} {unit} ({name})?")
# The common slips a conversion is offered for: (name, function, range of raw values where it applies).
_CONVERSIONS: Final[dict[str, tuple[str, Callable[[float], float], float, float]]] = {
    "temperature_c": ("°F → °C", lambda f: round((f - 32) * 5 / 9, 1), 77.0, 113.0),
    "spo2": ("fraction → %", lambda x: round(x * 100, 1), 0.4, 1.0),  # some monitors export 0.94
    # kPa is still read on some European devices: 16/10 kPa is 120/75 mmHg.
    "systolic_bp": ("kPa → mmHg", lambda k: round(k * 7.50062), 5.0, 40.0),
    "diastolic_bp": ("kPa → mmHg", lambda k: round(k * 7.50062), 2.0, 26.6),
}
# The plausible ranges of the vitals spec (medspeak/clinical/vitals.py: what a living adult shows; beyond,
# a slip or an arrest; 0/min heart rate is no pulse, the no_pulse rule's level 1), and the age.
_RANGES: Final[dict[str, _Range]] = {
    **{
        v.key: _Range(v.label, v.unit, v.plausible.low, v.plausible.high, _CONVERSIONS.get(v.key))
        for v in TRIAGE_VITALS
    },
    "age": _Range(N_("Age"), N_("years"), 0, 120),
}


def _check(field: str, value: float) -> InputIssue | None:
    rule = _RANGES[field]
    if rule.low <= value <= rule.high:
        return None
    said = {"label": rule.label, "value": value, "low": rule.low, "high": rule.high, "unit": rule.unit}
    if rule.conversion is not None:
        name, convert, low, high = rule.conversion
        if low <= value <= high:
            converted = convert(value)
            if rule.low <= converted <= rule.high:
                return InputIssue.of(field, value, _SLIP, converted, name, **said, converted=converted, name=name)
    return InputIssue.of(
        field, value, N_("{label} {value:g} {unit} is impossible (accepted: {low:g}-{high:g})."), **said
    )


def check_inputs(inputs: TriageInputs) -> list[InputIssue]:
    """Every implausible value of ``inputs``; an empty list means the model may run."""
    issues = [
        issue
        for field in _RANGES
        if (value := getattr(inputs, field)) is not None and (issue := _check(field, float(value))) is not None
    ]
    if (
        inputs.systolic_bp is not None
        and inputs.diastolic_bp is not None
        and not issues
        and inputs.diastolic_bp >= inputs.systolic_bp
    ):
        issues.append(
            InputIssue.of(
                "diastolic_bp",
                inputs.diastolic_bp,
                N_("Blood pressure {systolic:g}/{diastolic:g}: the diastolic must be below the systolic (swapped?)."),
                systolic=inputs.systolic_bp,
                diastolic=inputs.diastolic_bp,
            )
        )
    return issues


def apply_conversion(inputs: TriageInputs, issue: InputIssue) -> TriageInputs:
    """The inputs with the offered conversion of ``issue`` accepted.

    Raises:
        ValidationFailed: the issue offers no conversion (the value must be corrected by hand).
    """
    if issue.converted is None:
        raise ValidationFailed(N_("{message} Please correct it."), message=issue.message)
    return inputs.with_value(issue.field, issue.converted)
