"""Clinical knowledge loaded from the JSON data files, one folder a language (``data/en``, ``data/fr``)."""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Container, Iterable, Iterator
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "LANGUAGES",
    "atc_code",
    "common_words",
    "detect_language",
    "drug_lexicon",
    "drug_names",
    "find_drug_names",
    "fold_accents",
    "load",
    "lookup_words",
    "phrase_pattern",
]

LANGUAGES = ("en", "fr")


def _accent_table() -> dict[int, str]:
    """Latin letters with diacritics → their base letter, one character for one (offsets stay valid)."""
    table = {}
    for code in range(0xC0, 0x250):
        base = unicodedata.normalize("NFKD", chr(code))
        if len(base) > 1 and base[0].isascii() and all(unicodedata.combining(c) for c in base[1:]):
            table[code] = base[0]
    return table


_ACCENTS = _accent_table()


def fold_accents(text: str) -> str:
    """``text`` without accents and of the same length: "Céfuroxime" → "Cefuroxime", offsets unchanged."""
    return text.translate(_ACCENTS)


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


_WORD = re.compile(r"\w[\w'’]*(?:[-+]\w[\w'’]*)*")
_MAX_DRUG_WORDS = 5
# a release or strength suffix written in capitals after a brand: part of the product's name ("Bactrim DS")
_SUFFIXES = r"(?:DS|AC|XL|XR|SR|ER|CR|CD|LA|LP|HCT|HC|AQ|AF|PM|HFA|ODT|EC|SA|D|Plus|Forte|double dosage)(?![\w/-])"
_BRAND_SUFFIX = re.compile(rf"[ \u00a0]{_SUFFIXES}")
_HYPHEN_SUFFIX = re.compile(rf"-{_SUFFIXES}")  # "Rhinocort-AQ", "Anusol-HC": one written word
_ELISION = re.compile(r"(?:[dlnsjmc]|qu)['’](?=\w)", re.IGNORECASE)  # French elided article or pronoun


@cache
def drug_lexicon() -> dict[str, str]:
    """Drug names (lower case) → ingredient, from ``drug-named-entity-recognition`` and our curated lists.

    The package's (MIT, Fast Data Science; DrugBank, MeSH and NHS names) ~107,000 generic and brand names,
    converted once into ``data/drug_ner/variants.json.gz`` with its licence (scripts/convert_drug_lexicon.py):
    the package is not a dependency, because its import unpickles ``~/.omop_cache.pkl`` from the user's home
    (code execution from a file any process of the user may write) and its own data file is a private
    pickle. Our curated ``drugs.json`` names win where both have a name (``synthroid`` → levothyroxine, not
    thyroxine); names in ``not_drugs`` (recreational substances, words that are not medication statements)
    are dropped.
    """
    names: dict[str, str] = {}
    packaged = resources.files("medspeak.indexing.rules") / "data" / "drug_ner" / "variants.json.gz"
    variants: dict[str, str] = json.loads(gzip.decompress(packaged.read_bytes()))
    common = common_words()
    for variant, canonical in variants.items():
        first = variant.split(" ", 1)[0]
        if len(variant) > 2 and first not in common:  # "at 10" is a brand, and also two words
            names[variant.lower()] = canonical.lower()
    names.update(drug_names())
    for name, ingredient in drug_names().items():  # "tylenol no. 3" is looked up as its words, "tylenol no 3"
        names.setdefault(" ".join(_WORD.findall(name)), ingredient)
    for name, ingredient in _french_market_names().items():
        names.setdefault(name, names.get(ingredient, ingredient))
    for language in LANGUAGES:
        for name in load(language, "drugs").get("_not_drugs", []):
            names.pop(name.lower(), None)
    return {fold_accents(name): ingredient for name, ingredient in names.items()}


