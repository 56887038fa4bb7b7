"""Problems: lexicon terms, SNOMED-tagged mentions ("acute bronchitis (disorder)"), items of a problem
list after a trigger ("history of A, B, C") or in a history section; each with its ConText assertion.
"""

from __future__ import annotations

import re
from functools import cache

from medspeak.indexing.rules.context import context_for
from medspeak.indexing.rules.lexicon import load, phrase_pattern
from medspeak.indexing.rules.sections import Section, section_at
from medspeak.indexing.schema import Evidence, Problem

__all__ = ["find_problems"]

_DELIMITER = re.compile(r"[,;:.\n]|\band\b|\bet\b")
_BULLET_LINE = re.compile(r"^[ \t]*(?:[-*•]|\d+[.)])?[ \t]*(?P<item>[^\n]+?)[ \t]*\.?[ \t]*$", re.MULTILINE)
_DIGIT = re.compile(r"\d")  # "onset 8 hours ago" is a time course, not a problem
_RELATIVE = re.compile(r"^[^\W\d_]+\s*:\s*")  # "Brother: myocardial infarction"
_MAX_ITEM_WORDS = 10  # a longer run of words is prose, not a problem-list item
_SKIP_SECTIONS = {"allergies", "medications", "vitals", "labs", "lab_orders", "social_history"}


@cache
def _rules(language: str) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str] | None, set[str], set[str]]:
    data = load(language, "problems")
    tags = data["semantic_tags"]
    tagged = re.compile(rf"\((?:{'|'.join(tags)})\)", re.IGNORECASE) if tags else None
    return (
        phrase_pattern(data["terms"]),
        phrase_pattern(data["list_triggers"]),
        tagged,
        {w.lower() for w in data["not_problems"]},
        set(data["list_sections"]),
    )


def find_problems(text: str, language: str, sections: list[Section]) -> list[Problem]:
    """Problem facts, longest span first where candidates overlap."""
    terms, triggers, tagged, not_problems, list_sections = _rules(language)
    spans: list[tuple[int, int, float]] = []  # (start, end, confidence)
    if tagged:
        for m in tagged.finditer(text):
            start = _item_start(text, m.start(), triggers)
            spans.append((start, _strip_end(text, start, m.start()), 0.9))
    # a title standing alone ("History of present illness") is not a list; "Diagnosis: X" is
    headers = [(s.start, s.body_start) for s in sections if not text[s.body_start : s.end].split("\n", 1)[0].strip()]
    for m in triggers.finditer(text):
        if not any(a <= m.start() < b for a, b in headers):  # "History of present illness" is a title
            spans += _list_items(text, m.end(), triggers)
    for section in sections:
        if section.name in list_sections:
            for m in _BULLET_LINE.finditer(text, section.body_start, section.end):
                item = m.group("item")
                start = m.start("item") + (len(r.group(0)) if (r := _RELATIVE.match(item)) else 0)
                if len(item.split()) <= _MAX_ITEM_WORDS and item.lower().strip(". ") not in not_problems:
                    spans.append((start, m.end("item"), 0.7))
    spans += [(m.start(), m.end(), 0.8) for m in terms.finditer(text)]
    return _to_facts(text, language, sections, _non_overlapping(spans), not_problems)


def _item_start(text: str, end: int, triggers: re.Pattern[str]) -> int:
    delimiters = [m.end() for m in _DELIMITER.finditer(text, max(0, end - 150), end)]
    start = delimiters[-1] if delimiters else max(0, end - 150)
    inner = [m.end() for m in triggers.finditer(text, start, end)]
    start = inner[-1] if inner else start
    while start < end and text[start].isspace():
        start += 1
    return start


def _strip_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def _list_items(text: str, start: int, triggers: re.Pattern[str]) -> list[tuple[int, int, float]]:
    stop = re.compile(r"[.\n]").search(text, start)
    end = stop.start() if stop else len(text)
    items = []
    position = start
    for m in [*_DELIMITER.finditer(text, start, end), None]:
        item_end = m.start() if m else end
        s0 = position
        while s0 < item_end and text[s0].isspace():
            s0 += 1
        e0 = _strip_end(text, s0, item_end)
        e0 = re.sub(r"\s*\((?:disorder|finding)\)$", "", text[s0:e0], flags=re.I).__len__() + s0
        if s0 < e0 and len(text[s0:e0].split()) <= _MAX_ITEM_WORDS and not _DIGIT.search(text, s0, e0):
            items.append((s0, e0, 0.7))
        position = m.end() if m else end
    return items


def _non_overlapping(spans: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    kept: list[tuple[int, int, float]] = []
    for span in sorted(spans, key=lambda s: (-(s[1] - s[0]), s[0])):
        if all(span[1] <= k[0] or span[0] >= k[1] for k in kept):
            kept.append(span)
    return sorted(kept)


def _to_facts(
    text: str, language: str, sections: list[Section], spans: list[tuple[int, int, float]], not_problems: set[str]
) -> list[Problem]:
    context = context_for(language)
    facts = []
    for start, end, confidence in spans:
        section = section_at(sections, start)
        name = section.name if section else None
        phrase = text[start:end]
        line_start = text.rfind("\n", 0, start) + 1
        if name in _SKIP_SECTIONS or "allerg" in text[line_start:start].lower() or phrase.lower() in not_problems:
            continue
        facts.append(
            Problem(
                label=phrase,
                text=phrase,
                section=name,
                assertion=context.assertion(text, start, end, name),
                evidence=Evidence(start=start, end=end, text=phrase),
                confidence=confidence,
            )
        )
    return facts
