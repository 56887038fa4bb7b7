"""French as a first-class language (issue 14): sections, drug names, frequencies, NKDA, vitals, problems,
negation and findings, on sentences written for the tests; the French gold set's format and grounding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from medspeak.indexing import extract_facts
from medspeak.indexing.evaluation import evaluate_gold, medications_match, problems_match, read_gold
from medspeak.indexing.rules.lexicon import atc_code, find_drug_names, fold_accents
from medspeak.indexing.rules.medications import parse_attributes
from medspeak.indexing.rules.sections import find_sections
from medspeak.indexing.schema import Allergy, Assertion, Finding, Medication, Problem, Vital

_GOLD_DIR = Path(__file__).parent / "gold"
_GOLD = _GOLD_DIR / "mtsamples_fr_gold.jsonl"
_REPORTS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mtsamples_fr" / "machine_translated"
_needs_reports = pytest.mark.skipif(not _REPORTS.is_dir(), reason="shared French MTSamples reports not present")


def _facts(text: str) -> list[Any]:
    return extract_facts(text, language="fr", backend="rules").facts


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("MÉDICAMENTS ACTUELS", "medications"),
        ("MEDICAMENTS ACTUELS", "medications"),
        ("ATCD", "past_history"),
        ("HDM", "hpi"),
        ("CAT", "plan"),
        ("ALLERGIE", "allergies"),
        ("ANTÉCÉDENTS DE LA MALADIE ACTUELLE", "hpi"),
        ("EXAMEN DES SYSTÈMES", "ros"),
        ("EXAMEN PHYSIQUE", "exam"),
    ],
)
def test_french_headers_inline_with_a_no_break_space_are_sections(header: str, name: str) -> None:
    text = f"MOTIF : , Douleur.,{header}\u00a0: , Texte du paragraphe.,PLAN : , Suivi."
    assert [s.name for s in find_sections(text, "fr")][1] == name


@pytest.mark.parametrize(
    ("text", "name", "ingredient"),
    [
        ("Injections d'héparine", "héparine", "heparin"),
        ("Céfuroxime 500 mg", "Céfuroxime", "cefuroxime"),
        ("reprise de l'allopurinol", "allopurinol", "allopurinol"),
        ("carboplatine", "carboplatine", "carboplatin"),  # a French INN from EDS-NLP's terminology
    ],
)
def test_accented_and_elided_drug_names_are_found(text: str, name: str, ingredient: str) -> None:
    names = find_drug_names(text)
    assert [(text[s:e], found) for s, e, found in names] == [(name, ingredient)]
    assert fold_accents("Céfuroxime d'héparine") == "Cefuroxime d'heparine"  # same length: offsets hold


def test_atc_codes_come_from_the_french_terminology() -> None:
    assert atc_code("warfarine") == atc_code("warfarin") == "B01AA03"
    assert atc_code("Coumadin") == "B01AA03"  # a brand through its ingredient
    assert atc_code("not a drug") is None


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("1/j", "QD"),
        ("1/J", "QD"),
        ("tous les jours", "QD"),
        ("1-0-1", "BID"),
        ("2 f.p.j.", "BID"),
        ("le soir", "QHS"),
        ("toutes les 6 heures", "Q6H"),
        ("q.6 heures", "Q6H"),
        ("tous les deux jours", "QOD"),
        ("mensuel", "QMONTH"),
        ("tous les dimanches", "QW"),
    ],
)
def test_french_frequencies_are_codes(written: str, code: str) -> None:
    assert parse_attributes(written).frequency == code


def test_au_besoin_is_as_needed_and_the_indication_is_no_frequency() -> None:
    attributes = parse_attributes("toutes les 8 heures au besoin si nausées")
    assert attributes.frequency == "Q8H" and attributes.as_needed


def test_a_french_medication_list_gives_each_drug_with_its_regimen() -> None:
    text = (
        "MÉDICAMENTS ACTUELS : Kardégic 75 mg 1/j, Lasix 40 mg le matin, paracétamol 1 g au besoin "
        "et vitamine D q.d., calcium avec vitamine D3 par jour.,ALLERGIES : aucune."
    )
    meds = {f.name.lower(): f for f in _facts(text) if isinstance(f, Medication)}
    assert meds["kardégic"].frequency == "QD" and meds["lasix"].frequency == "QAM"
    assert meds["paracétamol"].as_needed and "vitamine d" in meds and "calcium" in meds


def test_a_bare_drug_name_after_a_french_cue_is_a_medication() -> None:
    text = "Le patient a été mis sous Coumadin. Il a parlé d'aspirine avec sa voisine."
    names = [f.name for f in _facts(text) if isinstance(f, Medication)]
    assert names == ["Coumadin"]


@pytest.mark.parametrize("body", ["aucune", "Aucune connue", "Il n'a pas d'allergies", "Aucune allergie connue"])
def test_french_no_allergy_statements_are_nkda(body: str) -> None:
    facts = _facts(f"HDM : , Toux.,ALLERGIES : , {body}.,MÉDICAMENTS : , Doliprane.")
    assert any(isinstance(f, Allergy) and f.nkda for f in facts)


def test_a_listed_allergy_is_not_nkda() -> None:
    facts = _facts("ALLERGIES : , Elle est allergique à la pénicilline et au latex.")
    assert not any(isinstance(f, Allergy) and f.nkda for f in facts)
    assert {f.substance for f in facts if isinstance(f, Allergy)} == {"pénicilline", "latex"}


def test_french_vital_phrasing() -> None:
    text = (
        "SIGNES VITAUX : le pouls a été enregistré à 66 par minute, la tension artérielle est de 132/72, "
        "température tympanique de 37 degrés. Son poids est de 61,8 kg. Pèse 162 livres."
    )
    vitals = {(v.type, v.value, v.unit) for v in _facts(text) if isinstance(v, Vital)}
    assert {("heart_rate", 66.0, "/min"), ("systolic_bp", 132.0, "mm[Hg]"), ("temperature", 37.0, "Cel")} <= vitals
    assert {("weight", 61.8, "kg"), ("weight", 162.0, "[lb_av]")} <= vitals


def test_french_negation_over_a_list_and_a_discontinuous_ne_pas() -> None:
    text = "HDM : , Il n'a pas eu de fièvre. Il nie toute toux, frissons ou sueurs nocturnes. Il a une dyspnée."
    said = {f.text.lower(): f.assertion for f in _facts(text) if isinstance(f, Problem)}
    assert said["fièvre"] is Assertion.ABSENT
    assert said["toux"] is said["frissons"] is said["sueurs nocturnes"] is Assertion.ABSENT
    assert said["dyspnée"] is Assertion.PRESENT


def test_a_head_term_runs_on_over_its_complements() -> None:
    text = "HDM : , Elle présente une douleur scapulaire gauche depuis deux jours."
    assert [f.text for f in _facts(text) if isinstance(f, Problem)] == ["douleur scapulaire gauche"]


def test_family_hypothetical_and_possible_assertions() -> None:
    text = (
        "ANTÉCÉDENTS FAMILIAUX : , Son père avait un cancer de la prostate.,IMPRESSION : , Image compatible avec "
        "une embolie pulmonaire. Revenir en cas de fièvre."
    )
    said = {f.text.lower(): f.assertion for f in _facts(text) if isinstance(f, Problem)}
    assert said["cancer de la prostate"] is Assertion.FAMILY
    assert said["embolie pulmonaire"] is Assertion.POSSIBLE
    assert said["fièvre"] is Assertion.HYPOTHETICAL


def test_examination_findings_are_their_own_kind_positive_and_negated() -> None:
    text = (
        "HDM : , Toux.,EXAMEN PHYSIQUE : , COU : Pas d'adénopathie ni de thyromégalie., POUMONS : crépitants aux bases."
    )
    facts = _facts(text)
    findings = {f.text.lower(): f.assertion for f in facts if isinstance(f, Finding)}
    assert findings["adénopathie"] is Assertion.ABSENT and findings["thyromégalie"] is Assertion.ABSENT
    assert findings["crépitants aux bases"] is Assertion.PRESENT
    assert [f.text for f in facts if isinstance(f, Problem)] == ["Toux"]


def test_name_matching_never_credits_a_shorter_name() -> None:
    assert not medications_match("Bactrim DS", "Bactrim")
    assert not medications_match("Pepcid AC", "Pepcid")
    assert medications_match("Céfuroxime", "cefuroxime") and medications_match("Coumadin", "warfarine")
    assert problems_match("Thrombocytopénie", "thrombocytopenie")
    assert not problems_match("douleur scapulaire gauche", "douleur")


def _records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in _GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_french_gold_follows_the_conventions_and_holds_no_report_text() -> None:
    records = _records()
    split = json.loads((_GOLD_DIR / "split_fr.json").read_text(encoding="utf-8"))
    ids = {r["id"] for r in records}
    assert len(ids) == len(records) >= 20 and set(split["holdout"]) | set(split["development"]) == ids
    assert not set(split["holdout"]) & set(split["development"])
    for record in records:
        assert "text" not in record and record["lang"] == "fr" and isinstance(record["nkda"], bool)
        assert all(p["assertion"] in {a.value for a in Assertion} for p in record["problems"])
        assert all(m["status"] in {"active", "stopped"} for m in record["medications"])


@_needs_reports
def test_every_french_gold_string_is_verbatim_in_its_report() -> None:
    for record in read_gold(_GOLD, _REPORTS):
        text = record["text"]
        strings = [m[k] for m in record["medications"] for k in ("name", "strength", "route", "frequency", "evidence")]
        strings += [p["text"] for p in record["problems"]] + [a["substance"] for a in record["allergies"]]
        strings += [v["value"] for v in record["vitals"]] + [v["unit"] for v in record["vitals"]]
        assert all(s is None or s in text for s in strings), record["id"]


@_needs_reports
def test_rules_meet_the_french_targets_on_the_held_out_reports() -> None:
    """Issue 14's French targets, on reports the rules were not written on (measured: see the README)."""
    split = json.loads((_GOLD_DIR / "split_fr.json").read_text(encoding="utf-8"))
    scores = evaluate_gold(_GOLD, _REPORTS, backend="rules", ids=set(split["holdout"]))
    assert scores["medication_f1"] >= 0.85 and scores["frequency_accuracy"] >= 0.80, scores
    assert scores["problem_f1"] >= 0.70 and scores["assertion_lenient_accuracy"] >= 0.90, scores
    assert scores["assertion_accuracy"] >= 0.80 and scores["vital_f1"] >= 0.90, scores
    assert scores["nkda_accuracy"] == 1.0 and scores["grounded_rate"] == 1.0, scores


