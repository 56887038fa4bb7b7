"""The extraction entry point: backend choice, language detection, record versus unsupported."""

from __future__ import annotations

import pytest

from medspeak.indexing import extract_facts
from medspeak.indexing.extract import ExtractionFailed
from medspeak.indexing.schema import Medication


def test_auto_backend_says_facts_come_from_the_rules() -> None:
    output = extract_facts("Apixaban 5 mg PO twice daily.")
    assert (output.backend, output.language) == ("rules", "en")
    assert output.notices == ["No language-model backend is available: facts come from the rules."]
    assert extract_facts("Apixaban 5 mg PO twice daily.", backend="rules").notices == []


@pytest.mark.parametrize("name", ["transformers", "openai", "gpt"])
def test_backends_not_installed_are_refused_with_a_clear_message(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDSPEAK_LLM_BACKEND", name)
    with pytest.raises(ExtractionFailed, match=name):
        extract_facts("Apixaban 5 mg PO twice daily.")


def test_french_is_detected_and_unknown_languages_refused() -> None:
    text = "Le patient est sorti avec un traitement par Métoprolol 25 mg per os deux fois par jour."
    output = extract_facts(text)
    assert output.language == "fr"
    assert [(m.normalized_name, m.frequency) for m in output.facts if isinstance(m, Medication)] == [
        ("metoprolol", "BID")
    ]
    with pytest.raises(ExtractionFailed, match="'de'"):
        extract_facts(text, language="de")


def test_every_fact_of_the_record_points_at_its_words() -> None:
    text = "Allergies: NKDA\nBP 120/80, HR 70\nDiagnosis: pneumonia.\nRx: Amoxicillin 1 g PO three times daily"
    output = extract_facts(text)
    assert len(output.facts) == 6 and output.unsupported == []
    for fact in output.facts:
        assert fact.evidence is not None
        assert text[fact.evidence.start : fact.evidence.end] == fact.evidence.text
        assert fact.extractor == "rules"
