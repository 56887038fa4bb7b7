"""A patient's merged record, clinicians' review of its facts, the gold export and the FHIR export.

Clinicians read and review; bed managers and administrators see no clinical facts (``auth.roles``).
Every call is audited with ids and decisions only: values and reasons stay out of the trail.
A correction may change what a fact says, never where it comes from: text fields must be words of
the source document, so a reviewed fact is as grounded as an extracted one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from medspeak.auth.roles import Actor, Permission
from medspeak.errors import NotFound, ValidationFailed
from medspeak.fhir import DocumentInfo, EncounterInfo, PatientInfo, build_bundle
from medspeak.i18n import N_
from medspeak.indexing.record import (
    GROUNDED,
    PatientIdentity,
    PatientRecord,
    RecordFact,
    Source,
    ingredient_key,
    merge_facts,
)
from medspeak.indexing.rules.dates import parse_date
from medspeak.indexing.schema import Fact as FactModel
from medspeak.services.audited import audited
from medspeak.services.read_models import ReadModel
from medspeak.store.db import Store
from medspeak.store.models import Document, DocumentLink, Encounter, Fact, FactReview, Patient, User
from medspeak.store.types import utcnow

__all__ = [
    "CORRECTABLE",
    "Decision",
    "FhirExport",
    "ReviewView",
    "actor_for",
    "export_gold",
    "fhir_export",
    "gold_jsonl",
    "patient_record",
    "review_fact",
    "review_history",
]

Decision = Literal["accepted", "corrected", "rejected"]
_MAX_REASON = 500  # characters: a reason is a sentence, not a note
# Fields a clinician may correct, per category; the ones in _VERBATIM must be words of the document.
CORRECTABLE: dict[str, tuple[str, ...]] = {
    "medication": ("name", "strength", "dose", "route", "frequency", "duration", "as_needed", "status", "assertion"),
    "problem": ("text", "assertion"),
    "finding": ("text", "assertion"),
    "allergy": ("substance", "reaction", "nkda", "assertion"),
    "vital": ("type", "value", "unit"),
    "lab": ("name", "value", "unit", "flag", "reference_range"),
    "order": ("text", "kind"),
    "demographics": ("age", "sex", "birth_date_text", "assertion"),
    "encounter": ("chief_complaint", "department", "date_kind", "date_text"),
    "procedure": ("text", "assertion"),
    "follow_up": ("text", "with_whom", "interval"),
}
_VERBATIM = frozenset(
    {
        ("medication", "name"),
        ("problem", "text"),
        ("finding", "text"),
        ("allergy", "substance"),
        ("encounter", "chief_complaint"),
        ("encounter", "department"),
        ("encounter", "date_text"),
        ("demographics", "birth_date_text"),
        ("procedure", "text"),
        ("follow_up", "text"),
    }
)
_FACT: TypeAdapter[Any] = TypeAdapter(FactModel)


class ReviewView(ReadModel):
    id: int
    fact_id: int
    reviewer: str
    decision: str
    corrected: dict[str, Any] | None
    reason: str
    at: datetime


class FhirExport(ReadModel):
    """A patient's record as a FHIR R4 Bundle, ready to download."""

    filename: str
    content: str  # the Bundle's JSON
    resources: int
    left_out: tuple[str, ...] = ()  # documents flagged as possibly another patient's, not confirmed: kept out


def actor_for(store: Store, username: str) -> Actor:
    """The actor of an active account, for commands run on the server (``medspeak export``)."""
    with store.transaction() as db:
        user = db.scalar(select(User).where(User.username == username.lower()))
        if user is None or not user.is_active:
            raise NotFound(N_("No active user {username!r}."), username=username)
        return Actor(user.id, user.username, user.role)


