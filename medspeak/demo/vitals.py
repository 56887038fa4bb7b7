"""Triage vital signs consistent with the acuity level and the complaint.

Level profiles and AVPU shares come from the KTAS sample (see ``medspeak.demo.calibration``);
each complaint adds its own deviations. Values stay within what a living adult shows and, at levels
3-5, within the ranges that would not have raised the level; about 5 % of the numbers are missing,
as in a busy emergency department.
"""

from __future__ import annotations

import random
from typing import Any, Final

from medspeak.clinical.vitals import AVPU, TRIAGE_VITALS
from medspeak.demo.calibration import MENTAL_STATUS_SHARE, VITALS_LEVEL_1, VITALS_LEVELS_2_TO_5
from medspeak.demo.reasons import Reason

__all__ = ["MENTAL_STATUSES", "VITAL_KEYS", "sample_vitals"]

# What a visit's vitals hold: the signs a triage nurse records, then AVPU.
VITAL_KEYS: Final = (*(v.key for v in TRIAGE_VITALS), "mental_status")
MENTAL_STATUSES: Final = AVPU
_MISSING_SHARE: Final = 0.05
_PULSE_RATIO: Final = (0.63, 0.06)  # diastolic / systolic; KTAS medians give 80/130 and 67.5/89.5
# What a living adult can show, then the ranges that keep a patient at levels 3 and 4-5: a value
# outside them (shock, SpO2 < 92 %...) would have raised the triage level.
_BOUNDS: Final = {
    1: {
        "systolic_bp": (55, 230),
        "heart_rate": (30, 190),
        "respiratory_rate": (6, 45),
        "temperature_c": (34.0, 41.5),
        "spo2": (70.0, 100.0),
    },
    3: {
        "systolic_bp": (90, 210),
        "heart_rate": (45, 140),
        "respiratory_rate": (10, 30),
        "temperature_c": (35.0, 40.5),
        "spo2": (90.0, 100.0),
    },
    4: {
        "systolic_bp": (100, 190),
        "heart_rate": (50, 115),
        "respiratory_rate": (12, 24),
        "temperature_c": (35.5, 38.6),
        "spo2": (94.0, 100.0),
    },
}


def sample_vitals(rng: random.Random, level: int, reason: Reason) -> dict[str, Any]:
    """Vitals with exactly ``VITAL_KEYS``: ints for rates, pressures and pain, floats for T (°C) and SpO2 (%)."""
    profile = VITALS_LEVEL_1 if level == 1 else VITALS_LEVELS_2_TO_5
    bounds = _BOUNDS[1 if level <= 2 else 3 if level == 3 else 4]
    shifts = dict(reason.shifts)
    drawn = {
        key: _draw(rng, median + shifts.get(key, 0.0), spread, bounds[key])
        for key, (median, spread) in profile.items()
        if key != "diastolic_bp"
    }
    ratio = rng.gauss(*_PULSE_RATIO) + shifts.get("diastolic_bp", 0.0) / drawn["systolic_bp"]
    diastolic = min(drawn["systolic_bp"] * ratio, drawn["systolic_bp"] - 15)  # pulse pressure >= 15 mmHg
    mental = reason.mental or rng.choices(MENTAL_STATUSES, weights=MENTAL_STATUS_SHARE[level])[0]
    vitals: dict[str, Any] = {
        "temperature_c": round(drawn["temperature_c"], 1),
        "heart_rate": round(drawn["heart_rate"]),
        "respiratory_rate": round(drawn["respiratory_rate"]),
        "spo2": float(round(drawn["spo2"])),
        "systolic_bp": round(drawn["systolic_bp"]),
        "diastolic_bp": round(max(diastolic, 30)),
        "pain": 0 if mental == "unresponsive" else rng.randint(*reason.pain),
        "mental_status": mental,
    }
    for key in VITAL_KEYS[:-1]:
        if rng.random() < _MISSING_SHARE:
            vitals[key] = None
    return vitals


def _draw(rng: random.Random, mean: float, spread: float, bounds: tuple[float, float]) -> float:
    """A normal draw inside ``bounds`` (redrawn a few times, then clipped)."""
    low, high = bounds
    value = mean
    for _ in range(8):
        value = rng.gauss(mean, spread)
        if low <= value <= high:
            return value
    return min(max(value, low), high)
