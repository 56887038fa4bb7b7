"""Read a MIMIC-IV-format folder into admissions in the demo hospital's vocabulary.

Reads ``hosp/admissions``, ``hosp/patients``, ``hosp/services``, ``hosp/transfers`` and
``hosp/prescriptions`` only. ``drgcodes`` and the billing diagnoses and procedures are assigned at
discharge: they are never opened. MIMIC shifts each patient's dates by its own offset (years
2110-2210), keeping weekday and time of day: dates are compared within a patient only.
The demo has no clinical notes; the medication orders (drug and route, at their start time) stand
in for "the reports written since entry".
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Final

import pandas as pd

from medspeak.errors import ValidationFailed
from medspeak.los.admissions import Admission, PriorStay, Report

__all__ = ["load_mimic"]

_TYPE: Final = {
    "EW EMER.": "emergency",
    "DIRECT EMER.": "emergency",
    "URGENT": "urgent",
    "ELECTIVE": "elective",
    "SURGICAL SAME DAY ADMISSION": "surgical same day",
    "EU OBSERVATION": "observation",
    "DIRECT OBSERVATION": "observation",
    "AMBULATORY OBSERVATION": "observation",
    "OBSERVATION ADMIT": "observation admit",
}
_SOURCE_PREFIX: Final = (
    ("EMERGENCY", "emergency department"),
    ("PHYSICIAN REFERRAL", "referral"),
    ("CLINIC REFERRAL", "referral"),
    ("WALK-IN", "referral"),
    ("TRANSFER", "transfer"),
    ("INTERNAL TRANSFER", "transfer"),
    ("PROCEDURE SITE", "procedure"),
    ("PACU", "procedure"),
)
# First service -> demo ward (as in medspeak.demo.calibration); an ICU first bed overrides it.
_SERVICE_WARD: Final = {
    "CMED": "CARD",
    "SURG": "SURG",
    "CSURG": "SURG",
    "NSURG": "SURG",
    "VSURG": "SURG",
    "TSURG": "SURG",
    "GYN": "SURG",
    "ORTHO": "ORTH",
    "TRAUM": "ORTH",
}
_ICU_MARKERS: Final = ("Intensive Care", "(CCU)", "SICU", "MICU", "CVICU")
# Medicare and Medicaid are public cover; MIMIC's "Other" is mostly private insurance.
_INSURANCE: Final = {"Medicare": "public", "Medicaid": "public"}
_TABLES: Final = ("admissions", "patients", "services", "transfers", "prescriptions")


def _read(folder: Path, table: str, dates: list[str]) -> pd.DataFrame:
    for name in (f"{table}.csv.gz", f"{table}.csv"):
        path = folder / "hosp" / name
        if path.exists():
            return pd.read_csv(path, parse_dates=dates, low_memory=False)
    raise ValidationFailed(f"{folder} is not a MIMIC-IV folder: hosp/{table}.csv.gz is missing.")


def _source(location: object) -> str:
    text = str(location).upper()
    return next((label for prefix, label in _SOURCE_PREFIX if text.startswith(prefix)), "other")


def _first_wards(folder: Path) -> dict[int, str]:
    services = _read(folder, "services", ["transfertime"]).sort_values("transfertime")
    wards = {
        int(h): _SERVICE_WARD.get(str(s), "GMED") for h, s in services.groupby("hadm_id").curr_service.first().items()
    }
    transfers = _read(folder, "transfers", ["intime"])
    beds = transfers[transfers.eventtype.isin(["admit", "transfer"])].sort_values("intime")
    for hadm, unit in beds.dropna(subset=["hadm_id"]).groupby("hadm_id").careunit.first().items():
        if any(marker in str(unit) for marker in _ICU_MARKERS):
            wards[int(hadm)] = "ICU"
    return wards


def _orders(folder: Path) -> dict[int, list[Report]]:
    rx = _read(folder, "prescriptions", ["starttime"]).dropna(subset=["starttime", "drug"])
    out: dict[int, list[Report]] = defaultdict(list)
    for hadm, start, drug, route in zip(rx.hadm_id, rx.starttime, rx.drug, rx.route.fillna(""), strict=True):
        out[int(hadm)].append(Report(start.to_pydatetime(), f"{drug} {route}".strip()))
    return out


def load_mimic(folder: Path) -> list[Admission]:
    """Every admission of a MIMIC-IV-format folder, with its patient's earlier stays and orders.

    Raises:
        ValidationFailed: a required table is missing.
    """
    adm = _read(folder, "admissions", ["admittime", "dischtime", "edregtime", "edouttime"])
    patients = _read(folder, "patients", []).set_index("subject_id")
    wards = _first_wards(folder)
    orders = _orders(folder)
    stays: dict[int, list[PriorStay]] = defaultdict(list)
    for subject, begin, end in zip(adm.subject_id, adm.admittime, adm.dischtime, strict=True):
        stays[int(subject)].append(PriorStay(begin.to_pydatetime(), end.to_pydatetime()))
    out = []
    for row in adm.itertuples(index=False):
        start: datetime = row.admittime.to_pydatetime()
        person = patients.loc[row.subject_id]
        ed = row.edouttime - row.edregtime if pd.notna(row.edregtime) and pd.notna(row.edouttime) else None
        out.append(
            Admission(
                key=str(row.hadm_id),
                patient_key=str(row.subject_id),
                admitted_at=start,
                discharged_at=row.dischtime.to_pydatetime(),
                admission_type=_TYPE.get(str(row.admission_type), "emergency"),
                admission_source=_source(row.admission_location),
                ward=wards.get(int(row.hadm_id), "GMED"),
                sex={"F": "female", "M": "male"}.get(str(person.gender), "unknown"),
                insurance=_INSURANCE.get(str(row.insurance), "private"),
                age_years=float(person.anchor_age) + (start.year - int(person.anchor_year)),
                ed_hours=max(0.0, ed.total_seconds() / 3600) if ed is not None else 0.0,
                prior_stays=tuple(p for p in stays[int(row.subject_id)] if p.discharged_at <= start),
                reports=tuple(sorted(orders.get(int(row.hadm_id), []), key=lambda r: r.at)),
            )
        )
    return out
