"""Assertion of problems (ConText): negated, family, historical, hypothetical, possible; EN and FR."""

from __future__ import annotations

import pytest

from medspeak.indexing import extract_facts
from medspeak.indexing.schema import Problem


def _assertions(text: str, language: str) -> dict[str, str]:
    facts = extract_facts(text, language=language).facts
    return {f.text.lower(): f.assertion.value for f in facts if isinstance(f, Problem)}


@pytest.mark.parametrize(
    ("text", "language", "problem", "assertion"),
    [
        ("Patient denies chest pain.", "en", "chest pain", "absent"),
        ("No fever, but cough for three days.", "en", "fever", "absent"),
        ("No fever, but cough for three days.", "en", "cough", "present"),
        ("Mother had myocardial infarction at 60.", "en", "myocardial infarction", "family"),
        ("History of pulmonary embolism in 2019.", "en", "pulmonary embolism", "historical"),
        ("Return to the ED if chest pain recurs.", "en", "chest pain", "hypothetical"),
        ("Possible pneumonia on the left base.", "en", "pneumonia", "possible"),
        ("Clinical question: rule out pulmonary embolism.", "en", "pulmonary embolism", "possible"),
        ("Diagnosis: atrial fibrillation.", "en", "atrial fibrillation", "present"),
        ("Pas de fièvre. Toux depuis 3 jours.", "fr", "fièvre", "absent"),
        ("Pas de fièvre. Toux depuis 3 jours.", "fr", "toux", "present"),
        ("Patient sans douleur thoracique.", "fr", "douleur thoracique", "absent"),
        ("Père : infarctus du myocarde.", "fr", "infarctus du myocarde", "family"),
        ("Antécédent de embolie pulmonaire.", "fr", "embolie pulmonaire", "historical"),
        ("Question clinique : éliminer hémorragie intracrânienne.", "fr", "hémorragie intracrânienne", "possible"),
    ],
)
def test_assertion(text: str, language: str, problem: str, assertion: str) -> None:
    assert _assertions(text, language)[problem] == assertion


def test_family_history_section_makes_its_problems_family() -> None:
    text = "Family history\nBrother: myocardial infarction.\n\nAssessment and plan\nDiagnosis: pneumonia.\n"
    found = _assertions(text, "en")
    assert found == {"myocardial infarction": "family", "pneumonia": "present"}


def test_section_title_is_not_a_history_statement() -> None:
    found = _assertions("History of present illness\nPresenting with abdominal pain.\n", "en")
    assert found == {"abdominal pain": "present"}


@pytest.mark.parametrize(
    ("text", "assertion"),
    [
        ("He presents with a 3-day history of cough.", "present"),
        ("A two-week history of fever.", "present"),
        ("She has a long history of asthma.", "present"),
        ("He has a history of stroke.", "historical"),
    ],
)
def test_a_history_with_a_duration_is_current(text: str, assertion: str) -> None:
    from medspeak.indexing import extract_facts
    from medspeak.indexing.schema import Problem

    (problem,) = [f for f in extract_facts(text, language="en", backend="rules").facts if isinstance(f, Problem)]
    assert problem.assertion.value == assertion
