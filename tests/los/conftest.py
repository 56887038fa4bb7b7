"""Fixtures: a small model trained on the project's generator, and a seeded store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from medspeak.demo.generator import generate
from medspeak.los.admissions import Admission
from medspeak.los.artifact import write_manifest
from medspeak.los.model import Hyper
from medspeak.los.training import fit_calibrated
from medspeak.los.training.demo import from_demo
from medspeak.store.db import Store
from medspeak.store.models import Document, Encounter, Patient, Ward

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
FAST = Hyper(rounds=40, max_depth=3, eta=0.15)  # a few seconds: tests check behaviour, not accuracy


@pytest.fixture(scope="session")
def demo_admissions() -> list[Admission]:
    return from_demo(generate(11, 400, NOW))


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory, demo_admissions: list[Admission]) -> Path:
    """A verified artifact folder (model + manifest) trained on generated stays."""
    folder = tmp_path_factory.mktemp("los-model")
    model = fit_calibrated(demo_admissions, FAST)
    model.meta_ = {"version": "los-test", "training_fingerprint": "none", "training_median_days": 4.0}
    write_manifest(folder, model.save(folder))
    return folder


def insert_demo(store: Store, n_patients: int, seed: int) -> None:
    """Wards, patients, visits and the text of their documents from the generator (no rendering: fast)."""
    data = generate(seed, n_patients, NOW)
    with store.transaction() as db:
        wards = {w.code: Ward(code=w.code, name=w.name, capacity=w.capacity) for w in data.wards}
        patients = {
            p.mrn: Patient(
                mrn=p.mrn, given_name=p.given_name, family_name=p.family_name, sex=p.sex, birth_date=p.birth_date
            )
            for p in data.patients
        }
        encounters = {
            e.key: Encounter(
                patient=patients[e.mrn],
                kind=e.kind,
                ward=wards[e.ward_code] if e.ward_code else None,
                started_at=e.started_at,
                ended_at=e.ended_at,
                chief_complaint=e.chief_complaint,
                details=e.details,
            )
            for e in data.encounters
        }
        db.add_all([*wards.values(), *patients.values(), *encounters.values()])
        db.flush()
        for d in data.documents:
            db.add(
                Document(
                    patient_id=patients[d.mrn].id,
                    encounter_id=encounters[d.encounter_key].id if d.encounter_key else None,
                    sha256="0" * 64,
                    storage_key="none",
                    display_name=d.display_name,
                    media_type="text/plain",
                    size_bytes=len(d.text),
                    kind=d.kind,
                    text=d.text,
                    created_at=d.created_at,
                )
            )


@pytest.fixture
def seeded(store: Store) -> Store:
    """A store with 80 generated patients (about 40 in beds), as of NOW."""
    insert_demo(store, 80, 5)
    return store
