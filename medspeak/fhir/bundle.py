"""A patient's merged record as a FHIR R4 (4.3, R4B models) collection Bundle, validated by fhir.resources.

Resources: Patient, Encounter, DocumentReference (one per source document), Condition (refuted when
the documents deny the problem), FamilyMemberHistory, MedicationStatement, Observation (vital
signs and laboratory, LOINC and UCUM where known), AllergyIntolerance, Encounter as each document
states it (period, serviceType = department, reasonCode = chief complaint), Procedure (completed,
preparation when planned, not-done when denied), ServiceRequest for follow-up, and one Provenance per
clinical resource whose entities point at the source documents and carry the evidence spans.

Follow-up is a ServiceRequest (intent ``plan``) rather than a CarePlan activity: each instruction is
one request for a later visit that a scheduling system can book (Appointment.basedOn points at a
ServiceRequest), and a CarePlan would only wrap that single request without adding meaning.
References: HL7 FHIR R4B (hl7.org/fhir/R4B), fhir.resources (github.com/nazrulworld/fhir.resources).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from medspeak.errors import ExportFailed
from medspeak.fhir import codes
from medspeak.indexing.coding import ATC
from medspeak.indexing.medication_text import SETTING_LABELS, frequency_words, order_text
from medspeak.indexing.record import (
    EncounterLine,
    FollowUpLine,
    MedicationLine,
    PatientRecord,
    ProblemLine,
    ProcedureLine,
    Source,
    TimelinePoint,
)

__all__ = ["EVIDENCE_EXTENSION", "DocumentInfo", "EncounterInfo", "ExportFailed", "PatientInfo", "build_bundle"]

EVIDENCE_EXTENSION: Final = "https://medspeak.example.org/fhir/StructureDefinition/evidence-span"
_MRN_SYSTEM: Final = "https://medspeak.example.org/fhir/sid/mrn"
_NAMESPACE: Final = uuid.UUID("5b0f6c1e-3c77-4a55-9a53-6f2f5d1f7a10")  # stable ids: same record, same bundle
_CONDITION_CLINICAL: Final = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_CONDITION_VERIFICATION: Final = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
_CONDITION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/condition-category"
_ALLERGY_CLINICAL: Final = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
_ALLERGY_VERIFICATION: Final = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
_OBS_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
_PARTICIPANT: Final = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
_ACT_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_ROLE_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
_SETTING_NOTES: Final = {
    "discharge": "Listed among the discharge medications.",
    "current": "Listed among the current medications.",
    "admission": "Listed among the medications on admission.",
    "inpatient": "Given in hospital only: not a discharge medication.",
}
_MEDICATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/medication-statement-category"
# Where the document lists the drug -> (code, display): taken at home after the stay, or given in it.
_MEDICATION_CATEGORIES: Final = {
    "inpatient": ("inpatient", "Inpatient"),
    "discharge": ("community", "Community"),
    "current": ("community", "Community"),
    "admission": ("community", "Community"),
}
_NKDA: Final = {"system": codes.SNOMED, "code": "409137002", "display": "No known drug allergy"}


@dataclass(frozen=True)
class PatientInfo:
    id: int
    mrn: str
    given_name: str
    family_name: str
    sex: str  # female | male | unknown
    birth_date: date


@dataclass(frozen=True)
class EncounterInfo:
    id: int
    kind: str  # emergency | inpatient
    started_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    display_name: str
    media_type: str
    kind: str
    date: datetime
    language: str | None
    encounter_id: int | None = None


def _urn(kind: str, key: object) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{kind}:{key}')}"


def _iso(moment: datetime) -> str:
    return moment.isoformat() if moment.tzinfo else moment.isoformat() + "Z"


def _concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code} | ({"display": display} if display else {})
    return {"coding": [coding]}


class _Builder:
    def __init__(self, patient: PatientInfo, documents: list[DocumentInfo], generated_at: datetime) -> None:
        self.patient_ref = {"reference": _urn("patient", patient.id)}
        self.documents = {d.id: d for d in documents}
        self.generated_at = generated_at
        self.entries: list[dict[str, Any]] = []

    def add(self, url: str, resource: dict[str, Any]) -> None:
        self.entries.append({"fullUrl": url, "resource": resource})

    def doc_ref(self, document_id: int) -> dict[str, Any]:
        doc = self.documents.get(document_id)
        ref = {"reference": _urn("document", document_id)}
        return ref | ({"display": doc.display_name} if doc else {})

    def derived(self, sources: list[Source]) -> list[dict[str, Any]]:
        return [self.doc_ref(i) for i in dict.fromkeys(s.document_id for s in sources)]

    def provenance(self, target: str, sources: list[Source]) -> None:
        """Who asserted the resource (extractor, reviewers) and the exact words it rests on."""
        agents = [
            {
                "type": _concept(_PARTICIPANT, "assembler", "Assembler"),
                "who": {"display": f"medspeak extractor: {extractor}"},
            }
            for extractor in dict.fromkeys(s.extractor for s in sources)
        ]
        agents += [
            {"type": _concept(_PARTICIPANT, "verifier", "Verifier"), "who": {"display": reviewer}}
            for reviewer in dict.fromkeys(s.reviewer for s in sources if s.reviewer)
        ]
        entities = [
            {"role": "source", "what": self.doc_ref(s.document_id), "extension": [_span_extension(s)]} for s in sources
        ]
        self.add(
            _urn("provenance", target),
            {
                "resourceType": "Provenance",
                "target": [{"reference": target}],
                "recorded": _iso(self.generated_at),
                "agent": agents,
                "entity": entities,
            },
        )


def _span_extension(source: Source) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"url": "text", "valueString": source.evidence_text}]
    if source.evidence_start is not None and source.evidence_end is not None:
        parts += [
            {"url": "start", "valueInteger": source.evidence_start},
            {"url": "end", "valueInteger": source.evidence_end},
        ]
    if source.page is not None:
        parts.append({"url": "page", "valueInteger": source.page})
    parts += [
        {"url": "grounding", "valueCode": source.grounding},
        {"url": "confidence", "valueDecimal": round(source.confidence, 3)},
        {"url": "review", "valueCode": source.review_status},
        {"url": "fact", "valueString": str(source.fact_id)},
    ]
    return {"url": EVIDENCE_EXTENSION, "extension": parts}


def _patient(patient: PatientInfo) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": _MRN_SYSTEM, "value": patient.mrn}],
        "name": [{"family": patient.family_name, "given": [patient.given_name]}],
        "gender": patient.sex if patient.sex in ("female", "male") else "unknown",
        "birthDate": patient.birth_date.isoformat(),
    }


def _encounter(b: _Builder, enc: EncounterInfo) -> dict[str, Any]:
    emergency = enc.kind == "emergency"
    period = {"start": _iso(enc.started_at)} | ({"end": _iso(enc.ended_at)} if enc.ended_at else {})
    return {
        "resourceType": "Encounter",
        "status": "finished" if enc.ended_at else "in-progress",
        "class": {"system": _ACT_CODE, "code": "EMER" if emergency else "IMP"},
        "subject": b.patient_ref,
        "period": period,
    }


def _document(b: _Builder, doc: DocumentInfo) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "status": "current",
        "type": {"text": doc.kind.replace("_", " ")},
        "subject": b.patient_ref,
        "date": _iso(doc.date),
        "description": doc.display_name,
        "content": [
            {
                "attachment": {"contentType": doc.media_type, "title": doc.display_name}
                | ({"language": doc.language} if doc.language else {})
            }
        ],
    }
    if doc.encounter_id is not None:
        resource["context"] = {"encounter": [{"reference": _urn("encounter", doc.encounter_id)}]}
    return resource


_REVIEWED = frozenset({"accepted", "corrected"})
_UNREVIEWED_NOTE = (
    "Read from the documents by software and not reviewed by a clinician: confirm before use "
    "(a document can state, or be made to state, anything)."
)


def _reviewed(sources: list[Source]) -> bool:
    """Whether a clinician accepted or corrected at least one of the facts a line rests on.

    What no clinician reviewed is exported as unconfirmed (medication ``unknown``, condition and allergy
    ``unconfirmed``, observation ``preliminary``): words in a document, an instruction hidden in it
    included, never become an active medication of the export on their own (issue 19).
    """
    return any(s.review_status in _REVIEWED for s in sources)


def _unreviewed_note(resource: dict[str, Any]) -> None:
    resource["note"] = [*resource.get("note", []), {"text": _UNREVIEWED_NOTE}]


def _condition(b: _Builder, line: ProblemLine) -> dict[str, Any]:
    clinical = "inactive" if line.verification == "refuted" or line.historical else "active"
    reviewed = _reviewed(line.sources)
    verification = line.verification if reviewed or line.verification == "refuted" else "unconfirmed"
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "clinicalStatus": _concept(_CONDITION_CLINICAL, clinical),
        "verificationStatus": _concept(_CONDITION_VERIFICATION, verification),
        "category": [_concept(_CONDITION_CATEGORY, "problem-list-item", "Problem List Item")],
        "code": ({"coding": [{"system": line.code[0], "code": line.code[1]}]} if line.code else {})
        | {"text": line.text},
        "subject": b.patient_ref,
        "recordedDate": _iso(line.last_seen),
        "evidence": [{"detail": b.derived(line.sources)}],
    }
    if line.historical:
        resource["note"] = [{"text": "Stated as past history in the source document."}]
    if not reviewed:
        _unreviewed_note(resource)
    return resource


def _family(b: _Builder, line: ProblemLine) -> dict[str, Any]:
    return {
        "resourceType": "FamilyMemberHistory",
        "status": "partial",  # the relative is not named in the source
        "patient": b.patient_ref,
        "date": _iso(line.last_seen),
        "relationship": _concept(_ROLE_CODE, "FAMMEMB", "family member"),
        "condition": [{"code": {"text": line.text}}],
    }


def _medication(b: _Builder, line: MedicationLine) -> dict[str, Any]:
    dosage: dict[str, Any] = {
        # Plain words, never QD or U (ISMP / Joint Commission): the codes are in route and timing.
        "text": order_text(line.name, line.strength, line.route, line.frequency, as_needed=line.as_needed),
        "asNeededBoolean": line.as_needed,
    }
    if route := codes.route_coding(line.route):
        dosage["route"] = route
    if timing := codes.timing_code(line.frequency):
        dosage["timing"] = {"code": timing | {"text": frequency_words(line.frequency)}}
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        # active | stopped; "active" only once a clinician reviewed it (a stopped one pushes nothing to be given)
        "status": line.status if _reviewed(line.sources) or line.status != "active" else "unknown",
        "medicationCodeableConcept": ({"coding": [{"system": ATC, "code": line.atc}]} if line.atc else {})
        | {"text": line.ingredient},
        "subject": b.patient_ref,
        "dateAsserted": _iso(line.last_seen),
        "derivedFrom": b.derived(line.sources),
        "dosage": [dosage],
    }
    if line.setting:
        resource["category"] = _concept(
            _MEDICATION_CATEGORY, *_MEDICATION_CATEGORIES.get(line.setting, ("community", "Community"))
        )
    notes = []
    if line.setting:
        notes.append(_SETTING_NOTES.get(line.setting, f"Listed as {SETTING_LABELS.get(line.setting, line.setting)}."))
    if line.changed:
        notes.append("The source documents give different strengths: check before use.")
    if notes:
        resource["note"] = [{"text": n} for n in notes]
    if not _reviewed(line.sources):
        _unreviewed_note(resource)
    return resource


def _observation(b: _Builder, point: TimelinePoint) -> dict[str, Any]:
    ucum = codes.ucum_unit(point.unit)
    if point.kind == "vital":
        category = _concept(_OBS_CATEGORY, "vital-signs", "Vital Signs")
        vital = codes.vital_loinc(point.name)
        code = (
            _concept(codes.LOINC, vital[0], vital[1]) | {"text": point.name.replace("_", " ")}
            if vital and (ucum == vital[2] or vital[2] == "{score}")
            else {"text": point.name.replace("_", " ")}
        )
        if vital and vital[2] == "{score}":
            ucum = ucum or "{score}"
    else:
        category = _concept(_OBS_CATEGORY, "laboratory", "Laboratory")
        lab = codes.lab_loinc(point.name, point.unit)
        code = (_concept(codes.LOINC, lab[0], lab[1]) if lab else {}) | {"text": point.name}
    quantity: dict[str, Any] = {"value": point.value}
    if point.unit or ucum:
        quantity["unit"] = point.unit or ucum
    if ucum:
        quantity |= {"system": codes.UCUM, "code": ucum}
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final" if _reviewed([point.source]) else "preliminary",
        "category": [category],
        "code": code,
        "subject": b.patient_ref,
        "effectiveDateTime": _iso(point.date),
        "valueQuantity": quantity,
        "derivedFrom": b.derived([point.source]),
    }
    if point.flag:
        flag = {"H": "H", "HIGH": "H", "L": "L", "LOW": "L"}.get(point.flag.upper())
        interpretation = {"text": point.flag}
        if flag:
            system = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
            interpretation |= _concept(system, flag)
        resource["interpretation"] = [interpretation]
    if point.reference_range:
        resource["referenceRange"] = [{"text": point.reference_range}]
    if not _reviewed([point.source]):
        _unreviewed_note(resource)
    return resource


def _stated_encounter(b: _Builder, line: EncounterLine) -> dict[str, Any]:
    """The visit as one document states it, beside the stays on file (the document's DocumentReference
    links it to its stay); dates without a parseable day stay in the Provenance's evidence text."""
    inpatient = bool(line.admission or line.discharge)
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "status": "finished" if line.end or line.discharge else "unknown",
        "class": {"system": _ACT_CODE, "code": "IMP" if inpatient else "AMB"},
        "subject": b.patient_ref,
    }
    period = ({"start": line.start.isoformat()} if line.start else {}) | (
        {"end": line.end.isoformat()} if line.end else {}
    )
    if period:
        resource["period"] = period
    if line.department:
        resource["serviceType"] = {"text": line.department}
    if line.chief_complaints:
        resource["reasonCode"] = [{"text": c} for c in line.chief_complaints]
    return resource


