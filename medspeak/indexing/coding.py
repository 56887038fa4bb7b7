"""Codes for the record: ATC for medications, ICD-10 for problems, only where the match is confident.

- ATC (WHO): EDS-NLP's drug terminology (``medspeak.indexing.rules.lexicon.atc_code``), by name or by
  ingredient (a brand through its generic).
- ICD-10: a problem's words equal, case and accents aside, one official label that names a single code:
  CIM-10 (French, the ATIH table shipped in edsnlp's wheel) or ICD-10-CM (English, the CMS tables shipped in
  ``simple-icd-10-cm``, with their inclusion terms). A label shared by several codes, or a partial match, gets
  no code: a wrong code is worse than none.

The tables are read on first use (~3 s for ICD-10-CM), when a record is built, never per extraction.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import re
import warnings
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Final

from medspeak.indexing.rules.lexicon import atc_code, fold_accents

__all__ = ["ATC", "ICD10", "ICD10_CM", "atc", "icd10"]

ATC: Final = "http://www.whocc.no/atc"
ICD10: Final = "http://hl7.org/fhir/sid/icd-10"  # WHO ICD-10, of which CIM-10 is the French edition
ICD10_CM: Final = "http://hl7.org/fhir/sid/icd-10-cm"

_QUALIFIER = re.compile(
    r",\s*(?:sans précision|non précisée?s?|non classée?s? ailleurs|sai|unspecified|not elsewhere classified)\b.*$"
    r"|\s+(?:sai|nca)$|\s*\[[^]]*\]",
    re.I,
)
_PARENTHESES = re.compile(r"\s*\([^)]*\)")
_DETERMINER = re.compile(r"^(?:(?:a|an|the|le|la|les|l'|un|une|des|du|de)\s+|l')", re.I)


def _key(text: str) -> str:
    folded = fold_accents(text.lower().replace("’", "'")).replace("œ", "oe")
    return " ".join(_DETERMINER.sub("", folded.strip(" .,;:")).split())


def atc(name: str, ingredient: str | None = None) -> str | None:
    """The ATC code of a medication by its name, else its ingredient; ``None`` when unknown."""
    return atc_code(name) or (atc_code(ingredient) if ingredient else None)


def _unique(labels: dict[str, set[str]]) -> dict[str, str]:
    """A label → its code, when it names one code or one category and its subdivisions ("Asthme": J45 and
    J45.9 "Asthme, sans précision" → J45); a label shared by several categories gets none."""
    unique = {}
    for label, codes in labels.items():
        if len(codes) == 1:
            unique[label] = next(iter(codes))
        elif len({code[:3] for code in codes}) == 1:
            unique[label] = min(codes, key=len)
    return unique


@cache
def _cim10() -> dict[str, str]:
    spec = importlib.util.find_spec("edsnlp")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(spec.submodule_search_locations[0]) / "resources" / "cim10.csv.gz"
    if not path.is_file():
        return {}
    labels: dict[str, set[str]] = defaultdict(set)
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = row["code"] if len(row["code"]) <= 3 else f"{row['code'][:3]}.{row['code'][3:]}"
            for label in {row["long"], _QUALIFIER.sub("", row["long"]), _PARENTHESES.sub("", row["long"])}:
                if label.strip():
                    labels[_key(label)].add(code)
    return _unique(labels)


@cache
def _icd10_cm() -> dict[str, str]:
    try:
        with warnings.catch_warnings():  # it reads its tables with importlib.resources.read_text (deprecated)
            warnings.simplefilter("ignore", DeprecationWarning)
            import simple_icd_10_cm as cm  # type: ignore[import-untyped]
    except ImportError:
        return {}
    labels: dict[str, set[str]] = defaultdict(set)
    for code in cm.get_all_codes(with_dots=True):
        if not cm.is_category_or_subcategory(code):
            continue
        names = [cm.get_description(code), *cm.get_inclusion_term(code)]
        for label in names:
            for variant in {label, _QUALIFIER.sub("", label), _PARENTHESES.sub("", label)}:
                if variant.strip():
                    labels[_key(variant)].add(code)
    return _unique(labels)


def icd10(text: str) -> tuple[str, str] | None:
    """(system, code) of a problem whose words are exactly one official label: CIM-10, else ICD-10-CM."""
    key = _key(text)
    if len(key) < 4:
        return None  # "fa", "ep": abbreviations are not matched to labels
    for system, table in ((ICD10, _cim10), (ICD10_CM, _icd10_cm)):
        if code := table().get(key):
            return system, code
    return None
