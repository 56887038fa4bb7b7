"""Evaluation of extraction against Synthea structured truth (``--synthea``) or hand-annotated gold (``--gold``).

Synthea: each clinical note is extracted; recall is over the note's encounter (its MedicationRequests,
its Conditions tagged "(disorder)"); precision is against the patient's history up to the note's date
(a medication right when a MedicationRequest of that patient authored by then has the same ingredients
and strengths; a problem when a Condition recorded by then has the same text, semantic tag dropped).
Synthea notes state neither attributes nor assertions, so ``medication_attr_accuracy`` and
``assertion_accuracy`` are ``None`` there.
"""

from __future__ import annotations

import base64
import csv
import json
import re
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from medspeak.indexing.extract import ExtractionOutput, extract_facts
from medspeak.indexing.rules.lexicon import drug_names
from medspeak.indexing.rules.medications import normalize_strength, parse_attributes, parse_components
from medspeak.indexing.schema import Assertion, Medication, Problem

__all__ = ["METRIC_KEYS", "eval_extraction_command", "evaluate_gold", "evaluate_synthea"]

METRIC_KEYS = (
    "notes",
    "medication_precision",
    "medication_recall",
    "medication_f1",
    "medication_attr_accuracy",
    "problem_precision",
    "problem_recall",
    "problem_f1",
    "assertion_accuracy",
    "grounded_rate",
    "notes_per_s",
)
_TAG = re.compile(r"\s*\((?:disorder|finding|situation|morphologic abnormality|procedure|person)\)\s*$", re.I)
_AFFIRMED = {Assertion.PRESENT, Assertion.HISTORICAL}

MedKey = tuple[tuple[str, str], ...]


def _med_key(description: str) -> MedKey:
    """Ingredients (generic names) with their strengths: what a medication must match on."""
    return tuple(sorted((drug_names().get(name, name), strength) for name, strength in parse_components(description)))


def _problem_key(text: str) -> str:
    return " ".join(_TAG.sub("", text).lower().split())


def _day(value: str) -> date:
    return datetime.fromisoformat(value).date()


def _ref(resource: dict[str, Any], key: str) -> str:
    return str(resource.get(key, {}).get("reference", "")).split("/")[-1]


def _resources(folder: Path, kind: str) -> Iterator[dict[str, Any]]:
    for path in sorted(folder.glob(f"{kind}*.ndjson")):
        with path.open(encoding="utf-8") as lines:
            yield from (json.loads(line) for line in lines if line.strip())


@dataclass
class _Counts:
    hits: int = 0  # predictions judged right (precision numerator)
    predicted: int = 0
    found: int = 0  # truths found (recall numerator)
    truths: int = 0
    grounded: int = 0
    unsupported: int = 0
    attr_right: int = 0
    attr_total: int = 0
    assertion_right: int = 0
    assertion_total: int = 0
    per_note: list[float] = field(default_factory=list)

    def prf(self) -> tuple[float | None, float | None, float | None]:
        p = self.hits / self.predicted if self.predicted else None
        r = self.found / self.truths if self.truths else None
        f = 2 * p * r / (p + r) if p is not None and r is not None and p + r else None
        return p, r, f


def _report(notes: int, seconds: float, meds: _Counts, problems: _Counts) -> dict[str, Any]:
    mp, mr, mf = meds.prf()
    pp, pr, pf = problems.prf()
    grounded = meds.grounded
    total = grounded + meds.unsupported

    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    def r4(x: float | None) -> float | None:
        return round(x, 4) if x is not None else None

    return {
        "notes": notes,
        "medication_precision": r4(mp),
        "medication_recall": r4(mr),
        "medication_f1": r4(mf),
        "medication_attr_accuracy": ratio(meds.attr_right, meds.attr_total),
        "problem_precision": r4(pp),
        "problem_recall": r4(pr),
        "problem_f1": r4(pf),
        "assertion_accuracy": ratio(problems.assertion_right, problems.assertion_total),
        "grounded_rate": ratio(grounded, total),
        "notes_per_s": round(notes / seconds, 1) if seconds else None,
    }


def _count_grounding(output: ExtractionOutput, counts: _Counts) -> None:
    counts.grounded += len(output.facts)
    counts.unsupported += len(output.unsupported)


