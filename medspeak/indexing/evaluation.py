"""Evaluation of extraction against Synthea structured truth (``--synthea``) or hand-annotated gold (``--gold``).

Synthea: each clinical note is extracted; recall is over the note's encounter (its MedicationRequests,
its Conditions tagged "(disorder)"); precision is against the patient's history up to the note's date
(a medication right when a MedicationRequest of that patient authored by then has the same ingredients
and strengths; a problem when a Condition recorded by then has the same text, semantic tag dropped).
The reason for a visit ("# Chief Complaint": "Hunger", "Thirst") is the encounter's chief complaint,
not a problem (the issue's definition): the extractors record it as an ``Encounter`` fact, so it is
neither a problem prediction here nor an error.
Synthea notes state neither attributes nor assertions, so ``medication_attr_accuracy`` and
``assertion_accuracy`` are ``None`` there.
"""

from __future__ import annotations

import base64
import csv
import json
import re
import time
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from medspeak.indexing.extract import ExtractionOutput, Extractors, environment_extractors, extract_facts
from medspeak.indexing.rules.lexicon import drug_names, find_drug_names
from medspeak.indexing.rules.medications import parse_attributes, parse_components
from medspeak.indexing.schema import Allergy, Assertion, Finding, Medication, Problem, Vital

__all__ = [
    "METRIC_KEYS",
    "eval_extraction_command",
    "evaluate_gold",
    "evaluate_synthea",
    "medication_identity",
    "medications_match",
    "problems_match",
    "read_gold",
]

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
    "frequency_accuracy",
    "assertion_lenient_accuracy",
    "nkda_accuracy",
    "vital_precision",
    "vital_recall",
    "vital_f1",
)
_TAG = re.compile(r"\s*\((?:disorder|finding|situation|morphologic abnormality|procedure|person)\)\s*$", re.I)
_AFFIRMED = {Assertion.PRESENT, Assertion.HISTORICAL}
_CURRENT = {"present", "historical"}  # one class for chronic conditions listed as history (the lenient call)

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
    lenient_right: int = 0  # present and historical as one class (the conventions' call for antécédents)
    frequency_right: int = 0
    frequency_total: int = 0
    per_note: list[float] = field(default_factory=list)

    def prf(self) -> tuple[float | None, float | None, float | None]:
        p = self.hits / self.predicted if self.predicted else None
        r = self.found / self.truths if self.truths else None
        f = 2 * p * r / (p + r) if p is not None and r is not None and p + r else None
        return p, r, f


def _report(
    notes: int, seconds: float, meds: _Counts, problems: _Counts, vitals: _Counts | None = None, nkda_right: int = 0
) -> dict[str, Any]:
    mp, mr, mf = meds.prf()
    vp, vr, vf = vitals.prf() if vitals else (None, None, None)
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
        "frequency_accuracy": ratio(meds.frequency_right, meds.frequency_total),
        "assertion_lenient_accuracy": ratio(problems.lenient_right, problems.assertion_total),
        "nkda_accuracy": ratio(nkda_right, notes) if vitals else None,
        "vital_precision": r4(vp),
        "vital_recall": r4(vr),
        "vital_f1": r4(vf),
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
    with closing(environment_extractors()) as extractors:  # one set of backends for every note (a model loads once)
        return _evaluate_synthea(folder, limit, backend, extractors)


def _evaluate_synthea(folder: Path, limit: int | None, backend: str | None, extractors: Extractors) -> dict[str, Any]:
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
        output = extract_facts(text, language="en", backend=backend, extractors=extractors)
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


def _fold(text: str) -> str:
    """Accents and no-break spaces folded, as the conventions' scorer does: "Céfuroxime" = "cefuroxime"."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\u00a0", " ").replace("\u202f", " "))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _lenient(text: str | None) -> str:
    """Case, accents, punctuation and spacing dropped: "b.i.d." → "bid", "P.O." → "po"."""
    return " ".join(re.sub(r"[^\w/ ]+", "", _fold(text or "").lower()).split())


def _frequency_code(text: str | None) -> str | None:
    """A frequency as the rules' code (b.i.d. = BID = twice daily); lenient text when unknown."""
    if not text:
        return None
    attributes = parse_attributes(text)
    return attributes.frequency or ("PRN" if attributes.as_needed else _lenient(text))