def test_a_brand_keeps_its_suffix_and_a_cue_after_the_name_counts() -> None:
    facts = extract_facts("He takes Bactrim DS twice daily. Plavix was started.", language="en", backend="rules")
    assert [f.name for f in facts.facts if isinstance(f, Medication)] == ["Bactrim DS", "Plavix"]


_EN_GOLD = _GOLD_DIR / "mtsamples_en_gold.jsonl"
_EN_REPORTS = _REPORTS.parents[1] / "mtsamples" / "mtsamples.csv"


@pytest.mark.skipif(not _EN_REPORTS.is_file(), reason="shared MTSamples reports not present")
def test_every_english_gold_string_is_verbatim_in_its_report() -> None:
    split = json.loads((_GOLD_DIR / "split_en.json").read_text(encoding="utf-8"))
    records = read_gold(_EN_GOLD, _EN_REPORTS)
    assert {r["id"] for r in records} == set(split["holdout"]) | set(split["development"])
    assert (
        len(records) >= 40 and len(split["development"]) >= 20 and not set(split["holdout"]) & set(split["development"])
    )
    for record in records:
        text = record["text"]
        strings = [m[k] for m in record["medications"] for k in ("name", "strength", "route", "frequency", "evidence")]
        strings += [p["text"] for p in record["problems"]] + [a["substance"] for a in record["allergies"]]
        strings += [v["value"] for v in record["vitals"]] + [v["unit"] for v in record["vitals"]]
        assert all(s is None or s in text for s in strings), record["id"]
