"""``medspeak demo seed``: write a generated demo hospital into an empty store, and sample files for upload tests.

Everything goes in one transaction with one audit event; originals are stored once under their
SHA-256 (a file written for a transaction that then fails stays as an unreferenced original, which
a later run reuses).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from medspeak.demo.dataset import DemoDataset, DemoDocument, DemoEncounter, DemoPatient
from medspeak.demo.generator import generate
from medspeak.demo.originals import Original, make_original
from medspeak.store import audit
from medspeak.store.db import Store
from medspeak.store.files import FileStorage, open_storage
from medspeak.store.models import Assessment, Document, Encounter, Patient, Ward
from medspeak.store.types import utcnow

__all__ = ["SeedReport", "reset_demo", "seed_demo", "write_samples"]

# Scans take ~0.2 s each to render; beyond this many in one run the rest are stored as PDFs.
_MAX_SCANS_PER_RUN: Final = 40


@dataclass(frozen=True)
class SeedReport:
    """What a seeding run wrote (all zero and ``skipped`` when the store already had patients)."""

    wards: int
    patients: int
    encounters: int
    inpatients_now: int
    documents: int
    skipped: bool


_SKIPPED: Final = SeedReport(0, 0, 0, 0, 0, skipped=True)


def seed_demo(store: Store, *, n_patients: int, seed: int, now: datetime | None = None) -> SeedReport:
    """Write ``n_patients`` synthetic patients with their visits and documents, unless patients exist.

    Args:
        store: a migrated store; originals go to ``store.settings.documents_dir``.
        n_patients: how many patients (about half of them in a bed now).
        seed: the generator's seed; the same seed and ``now`` give the same data.
        now: the moment the data describes (timezone-aware); defaults to the current time.

    Raises:
        ValueError: ``now`` is naive.
    """
    if _has_patients(store):
        return _SKIPPED
    dataset = generate(seed, n_patients, now or utcnow())
    originals = _render(dataset)  # before the write lock: rendering is the slow part
    storage = open_storage(store)
    with store.transaction() as db:
        if db.scalar(select(Patient.id).limit(1)) is not None:  # another seeder came first
            return _SKIPPED
        report = _write(db, storage, dataset, originals)
        audit.record(
            db, username="system", role="system", action="demo.seed", outcome="success", detail=_counts(report)
        )
    return report


def reset_demo(
    store: Store,
    *,
    n_patients: int,
    seed: int,
    now: datetime | None = None,
    username: str = "system",
    role: str = "system",
) -> SeedReport:
    """Put a demo store back to its seeded state: every patient, stay, document, fact and assessment removed,
    then the same seed written again as of ``now``, in one transaction with one audit event.

    Users, sessions, wards and the audit trail stay (the trail is append-only: the reset is one more row of it).
    Originals no longer referenced are removed afterwards. The caller checks that this is a demo install.
    """
    dataset = generate(seed, n_patients, now or utcnow())
    originals = _render(dataset)
    storage = open_storage(store)
    with store.transaction() as db:
        before = {
            "patients": len(db.scalars(select(Patient.id)).all()),
            "documents": len(db.scalars(select(Document.id)).all()),
        }
        old_keys = set(db.scalars(select(Document.storage_key)))
        # Rows below documents (pages, jobs, facts, reviews, links) go with them: ON DELETE CASCADE.
        for table in (Assessment, Document, Encounter, Patient):
            db.execute(delete(table))
        report = _write(db, storage, dataset, originals)
        kept = set(db.scalars(select(Document.storage_key)))
        audit.record(
            db,
            username=username,
            role=role,
            action="demo.reset",
            outcome="success",
            detail=f"removed patients={before['patients']} documents={before['documents']}; seeded {_counts(report)}",
        )
    for key in sorted(old_keys - kept):
        storage.discard(key)
    return report


def write_samples(out_dir: Path, *, n: int, seed: int, now: datetime | None = None) -> list[Path]:
    """Write ``n`` demo documents (text, PDF and scans; English and French) and ``truth.jsonl`` beside them.

    Each line of ``truth.jsonl`` names a file and gives its kind, language, patient, full text and the
    structured truth it states. Returns the documents' paths (not the truth file).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    chosen = _sample_documents(seed, n, now or utcnow())
    paths, lines = [], []
    for index, document in enumerate(chosen, start=1):
        original = make_original(document)
        path = out_dir / f"{index:03d}-{document.display_name}"
        path.write_bytes(original.content)
        paths.append(path)
        lines.append(json.dumps(_truth_line(path.name, document, original), ensure_ascii=False))
    (out_dir / "truth.jsonl").write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    return paths


def _has_patients(store: Store) -> bool:
    with store.transaction() as db:
        return db.scalar(select(Patient.id).limit(1)) is not None


