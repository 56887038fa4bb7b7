"""Section detection: ``# Medications`` (Markdown), ``Allergies: ...`` or a header line, EN and FR.

A section runs from its header to the next header, or to the end of its line when the header line
holds content (``Allergies: Codeine (nausea)``); text outside any section has section ``None``.
Transcribed reports often run their sections inline (``...no fever.,ALLERGIES: , None.,``): a header
after a stop inside a line counts too.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache

from medspeak.indexing.rules.lexicon import load

__all__ = ["Section", "find_sections", "fold", "section_at"]

_HEADER = re.compile(r"^[ \t]*(?:#{1,3}[ \t]*)?(?P<title>[^\n:#]{2,80}?)[ \t\u00a0\u202f]*(?::|$)", re.MULTILINE)
# an inline header: after a stop and at most two spaces, a capitalised title and its colon
_UPPER = "A-ZÀ-ÖØ-ÞŒ"  # capitals, accented ones too: "MÉDICAMENTS ACTUELS :", "ÉVALUATION ET PLAN :"
_SPACE = " \t\u00a0\u202f"  # French puts a no-break space before a colon: "ALLERGIES\u00a0:"
_INLINE = re.compile(
    rf"(?:(?<=[.,;])|(?<=[.,;][{_SPACE}])|(?<=[.,;][{_SPACE}]{{2}}))"
    rf"(?P<title>[{_UPPER}][\w /&'’()-]{{1,60}}?)[{_SPACE}]*:"
)
# "...,HOME MEDICATIONS,1.  Aspirin": a known upper-case title without its colon
_INLINE_BARE = re.compile(rf"(?:^|(?<=[.,;])|(?<=[.,;] )|(?<=[.,;]  ))(?P<title>[{_UPPER}][{_UPPER} /&'’-]{{2,60}}),")
_PARENTHESES = re.compile(r"\s*\([^)]*\)")
# an unknown title that qualifies "medications" (a route, a purpose): "iv medications for pain", "prn medications"
_MEDICATIONS_FOR = re.compile(
    r"(?:(?:iv|oral|prn|pain|otc|current|outpatient|inpatient|home) ){1,2}medications?"
    r"(?: for [a-z ]{3,30})?|medications? for [a-z ]{3,30}"
)


@dataclass(frozen=True)
class Section:
    name: str  # canonical name: medications, allergies, family_history... ("other" for an unknown header)
    start: int  # where the header starts
    body_start: int  # just after the header (and its colon)
    end: int


def fold(text: str) -> str:
    """Lower case without accents, one space between words: "MÉDICAMENTS  ACTUELS" → "medicaments actuels"."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


@cache
def _names(language: str) -> tuple[dict[str, str], frozenset[str]]:
    """Section titles (accent-folded) → canonical name, and the body-system subheadings."""
    data = load(language, "sections")
    names = {fold(k): v for k, v in data.items() if isinstance(v, str) and not k.startswith("_")}
    return names, frozenset(fold(s) for s in data.get("_subheadings", ()))


def _canonical(title: str, names: dict[str, str]) -> str | None:
    """A header's canonical name: the whole title, else without parentheses, else its first part."""
    title = fold(title.strip().rstrip("."))
    bare = _PARENTHESES.sub("", title).strip()
    for candidate in (title, bare):
        if candidate in names and not candidate.startswith("_"):
            return names[candidate]
    first = re.split(r"\s+(?:-|/|and)\s+|/", bare)[0].strip()
    if first.startswith("_"):
        return None
    if first not in names and _MEDICATIONS_FOR.fullmatch(bare):
        return "medications"  # "IV MEDICATIONS FOR PAIN:", "PRN medications:": a list of drugs all the same
    return names.get(first)


def find_sections(text: str, language: str) -> list[Section]:
    """The sections of ``text`` in order, headers matched on the language's section names.

    A header starts a line (``Allergies:``, ``# Medications``) or follows a stop inside a line
    (``...,MEDICATIONS: ,``); an unknown upper-case inline header ends the section before it (name
    ``other``); a body-system subheading (``HEENT:``, ``Lungs:``) continues the section it is in.
    """
    names, subheadings = _names(language)
    found: dict[int, tuple[str, int, int]] = {}
    for match in _HEADER.finditer(text):
        name = _canonical(match.group("title"), names)
        if name:
            found[match.start()] = (name, match.start(), match.end())
    for match in _INLINE.finditer(text):
        title = match.group("title")
        start = match.start("title")
        name = "*" if fold(title) in subheadings else _canonical(title, names)
        if name is None and sum(c.isalpha() for c in title) >= 4 and title.upper() == title:  # not "BP:"
            name = "other"
        if name and not any(s <= start < b for s, (_, _, b) in found.items()):
            found[start] = (name, start, match.end())
    for match in _INLINE_BARE.finditer(text):
        start = match.start("title")
        name = _canonical(match.group("title"), names)
        if name and not any(s <= start < b for s, (_, _, b) in found.items()):
            found[start] = (name, start, match.end())
    ordered = sorted(found.values(), key=lambda f: f[1])
    sections: list[Section] = []
    for i, (name, start, body) in enumerate(ordered):
        if name == "*":  # a subheading continues its section: ROS "Cardiovascular:" stays in the ROS
            name = sections[-1].name if sections else "other"
            name = "exam" if name == "vitals" else name  # "SIGNES VITAUX: ..., HEENT: ...": the exam goes on
        end = ordered[i + 1][1] if i + 1 < len(ordered) else len(text)
        line_end = text.find("\n", body)
        line_end = len(text) if line_end < 0 else line_end
        if text[body:line_end].strip():  # "Allergies: Codeine (nausea)": an inline section is its line
            end = min(end, line_end)
        sections.append(Section(name, start, body, end))
    return sections


def section_at(sections: list[Section], offset: int) -> Section | None:
    """The section holding character ``offset``, or ``None`` before the first header."""
    index = bisect_right(sections, offset, key=lambda s: s.start) - 1  # no list of starts a call: O(log n)
    return sections[index] if index >= 0 and offset < sections[index].end else None
