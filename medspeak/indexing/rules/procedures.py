"""Procedures: items of a procedures section ("The following procedures were conducted:", "Procedures
performed"), of the surgical history (historical), procedure-like items of the past history, and
"s/p appendectomy" / "status post CABG" anywhere (historical). The assertion follows ConText
("no colonoscopy" is absent, "scheduled for ..." hypothetical); a history section makes it historical.
"""

from __future__ import annotations

import re

from medspeak.indexing.rules.context import context_for
from medspeak.indexing.rules.problems import PROCEDURE_WORDS
from medspeak.indexing.rules.sections import Section, section_at
from medspeak.indexing.schema import Assertion, Evidence, Procedure

__all__ = ["find_procedures"]

_MAX_WORDS = 16  # Synthea's "hemogram, automated, with rbc, ..." is one long procedure line
_TAG = re.compile(r"\s*\(procedure\)\s*$", re.IGNORECASE)
_LINE = re.compile(r"^[ \t]*(?:[-*•]|\d+[.)])?[ \t]*(?P<item>[^\n]+?)[ \t]*$", re.MULTILINE)
_INLINE_SPLIT = re.compile(r"[;,\n]|\.(?=\s|,|$)|\s(?:and|et)\s")
# a sentence about the procedure ("The test was performed in ...") is prose, not a procedure name
_PROSE = re.compile(
    r"^(?:the|this|that|these|there|it|he|she|we|i|patient|patients|le|la|les|ce|cette|il|elle|nous)\b"
    r"|\b(?:was|were|is|are|has|have|had|been|will|did|performed|obtained|tolerated|a été|ont été|est)\b",
    re.I,
)
_STATUS_POST = re.compile(
    r"\b(?:status post|s/p|statut post|suite à une?|après une?)\s+(?P<item>[^,;.\n()]{3,60})", re.I
)
_WHEN = re.compile(r"\s+(?:in|on|at|en|le|du|à)\s+(?:\d|age\b|l'âge\b)", re.I)
_LEAD = re.compile(r"^(?:(?:a|an|the|his|her|une?|la|le|les|l')\s+)+", re.I)
_NONE = re.compile(r"^(?:none|no(?:ne)? (?:surgery|surgeries|procedures?)|noncontributory|non-contributory|negative"
                   r"|aucun|aucune|néant|sans particularité|n/a|nil)\b", re.I)  # fmt: skip
_SECTIONS = {"procedures": Assertion.PRESENT, "surgical_history": Assertion.HISTORICAL}
# "Phacoemulsification ..., right eye.": a side after a comma belongs to the procedure before it
# and so does a spinal level ("Anterior cervical discectomy, C5-C6")
_SIDE = re.compile(
    r"\s*(?:(?:right|left|bilateral|both|droite?|gauche|bilatérale?|des deux côtés)\b[^\n]{0,30}"
    r"|(?:at\s+)?[CTLS]\d{1,2}(?:\s*-\s*[CTLS]?\d{1,2})?(?:\s*(?:and|,)\s*[CTLS]\d{1,2}(?:\s*-\s*[CTLS]?\d{1,2})?)*)\s*$",
    re.I,
)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_NARRATIVE_WORDS = 20  # a sentence this long tells how it was done ("The patient was brought to the...")


def _narrative(body: str) -> bool:
    """A section that tells the operation rather than naming it: its items would be fragments of prose."""
    return any(len(sentence.split()) > _NARRATIVE_WORDS for sentence in _SENTENCE_END.split(body))


def _items(text: str, section: Section) -> list[tuple[int, int]]:
    body = text[section.body_start : section.end]
    if _narrative(body):
        return []
    if "\n" in body.strip():
        return [(m.start("item"), m.end("item")) for m in _LINE.finditer(text, section.body_start, section.end)]
    bounds: list[tuple[int, int]] = []
    position = section.body_start
    for split in [*_INLINE_SPLIT.finditer(text, section.body_start, section.end), None]:
        end = split.start() if split else section.end
        if bounds and _SIDE.match(text, position, end) and len(text[position:end].split()) <= 4:
            bounds[-1] = (bounds[-1][0], end)  # the side joins the procedure it qualifies
        else:
            bounds.append((position, end))
        position = split.end() if split else section.end
    return bounds


def _clean(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and (text[start].isspace() or text[start] in "-*•,:"):
        start += 1
    if tag := _TAG.search(text, start, end):
        end = tag.start()
    while end > start and (text[end - 1].isspace() or text[end - 1] in ".,;:"):
        end -= 1
    if lead := _LEAD.match(text, start, end):
        start = lead.end()
    if when := _WHEN.search(text, start, end):  # "appendectomy in 2001": the date is not the procedure
        end = when.start()
    phrase = text[start:end]
    if len(phrase) < 3 or not phrase[0].isalpha() or len(phrase.split()) > _MAX_WORDS or _NONE.match(phrase):
        return None
    if _PROSE.search(phrase):
        return None
    return start, end


def find_procedures(text: str, language: str, sections: list[Section]) -> list[Procedure]:
    """Procedure facts, each with its ConText assertion (historical in a surgical history)."""
    context = context_for(language)
    spans: dict[tuple[int, int], tuple[str | None, Assertion | None, float]] = {}
    for section in sections:
        default = _SECTIONS.get(section.name)
        procedure_like = section.name == "past_history"
        if default is None and not procedure_like:
            continue
        for start, end in _items(text, section):
            cleaned = _clean(text, start, end)
            if cleaned is None:
                continue
            # in a past history only procedure-like items; anywhere, one word must name a procedure ("Also" does not)
            single = len(text[cleaned[0] : cleaned[1]].split()) == 1
            if (procedure_like or single) and not PROCEDURE_WORDS.search(text, *cleaned):
                continue
            spans[cleaned] = (section.name, default or Assertion.HISTORICAL, 0.8)
    for m in _STATUS_POST.finditer(text):
        cleaned = _clean(text, m.start("item"), m.end("item"))
        if cleaned and not any(a <= cleaned[0] < b for a, b in spans):
            around = section_at(sections, m.start())
            spans[cleaned] = (around.name if around else None, Assertion.HISTORICAL, 0.75)
    facts = []
    for (start, end), (section_name, default, confidence) in sorted(spans.items()):
        stated = context.assertion(text, start, end, section_name)
        # a negation or a plan in the words beats the section; "present" there means "as the section says"
        assertion = stated if stated in (Assertion.ABSENT, Assertion.HYPOTHETICAL, Assertion.POSSIBLE) else default
        phrase = text[start:end]
        facts.append(
            Procedure(
                label=phrase,
                text=phrase,
                section=section_name,
                assertion=assertion or Assertion.PRESENT,
                evidence=Evidence(start=start, end=end, text=phrase),
                confidence=confidence,
            )
        )
    return facts
