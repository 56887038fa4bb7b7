"""Each patient's visits: emergency visits over the last 30 days and the inpatient stays they lead to.

Patients in a bed now get a current stay (length-biased, see ``medspeak.demo.census``), through the
emergency department or a planned admission. The others get an emergency visit whose triage level,
arrival mode, admission and disposition follow the KTAS shares, or a past planned stay; a finished
stay is placed so that it ended before ``now``.
"""

from __future__ import annotations

import itertools
import math
import random
from datetime import datetime, timedelta
from typing import Any, Final

from medspeak.demo.calibration import ACUITY_SHARE, ADMISSION_SHARE, ARRIVAL_SHARE, NON_ADMITTED_DISPOSITION_SHARE
from medspeak.demo.census import current_stay, past_stay_length
from medspeak.demo.dataset import DemoEncounter, DemoPatient
from medspeak.demo.reasons import COMPLAINTS, PLANNED, Reason
from medspeak.demo.vitals import sample_vitals

__all__ = ["WINDOW", "Keys", "current_patient", "past_patient"]

WINDOW: Final = timedelta(days=30)  # emergency visits are spread over the last 30 days
# Share of stays that began in the ED: fewer on surgical wards (planned operations); with full-size wards
# the hospital-wide share is ~0.51, near the MIMIC-IV demo figure (calibration.SOURCE_ED_SHARE, 0.48).
_ED_ORIGIN: Final = {"SURG": 0.35, "ORTH": 0.35}
_ED_ORIGIN_DEFAULT: Final = 0.6
_PAST_PLANNED_SHARE: Final = 0.15  # patients seen only for a past planned stay
_READMITTED_SHARE: Final = 0.2  # patients in a bed now who had another stay this month
_EARLIER_VISIT_SHARE: Final = 0.12  # patients with a second, earlier emergency visit
_PLANNED_ADMISSION: Final = {  # (admission_type, admission_source) of each planned reason
    "cholecystectomy": ("elective", "referral"),
    "hip_replacement": ("elective", "referral"),
    "angiography": ("elective", "referral"),
    "anaemia": ("urgent", "referral"),
    "effusion": ("urgent", "transfer"),
    "post_op": ("urgent", "transfer"),
}
_OTHER_ARRIVALS: Final = ("police", "transfer")
# Relative arrivals per hour of the day: quiet at night, busiest late morning to evening.
_HOURLY: Final = (3, 2, 2, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 8, 8, 7, 7, 7, 7, 6, 6, 5, 4, 4)


