"""Allergies (NKDA, substance and reaction), vitals with units, lab results and orders."""

from __future__ import annotations

from medspeak.indexing import extract_facts
from medspeak.indexing.schema import Allergy, Lab, Order, Vital


def test_nkda_is_a_grounded_no_allergy_statement() -> None:
    text = "Allergies: NKDA\nMedications: none"
    (allergy,) = [f for f in extract_facts(text, language="en").facts if isinstance(f, Allergy)]
    assert allergy.nkda and allergy.substance is None
    assert allergy.evidence is not None and allergy.evidence.text == "NKDA"


def test_allergy_items_with_reactions_in_both_languages() -> None:
    en = extract_facts("Allergies: Penicillin (rash), Latex\nPatient is allergic to codeine (nausea).", language="en")
    assert [(a.substance, a.reaction) for a in en.facts if isinstance(a, Allergy)] == [
        ("Penicillin", "rash"),
        ("Latex", None),
        ("codeine", "nausea"),
    ]
    fr = extract_facts("Allergies\nSulfamides (urticaire)\n\nTraitement\nAucun", language="fr")
    assert [(a.substance, a.reaction) for a in fr.facts if isinstance(a, Allergy)] == [("Sulfamides", "urticaire")]
    assert [
        isinstance(a, Allergy) and a.nkda for a in extract_facts("Aucune allergie connue.", language="fr").facts
    ] == [True]


def test_vitals_with_units() -> None:
    text = "BP 142/88 mmHg, HR 96 bpm, RR 18, T 37.8 °C, SpO2 94%, pain 6/10, weight 72.5 kg"
    vitals = {v.type: (v.value, v.unit) for v in extract_facts(text, language="en").facts if isinstance(v, Vital)}
    assert vitals == {
        "systolic_bp": (142.0, "mm[Hg]"),
        "diastolic_bp": (88.0, "mm[Hg]"),
        "heart_rate": (96.0, "/min"),
        "respiratory_rate": (18.0, "/min"),
        "temperature": (37.8, "Cel"),
        "spo2": (94.0, "%"),
        "pain": (6.0, "{score}"),
        "weight": (72.5, "kg"),
    }


def test_french_vitals_and_implausible_values() -> None:
    fr = extract_facts("TA 120/80, FC 72, T 38,5 °C, SpO2 97 %", language="fr").facts
    assert {v.type: v.value for v in fr if isinstance(v, Vital)} == {
        "systolic_bp": 120.0,
        "diastolic_bp": 80.0,
        "heart_rate": 72.0,
        "temperature": 38.5,
        "spo2": 97.0,
    }
    assert [f for f in extract_facts("HR 999, T 12", language="en").facts if isinstance(f, Vital)] == []


def test_labs_with_unit_flag_and_range() -> None:
    text = "Labs\n- Potassium 5.9 mmol/L H (ref 3.5-5.1)\n- Hemoglobin 98 g/L\n"
    labs = [f for f in extract_facts(text, language="en").facts if isinstance(f, Lab)]
    assert [(lab.name, lab.value, lab.unit, lab.flag, lab.reference_range) for lab in labs] == [
        ("potassium", 5.9, "mmol/L", "H", "ref 3.5-5.1"),
        ("hemoglobin", 98.0, "g/L", None, None),
    ]


def test_requisition_orders() -> None:
    text = "Tests requested:\n[x] Complete blood count\n[x] Glucose\n\nExamination: Chest X-ray\n"
    orders = [(o.kind, o.text) for o in extract_facts(text, language="en").facts if isinstance(o, Order)]
    assert orders == [("lab", "Complete blood count"), ("lab", "Glucose"), ("imaging", "Chest X-ray")]


def _allergies(text: str) -> list[tuple[str | None, bool]]:
    return [(f.substance, f.nkda) for f in extract_facts(text, language="en").facts if isinstance(f, Allergy)]


def test_a_pointer_to_the_chart_is_not_an_allergen() -> None:
    assert _allergies("MEDICATIONS: See list.\nALLERGIES: Refer to chart.\nEXAM: Alert.") == []


def test_no_known_medical_allergies_is_nkda() -> None:
    assert _allergies("ALLERGIES: He has no known medical allergies.") == [(None, True)]


def test_drug_sensitivities_head_an_allergy_list_and_an_intolerance_names_its_substance() -> None:
    assert _allergies("DRUG SENSITIVITIES: Codeine.\nSOCIAL HISTORY: Retired.") == [("Codeine", False)]
    assert _allergies("ALLERGIES: Sulfa and also intolerance to eggs.") == [("Sulfa", False), ("eggs", False)]
