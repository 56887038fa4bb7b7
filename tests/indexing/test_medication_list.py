"""The merged medication list as a clinician reads it: regimens apart, "as needed", plain words, setting."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from medspeak.indexing.extract import extract_facts
from medspeak.indexing.medication_text import frequency_words, order_text, strength_words
from medspeak.indexing.record import RecordFact, Source, merge_facts

LETTER = (
    "Discharge summary\n"
    "Hospital course: Morphine 5 mg IV every 4 hours as needed for pain was given.\n"
    "Inpatient medications:\n"
    "- Ondansetron 4 mg IV every 8 hours as needed\n"
    "Discharge medications:\n"
    "- Lamictal 100 mg PO daily\n"
    "- Lamictal 150 mg PO at bedtime\n"
    "- Oxycodone 5 mg PO every 4 hours as needed\n"
)
# ISMP / Joint Commission do-not-use: QD, QOD, U, IU, trailing zeros, naked decimals, µg
DO_NOT_USE = re.compile(r"\b(?:QD|QOD|q\.d\.|U|IU|QHS|Q\d+H)\b|\d\.0\b|(?<![\d.])\.\d|µg")


def _record_of(text: str) -> list[tuple[str, str | None, bool]]:
    out = extract_facts(text, language="en", backend="rules")
    when = datetime(2026, 3, 4, tzinfo=UTC)
    facts = [
        RecordFact(
            Source(n, 1, "letter.txt", when, f.evidence.text if f.evidence else ""),
            f.category,
            f.label,
            str(f.assertion),
            f.payload(),
        )
        for n, f in enumerate(out.facts, start=1)
    ]
    rec = merge_facts(facts)
    return [
        (order_text(m.name, m.strength, m.route, m.frequency, as_needed=m.as_needed), m.setting, m.inpatient_only)
        for m in rec.medications
    ]


def test_two_regimens_of_one_drug_stay_two_lines_and_as_needed_is_shown() -> None:
    lines = _record_of(LETTER)
    assert lines == [
        ("Lamictal 100 mg by mouth once daily", "discharge", False),
        ("Lamictal 150 mg by mouth at bedtime", "discharge", False),
        ("Oxycodone 5 mg by mouth every 4 hours as needed", "discharge", False),
        ("Morphine 5 mg intravenous every 4 hours as needed", "inpatient", True),
        ("Ondansetron 4 mg intravenous every 8 hours as needed", "inpatient", True),
    ]
    assert not any(DO_NOT_USE.search(text) for text, _, _ in lines)


@pytest.mark.parametrize(
    ("code", "as_needed", "words"),
    [("QD", False, "once daily"), ("QOD", False, "every other day"), ("QHS", False, "at bedtime"),
     ("Q4H", True, "every 4 hours as needed"), ("BID", False, "twice daily"), (None, True, "as needed")],
)  # fmt: skip
def test_frequencies_are_plain_words(code: str | None, as_needed: bool, words: str) -> None:
    assert frequency_words(code, as_needed=as_needed) == words


@pytest.mark.parametrize(
    ("written", "shown"),
    [("5.0 mg", "5 mg"), ("12.50 mg", "12.5 mg"), (".5 mg", "0.5 mg"), ("10 U", "10 units"),
     ("10 IU", "10 units"), ("50 µg", "50 mcg"), ("100 mg", "100 mg")],
)  # fmt: skip
def test_strengths_drop_do_not_use_forms(written: str, shown: str) -> None:
    assert strength_words(written) == shown