def _render(dataset: DemoDataset) -> dict[str, Original]:
    originals: dict[str, Original] = {}
    scans = 0
    for document in dataset.documents:
        file_format = document.file_format
        if file_format == "png":
            scans += 1
            file_format = "png" if scans <= _MAX_SCANS_PER_RUN else "pdf"
        originals[document.key] = make_original(document, file_format)
    return originals


def _write(db: Session, storage: FileStorage, dataset: DemoDataset, originals: dict[str, Original]) -> SeedReport:
    wards = _wards(db, dataset)
    patients = {p.mrn: _patient_row(p) for p in dataset.patients}
    encounters = {e.key: _encounter_row(e, patients[e.mrn], wards) for e in dataset.encounters}
    db.add_all([*patients.values(), *encounters.values()])
    db.flush()  # ids for the documents
    for document in dataset.documents:
        encounter_id = encounters[document.encounter_key].id if document.encounter_key else None
        original = originals[document.key]
        db.add(_document_row(db, storage, document, original, patients[document.mrn].id, encounter_id))
    db.flush()
    return SeedReport(
        wards=len(wards),
        patients=len(patients),
        encounters=len(encounters),
        inpatients_now=sum(dataset.census().values()),
        documents=len(dataset.documents),
        skipped=False,
    )


def _patient_row(patient: DemoPatient) -> Patient:
    return Patient(
        mrn=patient.mrn,
        given_name=patient.given_name,
        family_name=patient.family_name,
        sex=patient.sex,
        birth_date=patient.birth_date,
        language=patient.language,
    )


def _encounter_row(encounter: DemoEncounter, patient: Patient, wards: dict[str, Ward]) -> Encounter:
    return Encounter(
        patient=patient,
        kind=encounter.kind,
        ward=wards[encounter.ward_code] if encounter.ward_code else None,
        started_at=encounter.started_at,
        ended_at=encounter.ended_at,
        arrival_mode=encounter.arrival_mode,
        chief_complaint=encounter.chief_complaint,
        acuity=encounter.acuity,
        vitals=encounter.vitals,
        details=encounter.details,
    )


def _wards(db: Session, dataset: DemoDataset) -> dict[str, Ward]:
    """The demo's wards, reusing any with the same code (and enough beds for today's census)."""
    existing = {w.code: w for w in db.scalars(select(Ward))}
    wards = {}
    for ward in dataset.wards:
        row = existing.get(ward.code)
        if row is None:
            row = Ward(code=ward.code, name=ward.name, capacity=ward.capacity)
            db.add(row)
        row.capacity = max(row.capacity, ward.capacity)
        wards[ward.code] = row
    return wards


def _document_row(
    db: Session,
    storage: FileStorage,
    document: DemoDocument,
    original: Original,
    patient_id: int,
    encounter_id: int | None,
) -> Document:
    stored = storage.put(original.content, original.extension, db)
    name = document.display_name.rsplit(".", 1)[0] + "." + original.extension
    return Document(
        patient_id=patient_id,
        encounter_id=encounter_id,
        sha256=stored.sha256,
        storage_key=stored.key,
        display_name=name,
        media_type=original.media_type,
        size_bytes=stored.size,
        kind=document.kind,
        language=document.language,
        status="received",
        page_count=original.page_count,
        text=document.text if original.extension == "txt" else None,
        created_at=document.created_at,
    )


def _counts(report: SeedReport) -> str:
    return (
        f"wards={report.wards} patients={report.patients} encounters={report.encounters} "
        f"inpatients_now={report.inpatients_now} documents={report.documents}"
    )


def _sample_documents(seed: int, n: int, now: datetime) -> list[DemoDocument]:
    """``n`` documents taking turns across (language, format), so even a few cover every kind of file."""
    n_patients = max(8, n)
    while True:
        documents = generate(seed, n_patients, now).documents
        if len(documents) >= n or n_patients > 50 * max(n, 1):
            break
        n_patients *= 2
    groups: dict[tuple[str, str], list[DemoDocument]] = {}
    for document in documents:
        groups.setdefault((document.language, document.file_format), []).append(document)
    queues = [groups[key] for key in sorted(groups)]
    chosen: list[DemoDocument] = []
    while len(chosen) < n and any(queues):
        for queue in queues:
            if queue and len(chosen) < n:
                chosen.append(queue.pop(0))
    return chosen


def _truth_line(filename: str, document: DemoDocument, original: Original) -> dict[str, Any]:
    return {
        "file": filename,
        "kind": document.kind,
        "language": document.language,
        "media_type": original.media_type,
        "created_at": document.created_at.isoformat(),
        "mrn": document.mrn,
        "title": document.title,
        "text": document.text,
        "truth": document.truth,
    }
