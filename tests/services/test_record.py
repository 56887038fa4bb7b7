"""The merged record, review, gold and FHIR exports through the services (real upload and indexing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from medspeak.auth.roles import Actor
from medspeak.errors import NotFound, PermissionDenied, ValidationFailed
from medspeak.indexing.evaluation import evaluate_gold
from medspeak.services import record
from medspeak.services.context import AppContext
from medspeak.store.db import Store
from medspeak.store.models import AuditEvent, Fact, FactReview
from tests.services.record_seed import PRESCRIPTION, SUMMARY, SeededRecord, fact_id, seed_record


@pytest.fixture
def seeded(ctx: AppContext, store: Store, actors: dict[str, Actor]) -> SeededRecord:
    return seed_record(ctx, actors["clinician"])


def _events(store: Store, action: str) -> list[AuditEvent]:
    with store.transaction() as db:
        rows = db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()
        for row in rows:
            db.expunge(row)
        return list(rows)


def test_the_record_reconciles_medications_across_documents(
    store: Store, actors: dict[str, Actor], seeded: SeededRecord
) -> None:
    rec = record.patient_record(store, actors["clinician"], seeded.patient_id)
    meds = {m.ingredient: m for m in rec.medications}
    assert set(meds) == {"metoprolol", "lisinopril"}  # "Metoprolol tartrate" and "Metoprolol": one line
    metoprolol, lisinopril = meds["metoprolol"], meds["lisinopril"]
    assert metoprolol.status == "active" and metoprolol.strength == "50 mg" and metoprolol.changed
    assert [s.document_id for s in metoprolol.sources] == [seeded.summary_id, seeded.prescription_id]
    assert lisinopril.status == "stopped"  # the newer prescription stops it
    assert [m.ingredient for m in rec.active_medications] == ["metoprolol"]
    source = metoprolol.sources[0]
    assert SUMMARY[source.evidence_start : source.evidence_end] == source.evidence_text  # type: ignore[misc]


def test_the_record_lists_denied_problems_as_refuted(
    store: Store, actors: dict[str, Actor], seeded: SeededRecord
) -> None:
    rec = record.patient_record(store, actors["clinician"], seeded.patient_id)
    assert [p.text for p in rec.problems] == ["pneumonia"]
    assert [p.text for p in rec.refuted] == ["chest pain"]
    assert [p.text for p in rec.family_history] == ["diabetes"]
    assert [a.substance for a in rec.allergies] == ["penicillin"] and rec.allergies[0].reactions == ["rash"]
    heart = [(p.date.month, p.value) for p in rec.timeline if p.name == "heart_rate"]
    assert heart == [(3, 96.0), (4, 72.0)]


def test_rejected_and_ungrounded_facts_stay_out_and_corrections_win(
    store: Store, actors: dict[str, Actor], seeded: SeededRecord
) -> None:
    clinician = actors["clinician"]
    pneumonia = fact_id(store, seeded.summary_id, "problem", "pneumonia")
    record.review_fact(store, clinician, pneumonia, "rejected", reason="Ruled out on the CT scan")
    creat = fact_id(store, seeded.summary_id, "lab", "creatinine")
    record.review_fact(store, clinician, creat, "corrected", corrected={"value": "1.6"}, reason="misread digit")
    with store.transaction() as db:
        db.add(
            Fact(
                document_id=seeded.summary_id,
                patient_id=seeded.patient_id,
                category="problem",
                label="sepsis",
                value={"text": "sepsis"},
                extractor="llm",
                grounding="none",
            )
        )
    rec = record.patient_record(store, clinician, seeded.patient_id)
    assert rec.problems == [] and rec.left_out == {"rejected": 1, "ungrounded": 1}
    (lab,) = [p for p in rec.timeline if p.kind == "lab"]
    assert lab.value == 1.6 and lab.source.review_status == "corrected" and lab.source.reviewer == "clinician"


def test_a_review_is_stored_and_audited_without_its_content(
    store: Store, actors: dict[str, Actor], seeded: SeededRecord
) -> None:
    clinician = actors["clinician"]
    fid = fact_id(store, seeded.prescription_id, "medication", "metoprolol")
    record.review_fact(store, clinician, fid, "accepted")
    view = record.review_fact(
        store, clinician, fid, "corrected", corrected={"frequency": "TID", "strength": "25 mg"}, reason="see chart"
    )
    assert view.corrected == {"frequency": "TID", "strength": "25 mg"}
    history = record.review_history(store, clinician, fid)
    assert [(h.decision, h.reviewer) for h in history] == [("accepted", "clinician"), ("corrected", "clinician")]
    with store.transaction() as db:
        assert db.get_one(Fact, fid).review_status == "corrected"
    events = _events(store, "fact.review")
    assert [e.outcome for e in events] == ["success", "success"]
    assert events[-1].patient_id == seeded.patient_id and events[-1].document_id == seeded.prescription_id
    assert "see chart" not in events[-1].detail and "25 mg" not in events[-1].detail


def test_a_correction_must_use_the_words_of_the_document(
    store: Store, actors: dict[str, Actor], seeded: SeededRecord
) -> None:
    clinician = actors["clinician"]
    fid = fact_id(store, seeded.summary_id, "medication", "lisinopril")
    with pytest.raises(ValidationFailed, match="does not appear in the document"):
        record.review_fact(store, clinician, fid, "corrected", corrected={"name": "Ramipril"}, reason="wrong drug")
    with pytest.raises(ValidationFailed, match="cannot be corrected"):
        record.review_fact(store, clinician, fid, "corrected", corrected={"evidence": "x"}, reason="r")
    with pytest.raises(ValidationFailed, match="Say why"):
        record.review_fact(store, clinician, fid, "rejected")
    with pytest.raises(ValidationFailed, match="not valid"):
        record.review_fact(store, clinician, fid, "corrected", corrected={"status": "paused"}, reason="r")
    with pytest.raises(NotFound):
        record.review_fact(store, clinician, 999_999, "accepted")
    # A name found in the text is stored as written there, and the line follows the new ingredient.
    record.review_fact(store, clinician, fid, "corrected", corrected={"name": "METOPROLOL TARTRATE"}, reason="r")
    with store.transaction() as db:
        assert db.scalars(select(FactReview.corrected)).one()["name"] == "Metoprolol tartrate"
        assert db.get_one(Fact, fid).review_status == "corrected"


def test_roles_without_clinical_access_are_refused_and_audited(
    store: Store, actors: dict[str, Actor], seeded: SeededRecord
) -> None:
    fid = fact_id(store, seeded.summary_id, "problem", "pneumonia")
    for role in ("bed_manager", "admin"):
        with pytest.raises(PermissionDenied):
            record.patient_record(store, actors[role], seeded.patient_id)
        with pytest.raises(PermissionDenied):
            record.review_fact(store, actors[role], fid, "accepted")
        with pytest.raises(PermissionDenied):
            record.fhir_export(store, actors[role], seeded.patient_id)
    denied = [e for e in _events(store, "record.read") + _events(store, "fact.review") if e.outcome == "denied"]
    assert len(denied) == 4
    with store.transaction() as db:
        assert db.scalars(select(FactReview)).all() == []


def test_reviewed_documents_export_as_gold_that_the_evaluation_reads(
    store: Store, actors: dict[str, Actor], seeded: SeededRecord, tmp_path: Path
) -> None:
    clinician = actors["clinician"]
    with store.transaction() as db:
        ids = db.scalars(select(Fact.id).where(Fact.document_id == seeded.summary_id).order_by(Fact.id)).all()
    for fid in ids[:-1]:
        record.review_fact(store, clinician, fid, "accepted")
    assert record.export_gold(store, clinician) == []  # one fact not reviewed yet: not complete
    assert len(record.export_gold(store, clinician, complete_only=False)) == 1
    lisinopril = fact_id(store, seeded.summary_id, "medication", "lisinopril")
    record.review_fact(store, clinician, lisinopril, "rejected", reason="not prescribed")
    record.review_fact(store, clinician, ids[-1], "accepted")
    (line,) = record.export_gold(store, clinician)
    assert line["id"] == f"medspeak-document-{seeded.summary_id}" and line["text"] == SUMMARY
    assert [m["name"] for m in line["medications"]] == ["Metoprolol tartrate"]
    assert {"text": "chest pain", "assertion": "absent"} in line["problems"]
    assert line["allergies"] == [{"substance": "penicillin", "evidence": "penicillin (rash)"}]
    assert {"type": "heart_rate", "value": 96.0, "unit": "/min"} in line["vitals"]
    gold = tmp_path / "gold.jsonl"
    gold.write_text(record.gold_jsonl([line]))
    scores = evaluate_gold(gold, backend="rules")
    # The rules still find lisinopril, which the clinician rejected: precision drops, recall does not.
    assert scores["medication_recall"] == 1.0 and scores["medication_precision"] == 0.5
    assert json.loads(gold.read_text())["nkda"] is False


def test_fhir_export_is_valid_and_carries_the_evidence(
    store: Store, actors: dict[str, Actor], seeded: SeededRecord
) -> None:
    from fhir.resources.R4B.bundle import Bundle

    export = record.fhir_export(store, actors["clinician"], seeded.patient_id)
    bundle = json.loads(export.content)
    Bundle.model_validate(bundle)
    resources = [e["resource"] for e in bundle["entry"]]
    kinds = {r["resourceType"] for r in resources}
    assert {"Patient", "Condition", "MedicationStatement", "Observation", "AllergyIntolerance"} <= kinds
    assert {"DocumentReference", "Provenance", "FamilyMemberHistory"} <= kinds
    conditions = {
        r["code"]["text"]: r["verificationStatus"]["coding"][0]["code"]
        for r in resources
        if r["resourceType"] == "Condition"
    }
    assert conditions == {"pneumonia": "unconfirmed", "chest pain": "refuted"}  # not reviewed yet
    statuses = {
        r["medicationCodeableConcept"]["text"]: r["status"]
        for r in resources
        if r["resourceType"] == "MedicationStatement"
    }
    assert statuses == {"metoprolol": "unknown", "lisinopril": "stopped"}  # unreviewed: never "active"
    provenance = [r for r in resources if r["resourceType"] == "Provenance"]
    plain = {"Patient", "Encounter", "DocumentReference", "Provenance"}
    assert len(provenance) == sum(r["resourceType"] not in plain for r in resources)  # one per clinical resource
    spans = [
        {p["url"]: next(v for k, v in p.items() if k.startswith("value")) for p in entity["extension"][0]["extension"]}
        for prov in provenance
        for entity in prov["entity"]
    ]
    assert spans and all(
        s["text"] in (SUMMARY[s["start"] : s["end"]], PRESCRIPTION[s["start"] : s["end"]]) for s in spans
    )
    assert "Stopped: Lisinopril 10 mg daily" in PRESCRIPTION and any("Lisinopril" in s["text"] for s in spans)
    assert _events(store, "record.fhir_export")[-1].outcome == "success"
