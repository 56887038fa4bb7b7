"""Linking a document to a patient, or moving it from the wrong one: checked, audited, reason kept."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from medspeak.auth.roles import Actor
from medspeak.errors import NotFound, PermissionDenied, ValidationFailed
from medspeak.services import documents, patients
from medspeak.services.context import AppContext
from medspeak.store.db import Store
from medspeak.store.models import AuditEvent, DocumentLink, Fact
from tests.support.jobs import wait_for_job

_NOTE = b"Clinic letter\nMedications: Levetiracetam 500 mg PO twice daily.\n"


def _patient(store: Store, actor: Actor, family: str) -> int:
    return patients.register_patient(
        store, actor, given_name="Ana", family_name=family, sex="female", birth_date=date(1960, 5, 1)
    ).id


def _unlinked_document(ctx: AppContext, actor: Actor) -> int:
    store = ctx.store
    outcome = documents.upload(ctx, actor, filename="letter.txt", content=_NOTE, patient_id=None, kind="report")
    assert wait_for_job(store, actor, outcome.job_id or 0).status == "done"
    return outcome.document_id


def test_a_document_uploaded_without_a_patient_is_linked_and_its_facts_follow(
    ctx: AppContext, store: Store, actors: dict[str, Actor]
) -> None:
    clinician = actors["clinician"]
    patient_id = _patient(store, clinician, "Moreau")
    document_id = _unlinked_document(ctx, clinician)
    assert [d.id for d in documents.list_documents(store, clinician, unlinked=True)] == [document_id]

    linked = documents.link_to_patient(store, clinician, document_id, patient_id, reason="uploaded before registering")

    assert linked.patient_id == patient_id and linked.patient_name == "MOREAU, Ana"
    assert documents.list_documents(store, clinician, unlinked=True) == []
    mine = documents.list_documents(store, clinician, patient_id=patient_id)
    assert [(d.id, d.patient_name, d.patient_mrn) for d in mine] == [(document_id, "MOREAU, Ana", linked.patient_mrn)]
    with store.transaction() as db:
        facts = db.scalars(select(Fact).where(Fact.document_id == document_id)).all()
        assert facts and {f.patient_id for f in facts} == {patient_id}
        link = db.scalars(select(DocumentLink)).one()
        assert (link.from_patient_id, link.to_patient_id, link.reason) == (
            None,
            patient_id,
            "uploaded before registering",
        )
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "document.link")).one()
        assert (event.outcome, event.patient_id, event.document_id) == ("success", patient_id, document_id)
        assert "registering" not in event.detail  # the reason stays with the link, not in the trail


def test_a_document_is_moved_from_the_wrong_patient(ctx: AppContext, store: Store, actors: dict[str, Actor]) -> None:
    clinician = actors["clinician"]
    wrong, right = _patient(store, clinician, "Wrong"), _patient(store, clinician, "Right")
    document_id = _unlinked_document(ctx, clinician)
    documents.link_to_patient(store, clinician, document_id, wrong, reason="first guess")
    documents.link_to_patient(store, clinician, document_id, right, reason="name on page 1 is RIGHT")
    assert documents.list_documents(store, clinician, patient_id=wrong) == []
    assert [d.id for d in documents.list_documents(store, clinician, patient_id=right)] == [document_id]
    with store.transaction() as db:
        moves = db.scalars(select(DocumentLink).order_by(DocumentLink.id)).all()
        assert [(m.from_patient_id, m.to_patient_id) for m in moves] == [(None, wrong), (wrong, right)]


def test_linking_needs_a_reason_a_patient_a_document_and_a_clinician(
    ctx: AppContext, store: Store, actors: dict[str, Actor]
) -> None:
    clinician = actors["clinician"]
    patient_id = _patient(store, clinician, "Petit")
    document_id = _unlinked_document(ctx, clinician)
    with pytest.raises(ValidationFailed, match="Say why"):
        documents.link_to_patient(store, clinician, document_id, patient_id, reason="  ")
    with pytest.raises(ValidationFailed, match="No patient"):
        documents.link_to_patient(store, clinician, document_id, 999_999, reason="x")
    with pytest.raises(NotFound):
        documents.link_to_patient(store, clinician, 999_999, patient_id, reason="x")
    for role in ("bed_manager", "admin"):
        with pytest.raises(PermissionDenied):
            documents.link_to_patient(store, actors[role], document_id, patient_id, reason="x")
    with store.transaction() as db:
        outcomes = db.scalars(select(AuditEvent.outcome).where(AuditEvent.action == "document.link")).all()
        assert sorted(outcomes) == ["denied", "denied", "failure", "failure"]
        assert db.scalars(select(DocumentLink)).all() == []


def test_the_language_found_is_kept_for_an_english_or_french_upload(
    ctx: AppContext, store: Store, actors: dict[str, Actor]
) -> None:
    # Issue 18, item 11: the documents table's Language was empty for every "English or French" upload.
    clinician = actors["clinician"]
    french = "Compte rendu de consultation\nTraitement : paracétamol 1 g per os trois fois par jour.\n".encode()
    auto = documents.upload(ctx, clinician, filename="cr.txt", content=french, patient_id=None, kind="report")
    chosen = documents.upload(
        ctx, clinician, filename="letter.txt", content=_NOTE, patient_id=None, kind="report", language="fr"
    )
    for outcome in (auto, chosen):
        assert wait_for_job(store, clinician, outcome.job_id or 0).status == "done"
    listed = {d.id: d.language for d in documents.list_documents(store, clinician, unlinked=True)}
    assert listed[auto.document_id] == "fr"  # found in the text
    assert listed[chosen.document_id] == "fr"  # the uploader's choice stands
