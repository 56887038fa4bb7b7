"""Clinical knowledge loaded from the JSON data files, one folder a language (``data/en``, ``data/fr``)."""

from __future__ import annotations

import bz2
import importlib.util
import json
import pickle
import re
from bisect import bisect_left
from collections.abc import Container, Iterable, Iterator
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["LANGUAGES", "detect_language", "drug_lexicon", "drug_names", "find_drug_names", "load", "phrase_pattern"]

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


_PACKAGED = "drug_ner_dictionary.pkl.bz2"
_WORD = re.compile(r"\w[\w'’]*(?:[-+]\w[\w'’]*)*")
_MAX_DRUG_WORDS = 5


@cache
def drug_lexicon() -> dict[str, str]:
    """Drug names (lower case) → ingredient, from ``drug-named-entity-recognition`` and our curated lists.

    The package (MIT, Fast Data Science; DrugBank, MeSH and NHS names) ships its dictionary inside the
    wheel: ~100,000 generic and brand names, loaded offline in about 2 s on first use. Our curated
    ``drugs.json`` names win where both have a name (``synthroid`` → levothyroxine, not thyroxine);
    names in ``not_drugs`` (recreational substances, words that are not medication statements) are dropped.
    Without the package the curated names alone are used.
    """
    names: dict[str, str] = {}
    spec = importlib.util.find_spec("drug_named_entity_recognition")  # located, not imported: its import is slow
    packaged = (
        Path(spec.submodule_search_locations[0]) / _PACKAGED if spec and spec.submodule_search_locations else None
    )
    variants: dict[str, list[str]] = {}
    if packaged is not None and packaged.is_file():  # optional at run time: the curated lexicon still works
        with bz2.open(packaged, "rb") as data:
            # the installed package's own data file, the one its import loads: trusted like its code
            variants = pickle.load(data)["drug_variant_to_canonical"]  # noqa: S301
    common = _common_words()
    for variant, canonicals in variants.items():
        first = variant.split(" ", 1)[0]
        if canonicals and len(variant) > 2 and first not in common:  # "at 10" is a brand, and also two words
            names[variant.lower()] = str(canonicals[0]).lower()
    names.update(drug_names())
    for language in LANGUAGES:
        for name in load(language, "drugs").get("_not_drugs", []):
            names.pop(name.lower(), None)
    return names


_COMMON_WORDS = frozenset(
    "a about above after again against all am an and any are as at be because been before being below between both"
    " but by can could did do does doing down during each few for from further had has have having he her here hers"
    " him his how i if in into is it its just me more most my no nor not now of off on once only or other our out"
    " over own same she should so some such than that the their them then there these they this those through to"
    " too under until up very was we were what when where which while who whom why will with would you your one"
    " two three four five six seven eight nine ten day daily today night morning time new old good well also may"
    " might must per via take stop start given see rest care plan".split()
)


def _common_words() -> frozenset[str]:
    """English function words: never the first word of a drug name ("at 10" is a brand, and two words)."""
    return _COMMON_WORDS


@cache
def _prefixes() -> frozenset[str]:
    """Leading word runs of the lexicon's multi-word names ("insulin", "insulin isophane"): a lookup
    goes on to the next word only while the words so far start some name."""
    return word_prefixes(drug_lexicon())


def word_prefixes(phrases: Iterable[str]) -> frozenset[str]:
    """Every proper leading run of words of every multi-word phrase."""
    found: set[str] = set()
    for phrase in phrases:
        words = phrase.split(" ")
        found.update(" ".join(words[:n]) for n in range(1, len(words)))
    return frozenset(found)


def longest_phrases(
    words: list[tuple[int, int, str]], phrases: Container[str], prefixes: Container[str]
) -> Iterator[tuple[int, int, int, str]]:
    """(first word index, start, end, phrase) of the longest known phrase at each word, left to right.

    ``words`` are (start, end, lower-case word); ``phrases`` is looked up as words joined by one space.
    """
    i = 0
    while i < len(words):
        best: tuple[int, str] | None = None
        phrase = ""
        for j in range(i, len(words)):
            phrase = f"{phrase} {words[j][2]}" if phrase else words[j][2]
            if phrase in phrases:
                best = (j, phrase)
            if phrase not in prefixes:
                break
        if best is None:
            yield i, words[i][0], words[i][1], ""
            i += 1
        else:
            yield i, words[i][0], words[best[0]][1], best[1]
            i = best[0] + 1


def find_drug_names(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int, str]]:
    """Drug names in ``text[start:end]`` as (start, end, ingredient), longest name first at each word.

    Words are looked up in ``drug_lexicon`` as runs of up to five words; a hyphenated word that is not a
    name is tried on its first part ("amoxicillin-clavulanate" → amoxicillin). The whole text is scanned
    once (cached) and the names inside the range returned.
    """
    end = len(text) if end is None else end
    names = _drug_names_in(text)  # in text order, disjoint: a range is found by bisection
    first = bisect_left(names, start, key=lambda n: n[0])
    last = bisect_left(names, end, key=lambda n: n[0])
    return [n for n in names[first:last] if n[1] <= end]


@lru_cache(maxsize=16)
def _drug_names_in(text: str) -> tuple[tuple[int, int, str], ...]:
    lexicon = drug_lexicon()
    words = [(m.start(), m.end(), m.group(0).lower()) for m in _WORD.finditer(text)]
    found: list[tuple[int, int, str]] = []
    for _, s0, e0, phrase in longest_phrases(words, lexicon, _prefixes()):
        if phrase:
            found.append((s0, e0, lexicon[phrase]))
            continue
        head = re.split(r"[-+]", text[s0:e0].lower(), maxsplit=1)[0]
        if len(head) < e0 - s0 and head in lexicon:
            found.append((s0, s0 + len(head), lexicon[head]))
    return tuple(found)
