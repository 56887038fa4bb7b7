"""Seeded generator of realistic synthetic patients for the demo (pure: no database, no files).

The same seed, patient count and ``now`` give the same dataset. Nothing is copied from real
records: names, histories and documents come from our own tables (``catalog``, ``reasons``,
``names``), and the proportions follow published aggregates only (``calibration``): KTAS triage
levels (Moon SH et al., PLOS ONE 2019, doi:10.1371/journal.pone.0216972, CC BY 4.0) and MIMIC-IV
demo lengths of stay (Johnson A. et al., MIMIC-IV Clinical Database Demo v2.2, PhysioNet, ODbL).
"""

from __future__ import annotations

import random
from datetime import datetime

from medspeak.demo.census import plan_census, plan_wards
from medspeak.demo.dataset import DemoDataset, DemoDocument, DemoEncounter, DemoPatient, DemoWard
from medspeak.demo.encounters import Keys, current_patient, past_patient
from medspeak.demo.population import make_patient
from medspeak.demo.records import DocumentKeys, patient_documents

__all__ = ["DemoDataset", "DemoDocument", "DemoEncounter", "DemoPatient", "DemoWard", "generate"]

_MRN_START = (1_000, 400_000)  # first MRN number drawn here; then increasing with small gaps


def generate(seed: int, n_patients: int, now: datetime) -> DemoDataset:
    """A synthetic hospital: wards, patients, emergency visits, stays and documents, as of ``now``.

    Args:
        seed: seed of the random generator; the whole dataset follows from it.
        n_patients: number of patients (adults). About half of them are in a bed now.
        now: the moment the data describes (timezone-aware); visits span the 30 days before it.

    Raises:
        ValueError: ``now`` is naive or ``n_patients`` is negative.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (use medspeak.store.types.utcnow())")
    if n_patients < 0:
        raise ValueError("n_patients must be >= 0")
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, nothing secret
    wards = plan_wards(n_patients)
    census = plan_census(rng, wards, n_patients)
    patients = _patients(rng, n_patients, now)
    beds = [code for code, count in census.items() for _ in range(count)]
    in_bed = dict(zip(rng.sample(range(n_patients), len(beds)), beds, strict=True))
    encounter_keys, document_keys = Keys(), DocumentKeys()
    encounters: list[DemoEncounter] = []
    documents: list[DemoDocument] = []
    for index, patient in enumerate(patients):
        ward = in_bed.get(index)
        own = (
            current_patient(rng, encounter_keys, patient, ward, now)
            if ward
            else past_patient(rng, encounter_keys, patient, now)
        )
        encounters += own
        documents += patient_documents(rng, document_keys, patient, own, now)
    return DemoDataset(seed, now, wards, tuple(patients), tuple(encounters), tuple(documents))


def _patients(rng: random.Random, n_patients: int, now: datetime) -> list[DemoPatient]:
    number = rng.randint(*_MRN_START)
    patients = []
    for _ in range(n_patients):
        number += rng.randint(1, 9)
        patients.append(make_patient(rng, f"MS{number:06d}", now.date()))
    return patients