def _document_dates(db: Session, docs: list[Document]) -> dict[int, datetime]:
    """A document's clinical date: the end (else start) of its stay, else when it was uploaded."""
    ids = {d.encounter_id for d in docs if d.encounter_id is not None}
    stays = {e.id: e for e in db.scalars(select(Encounter).where(Encounter.id.in_(ids)))} if ids else {}
    dates = {}
    for doc in docs:
        stay = stays.get(doc.encounter_id) if doc.encounter_id is not None else None
        dates[doc.id] = (stay.ended_at or stay.started_at) if stay is not None else doc.created_at
    return dates


def _latest_reviews(db: Session, fact_ids: list[int]) -> dict[int, FactReview]:
    if not fact_ids:
        return {}
    rows = db.scalars(select(FactReview).where(FactReview.fact_id.in_(fact_ids)).order_by(FactReview.id))
    return {r.fact_id: r for r in rows}  # the newest decision wins


def _effective(fact: Fact, review: FactReview | None) -> tuple[dict[str, Any], str]:
    """The fact's value and assertion after the clinician's correction, if any."""
    value, assertion = dict(fact.value), fact.assertion
    if review is not None and review.decision == "corrected" and review.corrected:
        corrected = dict(review.corrected)
        assertion = str(corrected.pop("assertion", assertion))
        value.update(corrected)
    return value, assertion


def _record_facts(db: Session, patient_id: int) -> tuple[list[RecordFact], list[Document], dict[int, datetime]]:
    docs = list(db.scalars(select(Document).where(Document.patient_id == patient_id).order_by(Document.id)))
    dates = _document_dates(db, docs)
    names = {d.id: d.display_name for d in docs}
    # By document, not by the fact's own patient_id: a document linked to its patient after
    # reading brings its facts along.
    facts = list(db.scalars(select(Fact).where(Fact.document_id.in_(list(names))).order_by(Fact.id))) if names else []
    reviews = _latest_reviews(db, [f.id for f in facts])
    out = []
    for fact in facts:
        review = reviews.get(fact.id)
        value, assertion = _effective(fact, review)
        source = Source(
            fact_id=fact.id,
            document_id=fact.document_id,
            document_name=names[fact.document_id],
            date=dates[fact.document_id],
            evidence_text=fact.evidence_text or "",
            evidence_start=fact.evidence_start,
            evidence_end=fact.evidence_end,
            page=fact.page,
            bbox=tuple(fact.bbox) if fact.bbox and len(fact.bbox) == 4 else None,
            extractor=fact.extractor,
            confidence=fact.confidence,
            grounding=fact.grounding,
            review_status=review.decision if review else fact.review_status,
            reviewer=review.reviewer if review else None,
        )
        out.append(RecordFact(source, fact.category, fact.label, assertion, value))
    return out, docs, dates


def patient_record(store: Store, actor: Actor, patient_id: int) -> PatientRecord:
    """The merged record of all the patient's documents (grounded, not rejected, corrections applied).

    Raises:
        PermissionDenied: the role may not read clinical facts (audited).
        NotFound: no such patient.
    """
    with audited(store, actor, "record.read", Permission.READ_CLINICAL, patient_id=patient_id) as call:
        if call.db.get(Patient, patient_id) is None:
            raise NotFound(N_("No patient with id {patient_id}."), patient_id=patient_id)
        facts, docs, _ = _record_facts(call.db, patient_id)
        record = _with_confirmations(call.db, patient_id, merge_facts(facts, _identity(call.db, patient_id)))
        call.detail = f"{len(docs)} document(s), {len(facts)} fact(s)" + (
            f", {len(record.identity_warnings)} identity warning(s)" if record.identity_warnings else ""
        )
        return record


