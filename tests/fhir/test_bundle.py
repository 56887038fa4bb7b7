"""The FHIR R4 (R4B) Bundle of a merged record: resources, codes, evidence, validation."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from medspeak.fhir import DocumentInfo, EncounterInfo, ExportFailed, PatientInfo, build_bundle
from medspeak.fhir.bundle import EVIDENCE_EXTENSION
from medspeak.fhir.codes import lab_loinc, ucum_unit
from medspeak.indexing.record import PatientRecord, RecordFact, Source, merge_facts

_TEXT = "Metoprolol 25 mg PO BID. No chest pain. HR 96. Temp 101.2 F. Allergies: NKDA. Glucose 5.4 mmol/L"
_WHEN = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)
_PATIENT = PatientInfo(7, "MS000007", "Marie", "Dupont", "female", date(1950, 1, 1))
_DOC = DocumentInfo(3, "summary.pdf", "application/pdf", "discharge_summary", _WHEN, "en", encounter_id=5)
_STAY = EncounterInfo(5, "inpatient", datetime(2026, 3, 1, tzinfo=UTC), _WHEN)


def _fact(n: int, category: str, evidence: str, value: dict[str, Any], assertion: str = "present") -> RecordFact:
    start = _TEXT.index(evidence)
    source = Source(
        n, 3, "summary.pdf", _WHEN, evidence, start, start + len(evidence), page=1, review_status="accepted",
        reviewer="drwho",
    )  # fmt: skip
    return RecordFact(source, category, evidence, assertion, value)


def _record() -> PatientRecord:
    return merge_facts(
        [
            _fact(
                1,
                "medication",
                "Metoprolol 25 mg PO BID",
                {"name": "Metoprolol", "strength": "25 mg", "route": "PO", "frequency": "BID", "status": "active"},
            ),
            _fact(2, "problem", "chest pain", {"text": "chest pain"}, assertion="absent"),
            _fact(3, "vital", "HR 96", {"type": "heart_rate", "value": 96, "unit": "/min"}),
            _fact(4, "vital", "Temp 101.2 F", {"type": "temperature", "value": 101.2, "unit": "[degF]"}),
            _fact(5, "allergy", "NKDA", {"nkda": True}),
            _fact(6, "lab", "Glucose 5.4 mmol/L", {"name": "glucose", "value": 5.4, "unit": "mmol/L"}),
        ]
    )


def _resources(bundle: Bundle, kind: str) -> list[dict[str, Any]]:
    data = json.loads(bundle.model_dump_json())
    return [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == kind]


def _bundle(record: PatientRecord | None = None) -> Bundle:
    return build_bundle(_PATIENT, [_STAY], [_DOC], record or _record(), generated_at=_WHEN)


def test_the_bundle_validates_and_round_trips() -> None:
    bundle = _bundle()
    again = Bundle.model_validate_json(bundle.model_dump_json())
    assert again.type == "collection" and len(again.entry or []) == len(bundle.entry or [])
    (patient,) = _resources(bundle, "Patient")
    assert patient["identifier"][0]["value"] == "MS000007" and patient["gender"] == "female"
    (stay,) = _resources(bundle, "Encounter")
    assert stay["class"]["code"] == "IMP" and stay["status"] == "finished"


def test_a_denied_problem_is_a_refuted_condition() -> None:
    (condition,) = _resources(_bundle(), "Condition")
    assert condition["code"]["text"] == "chest pain"
    assert condition["verificationStatus"]["coding"][0]["code"] == "refuted"
    assert condition["clinicalStatus"]["coding"][0]["code"] == "inactive"


def test_medications_carry_dosage_codes() -> None:
    (statement,) = _resources(_bundle(), "MedicationStatement")
    assert statement["status"] == "active" and statement["medicationCodeableConcept"]["text"] == "metoprolol"
    dosage = statement["dosage"][0]
    assert dosage["route"]["coding"][0]["code"] == "26643006"  # SNOMED CT oral route
    assert dosage["timing"]["code"]["coding"][0]["code"] == "BID"
    assert statement["derivedFrom"][0]["display"] == "summary.pdf"


def test_observations_use_loinc_and_ucum_where_known() -> None:
    observations = {o["code"]["text"]: o for o in _resources(_bundle(), "Observation")}
    heart = observations["heart rate"]
    assert heart["code"]["coding"][0] == {"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}
    assert heart["valueQuantity"] == {
        "value": 96,
        "unit": "/min",
        "system": "http://unitsofmeasure.org",
        "code": "/min",
    }
    assert heart["category"][0]["coding"][0]["code"] == "vital-signs"
    # 101.2 [degF]: the unit is UCUM, but LOINC 8310-5 is not claimed for a unit it does not expect.
    temperature = observations["temperature"]
    assert "coding" not in temperature["code"] and temperature["valueQuantity"]["code"] == "[degF]"
    glucose = observations["glucose"]
    assert (
        glucose["code"]["coding"][0]["code"] == "14749-6"
        and glucose["category"][0]["coding"][0]["code"] == "laboratory"
    )


def test_nkda_is_exported_unless_an_allergy_contradicts_it() -> None:
    (allergy,) = _resources(_bundle(), "AllergyIntolerance")
    assert allergy["code"]["coding"][0]["code"] == "409137002"
    record = _record()
    record.allergies = merge_facts([_fact(9, "allergy", "NKDA", {"substance": "penicillin"})]).allergies
    (allergy,) = _resources(_bundle(record), "AllergyIntolerance")
    assert allergy["code"] == {"text": "penicillin"}


def test_every_clinical_resource_has_a_provenance_with_its_span() -> None:
    bundle = _bundle()
    entries = json.loads(bundle.model_dump_json())["entry"]
    urls = {e["fullUrl"]: e["resource"]["resourceType"] for e in entries}
    provenance = _resources(bundle, "Provenance")
    targets = {p["target"][0]["reference"] for p in provenance}
    clinical = {
        u for u, kind in urls.items() if kind not in ("Patient", "Encounter", "DocumentReference", "Provenance")
    }
    assert targets == clinical
    for prov in provenance:
        (entity,) = prov["entity"]
        assert urls[entity["what"]["reference"]] == "DocumentReference"
        (ext,) = entity["extension"]
        assert ext["url"] == EVIDENCE_EXTENSION
        parts = {p["url"]: next(v for k, v in p.items() if k.startswith("value")) for p in ext["extension"]}
        assert _TEXT[parts["start"] : parts["end"]] == parts["text"] and parts["page"] == 1
        assert {a["who"]["display"] for a in prov["agent"]} == {"medspeak extractor: rules", "drwho"}


def test_the_same_record_gives_the_same_resource_ids() -> None:
    first = [e.fullUrl for e in _bundle().entry or []]
    assert first == [e.fullUrl for e in _bundle().entry or []] and len(set(first)) == len(first)


def test_an_invalid_value_is_refused_not_exported() -> None:
    record = _record()
    broken = record.timeline[0]
    record.timeline[0] = type(broken)(broken.kind, broken.name, float("nan"), None, None, None, broken.source)
    with pytest.raises(ExportFailed, match="did not validate"):
        _bundle(record)


@pytest.mark.parametrize(
    ("unit", "code"),
    [("mmHg", "mm[Hg]"), ("mEq/L", "meq/L"), ("K/uL", "10*3/uL"), ("mg/dL", "mg/dL"), ("furlongs", None)],
)
def test_units_map_to_ucum_only_when_certain(unit: str, code: str | None) -> None:
    assert ucum_unit(unit) == code


def test_a_lab_code_needs_the_unit_it_is_defined_for() -> None:
    assert lab_loinc("Creatinine", "mg/dL") == ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma")
    assert lab_loinc("creatinine", "umol/L") is not None and lab_loinc("creatinine", "mg") is None
    assert lab_loinc("troponin", "ng/L") is None  # I or T? not claimed


_VISIT = (
    "Admitted: 2026-03-01. Ward: Cardiology. Chief complaint: Palpitations. s/p appendectomy. "
    "No stress test. Follow up with cardiology in 2 weeks."
)


def _visit_fact(n: int, category: str, evidence: str, value: dict[str, Any], assertion: str = "present") -> RecordFact:
    start = _VISIT.index(evidence)
    source = Source(n, 3, "summary.pdf", _WHEN, evidence, start, start + len(evidence), page=1)
    return RecordFact(source, category, evidence, assertion, value)


def _visit_bundle() -> Bundle:
    record = merge_facts(
        [
            _visit_fact(1, "encounter", "Admitted: 2026-03-01",
                        {"date_kind": "admission", "date_text": "2026-03-01", "parsed_date": "2026-03-01"}),
            _visit_fact(2, "encounter", "Ward: Cardiology", {"department": "Cardiology"}),
            _visit_fact(3, "encounter", "Palpitations", {"chief_complaint": "Palpitations"}),
            _visit_fact(4, "procedure", "appendectomy", {"text": "appendectomy"}, assertion="historical"),
            _visit_fact(5, "procedure", "stress test", {"text": "stress test"}, assertion="absent"),
            _visit_fact(6, "follow_up", "Follow up with cardiology in 2 weeks",
                        {"text": "Follow up with cardiology in 2 weeks", "with_whom": "cardiology",
                         "interval": "2 weeks"}),
        ]
    )  # fmt: skip
    return _bundle(record)


def test_the_stated_encounter_carries_period_department_and_chief_complaint() -> None:
    stay, stated = _resources(_visit_bundle(), "Encounter")
    assert stay["period"]["start"].startswith("2026-03-01T")  # the stay on file is unchanged
    assert stated["class"]["code"] == "IMP" and stated["period"] == {"start": "2026-03-01"}
    assert stated["serviceType"] == {"text": "Cardiology"}
    assert stated["reasonCode"] == [{"text": "Palpitations"}]


def test_procedures_are_completed_or_not_done_as_stated() -> None:
    procedures = {p["code"]["text"]: p for p in _resources(_visit_bundle(), "Procedure")}
    assert (
        procedures["appendectomy"]["status"] == "completed"
        and "past history" in procedures["appendectomy"]["note"][0]["text"]
    )
    assert procedures["stress test"]["status"] == "not-done"


def test_follow_up_is_a_planned_service_request() -> None:
    (request,) = _resources(_visit_bundle(), "ServiceRequest")
    assert (request["status"], request["intent"]) == ("active", "plan")
    assert request["code"] == {"text": "Follow-up: cardiology"}
    assert request["patientInstruction"] == "Follow up with cardiology in 2 weeks"


def test_visit_resources_have_provenance_with_their_spans() -> None:
    bundle = _visit_bundle()
    entries = json.loads(bundle.model_dump_json())["entry"]
    kinds = {e["fullUrl"]: e["resource"]["resourceType"] for e in entries}
    provenance = {p["target"][0]["reference"]: p for p in _resources(bundle, "Provenance")}
    stated = [u for u, k in kinds.items() if k in ("Procedure", "ServiceRequest")]
    stated += [u for u, k in kinds.items() if k == "Encounter" and u != _urn_of_stay(entries)]
    assert len(stated) == 4 and set(stated) <= set(provenance)
    for url in stated:
        for entity in provenance[url]["entity"]:
            parts = {
                p["url"]: next(v for k, v in p.items() if k.startswith("value"))
                for p in entity["extension"][0]["extension"]
            }
            assert _VISIT[parts["start"] : parts["end"]] == parts["text"]


def _urn_of_stay(entries: list[dict[str, Any]]) -> str:
    return next(e["fullUrl"] for e in entries if e["resource"]["resourceType"] == "Encounter")


def test_codes_go_into_the_bundle_as_codings_with_standard_systems() -> None:
    (statement,) = _resources(_bundle(), "MedicationStatement")
    assert statement["medicationCodeableConcept"]["coding"] == [
        {"system": "http://www.whocc.no/atc", "code": "C07AB02"}
    ]
    (condition,) = _resources(_bundle(), "Condition")
    assert condition["code"]["coding"] == [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "R07.9"}]


def test_dosage_text_is_plain_words_and_regimens_stay_apart() -> None:
    def med(n: int, strength: str, frequency: str, setting: str, as_needed: bool = False) -> RecordFact:
        value = {"name": "Lamictal", "normalized_name": "lamotrigine", "strength": strength, "route": "PO"}
        value |= {"frequency": frequency, "setting": setting, "as_needed": as_needed, "status": "active"}
        source = Source(n, 3, "summary.pdf", _WHEN, "Lamictal", page=1)
        return RecordFact(source, "medication", "Lamictal", "present", value)

    morphine = RecordFact(
        Source(3, 3, "summary.pdf", _WHEN, "Morphine", page=1),
        "medication",
        "Morphine",
        "present",
        {"name": "Morphine", "strength": "5 mg", "route": "IV", "frequency": "Q4H", "as_needed": True}
        | {"setting": "inpatient", "status": "active"},
    )
    record = merge_facts([med(1, "100 mg", "QD", "discharge"), med(2, "150.0 mg", "QHS", "discharge"), morphine])
    statements = _resources(_bundle(record), "MedicationStatement")
    texts = [s["dosage"][0]["text"] for s in statements]
    assert texts == [
        "Lamictal 100 mg by mouth once daily",
        "Lamictal 150 mg by mouth at bedtime",
        "Morphine 5 mg intravenous every 4 hours as needed",
    ]
    assert [s["dosage"][0]["timing"]["code"]["text"] for s in statements] == [
        "once daily",
        "at bedtime",
        "every 4 hours",
    ]
    assert statements[2]["dosage"][0]["asNeededBoolean"] is True
    categories = [s["category"]["coding"][0]["code"] for s in statements]
    assert categories == ["community", "community", "inpatient"]
    assert statements[2]["note"][0]["text"] == "Given in hospital only: not a discharge medication."
    data = json.loads(_bundle(record).model_dump_json())
    urls = [e["fullUrl"] for e in data["entry"] if e["resource"]["resourceType"] == "MedicationStatement"]
    assert len(set(urls)) == 3  # one resource per regimen
