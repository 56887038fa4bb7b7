"""The hand-annotated MTSamples gold set: its format, its grounding in the reports, the lenient matching
rules, and the rules extractor's scores on it (the held-out part must keep meeting the targets)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from medspeak.indexing.evaluation import (
    _frequency_code,
    _route_code,
    _strength_code,
    evaluate_gold,
    medication_identity,
    medications_match,
    problems_match,
)

_GOLD_DIR = Path(__file__).parent / "gold"
_GOLD = _GOLD_DIR / "mtsamples_gold.jsonl"
_REPORTS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mtsamples" / "mtsamples.csv"
_needs_reports = pytest.mark.skipif(not _REPORTS.is_file(), reason="shared MTSamples reports not present")
_ASSERTIONS = {"present", "absent", "possible", "historical", "family", "hypothetical"}
_STATUSES = {"active", "started", "changed", "stopped", None}


def _records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in _GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]


def _split() -> dict[str, list[str]]:
    split: dict[str, list[str]] = json.loads((_GOLD_DIR / "split.json").read_text(encoding="utf-8"))
    return split


def test_gold_lines_follow_the_format_and_hold_no_report_text() -> None:
    records = _records()
    assert len(records) >= 30
    ids = [r["id"] for r in records]
    assert len(set(ids)) == len(ids) and all(i.startswith("mtsamples-") for i in ids)
    for record in records:
        assert set(record) == {"id", "medications", "problems", "allergies", "nkda", "vitals"}  # no "text"
        assert isinstance(record["nkda"], bool)
        for med in record["medications"]:
            assert set(med) == {"name", "strength", "route", "frequency", "status", "evidence"}
            assert med["status"] in _STATUSES and med["name"]
        for problem in record["problems"]:
            assert problem["assertion"] in _ASSERTIONS and problem["text"]
        for vital in record["vitals"]:
            assert isinstance(vital["value"], int | float) and vital["type"]
    assert sum(len(r["medications"]) for r in records) > 100 and sum(len(r["problems"]) for r in records) > 300


def test_split_holds_out_a_third_and_covers_every_record() -> None:
    split, ids = _split(), {r["id"] for r in _records()}
    held, development = set(split["holdout"]), set(split["development"])
    assert held | development == ids and not held & development
    assert len(held) == len(ids) // 3


@_needs_reports
def test_every_text_field_is_verbatim_in_its_report() -> None:
    with _REPORTS.open(encoding="utf-8", newline="") as handle:
        texts = {f"mtsamples-{row['note_id']}": row["transcription"] for row in csv.DictReader(handle)}
    for record in _records():
        text = texts[record["id"]]
        for med in record["medications"]:
            assert med["name"] in text and med["evidence"] in text, (record["id"], med["name"])
        for problem in record["problems"]:
            assert problem["text"] in text, (record["id"], problem["text"])
        for allergy in record["allergies"]:
            assert allergy["substance"] in text and allergy["evidence"] in text, (record["id"], allergy)


@pytest.mark.parametrize("written", ["b.i.d.", "BID", "twice daily", "twice a day", "bid"])
def test_frequency_abbreviations_match(written: str) -> None:
    assert _frequency_code(written) == "BID"


@pytest.mark.parametrize(
    ("written", "code"), [("q.4h.", "Q4H"), ("every 4 hours", "Q4H"), ("q.d.", "QD"), ("daily", "QD")]
)
def test_interval_and_daily_frequencies_match(written: str, code: str) -> None:
    assert _frequency_code(written) == code


@pytest.mark.parametrize("written", ["PO", "p.o.", "oral", "by mouth", "orally"])
def test_oral_route_spellings_match(written: str) -> None:
    assert _route_code(written) == "PO"


def test_strengths_compare_on_their_numbers() -> None:
    assert _strength_code("25 MG") == _strength_code("25 mg") == "25"
    assert _strength_code("5/500 mg") == "5/500" != _strength_code("5 mg")


@pytest.mark.parametrize(
    ("brand", "generic"),
    [("Lasix", "furosemide"), ("Toprol XL", "metoprolol"), ("Synthroid", "levothyroxine"), ("Zestril", "lisinopril")],
)
def test_a_brand_matches_its_generic(brand: str, generic: str) -> None:
    assert medication_identity(brand) == medication_identity(generic)
    assert medications_match(brand, generic) and medications_match(generic.upper(), brand)


def test_different_drugs_do_not_match() -> None:
    assert not medications_match("Lasix", "lisinopril")
    assert not medications_match("aspirin", "acetaminophen")


@pytest.mark.parametrize(
    ("gold", "found", "same"),
    [
        ("Low back pain", "back pain", True),  # the general mention of a specific problem
        ("Hypertension.", "hypertension", True),  # case and punctuation
        ("myocardial infarctions", "Myocardial infarction", True),  # plural
        ("Right ankle pain", "pain", False),  # generic words alone never match
        ("chest pain", "abdominal pain", False),
        ("Alzheimer’s dementia", "dementia", True),
    ],
)
def test_problem_matching_is_lenient_but_not_loose(gold: str, found: str, same: bool) -> None:
    assert problems_match(gold, found) is same


def _scores(part: str) -> dict[str, Any]:
    # annotated before examination findings were in scope (see gold/README.md): the problem list alone
    return evaluate_gold(_GOLD, _REPORTS, ids=set(_split()[part]), findings=False)


@_needs_reports
@pytest.mark.parametrize("part", ["holdout", "development"])
def test_rules_meet_the_targets_on_real_reports(part: str) -> None:
    """Targets of issue 4 on both parts; the held-out part was not used to write the rules."""
    scores = _scores(part)
    assert scores["notes"] == len(_split()[part])
    assert scores["medication_f1"] >= 0.85 and scores["medication_attr_accuracy"] >= 0.85, scores
    assert scores["problem_f1"] >= 0.70, scores
    # this gold's guide puts every "history of X" in the past; the annotation conventions that issue 14 is
    # measured by keep a chronic condition so written present ("history of hypertension"), and the rules
    # follow the conventions: present and historical are one class here, the other classes stay exact
    assert scores["assertion_lenient_accuracy"] >= 0.95 and scores["assertion_accuracy"] >= 0.85, scores
    assert scores["grounded_rate"] == 1.0
    # throughput is measured by the bench on a quiet machine (>= 50 notes/s); here only a gross slowdown fails
    assert scores["notes_per_s"] >= 10, scores


def test_a_gold_line_without_text_needs_the_reports(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "mtsamples-1", "medications": [], "problems": []}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="pass --reports"):
        evaluate_gold(gold)
    gold.write_text("not json\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a JSON object"):
        evaluate_gold(gold)


@_needs_reports
def test_vitals_and_allergies_of_the_gold_are_found() -> None:
    """Not among the printed metrics: vitals (type, value, UCUM unit) and allergies (substance, NKDA)."""
    from medspeak.indexing import extract_facts
    from medspeak.indexing.evaluation import read_gold
    from medspeak.indexing.schema import Allergy, Vital

    vitals_found = vitals = substances_found = substances = nkda_right = 0
    records = read_gold(_GOLD, _REPORTS)
    for record in records:
        facts = extract_facts(record["text"]).facts
        got = {(f.type, f.value, f.unit) for f in facts if isinstance(f, Vital)}
        want = {(v["type"], float(v["value"]), v["unit"]) for v in record["vitals"]}
        vitals, vitals_found = vitals + len(want), vitals_found + len(want & got)
        named = {f.substance.lower() for f in facts if isinstance(f, Allergy) and f.substance}
        asked = {a["substance"].lower() for a in record["allergies"]}
        substances, substances_found = substances + len(asked), substances_found + len(asked & named)
        nkda_right += any(isinstance(f, Allergy) and f.nkda for f in facts) == record["nkda"]
    assert vitals_found / vitals >= 0.85  # measured 76 of 85
    assert substances_found / substances >= 0.9 and nkda_right / len(records) >= 0.9  # measured 19/20, 32/33