def _with_confirmations(db: Session, patient_id: int, record: PatientRecord) -> PatientRecord:
    """Mark the identity warnings of documents a clinician has confirmed as this patient's (who, when)."""
    if not record.identity_warnings:
        return record
    confirmed: dict[int, str] = {}
    rows = db.scalars(
        select(DocumentLink)
        .join(Document, Document.id == DocumentLink.document_id)
        .where(DocumentLink.to_patient_id == patient_id, Document.patient_id == patient_id)
        .order_by(DocumentLink.created_at, DocumentLink.id)
    )
    for row in rows:  # a link, a move here or a confirmation: each a clinician's statement, with a reason
        confirmed[row.document_id] = f"{row.username}, {row.created_at:%d %b %Y %H:%M} UTC"
    record.identity_warnings = [replace(w, confirmed_by=confirmed.get(w.document_id)) for w in record.identity_warnings]
    return record


def _identity(db: Session, patient_id: int) -> PatientIdentity:
    patient = db.get_one(Patient, patient_id)
    return PatientIdentity(patient.sex, patient.birth_date)


def fhir_export(store: Store, actor: Actor, patient_id: int) -> FhirExport:
    """The patient's record as a validated FHIR R4 (R4B) Bundle, as JSON.

    Raises:
        PermissionDenied: the role may not read clinical facts (audited).
        NotFound: no such patient.
        ExportFailed: the bundle did not validate (nothing is returned).
    """
    with audited(store, actor, "record.fhir_export", Permission.READ_CLINICAL, patient_id=patient_id) as call:
        patient = call.db.get(Patient, patient_id)
        if patient is None:
            raise NotFound(N_("No patient with id {patient_id}."), patient_id=patient_id)
        facts, docs, dates = _record_facts(call.db, patient_id)
        identity = PatientIdentity(patient.sex, patient.birth_date)
        record = _with_confirmations(call.db, patient_id, merge_facts(facts, identity))
        # A document that may belong to another patient stays out until a clinician confirms the patient:
        # its facts would otherwise reach another system as this patient's (issue 18 item 3).
        flagged = {w.document_id: w.document_name for w in record.identity_warnings if w.confirmed_by is None}
        if flagged:
            record = merge_facts([f for f in facts if f.source.document_id not in flagged], identity)
        used = {s.document_id for s in _all_sources(record)}
        bundle = build_bundle(
            PatientInfo(
                patient.id, patient.mrn, patient.given_name, patient.family_name, patient.sex, patient.birth_date
            ),
            [EncounterInfo(e.id, e.kind, e.started_at, e.ended_at) for e in patient.encounters],
            [
                DocumentInfo(d.id, d.display_name, d.media_type, d.kind, dates[d.id], d.language, d.encounter_id)
                for d in docs
                if d.id in used
            ],
            record,
            generated_at=utcnow(),
        )
        count = len(bundle.entry or [])
        call.detail = f"FHIR bundle, {count} resource(s)" + (
            f"; left out, possibly another patient's: document(s) {', '.join(map(str, sorted(flagged)))}"
            if flagged
            else ""
        )
        left_out = tuple(flagged[d] for d in sorted(flagged))
        return FhirExport(
            filename=f"{patient.mrn}-fhir.json",
            content=bundle.model_dump_json(indent=2),
            resources=count,
            left_out=left_out,
        )


def _all_sources(record: PatientRecord) -> list[Source]:
    lines = record.problems + record.refuted + record.family_history
    return (
        [s for line in lines for s in line.sources]
        + [s for m in record.medications for s in m.sources]
        + [s for a in record.allergies for s in a.sources]
        + record.nkda
        + [p.source for p in record.timeline]
        + [s for e in record.encounters for s in e.sources]
        + [s for p in record.procedures for s in p.sources]
        + [s for f in record.follow_ups for s in f.sources]
    )


def _verbatim(text: str, claim: str, near: int | None) -> str:
    """The words of the document that ``claim`` names (case aside), nearest the evidence."""
    hits = (
        [m.start() for m in re.finditer(re.escape(claim.strip()), text, flags=re.IGNORECASE)] if claim.strip() else []
    )
    if not hits:
        raise ValidationFailed(
            N_("“{claim}” does not appear in the document: a correction must use its words."), claim=claim
        )
    start = min(hits, key=lambda h: abs(h - (near or 0)))
    return text[start : start + len(claim)]