def evaluate_synthea(folder: Path, limit: int | None = None, backend: str | None = None) -> dict[str, Any]:
    """Medication and problem precision/recall/F1 of extraction on Synthea notes (``METRIC_KEYS``).

    Args:
        folder: a Synthea FHIR R4 bulk export (``DocumentReference*.ndjson``, ``MedicationRequest*``, ``Condition*``).
        limit: evaluate only the first ``limit`` notes.
        backend: extraction backend (default ``MEDSPEAK_LLM_BACKEND``).
    """
    med_history: dict[str, list[tuple[date, MedKey]]] = defaultdict(list)
    med_encounter: dict[str, set[MedKey]] = defaultdict(set)
    for request in _resources(folder, "MedicationRequest"):
        text = request.get("medicationCodeableConcept", {}).get("text")
        if not text:
            continue  # a medicationReference without a Medication resource cannot be named
        key = _med_key(text)
        med_history[_ref(request, "subject")].append((_day(request["authoredOn"]), key))
        med_encounter[_ref(request, "encounter")].add(key)
    cond_history: dict[str, list[tuple[date, str]]] = defaultdict(list)
    cond_encounter: dict[str, set[str]] = defaultdict(set)
    for condition in _resources(folder, "Condition"):
        text = condition.get("code", {}).get("text", "")
        recorded = condition.get("recordedDate") or condition.get("onsetDateTime")
        if recorded:
            cond_history[_ref(condition, "subject")].append((_day(recorded), _problem_key(text)))
        if text.lower().endswith("(disorder)"):
            cond_encounter[_ref(condition, "encounter")].add(_problem_key(text))
    meds, problems = _Counts(), _Counts()
    notes, seconds = 0, 0.0
    for document in _resources(folder, "DocumentReference"):
        if limit is not None and notes >= limit:
            break
        text = base64.b64decode(document["content"][0]["attachment"]["data"]).decode("utf-8")
        patient = _ref(document, "subject")
        encounter = str(document.get("context", {}).get("encounter", [{}])[0].get("reference", "")).split("/")[-1]
        day = _day(document["date"])
        started = time.perf_counter()
        output = extract_facts(text, language="en", backend=backend)
        seconds += time.perf_counter() - started
        notes += 1
        _count_grounding(output, meds)
        extracted_meds = {
            _med_key(f.evidence.text) for f in output.facts if isinstance(f, Medication) and f.evidence
        } - {()}
        known_meds = {key for when, key in med_history[patient] if when <= day}
        meds.predicted += len(extracted_meds)
        meds.hits += len(extracted_meds & known_meds)
        meds.truths += len(med_encounter[encounter])
        meds.found += len(med_encounter[encounter] & extracted_meds)
        extracted_problems = {
            _problem_key(f.text) for f in output.facts if isinstance(f, Problem) and f.assertion in _AFFIRMED
        }
        known_problems = {key for when, key in cond_history[patient] if when <= day}
        problems.predicted += len(extracted_problems)
        problems.hits += len(extracted_problems & known_problems)
        problems.truths += len(cond_encounter[encounter])
        problems.found += len(cond_encounter[encounter] & extracted_problems)
    return _report(notes, seconds, meds, problems)


def _lenient(text: str | None) -> str:
    """Case, punctuation and spacing dropped: "b.i.d." → "bid", "P.O." → "po"."""
    return re.sub(r"[^\w/ ]+", "", (text or "").lower()).strip()


def _frequency_code(text: str | None) -> str | None:
    """A gold frequency as the rules' code (b.i.d. = BID = twice daily); lenient text when unknown."""
    if not text:
        return None
    return parse_attributes(text).frequency or _lenient(text)


def _route_code(text: str | None) -> str | None:
    """A gold route as the rules' code (PO = oral = by mouth); lenient text when unknown."""
    if not text:
        return None
    return parse_attributes(text).route or _lenient(text)


def _gold_med_key(name: str, strength: str | None) -> tuple[str, str]:
    generic = drug_names().get(_lenient(name), _lenient(name))
    return generic, normalize_strength(strength) if strength else ""


