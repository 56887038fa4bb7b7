"""One admission record for every source: the MIMIC-IV demo, the demo generator and the store.

Each source maps its own vocabulary onto the demo hospital's (ward codes, admission types and
sources), so that a model trained on one can be applied to another. Only what is known at the
admission, or written before the moment of a prediction, may become a feature: the discharge time is
kept for the target and for replaying the census, never read by ``medspeak.los.features``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["Admission", "PriorStay", "Report", "los_days"]

_SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class Report:
    """A report or order written during the stay: its time and its text."""

    at: datetime
    text: str


@dataclass(frozen=True)
class PriorStay:
    """An earlier inpatient stay of the same patient (ended before this admission)."""

    admitted_at: datetime
    discharged_at: datetime


@dataclass(frozen=True)
class Admission:
    """An inpatient stay in the harmonised vocabulary.

    Attributes:
        key: the source's admission id (MIMIC ``hadm_id``, demo key, store encounter id).
        patient_key: groups a patient's admissions (cross-validation is grouped by it).
        admitted_at: start of the inpatient stay.
        discharged_at: end of the stay; None while the patient is in a bed. Target only.
        admission_type: emergency, urgent, elective, surgical same day, observation, observation admit.
        admission_source: emergency department, referral, transfer, procedure, other.
        ward: demo ward code (GMED, CARD, SURG, ORTH, RESP, ICU).
        sex: female, male or unknown.
        insurance: public, public with private supplement, private, uninsured.
        age_years: age at admission, in years.
        ed_hours: time spent in the emergency department before the admission (0 when none), hours.
        prior_stays: the patient's earlier stays.
        reports: reports and orders with their times (only those written before a prediction count).
    """

    key: str
    patient_key: str
    admitted_at: datetime
    discharged_at: datetime | None
    admission_type: str
    admission_source: str
    ward: str
    sex: str
    insurance: str
    age_years: float
    ed_hours: float = 0.0
    prior_stays: tuple[PriorStay, ...] = ()
    reports: tuple[Report, ...] = field(default=(), repr=False)

    @property
    def los_days(self) -> float | None:
        """Length of stay in days, None while the stay goes on."""
        return None if self.discharged_at is None else los_days(self.admitted_at, self.discharged_at)


def los_days(start: datetime, end: datetime) -> float:
    """Days between two moments (fractional)."""
    return (end - start).total_seconds() / _SECONDS_PER_DAY