def _fact_frequency(fact: Medication) -> str | None:
    """A medication's frequency code; "PRN" when it is only taken as needed."""
    return fact.frequency or ("PRN" if fact.as_needed else None)


def _route_code(text: str | None) -> str | None:
    """A route as the rules' code (PO = oral = by mouth); lenient text when unknown."""
    if not text:
        return None
    return parse_attributes(text).route or _lenient(text)


def _strength_code(text: str | None) -> str | None:
    """A strength compared on its numbers: "25 MG" = "25 mg", "5/500 mg" = "5/500"."""
    if not text:
        return None
    return "/".join(f"{float(n):g}" for n in re.findall(r"\d+(?:\.\d+)?", text.replace(",", "."))) or _lenient(text)


def medication_identity(name: str) -> str:
    """The ingredient a medication name stands for: brand → generic through the drug lexicon, leniently.

    ``"Toprol XL"`` → ``"metoprolol"``; a name the lexicon lacks, or holds only in part, is its lenient text.
    """
    folded = _fold(name).strip()
    found = find_drug_names(folded)
    if len(found) == 1 and found[0][1] - found[0][0] >= len(folded.rstrip(" .,")):
        return found[0][2]
    return _lenient(name)


def medications_match(gold_name: str, found_name: str) -> bool:
    """Same name (leniently), or two whole drug names of the same ingredient (a brand and its generic).

    A shorter name never stands for a longer one: "Bactrim" does not match "Bactrim DS", nor one
    ingredient a combination ("hydrocodone" for "hydrocodone/acetaminophen").
    """
    a, b = _lenient(gold_name), _lenient(found_name)
    if a == b:
        return True
    if set(b.split()) < set(a.split()):
        return False  # the found name is the gold one cut short
    return medication_identity(gold_name) == medication_identity(found_name)


_STOPWORDS = frozenset(
    "a an the of and or in on with to his her their its any some for at by from"
    " de du des d l la le les un une et ou au aux a en sa son ses dans sur".split()  # French
)
# a containment match needs more than these words: "pain" alone does not match "chest pain"
_GENERIC = frozenset(
    "pain disease problem problems symptom symptoms history left right acute chronic mild severe"
    " douleur douleurs mal maux maladie probleme symptome antecedent antecedents gauche droit droite aigu aigue"
    " chronique leger legere severe".split()
)


def problem_tokens(text: str) -> frozenset[str]:
    """Lower-case content words, punctuation dropped, a final plural "s" removed: what problems match on."""
    words = re.findall(r"[a-z0-9]+", _fold(text).lower().replace("’", "'").replace("'s", "").replace("œ", "oe"))
    return frozenset(
        w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words if w not in _STOPWORDS
    )


def problems_match(gold_text: str, found_text: str) -> bool:
    """Lenient problem match: same content words, one's words contained in the other's (beyond generic
    words such as "pain"), or a token overlap (Jaccard) of at least one half."""
    a, b = problem_tokens(gold_text), problem_tokens(found_text)
    if not a or not b:
        return False
    if a == b:
        return True
    small = a if len(a) <= len(b) else b
    if (a <= b or b <= a) and small - _GENERIC:
        return True
    return len(a & b) / len(a | b) >= 0.5


def _report_texts(reports: Path | None) -> dict[str, str]:
    """Report texts by gold id: MTSamples transcriptions (CSV) as ``mtsamples-<note_id>``, or a folder of
    French reports (``mtsamples_fr/machine_translated/N.txt``) as ``mtsamples_fr-N``."""
    if reports is None:
        return {}
    if reports.is_dir():
        return {f"mtsamples_fr-{path.stem}": path.read_text(encoding="utf-8") for path in sorted(reports.glob("*.txt"))}
    with reports.open(encoding="utf-8", newline="") as handle:
        return {f"mtsamples-{row['note_id']}": row["transcription"] for row in csv.DictReader(handle)}


