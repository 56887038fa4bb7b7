"""Clinical knowledge loaded from the JSON data files, one folder a language (``data/en``, ``data/fr``)."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["LANGUAGES", "detect_language", "drug_names", "load", "phrase_pattern"]

LANGUAGES = ("en", "fr")
_FRENCH_CUES = re.compile(r"\b(?:le|la|les|des|du|et|pour|avec|sans|par|jour|patient[e]?s?|né[e]?)\b", re.I)
_ENGLISH_CUES = re.compile(r"\b(?:the|and|with|for|of|daily|patient|history|no|is)\b", re.I)


@cache
def load(language: str, name: str) -> dict[str, Any]:
    """The data file ``data/<language>/<name>.json`` (cached; treat as read-only)."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; expected one of {LANGUAGES}")
    path = resources.files("medspeak.indexing.rules") / "data" / language / f"{name}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def detect_language(text: str) -> str:
    """``fr`` when French function words outnumber English ones, else ``en``."""
    return "fr" if len(_FRENCH_CUES.findall(text)) > len(_ENGLISH_CUES.findall(text)) else "en"


@cache
def drug_names() -> dict[str, str]:
    """Every drug name of every language (lower case) mapped to its English generic name.

    Drug names are international, so a French note quoting an English brand is still matched.
    """
    names: dict[str, str] = {}
    for language in LANGUAGES:
        for generic, synonyms in load(language, "drugs").items():
            if not generic.startswith("_"):
                names.update({synonym.lower(): generic for synonym in synonyms})
    return names


def phrase_pattern(phrases: list[str] | tuple[str, ...]) -> re.Pattern[str]:
    """A case-insensitive alternation of ``phrases``, longest first, bounded so "no" never matches "note"."""
    ordered = sorted({p.lower() for p in phrases}, key=len, reverse=True)
    body = "|".join(re.escape(p) for p in ordered)
    return re.compile(rf"(?<![\w-])(?:{body})(?![\w])", re.IGNORECASE)
