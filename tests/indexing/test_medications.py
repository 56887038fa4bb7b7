"""Medication mentions with their attributes, in English and French."""

from __future__ import annotations

import pytest

from medspeak.indexing import extract_facts
from medspeak.indexing.rules.medications import normalize_strength, parse_attributes, parse_components
from medspeak.indexing.schema import Grounding, Medication


def _medications(text: str, language: str = "auto") -> list[Medication]:
    return [f for f in extract_facts(text, language=language).facts if isinstance(f, Medication)]


def test_english_sentence_gives_every_attribute() -> None:
    text = "Plan: Metoprolol 25 mg PO twice daily for 5 days, 1 tablet."
    (med,) = _medications(text)
    assert (med.name, med.normalized_name, med.strength, med.unit) == ("Metoprolol", "metoprolol", "25 mg", "mg")
    assert (med.route, med.frequency, med.duration, med.dose) == ("PO", "BID", "for 5 days", "1 tablet")
    assert med.as_needed is False and med.status == "active"
    assert med.evidence is not None and med.grounding is Grounding.EXACT
    assert text[med.evidence.start : med.evidence.end] == med.evidence.text
    assert med.evidence.text.startswith("Metoprolol 25 mg PO twice daily")


def test_french_sentence_gives_every_attribute() -> None:
    text = "Traitement de sortie\n- Paracétamol 1 g per os toutes les 6 heures si besoin pendant 7 jours\n"
    (med,) = _medications(text, "fr")
    assert (med.name, med.normalized_name, med.strength) == ("Paracétamol", "paracetamol", "1 g")
    assert (med.route, med.frequency, med.as_needed, med.duration) == ("PO", "Q6H", True, "pendant 7 jours")


@pytest.mark.parametrize(
    ("text", "frequency", "as_needed"),
    [
        ("Apixaban 5 mg p.o. b.i.d.", "BID", False),
        ("Morphine 5 mg PO q4h PRN pain", "Q4H", True),
        ("Salbutamol 100 mcg inhaled every 6 hours as needed", "Q6H", True),
        ("Atorvastatin 40 mg PO at bedtime", "QHS", False),
    ],
)
def test_frequency_abbreviations_are_normalised(text: str, frequency: str, as_needed: bool) -> None:
    (med,) = _medications(text, "en")
    assert (med.frequency, med.as_needed) == (frequency, as_needed)


def test_status_comes_from_the_line() -> None:
    meds = _medications("Stop aspirin 81 mg daily.\nStarted apixaban 5 mg PO BID.", "en")
    assert [(m.normalized_name, m.status.value) for m in meds] == [("aspirin", "stopped"), ("apixaban", "started")]


def test_brand_maps_to_generic_and_allergy_is_not_a_medication() -> None:
    meds = _medications("Lasix 40 mg IV once daily. Allergic to penicillin (rash).", "en")
    assert [(m.name, m.normalized_name, m.route) for m in meds] == [("Lasix", "furosemide", "IV")]


def test_bare_drug_name_in_prose_is_not_a_medication_statement() -> None:
    assert _medications("We discussed whether aspirin could help.", "en") == []


def test_medication_list_items_without_lexicon_entry_are_taken_from_the_section() -> None:
    text = "# Medications\nzonisamide 100 mg oral capsule; amoxicillin 250 mg / clavulanate 125 mg oral tablet\n"
    meds = _medications(text, "en")
    assert [(m.name, m.strength) for m in meds] == [
        ("zonisamide", "100 mg"),
        ("amoxicillin / clavulanate", "250 mg / 125 mg"),
    ]


def test_components_and_strengths_are_normalised() -> None:
    assert parse_components("1 ML Epoetin Alfa 4000 UNT/ML Injection [Epogen]") == [("epoetin alfa", "4000 unt/ml")]
    assert normalize_strength("0,5 mg") == "0.5 mg"
    assert normalize_strength("100 µg") == "100 mcg"
    assert parse_attributes("deux fois par jour").frequency == "BID"
    assert parse_attributes("by mouth").route == "PO"


def test_a_prescription_form_field_is_not_a_medication() -> None:
    text = (
        "Rx\n1. Metformin 500 mg PO twice daily - for 90 days\n2. Ibuprofen 400 mg PO three times daily\n"
        "Prescriber: Dr. M. Okafor (licence 90498)\nSignature: ____________________\n"
    )
    meds = [f.label for f in extract_facts(text, language="en").facts if f.category == "medication"]
    assert meds == ["Metformin 500 mg", "Ibuprofen 400 mg"]
    # As a scan reads it: the header lines fall in the prescription section, the blank line is lost.
    scanned = "PRESCRIPTION\nPatient : Manon Leblanc\nDate: 2026-11-13\nRx\n1. Apixaban 5 mg PO twice daily\nSignature:"
    meds = [f.label for f in extract_facts(scanned, language="fr").facts if f.category == "medication"]
    assert meds == ["Apixaban 5 mg"]


def test_a_lab_level_named_like_a_drug_is_a_lab_not_a_medication() -> None:
    text = "Labs: Potassium 3.9 mmol/L, glucose 5.4 mmol/L. Started potassium chloride 20 mEq PO daily.\n"
    facts = extract_facts(text, language="en").facts
    assert [f.label for f in facts if f.category == "medication"] == ["potassium chloride 20 mEq"]
    assert "Potassium 3.9 mmol/L" in [f.label for f in facts if f.category == "lab"]


@pytest.mark.parametrize("none", ["Aucun", "Néant", "None"])
def test_a_list_that_says_none_holds_no_medication(none: str) -> None:
    text = f"Medications:\n{none}\n\nPlan: follow up in clinic.\n"
    assert [f for f in extract_facts(text).facts if f.category == "medication"] == []