@cache
def _eds_drugs() -> dict[str, list[str]]:
    """EDS-NLP's drug terminology (AP-HP, BSD-3; ATC code → French brand and INN names, in its wheel).

    Read as data rather than run as the ``eds.drugs`` spaCy pipe: the pipe takes ~6 s to build here and
    matches French-market names only (it missed Nexium, Ambien, Vicodin, Flomax in the French MTSamples
    reports), while our matcher, fed with its names and the English lexicon, finds both at no build cost.
    Empty when edsnlp is not installed.
    """
    spec = importlib.util.find_spec("edsnlp")  # located, not imported: importing edsnlp loads spaCy (~1 s)
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(spec.submodule_search_locations[0]) / "resources" / "drugs.json"
    if not path.is_file():
        return {}
    data: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
    return {code: names for code, names in data.items() if len(code) == 7}  # substances, not ATC groups


@cache
def _french_market_names() -> dict[str, str]:
    """French drug names (lower case, unaccented) → ingredient: the English generic when one of the ATC
    code's names is already known ("coumadine" → warfarin), else the French INN ("carboplatine")."""
    known = {fold_accents(k): v for k, v in drug_names().items()}
    found: dict[str, str] = {}
    for code, names in _eds_drugs().items():
        lowered = [fold_accents(n.lower()) for n in names]
        inns = [n for n, written in zip(lowered, names, strict=True) if written == written.lower()]
        ingredient = next((known[n] for n in lowered if n in known), None) or (inns[0] if inns else lowered[0])
        for name in lowered:
            if len(name) > 3 and name.split(" ", 1)[0] not in _COMMON_WORDS:
                found.setdefault(name, ingredient)
        _ATC.setdefault(ingredient, code)
        for name in lowered:
            _ATC.setdefault(name, code)
    return found


_ATC: dict[str, str] = {}


def atc_code(name: str) -> str | None:
    """The ATC code of a drug name or ingredient (EDS-NLP's terminology), or ``None``."""
    drug_lexicon()
    key = fold_accents(name.lower())
    return _ATC.get(key) or _ATC.get(drug_lexicon().get(key, ""))


_COMMON_WORDS = frozenset(
    "a about above after again against all am an and any are as at be because been before being below between both"
    " but by can could did do does doing down during each few for from further had has have having he her here hers"
    " him his how i if in into is it its just me more most my no nor not now of off on once only or other our out"
    " over own same she should so some such than that the their them then there these they this those through to"
    " too under until up very was we were what when where which while who whom why will with would you your one"
    " two three four five six seven eight nine ten day daily today night morning time new old good well also may"
    " might must per via take stop start given see rest care plan".split()
)


def common_words() -> frozenset[str]:
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


@lru_cache(maxsize=16)  # the drug and problem lookups of one document share it
def lookup_words(text: str) -> list[tuple[int, int, str]]:
    """(start, end, word) of ``text``'s words, lower case and unaccented, a French elided article or pronoun
    left out ("d'héparine" → "heparine" at the "h"), for lexicon lookups (treat as read-only)."""
    folded = fold_accents(text)
    words = []
    for m in _WORD.finditer(folded):
        start = m.start()
        if elision := _ELISION.match(folded, start, m.end()):  # "d'heparine", "l'allopurinol"
            start = elision.end()
        words.append((start, m.end(), folded[start : m.end()].lower()))
    return words


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
    folded = fold_accents(text)
    words = lookup_words(text)
    found: list[tuple[int, int, str]] = []
    for _, s0, e0, phrase in longest_phrases(words, lexicon, _prefixes()):
        if phrase:
            suffix = _BRAND_SUFFIX.match(text, e0)  # "Bactrim DS", "Pepcid AC": the product's whole name
            found.append((s0, suffix.end() if suffix else e0, lexicon[phrase]))
            continue
        head = re.split(r"[-+]", folded[s0:e0].lower(), maxsplit=1)[0]
        if len(head) < e0 - s0 and head in lexicon:
            suffix = _HYPHEN_SUFFIX.match(text, s0 + len(head), e0)
            found.append((s0, e0 if suffix and suffix.end() == e0 else s0 + len(head), lexicon[head]))
    return tuple(found)
