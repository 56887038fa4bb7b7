"""What is known about a stay at a moment of it: the model's inputs, without leakage.

A prediction made ``elapsed_days`` after the admission sees the admission data, the patient's
earlier stays, and the reports written up to that moment; nothing written later, and nothing that
is known only at discharge (discharge time or place, billing diagnoses, DRG codes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from medspeak.los.admissions import Admission, los_days

__all__ = ["CATEGORICAL", "FORBIDDEN", "NUMERIC", "Snapshot", "snapshot"]

CATEGORICAL: Final = ("admission_type", "admission_source", "ward", "sex", "insurance", "admit_weekday")
NUMERIC: Final = (
    "age_years",
    "admit_hour",
    "ed_hours",
    "prior_admissions_1y",
    "prior_mean_los_days",
    "days_since_last_discharge",
    "elapsed_days",
    "reports_so_far",
)
# Known only at or after discharge: never a feature at admission (see ../shared/data/README.md).
FORBIDDEN: Final = frozenset(
    {"drg", "drgcodes", "diagnoses_icd", "procedures_icd", "discharge_location", "dischtime", "deathtime", "los"}
)
_NO_PRIOR_DAYS: Final = 365.0  # "no stay in the last year" reads as a year ago: one scale for the trees
_WEEKDAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Snapshot:
    """The model's view of a stay at one moment: named values plus the reports' text."""

    values: dict[str, float | str]
    text: str


def snapshot(admission: Admission, elapsed_days: float = 0.0) -> Snapshot:
    """The features of ``admission`` as known ``elapsed_days`` after it began.

    Args:
        admission: the stay (its discharge time is never read).
        elapsed_days: time already spent in hospital, days (0 = at admission).
    """
    at = admission.admitted_at + timedelta(days=elapsed_days)
    earlier = [p for p in admission.prior_stays if p.discharged_at <= admission.admitted_at]
    year_ago = admission.admitted_at - timedelta(days=365)
    recent = [p for p in earlier if p.admitted_at >= year_ago]
    last_end = max((p.discharged_at for p in earlier), default=None)
    written = [r for r in admission.reports if r.at <= at]
    values: dict[str, float | str] = {
        "admission_type": admission.admission_type,
        "admission_source": admission.admission_source,
        "ward": admission.ward,
        "sex": admission.sex,
        "insurance": admission.insurance,
        "admit_weekday": _WEEKDAYS[admission.admitted_at.weekday()],
        "age_years": float(admission.age_years),
        "admit_hour": admission.admitted_at.hour + admission.admitted_at.minute / 60,
        "ed_hours": float(admission.ed_hours),
        "prior_admissions_1y": float(len(recent)),
        "prior_mean_los_days": (
            sum(los_days(p.admitted_at, p.discharged_at) for p in earlier) / len(earlier) if earlier else 0.0
        ),
        "days_since_last_discharge": (
            min(_NO_PRIOR_DAYS, los_days(last_end, admission.admitted_at)) if last_end else _NO_PRIOR_DAYS
        ),
        "elapsed_days": float(elapsed_days),
        "reports_so_far": float(len(written)),
    }
    return Snapshot(values, "\n".join(r.text for r in written))
