"""The generated demo dataset: plain frozen records, with keys linking them before the store assigns ids.

Dict fields (vitals, details, truth) hold JSON-ready values; treat them as read-only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from medspeak.clinical.patients import age_on

__all__ = ["DemoDataset", "DemoDocument", "DemoEncounter", "DemoPatient", "DemoWard"]


@dataclass(frozen=True)
class DemoWard:
    code: str
    name: str
    capacity: int  # beds


@dataclass(frozen=True)
class DemoPatient:
    mrn: str
    given_name: str
    family_name: str
    sex: str  # "female" | "male"
    birth_date: date
    language: str  # "en" | "fr"
    chronic_problems: tuple[str, ...]  # keys of catalog.PROBLEMS
    home_drugs: tuple[str, ...]  # keys of catalog.DRUGS
    allergies: tuple[str, ...]  # keys of catalog.ALLERGIES
    family_history: tuple[tuple[str, str], ...]  # (relative, key of catalog.FAMILY_HISTORY)
    insurance: str

    def age_on(self, day: date) -> int:
        """Age in whole years on ``day``."""
        return age_on(self.birth_date, day)


@dataclass(frozen=True)
class DemoEncounter:
    key: str  # "E00001"
    mrn: str
    kind: str  # "emergency" | "inpatient"
    ward_code: str | None
    started_at: datetime  # UTC
    ended_at: datetime | None  # None: still in hospital
    arrival_mode: str | None
    chief_complaint: str | None  # in the patient's language
    acuity: int | None  # triage level, 1 most urgent (emergency visits only)
    vitals: dict[str, Any] | None
    details: dict[str, Any]
    reason: str  # code of the reasons.Reason behind the visit


@dataclass(frozen=True)
class DemoDocument:
    key: str  # "D00001"
    mrn: str
    encounter_key: str | None
    kind: str  # "discharge_summary" | "prescription" | "lab_order" | "imaging_order"
    language: str
    created_at: datetime  # UTC
    title: str
    text: str
    truth: dict[str, Any]  # what the text states, for evaluating extraction later
    file_format: str  # "txt" | "pdf" | "png"
    render_seed: int  # makes the scanned look of a png reproducible

    @property
    def display_name(self) -> str:
        """A filename a user would give it, e.g. ``discharge-summary-2026-11-20.pdf``."""
        return f"{self.kind.replace('_', '-')}-{self.created_at.date().isoformat()}.{self.file_format}"


@dataclass(frozen=True)
class DemoDataset:
    seed: int
    now: datetime
    wards: tuple[DemoWard, ...]
    patients: tuple[DemoPatient, ...]
    encounters: tuple[DemoEncounter, ...]
    documents: tuple[DemoDocument, ...]

    def census(self) -> dict[str, int]:
        """Current inpatients per ward code (every ward present, zero included)."""
        counts = Counter(e.ward_code for e in self.encounters if e.kind == "inpatient" and e.ended_at is None)
        return {ward.code: counts.get(ward.code, 0) for ward in self.wards}