class Keys:
    """Encounter keys in creation order: E00001, E00002..."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"E{next(self._counter):05d}"


def current_patient(
    rng: random.Random, keys: Keys, patient: DemoPatient, ward: str, now: datetime
) -> list[DemoEncounter]:
    """A patient in a bed of ``ward`` now, with how they came (and perhaps an earlier stay or visit)."""
    _length, elapsed = current_stay(rng, ward)
    start = now - elapsed
    if rng.random() < _ED_ORIGIN.get(ward, _ED_ORIGIN_DEFAULT):
        encounters = _through_emergency(rng, keys, patient, _complaint_for(rng, ward), start, None)
    else:
        reason = next(r for r in PLANNED if r.ward == ward)
        encounters = [_planned_stay(rng, keys, patient, reason, start, None)]
    if rng.random() < _READMITTED_SHARE:
        reason = rng.choice([*PLANNED, *(r for level in (2, 3, 4) for r in COMPLAINTS[level] if r.admits)])
        encounters = [*_finished_stay(rng, keys, patient, reason, now - WINDOW, start - timedelta(days=2)), *encounters]
    return _with_earlier_visit(rng, keys, patient, encounters, now)


def past_patient(rng: random.Random, keys: Keys, patient: DemoPatient, now: datetime) -> list[DemoEncounter]:
    """A patient not in hospital now: an emergency visit (maybe admitted, since discharged) or a past stay."""
    if rng.random() < _PAST_PLANNED_SHARE:
        encounters = _finished_stay(rng, keys, patient, rng.choice(PLANNED), now - WINDOW, now)
    else:
        level = rng.choices(list(ACUITY_SHARE), weights=list(ACUITY_SHARE.values()))[0]
        if rng.random() < ADMISSION_SHARE[level]:
            reason = rng.choice([r for r in COMPLAINTS[level] if r.admits])
            encounters = _finished_stay(rng, keys, patient, reason, now - WINDOW, now - timedelta(hours=1))
        else:
            encounters = [_discharged_visit(rng, keys, patient, rng.choice(COMPLAINTS[level]), now)]
    return _with_earlier_visit(rng, keys, patient, encounters, now)


def _finished_stay(
    rng: random.Random, keys: Keys, patient: DemoPatient, reason: Reason, earliest: datetime, latest_end: datetime
) -> list[DemoEncounter]:
    """A stay over by ``latest_end`` (through the ED for a complaint); [] when it does not fit."""
    length = past_stay_length(rng, reason.ward)
    earliest += timedelta(hours=12)  # room for the emergency visit before the stay
    if latest_end - length < earliest:
        return []
    start = _arrival(rng, earliest, latest_end - length)
    if reason.level is None:
        return [_planned_stay(rng, keys, patient, reason, start, start + length)]
    return _through_emergency(rng, keys, patient, reason, start, start + length)


def _complaint_for(rng: random.Random, ward: str) -> Reason:
    """An emergency complaint that this ward admits, weighted by how often it leads to admission."""
    options = [r for level in COMPLAINTS.values() for r in level if r.ward == ward and r.admits]
    weights = [ACUITY_SHARE[r.level or 5] * ADMISSION_SHARE[r.level or 5] for r in options]
    return rng.choices(options, weights=weights)[0]


def _through_emergency(
    rng: random.Random, keys: Keys, patient: DemoPatient, reason: Reason, start: datetime, end: datetime | None
) -> list[DemoEncounter]:
    """An emergency visit that ends when the stay from ``start`` begins."""
    duration = _ed_duration(rng, admitted=True)
    visit = _emergency(rng, keys, patient, reason, start - duration, duration, "admitted")
    stay = _stay(keys, patient, reason, start, end, ("emergency", "emergency department"), visit.vitals)
    return [visit, stay]


def _planned_stay(
    rng: random.Random, keys: Keys, patient: DemoPatient, reason: Reason, start: datetime, end: datetime | None
) -> DemoEncounter:
    vitals = sample_vitals(rng, 5, reason)
    return _stay(keys, patient, reason, start, end, _PLANNED_ADMISSION[reason.code], vitals)


def _discharged_visit(
    rng: random.Random,
    keys: Keys,
    patient: DemoPatient,
    reason: Reason,
    latest: datetime,
    earliest: datetime | None = None,
) -> DemoEncounter:
    """An emergency visit that did not lead to admission (home, left, transferred or died)."""
    level = reason.level or 5
    shares = NON_ADMITTED_DISPOSITION_SHARE[level]
    disposition = rng.choices(list(shares), weights=list(shares.values()))[0]
    duration = _ed_duration(rng, admitted=False)
    arrival = _arrival(rng, earliest or latest - WINDOW, latest - duration)
    return _emergency(rng, keys, patient, reason, arrival, duration, disposition)


def _emergency(
    rng: random.Random,
    keys: Keys,
    patient: DemoPatient,
    reason: Reason,
    arrival: datetime,
    duration: timedelta,
    disposition: str,
) -> DemoEncounter:
    level = reason.level or 5
    walk, ambulance, private, other = ARRIVAL_SHARE[level]
    modes = ["walk-in", "ambulance", "private vehicle", *_OTHER_ARRIVALS]
    mode = rng.choices(modes, weights=[walk, ambulance, private, other / 2, other / 2])[0]
    return DemoEncounter(
        key=keys.next(),
        mrn=patient.mrn,
        kind="emergency",
        ward_code=None,
        started_at=arrival,
        ended_at=arrival + duration,
        arrival_mode=mode,
        chief_complaint=reason.text.text(patient.language),
        acuity=level,
        vitals=sample_vitals(rng, level, reason),
        details={"disposition": disposition, "reason_code": reason.code},
        reason=reason.code,
    )


def _stay(
    keys: Keys,
    patient: DemoPatient,
    reason: Reason,
    start: datetime,
    end: datetime | None,
    admission: tuple[str, str],
    vitals: dict[str, Any] | None,
) -> DemoEncounter:
    details = {
        "admission_type": admission[0],
        "admission_source": admission[1],
        "insurance": patient.insurance,
        "reason_code": reason.code,
    }
    return DemoEncounter(
        key=keys.next(),
        mrn=patient.mrn,
        kind="inpatient",
        ward_code=reason.ward,
        started_at=start,
        ended_at=end,
        arrival_mode=None,
        chief_complaint=reason.text.text(patient.language),
        acuity=None,
        vitals=dict(vitals) if vitals else None,
        details=details,
        reason=reason.code,
    )


def _with_earlier_visit(
    rng: random.Random, keys: Keys, patient: DemoPatient, encounters: list[DemoEncounter], now: datetime
) -> list[DemoEncounter]:
    """Sometimes add a minor emergency visit, discharged, at least a day before the first encounter."""
    latest = min((e.started_at for e in encounters), default=now) - timedelta(days=1)
    if rng.random() >= _EARLIER_VISIT_SHARE or latest - (now - WINDOW) < timedelta(days=1):
        return encounters
    level = rng.choices((4, 5), weights=(ACUITY_SHARE[4], ACUITY_SHARE[5]))[0]  # minor: never admitted nor died
    reason = rng.choice(COMPLAINTS[level])
    earlier = _discharged_visit(rng, keys, patient, reason, latest, earliest=now - WINDOW)
    return [earlier, *encounters]


def _ed_duration(rng: random.Random, *, admitted: bool) -> timedelta:
    median_hours, low, high = (6.0, 2.0, 24.0) if admitted else (3.0, 0.75, 12.0)
    hours = math.exp(rng.gauss(math.log(median_hours), 0.5))
    return timedelta(hours=min(max(hours, low), high))


def _arrival(rng: random.Random, earliest: datetime, latest: datetime) -> datetime:
    """A moment in [earliest, latest], following the hourly arrival curve."""
    latest = max(latest, earliest)
    span = (latest - earliest).total_seconds()
    moment = earliest
    for _ in range(40):
        moment = earliest + timedelta(seconds=rng.uniform(0, span))
        if rng.uniform(0, max(_HOURLY)) < _HOURLY[moment.hour]:
            break
    return moment.replace(microsecond=0)