def _validated_correction(
    fact: Fact, doc_text: str, corrected: Mapping[str, object], language: str | None = None
) -> dict[str, Any]:
    allowed = CORRECTABLE.get(fact.category, ())
    unknown = sorted(set(corrected) - set(allowed))
    if unknown:
        raise ValidationFailed(
            N_("These fields cannot be corrected on a {category}: {value}."),
            category=fact.category,
            value=", ".join(unknown),
        )
    changes = {k: (v.strip() or None) if isinstance(v, str) else v for k, v in corrected.items()}
    for key, value in changes.items():
        if (fact.category, key) in _VERBATIM and value is not None:
            changes[key] = _verbatim(doc_text, str(value), fact.evidence_start)
    if fact.category == "medication" and changes.get("name"):
        changes["normalized_name"] = ingredient_key(str(changes["name"]))
    # a corrected written date is read again, so the record's dates and the age check follow the correction
    for written, parsed in (("date_text", "parsed_date"), ("birth_date_text", "birth_date")):
        if written in changes:
            changes[parsed] = parse_date(str(changes[written]), language or "") if changes[written] else None
    merged = {**fact.value, **changes, "category": fact.category, "label": fact.label}
    merged.setdefault("assertion", fact.assertion)
    try:
        model = _FACT.validate_python(merged)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors()[:3])
        raise ValidationFailed(N_("The correction is not valid: {problems}."), problems=problems) from exc
    clean = model.payload() | {"assertion": model.assertion.value}
    return {key: clean[key] for key in changes if key in clean}


def review_fact(
    store: Store,
    actor: Actor,
    fact_id: int,
    decision: Decision,
    *,
    corrected: Mapping[str, object] | None = None,
    reason: str = "",
) -> ReviewView:
    """Record a clinician's decision on a fact: accept it, correct it (with the new values) or reject it.

    A correction or a rejection needs a reason. Corrected text fields (medication name, problem
    text, allergy substance) must be words of the source document.

    Raises:
        PermissionDenied: the role may not write clinical data (audited).
        NotFound: no such fact.
        ValidationFailed: unknown decision, missing reason, or a correction that is not valid.
    """
    if decision not in get_args(Decision):
        raise ValidationFailed(
            N_("Unknown decision {decision!r}; expected accepted, corrected or rejected."), decision=decision
        )
    reason = reason.strip()
    if len(reason) > _MAX_REASON:
        raise ValidationFailed(N_("The reason is longer than {MAX_REASON} characters."), MAX_REASON=_MAX_REASON)
    if decision != "accepted" and not reason:
        raise ValidationFailed(N_("Say why the fact is corrected or rejected (the reason is kept with the review)."))
    if decision == "corrected" and not corrected:
        raise ValidationFailed(N_("A correction needs at least one corrected field."))
    with audited(store, actor, "fact.review", Permission.WRITE_CLINICAL) as call:
        fact = call.db.get(Fact, fact_id)
        if fact is None:
            raise NotFound(N_("No fact with id {fact_id}."), fact_id=fact_id)
        call.patient_id, call.document_id = fact.patient_id, fact.document_id
        doc = call.db.get_one(Document, fact.document_id)
        changes = (
            _validated_correction(fact, doc.text or "", corrected or {}, doc.language)
            if decision == "corrected"
            else None
        )
        row = FactReview(
            fact_id=fact.id,
            reviewer_id=actor.user_id,
            reviewer=actor.username,
            decision=decision,
            corrected=changes,
            reason=reason,
        )
        call.db.add(row)
        fact.review_status = decision
        call.db.flush()
        call.detail = f"fact {fact.id} {decision}" + (f" ({', '.join(sorted(changes))})" if changes else "")
        return _view(row)


