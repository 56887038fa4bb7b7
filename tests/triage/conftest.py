"""Triage fixtures: the committed model, and a few patients written as a nurse would."""

from __future__ import annotations

import pytest

from medspeak.triage.inputs import TriageInputs

HYPOXIC = TriageInputs.from_form(
    {
        "temperature_c": 36.8,
        "heart_rate": 118,
        "respiratory_rate": 26,
        "spo2": 88,
        "blood_pressure": "100/60",
        "age": 71,
        "sex": "male",
        "chief_complaint": "dyspnea",
        "mental_status": "alert",
        "pain": 2,
        "injury": False,
        "transport_mode": "public ambulance",
    }
)
SPRAIN = TriageInputs(
    temperature_c=36.6,
    heart_rate=80,
    respiratory_rate=18,
    spo2=99,
    systolic_bp=125,
    diastolic_bp=80,
    transport_mode="walk-in",
    age=25,
    sex="female",
    chief_complaint="ankle sprain",
    mental_status="alert",
    pain=3,
    injury=True,
)


@pytest.fixture(scope="session")
def engine():  # type: ignore[no-untyped-def]
    """The committed model and its explainer, loaded once for the session (an application context's copy)."""
    from medspeak.services.triage import TriageEngine

    return TriageEngine.load()