_PROCEDURE_STATUS: Final = {"completed": "completed", "planned": "preparation", "not-done": "not-done"}


def _procedure(b: _Builder, line: ProcedureLine) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "status": _PROCEDURE_STATUS.get(line.status, "unknown"),
        "code": {"text": line.text},
        "subject": b.patient_ref,
    }
    if line.historical:
        resource["note"] = [{"text": "Stated as past history in the source document."}]
    if not _reviewed(line.sources):
        _unreviewed_note(resource)
    return resource


def _follow_up(b: _Builder, line: FollowUpLine) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "plan",
        "code": {"text": f"Follow-up: {line.with_whom}" if line.with_whom else "Follow-up"},
        "subject": b.patient_ref,
        "authoredOn": _iso(line.date),
        "patientInstruction": line.text,
    }
    if line.interval:
        resource["note"] = [{"text": f"Within {line.interval} of {line.date:%Y-%m-%d}, as written."}]
    return resource


def _clinical(b: _Builder, record: PatientRecord) -> None:
    """Each clinical resource followed by its Provenance."""
    items: list[tuple[str, dict[str, Any], list[Source]]] = []
    for line in record.problems + record.refuted:
        items.append((f"condition:{line.text.lower()}", _condition(b, line), line.sources))
    for line in record.family_history:
        items.append((f"family:{line.text.lower()}", _family(b, line), line.sources))
    for med in record.medications:
        items.append((f"medication:{med.key}", _medication(b, med), med.sources))
    for allergy in record.allergies:
        confirmed = "confirmed" if _reviewed(allergy.sources) else "unconfirmed"
        resource: dict[str, Any] = {
            "resourceType": "AllergyIntolerance",
            "clinicalStatus": _concept(_ALLERGY_CLINICAL, "active"),
            "verificationStatus": _concept(_ALLERGY_VERIFICATION, confirmed),
            "code": {"text": allergy.substance},
            "patient": b.patient_ref,
            "recordedDate": _iso(max(s.date for s in allergy.sources)),
        }
        if allergy.reactions:
            resource["reaction"] = [{"manifestation": [{"text": r}]} for r in allergy.reactions]
        items.append((f"allergy:{allergy.substance.lower()}", resource, allergy.sources))
    if record.nkda and not record.allergies:  # a recorded allergy contradicts NKDA: export only the allergy
        resource = {
            "resourceType": "AllergyIntolerance",
            "clinicalStatus": _concept(_ALLERGY_CLINICAL, "active"),
            "verificationStatus": _concept(
                _ALLERGY_VERIFICATION, "confirmed" if _reviewed(record.nkda) else "unconfirmed"
            ),
            "code": {"coding": [_NKDA], "text": "No known drug allergies"},
            "patient": b.patient_ref,
            "recordedDate": _iso(max(s.date for s in record.nkda)),
        }
        items.append(("allergy:nkda", resource, record.nkda))
    for point in record.timeline:
        items.append((f"observation:{point.source.fact_id}:{point.name}", _observation(b, point), [point.source]))
    for enc in record.encounters:
        items.append((f"stated-encounter:{enc.document_id}", _stated_encounter(b, enc), enc.sources))
    for proc in record.procedures:
        items.append((f"procedure:{proc.text.lower()}", _procedure(b, proc), proc.sources))
    for follow in record.follow_ups:
        key = f"follow-up:{follow.sources[0].document_id}:{follow.text.lower()}"
        items.append((key, _follow_up(b, follow), follow.sources))
    for key, resource, sources in items:
        url = _urn(b.patient_ref["reference"], key)
        b.add(url, resource)
        b.provenance(url, sources)


def build_bundle(
    patient: PatientInfo,
    encounters: list[EncounterInfo],
    documents: list[DocumentInfo],
    record: PatientRecord,
    *,
    generated_at: datetime,
) -> Bundle:
    """The validated Bundle (type ``collection``) of a patient's record.

    Raises:
        ExportFailed: the resources do not validate against the FHIR R4B models.
    """
    b = _Builder(patient, documents, generated_at)
    b.add(_urn("patient", patient.id), _patient(patient))
    for enc in encounters:
        b.add(_urn("encounter", enc.id), _encounter(b, enc))
    for doc in documents:
        b.add(_urn("document", doc.id), _document(b, doc))
    _clinical(b, record)
    try:
        return Bundle.model_validate(
            {
                "resourceType": "Bundle",
                "identifier": {"system": _MRN_SYSTEM, "value": f"{patient.mrn}-{generated_at:%Y%m%dT%H%M%S}"},
                "type": "collection",
                "timestamp": _iso(generated_at),
                "entry": b.entries,
            }
        )
    except ValidationError as exc:
        raise ExportFailed(
            f"The FHIR export did not validate ({exc.error_count()} error(s)); nothing was exported."
        ) from exc
