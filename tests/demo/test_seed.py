"""Seeding a store: it writes what it reports, once, with the originals on disk and one audit event."""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image
from sqlalchemy import func, select

from medspeak.config import audit_signing_key
from medspeak.demo.seed import seed_demo, write_samples
from medspeak.store.audit import verify_chain
from medspeak.store.db import Store
from medspeak.store.files import DocumentStorage
from medspeak.store.models import AuditEvent, Document, Encounter, Patient, Ward

if TYPE_CHECKING:
    from tests.demo.conftest import Seeded


def _count(store: Store, model: type[Ward | Patient | Encounter | Document | AuditEvent]) -> int:
    with store.transaction() as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def test_seed_writes_the_counts_it_reports(seeded: Seeded) -> None:
    store, report = seeded.store, seeded.report
    assert not report.skipped
    assert report.patients == 60 == _count(store, Patient)
    assert report.wards == 6 == _count(store, Ward)
    assert report.encounters == _count(store, Encounter)
    assert report.documents == _count(store, Document) > 60
    with store.transaction() as db:
        in_beds = db.scalar(
            select(func.count())
            .select_from(Encounter)
            .where(Encounter.kind == "inpatient", Encounter.ended_at.is_(None))
        )
    assert in_beds is not None and report.inpatients_now == in_beds > 0


def test_census_in_the_store_fits_the_beds(seeded: Seeded) -> None:
    store = seeded.store
    with store.transaction() as db:
        capacity = {w.id: w.capacity for w in db.scalars(select(Ward))}
        census = Counter(
            db.scalars(select(Encounter.ward_id).where(Encounter.kind == "inpatient", Encounter.ended_at.is_(None)))
        )
    assert all(census[ward] <= beds for ward, beds in capacity.items())
    assert 0.75 <= sum(census.values()) / sum(capacity.values()) <= 0.95


def test_each_original_is_stored_once_under_its_sha256(seeded: Seeded) -> None:
    store = seeded.store
    storage = DocumentStorage(store.settings.documents_dir)
    with store.transaction() as db:
        documents = list(db.scalars(select(Document)))
    assert len({d.sha256 for d in documents}) == len(documents)
    for document in documents:
        content = storage.read(document.storage_key)
        assert hashlib.sha256(content).hexdigest() == document.sha256
        assert len(content) == document.size_bytes
        assert document.storage_key.endswith(document.display_name.rsplit(".", 1)[1])
        assert document.status == "received" and document.patient_id is not None
        assert document.created_at.tzinfo is not None


def test_documents_carry_their_format_and_language(seeded: Seeded) -> None:
    store = seeded.store
    storage = DocumentStorage(store.settings.documents_dir)
    with store.transaction() as db:
        rows = db.execute(select(Document, Patient.language).join(Patient, Document.patient_id == Patient.id)).all()
    media = Counter(document.media_type for document, _ in rows)
    assert set(media) == {"text/plain", "application/pdf", "image/png"}
    for document, language in rows:
        assert document.language == language
        assert document.kind in {"discharge_summary", "prescription", "lab_order", "imaging_order"}
        if document.media_type == "text/plain":
            assert document.text and document.page_count is None
        else:
            assert document.text is None and document.page_count and document.page_count >= 1
    scan = next(document for document, _ in rows if document.media_type == "image/png")
    assert Image.open(io.BytesIO(storage.read(scan.storage_key))).size == (1240, 1754)


def test_seed_leaves_one_audit_event_with_counts_and_no_names(seeded: Seeded) -> None:
    store = seeded.store
    with store.transaction() as db:
        events = list(db.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        names = {n for p in db.scalars(select(Patient)) for n in (p.given_name, p.family_name, p.mrn)}
    seeds = [e for e in events if e.action == "demo.seed"]
    assert len(seeds) == 1
    event = seeds[0]
    assert (event.username, event.role, event.outcome) == ("system", "system", "success")
    assert "patients=60" in event.detail
    assert not any(name in event.detail for name in names)
    assert verify_chain(events, audit_signing_key(store.settings)).ok


def test_a_second_seed_is_skipped_and_writes_nothing(seeded: Seeded, demo_now: datetime) -> None:
    store = seeded.store
    before = {model: _count(store, model) for model in (Ward, Patient, Encounter, Document, AuditEvent)}
    report = seed_demo(store, n_patients=5, seed=1, now=demo_now)
    assert report.skipped and report.patients == report.documents == 0
    assert {model: _count(store, model) for model in before} == before


def test_seed_of_a_small_demo_into_a_fresh_store(store: Store, demo_now: datetime) -> None:
    """On the shared ``store`` fixture: SQLite, and PostgreSQL when one is configured."""
    report = seed_demo(store, n_patients=6, seed=5, now=demo_now)
    assert not report.skipped and report.patients == 6 == _count(store, Patient)
    assert _count(store, Document) == report.documents and _count(store, AuditEvent) == 1


def test_write_samples_mixes_formats_and_languages_with_their_truth(tmp_path: Path, demo_now: datetime) -> None:
    paths = write_samples(tmp_path, n=8, seed=7, now=demo_now)
    assert len(paths) == 8 and all(p.exists() and p.parent == tmp_path for p in paths)
    assert {p.suffix for p in paths} == {".txt", ".pdf", ".png"}
    lines = [json.loads(line) for line in (tmp_path / "truth.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [line["file"] for line in lines] == [p.name for p in paths]
    assert {line["language"] for line in lines} == {"en", "fr"}
    for line in lines:
        assert line["mrn"] in line["text"]
        assert set(line["truth"]) >= {"medications", "problems", "allergies", "vitals"}
