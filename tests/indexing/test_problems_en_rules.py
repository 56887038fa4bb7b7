"""English problem lexicon of issue 14: symptoms and examination findings the development reports showed missing."""

from __future__ import annotations

from medspeak.indexing import extract_facts
from medspeak.indexing.schema import Finding, Problem


def _problems(text: str) -> dict[str, str]:
    facts = extract_facts(text, language="en").facts
    return {f.text.lower(): f.assertion.value for f in facts if isinstance(f, Problem | Finding)}


def test_review_of_systems_symptoms_are_found_with_their_negation() -> None:
    text = "REVIEW OF SYSTEMS: No visual disturbances or eye irritation. Has stomach discomfort. No nosebleeds."
    found = _problems(text)
    assert found["visual disturbances"] == found["eye irritation"] == found["nosebleeds"] == "absent"
    assert found["stomach discomfort"] == "present"


def test_examination_and_tracing_findings_are_found() -> None:
    text = (
        "EXAM: Tachycardic. No meningeal signs. There is purulent drainage from the wound.\n"
        "The EKG shows sinus tachycardia with a right bundle branch block and nonspecific ST-T changes."
    )
    found = _problems(text)
    for term in ("tachycardic", "purulent drainage", "sinus tachycardia", "right bundle branch block"):
        assert found[term] == "present", (term, found)
    assert found["meningeal signs"] == "absent"
    assert any("st-t changes" in t for t in found), found


def test_course_habits_and_intolerances_in_a_list_are_not_problems() -> None:
    text = (
        "PAST MEDICAL HISTORY: Asthma, ex-smoker, recreational drug use, intolerance to codeine.\n"
        "ASSESSMENT:\n1. Gout, improved.\n2. Hypertension, poorly controlled.\n3. Vertigo, uncertain etiology."
    )
    found = _problems(text)
    assert {"asthma", "gout", "hypertension", "vertigo"} <= set(found)
    for phrase in ("ex-smoker", "recreational drug use", "intolerance to codeine", "improved", "poorly controlled"):
        assert phrase not in found, (phrase, found)
    assert "uncertain etiology" not in found


def test_obstetric_counts_ordinals_and_connectives_are_not_problems() -> None:
    text = "PAST MEDICAL HISTORY: G2, P2. History of migraine, however, no recent headaches.\n"
    found = _problems(text)
    assert "migraine" in found and not {"g2", "p2", "however"} & set(found)


def test_a_duration_before_a_complaint_is_not_part_of_it() -> None:
    found = _problems("She has had 2 weeks of cough, and a history of diarrhea.")
    assert "cough" in found and not any(t.startswith("week") for t in found)


def test_a_consult_or_an_unremarkable_review_is_not_a_problem() -> None:
    text = "ASSESSMENT:\n1. Migraine.\n2. Neurology consult.\nREVIEW OF SYSTEMS: As per the history of present illness"
    text += " otherwise unremarkable."
    found = _problems(text)
    assert "migraine" in found and not any("consult" in t or "unremarkable" in t for t in found)


def test_a_named_abnormal_result_is_a_finding_and_a_raw_value_is_not() -> None:
    text = (
        "VITAL SIGNS: Pulse 118. She was hypoxemic on arrival.\n"
        "LABORATORY DATA: Sodium 128, hemoglobin 9.1. EKG shows sinus tachycardia.\n"
        "IMPRESSION: Pneumonia."
    )
    facts = [f for f in extract_facts(text, language="en").facts if isinstance(f, Problem | Finding)]
    kinds = {f.text.lower(): type(f).__name__ for f in facts}
    assert kinds == {"hypoxemic": "Finding", "sinus tachycardia": "Finding", "pneumonia": "Problem"}


def test_treatments_vaccines_and_relatives_in_lists_are_not_problems() -> None:
    text = (
        "HISTORY: Sciatica. He has tried several treatments including physical therapy, epidural steroids,"
        " nonsteroidals and rest.\nSOCIAL HISTORY: Immunizations were updated with hepatitis A today.\n"
        "FAMILY HISTORY: Mother with asthma. Brother, age 30, is healthy."
    )
    found = _problems(text)
    assert found.get("sciatica") == "present" and found.get("asthma") == "family"
    assert not {"epidural steroids", "nonsteroidals", "hepatitis a", "brother"} & set(found), found
