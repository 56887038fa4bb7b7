"""Which documents each visit leaves behind, and the file format each one arrives in.

Not every visit has every document: orders for most urgent visits, a prescription for most patients
sent home with a drug, a discharge summary for most finished stays. Formats are mixed like real
uploads: about half plain text, 30 % PDF and 20 % scanned pages (one-page documents only).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final

from medspeak.demo.clinical import discharge_drugs, safe_drugs
from medspeak.demo.dataset import DemoDocument, DemoEncounter, DemoPatient
from medspeak.demo.documents import Draft, Visit, discharge_summary, imaging_order, lab_order, prescription
from medspeak.demo.names import CLINICIANS
from medspeak.demo.reasons import REASONS

__all__ = ["DocumentKeys", "patient_documents"]

_ORDER_SHARE: Final = 0.6  # visits with a laboratory or imaging order on file
_PRESCRIPTION_SHARE: Final = 0.75  # discharged emergency patients given a prescription on file
_SUMMARY_SHARE: Final = 0.9  # finished stays with a discharge summary on file
_DISCHARGE_RX_SHARE: Final = 0.5  # finished stays with a discharge prescription on file
# A discharge summary is too long for one scanned page; the short documents may be scans.
_FORMATS: Final = {
    "discharge_summary": {"txt": 0.6, "pdf": 0.4},
    "other": {"txt": 0.47, "pdf": 0.30, "png": 0.23},
}


class DocumentKeys:
    """Document keys in creation order: D00001, D00002..."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"D{next(self._counter):05d}"


def patient_documents(
    rng: random.Random, keys: DocumentKeys, patient: DemoPatient, encounters: list[DemoEncounter], now: datetime
) -> list[DemoDocument]:
    """The documents on file for one patient's encounters, dated no later than ``now``."""
    drafts: list[tuple[DemoEncounter, datetime, Draft]] = []
    for encounter in sorted(encounters, key=lambda e: e.started_at):
        clinician = rng.choice(CLINICIANS)
        visit = Visit(patient, encounter, REASONS[encounter.reason], encounter.started_at, clinician)
        if encounter.kind == "inpatient":
            visit = replace(visit, triage=_triage_of(encounter, encounters))
        if encounter.kind == "emergency":
            drafts += _emergency_drafts(rng, visit, now)
        else:
            drafts += _stay_drafts(rng, visit, now)
    return [_document(rng, keys, patient, encounter, when, draft) for encounter, when, draft in drafts]


def _triage_of(stay: DemoEncounter, encounters: list[DemoEncounter]) -> DemoEncounter | None:
    """The emergency visit that ended when ``stay`` began (None for a planned admission)."""
    return next((e for e in encounters if e.kind == "emergency" and e.ended_at == stay.started_at), None)


def _emergency_drafts(rng: random.Random, visit: Visit, now: datetime) -> list[tuple[DemoEncounter, datetime, Draft]]:
    encounter, reason, patient = visit.encounter, visit.reason, visit.patient
    drafts = _order_drafts(rng, visit, now)
    drugs = patient.home_drugs if reason.code == "refill" else safe_drugs(reason.drugs, patient.allergies)
    discharged = encounter.details.get("disposition") == "discharged"
    if discharged and drugs and encounter.ended_at and rng.random() < _PRESCRIPTION_SHARE:
        at = encounter.ended_at
        drafts.append((encounter, at, prescription(rng, _at(visit, at), drugs)))
    return drafts


def _stay_drafts(rng: random.Random, visit: Visit, now: datetime) -> list[tuple[DemoEncounter, datetime, Draft]]:
    encounter, patient = visit.encounter, visit.patient
    drafts = [] if visit.triage else _order_drafts(rng, visit, now)  # via the ED, the orders are the ED's
    end = encounter.ended_at
    if end is None:
        return drafts
    if rng.random() < _SUMMARY_SHARE:
        drafts.append((encounter, end, discharge_summary(rng, _at(visit, end), encounter.started_at)))
    if rng.random() < _DISCHARGE_RX_SHARE:
        drugs = discharge_drugs(patient.home_drugs, visit.reason.drugs, patient.allergies)
        if drugs:
            drafts.append((encounter, end, prescription(rng, _at(visit, end), drugs)))
    return drafts


def _order_drafts(rng: random.Random, visit: Visit, now: datetime) -> list[tuple[DemoEncounter, datetime, Draft]]:
    reason, start = visit.reason, visit.encounter.started_at
    drafts = []
    if (reason.labs or (reason.level or 3) <= 3) and rng.random() < _ORDER_SHARE:
        at = min(start + timedelta(minutes=rng.randint(10, 50)), now)
        drafts.append((visit.encounter, at, lab_order(_at(visit, at))))
    if reason.imaging and rng.random() < _ORDER_SHARE:
        at = min(start + timedelta(minutes=rng.randint(20, 90)), now)
        drafts.append((visit.encounter, at, imaging_order(rng, _at(visit, at))))
    return drafts


def _at(visit: Visit, when: datetime) -> Visit:
    return replace(visit, when=when)


def _document(
    rng: random.Random, keys: DocumentKeys, patient: DemoPatient, encounter: DemoEncounter, when: datetime, draft: Draft
) -> DemoDocument:
    formats = _FORMATS.get(draft.kind, _FORMATS["other"])
    file_format = rng.choices(list(formats), weights=list(formats.values()))[0]
    return DemoDocument(
        key=keys.next(),
        mrn=patient.mrn,
        encounter_key=encounter.key,
        kind=draft.kind,
        language=patient.language,
        created_at=when,
        title=draft.title,
        text=draft.text,
        truth=draft.truth,
        file_format=file_format,
        render_seed=rng.getrandbits(32),
    )