def _view(row: FactReview) -> ReviewView:
    return ReviewView(
        id=row.id,
        fact_id=row.fact_id,
        reviewer=row.reviewer,
        decision=row.decision,
        corrected=row.corrected,
        reason=row.reason,
        at=row.created_at,
    )


def review_history(store: Store, actor: Actor, fact_id: int) -> list[ReviewView]:
    """Every decision taken on a fact, oldest first."""
    with audited(store, actor, "fact.review_history", Permission.READ_CLINICAL) as call:
        fact = call.db.get(Fact, fact_id)
        if fact is None:
            raise NotFound(N_("No fact with id {fact_id}."), fact_id=fact_id)
        call.patient_id, call.document_id = fact.patient_id, fact.document_id
        rows = call.db.scalars(select(FactReview).where(FactReview.fact_id == fact_id).order_by(FactReview.id))
        return [_view(r) for r in rows]


def _gold_line(doc: Document, facts: list[tuple[Fact, dict[str, Any], str]]) -> dict[str, Any]:
    """One document in the evaluation's gold format (``medspeak eval extraction --gold``)."""
    line: dict[str, Any] = {
        "id": f"medspeak-document-{doc.id}",
        "text": doc.text or "",
        "medications": [],
        "problems": [],
        "allergies": [],
        "nkda": False,
        "vitals": [],
    }
    for fact, value, assertion in facts:
        if fact.category == "medication":
            keys = ("name", "strength", "route", "frequency", "status")
            line["medications"].append({k: value.get(k) for k in keys} | {"evidence": fact.evidence_text})
        elif fact.category in ("problem", "finding"):  # the conventions score findings with problems
            line["problems"].append({"text": value.get("text") or fact.label, "assertion": assertion})
        elif fact.category == "allergy" and value.get("nkda") and assertion == "present":
            line["nkda"] = True
        elif fact.category == "allergy" and value.get("substance"):
            line["allergies"].append({"substance": value["substance"], "evidence": fact.evidence_text})
        elif fact.category == "vital":
            line["vitals"].append({k: value.get(k) for k in ("type", "value", "unit")})
    return line


def export_gold(
    store: Store, actor: Actor, *, patient_id: int | None = None, complete_only: bool = True
) -> list[dict[str, Any]]:
    """Reviewed documents as gold annotations: accepted and corrected facts, rejected ones left out.

    With ``complete_only`` (the default) a document is exported only when every one of its facts
    was reviewed: a half-reviewed document would count the facts nobody looked at as misses.
    """
    with audited(store, actor, "fact.gold_export", Permission.READ_CLINICAL, patient_id=patient_id) as call:
        stmt = select(Fact).where(Fact.grounding.in_(GROUNDED)).order_by(Fact.document_id, Fact.evidence_start, Fact.id)
        if patient_id is not None:
            stmt = stmt.where(Fact.patient_id == patient_id)
        by_doc: dict[int, list[Fact]] = {}
        for fact in call.db.scalars(stmt):
            by_doc.setdefault(fact.document_id, []).append(fact)
        reviews = _latest_reviews(call.db, [f.id for facts in by_doc.values() for f in facts])
        lines = []
        for document_id, facts in by_doc.items():
            reviewed = [f for f in facts if f.id in reviews]
            if not reviewed or (complete_only and len(reviewed) < len(facts)):
                continue
            kept = []
            for fact in reviewed:
                if reviews[fact.id].decision != "rejected":
                    value, assertion = _effective(fact, reviews[fact.id])
                    kept.append((fact, value, assertion))
            lines.append(_gold_line(call.db.get_one(Document, document_id), kept))
        call.detail = f"{len(lines)} reviewed document(s)"
        return lines


def gold_jsonl(lines: list[dict[str, Any]]) -> str:
    """Gold lines as JSON Lines, one document a line."""
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