def read_gold(gold: Path, reports: Path | None = None, ids: set[str] | None = None) -> list[dict[str, Any]]:
    """Gold records of a JSON-lines file, each with its ``text`` (from the line, else from ``reports``).

    Raises:
        ValueError: a line is not JSON, or a record has no text and ``reports`` does not hold its id.
    """
    texts = _report_texts(reports)
    records = []
    for number, line in enumerate(gold.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{gold}:{number}: not a JSON object ({exc.msg})") from exc
        if ids is not None and record.get("id") not in ids:
            continue
        text = record.get("text") or texts.get(record.get("id", ""))
        if not text:
            hint = "pass --reports with the CSV that holds it" if reports is None else f"{reports} does not hold it"
            raise ValueError(f"{gold}:{number}: no text for {record.get('id')!r}; {hint}")
        records.append({**record, "text": text})
    return records


def evaluate_gold(
    gold: Path,
    reports: Path | None = None,
    backend: str | None = None,
    ids: set[str] | None = None,
    findings: bool = True,
) -> dict[str, Any]:
    """Extraction scored against hand-annotated reports (JSON lines, the issue's ``--gold`` format).

    Medications: a drug is one medication per report however often it is mentioned (in English gold, by the
    conventions, one per name as written: "Prilosec" and "Omeprazole" both written are two); it matches a gold
    one on the same name first, then on ingredient (a brand matches its generic, through the drug lexicon) or
    when one lenient name contains the other. Attribute accuracy is over matched medications and the attributes the gold
    gives (strength on its numbers, route and frequency as codes — PO = oral, b.i.d. = BID = twice
    daily —, status), on the mention that agrees best with the gold.
    Problems: distinct texts per report (first mention kept), matched one to one in text order with
    ``problems_match``; assertion accuracy is over matched problems.
    Examination findings count as problems (the annotation conventions); ``findings=False`` scores the
    problem list alone, for gold annotated before findings were in scope.
    ``ids`` restricts the evaluation to those records (a held-out part, say). Lexicons are loaded
    before the clock starts, so ``notes_per_s`` is the steady throughput.
    """
    with closing(environment_extractors()) as extractors:  # one set of backends for every report
        return _evaluate_gold(gold, reports, backend, ids, findings, extractors)


def _evaluate_gold(
    gold: Path, reports: Path | None, backend: str | None, ids: set[str] | None, findings: bool, extractors: Extractors
) -> dict[str, Any]:
    records = read_gold(gold, reports, ids)
    extract_facts("Warm-up: aspirin 81 mg daily.", language="en", backend=backend, extractors=extractors)
    meds, problems, vitals = _Counts(), _Counts(), _Counts()
    notes, seconds, nkda_right = 0, 0.0, 0
    for record in records:
        started = time.perf_counter()
        output = extract_facts(record["text"], backend=backend, extractors=extractors)
        seconds += time.perf_counter() - started
        notes += 1
        _count_grounding(output, meds)
        by_name = record.get("lang") == "en"  # the conventions: a brand and its generic, both written, are two
        _score_gold_medications(record.get("medications", []), output, meds, by_name=by_name)
        _score_gold_problems(record.get("problems", []), output, problems, findings)
        _score_gold_vitals(record.get("vitals", []), output, vitals)
        nkda_right += any(isinstance(f, Allergy) and f.nkda for f in output.facts) == bool(record.get("nkda"))
    return _report(notes, seconds, meds, problems, vitals, nkda_right)


def _vital_keys(vital_type: str, value: str | float) -> list[tuple[str, float]]:
    """(type, number) pairs of a vital as written: "143/83" → systolic 143 and diastolic 83, "36°6" → 36.6."""
    if vital_type == "blood_pressure":
        numbers = re.findall(r"\d+(?:[.,]\d+)?", str(value))
        kinds = ("systolic_bp", "diastolic_bp")
        return [(kind, float(n.replace(",", "."))) for kind, n in zip(kinds, numbers, strict=False)]
    written = str(value).replace(",", ".").replace("°", ".")
    number = re.search(r"\d+(?:\.\d+)?", written)
    return [(vital_type, float(number.group(0)))] if number else []


def _score_gold_vitals(gold: list[dict[str, Any]], output: ExtractionOutput, counts: _Counts) -> None:
    """Vitals as (type, number) pairs, each matched once; a blood pressure is its two numbers."""
    found = [(f.type, round(f.value, 2)) for f in output.facts if isinstance(f, Vital)]
    wanted = [(t, round(v, 2)) for g in gold for t, v in _vital_keys(g["type"], g["value"])]
    counts.predicted += len(found)
    counts.truths += len(wanted)
    left = list(found)
    for key in wanted:
        if key in left:
            left.remove(key)
            counts.hits += 1
            counts.found += 1


def _attribute_pairs(truth: dict[str, Any], fact: Medication) -> list[tuple[str, str | None]]:
    """(expected, found) codes of the attributes the gold gives."""
    pairs = [
        (_strength_code(truth.get("strength")), _strength_code(fact.strength)),
        (_route_code(truth.get("route")), fact.route),
        (_frequency_code(truth.get("frequency")), _fact_frequency(fact)),
        (truth.get("status"), fact.status.value),
    ]
    return [(expected, got) for expected, got in pairs if expected]


def _score_gold_medications(
    gold: list[dict[str, Any]], output: ExtractionOutput, counts: _Counts, *, by_name: bool = False
) -> None:
    """``by_name``: one medication per name as written (the English conventions: a brand and its generic both
    written are two entries), matched on the same name first; else one per ingredient (French: one entry per
    drug per report)."""
    key = _lenient if by_name else medication_identity
    by_drug: dict[str, list[Medication]] = {}
    for fact in output.facts:
        if isinstance(fact, Medication):
            by_drug.setdefault(key(fact.name), []).append(fact)
    unmatched = list(by_drug)
    counts.predicted += len(by_drug)
    counts.truths += len(gold)
    pairs: list[tuple[dict[str, Any], str]] = []
    matched: set[int] = set()
    for exact in (True, False):  # the same name first, so a brand never takes its generic's entry
        for index, truth in enumerate(gold):
            if index in matched:
                continue
            same = (d for d in unmatched if _lenient(truth["name"]) == _lenient(by_drug[d][0].name))
            close = (d for d in unmatched if medications_match(truth["name"], by_drug[d][0].name))
            drug = next(same if exact else close, None)
            if drug is not None:
                matched.add(index)
                unmatched.remove(drug)
                pairs.append((truth, drug))
    for truth, drug in pairs:
        counts.hits += 1
        counts.found += 1
        best = max((_attribute_pairs(truth, fact) for fact in by_drug[drug]), key=lambda ps: sum(e == g for e, g in ps))
        counts.attr_total += len(best)
        counts.attr_right += sum(expected == got for expected, got in best)
        if wanted := _frequency_code(truth.get("frequency")):
            counts.frequency_total += 1
            counts.frequency_right += any(_fact_frequency(fact) == wanted for fact in by_drug[drug])


def _score_gold_problems(
    gold: list[dict[str, Any]], output: ExtractionOutput, counts: _Counts, findings: bool = True
) -> None:
    kinds = (Problem, Finding) if findings else (Problem,)
    found: dict[frozenset[str], Problem | Finding] = {}
    for fact in sorted(
        (f for f in output.facts if isinstance(f, kinds)), key=lambda f: f.evidence.start if f.evidence else 0
    ):
        found.setdefault(problem_tokens(fact.text), fact)
    unmatched = list(found.values())
    counts.predicted += len(unmatched)
    counts.truths += len(gold)
    matched: set[int] = set()
    for exact in (True, False):  # identical words first, so a lenient match never steals an exact one
        for index, truth in enumerate(gold):
            if index in matched:
                continue
            words = problem_tokens(truth["text"])
            same = (f for f in unmatched if problem_tokens(f.text) == words)
            close = (f for f in unmatched if problems_match(truth["text"], f.text))
            hit = next(same if exact else close, None)
            if hit is None:
                continue
            matched.add(index)
            unmatched.remove(hit)
            counts.hits += 1
            counts.found += 1
            counts.assertion_total += 1
            expected = truth.get("assertion", "present")
            counts.assertion_right += hit.assertion.value == expected
            counts.lenient_right += hit.assertion.value == expected or {hit.assertion.value, expected} <= _CURRENT


def eval_extraction_command(
    synthea: Path | None,
    gold: Path | None,
    reports: Path | None,
    backend: str,
    json_out: bool,
    limit: int | None = None,
    ids: set[str] | None = None,
    findings: bool = True,
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
        result = evaluate_gold(gold, reports, backend=chosen, ids=ids, findings=findings)
    else:  # unreachable after the check above; keeps the types narrow without an assert
        raise ValueError("Give exactly one of --synthea DIR and --gold FILE.jsonl.")
    if json_out:
        return json.dumps(result)
    return "\n".join(f"{key}: {value}" for key, value in result.items())