def _report_texts(reports: Path | None) -> dict[str, str]:
    """MTSamples transcriptions by ``mtsamples-<note_id>``, to fill gold lines kept without their text."""
    if reports is None:
        return {}
    with reports.open(encoding="utf-8", newline="") as handle:
        return {f"mtsamples-{row['note_id']}": row["transcription"] for row in csv.DictReader(handle)}


def evaluate_gold(gold: Path, reports: Path | None = None, backend: str | None = None) -> dict[str, Any]:
    """Extraction scored against hand-annotated reports (JSON lines, the issue's ``--gold`` format).

    Medications match on generic name (a brand matches its generic) and strength, leniently; attribute
    accuracy is over matched medications (route, frequency, status given in the gold); problems match on
    lenient text, and assertion accuracy is over matched problems.
    """
    texts = _report_texts(reports)
    meds, problems = _Counts(), _Counts()
    notes, seconds = 0, 0.0
    for number, line in enumerate(gold.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        record = json.loads(line)
        text = record.get("text") or texts.get(record["id"])
        if not text:
            raise ValueError(f"{gold}:{number}: no text for {record['id']!r}; pass the reports CSV that holds it")
        started = time.perf_counter()
        output = extract_facts(text, backend=backend)
        seconds += time.perf_counter() - started
        notes += 1
        _count_grounding(output, meds)
        _score_gold_medications(record.get("medications", []), output, meds)
        _score_gold_problems(record.get("problems", []), output, problems)
    return _report(notes, seconds, meds, problems)


def _score_gold_medications(gold: list[dict[str, Any]], output: ExtractionOutput, counts: _Counts) -> None:
    found = {
        _gold_med_key(f.normalized_name, f.strength.split(" / ")[0] if f.strength else None): f
        for f in output.facts
        if isinstance(f, Medication)
    }
    wanted = {_gold_med_key(m["name"], m.get("strength")): m for m in gold}
    counts.predicted += len(found)
    counts.hits += len(found.keys() & wanted.keys())
    counts.truths += len(wanted)
    counts.found += len(found.keys() & wanted.keys())
    for key in found.keys() & wanted.keys():
        fact, truth = found[key], wanted[key]
        pairs = [
            (_route_code(truth.get("route")), fact.route),
            (_frequency_code(truth.get("frequency")), fact.frequency),
            (truth.get("status"), fact.status.value),
        ]
        for expected, got in pairs:
            if expected:
                counts.attr_total += 1
                counts.attr_right += expected == got


def _score_gold_problems(gold: list[dict[str, Any]], output: ExtractionOutput, counts: _Counts) -> None:
    found = {_lenient(f.text): f for f in output.facts if isinstance(f, Problem)}
    wanted = {_lenient(p["text"]): p for p in gold}
    matched = found.keys() & wanted.keys()
    counts.predicted += len(found)
    counts.hits += len(matched)
    counts.truths += len(wanted)
    counts.found += len(matched)
    for key in matched:
        counts.assertion_total += 1
        counts.assertion_right += found[key].assertion.value == wanted[key].get("assertion", "present")


def eval_extraction_command(
    synthea: Path | None,
    gold: Path | None,
    reports: Path | None,
    backend: str,
    json_out: bool,
    limit: int | None = None,
) -> str:
    """What ``medspeak eval extraction`` prints: one JSON object (``json_out``) or one ``key: value`` a line.

    Exactly one of ``synthea`` and ``gold`` is given; ``reports`` supplies the text of gold lines kept
    without it (MTSamples CSV).
    """
    if (synthea is None) == (gold is None):
        raise ValueError("Give exactly one of --synthea DIR and --gold FILE.jsonl.")
    chosen = None if backend == "auto" else backend
    if synthea is not None:
        result = evaluate_synthea(synthea, limit=limit, backend=chosen)
    elif gold is not None:
        result = evaluate_gold(gold, reports, backend=chosen)
    else:  # unreachable after the check above; keeps the types narrow without an assert
        raise ValueError("Give exactly one of --synthea DIR and --gold FILE.jsonl.")
    if json_out:
        return json.dumps(result)
    return "\n".join(f"{key}: {value}" for key, value in result.items())
