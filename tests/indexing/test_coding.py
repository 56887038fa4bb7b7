"""Codes beside facts (issue 14): ATC for medications, ICD-10 for problems, only when the match is confident."""

from __future__ import annotations

import pytest

from medspeak.indexing.coding import ATC, ICD10, ICD10_CM, atc, icd10


def test_atc_by_name_or_by_ingredient() -> None:
    assert ATC == "http://www.whocc.no/atc"
    assert atc("warfarine") == atc("Coumadin", "warfarin") == "B01AA03"
    assert atc("Nexium", "esomeprazole") == "A02BC05"
    assert atc("unknown drug") is None


@pytest.mark.parametrize(
    ("text", "coded"),
    [
        ("Asthme", (ICD10, "J45")),  # a category and its "sans précision" subdivision: the category
        ("insuffisance rénale aiguë", (ICD10, "N17")),
        ("Obésité", (ICD10, "E66.9")),
        ("asthma", (ICD10_CM, "J45")),
        ("Hypothyroidism", (ICD10_CM, "E03.9")),
        ("chest pain", (ICD10_CM, "R07.9")),
    ],
)
def test_a_problem_named_by_one_official_label_gets_its_code(text: str, coded: tuple[str, str]) -> None:
    assert icd10(text) == coded


@pytest.mark.parametrize("text", ["douleur scapulaire gauche", "MGUS", "fa", "maux de tête"])
def test_no_code_without_a_confident_match(text: str) -> None:
    assert icd10(text) is None
