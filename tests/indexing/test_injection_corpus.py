"""Issue 19, finding 7: instructions hidden in a document never become a confirmed fact of the record.

Before: the phrase filter was the only line: 5 of 9 reworded instructions put an active "morphine 100 mg"
into the FHIR export (rules backend). The defences are structural, each tested here on 52 reworded
instructions (26 English, 26 French, tests/indexing/data/injections.json):

1. grounding: a fact must quote the document, so an instruction can only add what it spells out;
2. every extracted fact enters the record as ``proposed``, for a clinician to accept, correct or reject;
3. the FHIR export marks what no clinician reviewed: a medication ``unknown`` (never ``active``), a
   condition or allergy ``unconfirmed``, an observation ``preliminary``, each with a note;
4. last line, the phrase filter (``instruction_spans``): its catch rate on the corpus is measured here.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from medspeak.fhir import DocumentInfo, PatientInfo, build_bundle
from medspeak.indexing.extract import extract_facts
from medspeak.indexing.record import RecordFact, Source, merge_facts
from medspeak.indexing.schema import Fact

_CORPUS = json.loads((Path(__file__).parent / "data" / "injections.json").read_text(encoding="utf-8"))
_WHEN = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)
_PATIENT = PatientInfo(7, "MS000007", "Marie", "Dupont", "female", date(1950, 1, 1))
_DOC = DocumentInfo(3, "letter.txt", "text/plain", "discharge_summary", _WHEN, "en")
# The phrase filter rejected 0 of 52 before issue 19 and 52 of 52 after, with cues written alongside this corpus
# (so 52/52 flatters it: new wordings will pass it; the structural defences above do not depend on it).
# False positives measured: 0 of 4469 MTSamples reports (EN), 0 of 90 (FR), 0 of 33 gold notes.
_FILTER_FLOOR = 0.9


def _note(item: dict[str, str]) -> str:
    return str(_CORPUS["notes"][item["language"]]).format(instruction=item["text"])


def _record_facts(facts: list[Fact], review: str = "proposed") -> list[RecordFact]:
    out = []
    for n, fact in enumerate(facts, start=1):
        ev = fact.evidence
        source = Source(n, 3, "letter.txt", _WHEN, ev.text if ev else "", ev.start if ev else None,
                        ev.end if ev else None, review_status=review)  # fmt: skip
        out.append(RecordFact(source, fact.category, fact.label, fact.assertion.value, fact.payload()))
    return out


def _resources(facts: list[RecordFact], kind: str) -> list[dict[str, Any]]:
    bundle = json.loads(build_bundle(_PATIENT, [], [_DOC], merge_facts(facts), generated_at=_WHEN).model_dump_json())
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _morphine(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in statements if "morphine" in json.dumps(s).lower()]


def test_the_corpus_has_at_least_50_reworded_instructions_in_both_languages() -> None:
    languages = [i["language"] for i in _CORPUS["instructions"]]
    assert len(languages) >= 50 and languages.count("en") >= 25 and languages.count("fr") >= 25
    assert len({i["text"] for i in _CORPUS["instructions"]}) == len(languages)


@pytest.mark.parametrize("item", _CORPUS["instructions"], ids=lambda i: f"{i['language']}-{i['text'][:30]}")
def test_no_instruction_reaches_the_export_as_an_active_medication(item: dict[str, str]) -> None:
    out = extract_facts(_note(item), language=item["language"], backend="rules")
    statements = _resources(_record_facts(out.facts), "MedicationStatement")
    assert statements, "the note's real medication is exported"
    assert all(s["status"] != "active" for s in statements)  # nothing unreviewed is active
    for statement in _morphine(statements):
        assert statement["status"] == "unknown" and "not reviewed" in statement["note"][-1]["text"]


def test_a_reviewed_medication_is_exported_active() -> None:
    item = _CORPUS["instructions"][0]
    out = extract_facts(_note(item), language="en", backend="rules")
    reviewed = [replace(f, source=replace(f.source, review_status="accepted")) for f in _record_facts(out.facts)]
    statements = _resources(reviewed, "MedicationStatement")
    assert any(s["status"] == "active" for s in statements)


def test_the_phrase_filter_catches_at_least_its_measured_share() -> None:
    caught = 0
    for item in _CORPUS["instructions"]:
        out = extract_facts(_note(item), language=item["language"], backend="rules")
        kept = [f for f in out.facts if "morphine" in f.label.lower()]
        caught += not kept
    assert caught / len(_CORPUS["instructions"]) >= _FILTER_FLOOR, f"{caught} of {len(_CORPUS['instructions'])}"
