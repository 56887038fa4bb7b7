"""Allergies: the no-known-allergy statement (NKDA) or ``substance (reaction)`` items.

Items come from an allergy section or line (``Allergies: Penicillin (rash), Latex``) and from
"allergic to X (reaction)" in prose.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from medspeak.indexing.rules.lexicon import load, phrase_pattern
from medspeak.indexing.rules.sections import Section
from medspeak.indexing.schema import Allergy, Evidence

__all__ = ["find_allergies"]

_ITEM = re.compile(
    r"[\s,]*(?P<substance>[^\W\d_][^(),;\n.]*?)\s*(?:\((?P<reaction>[^)\n]+)\))?\s*(?=[,;\n.]|\b(?i:and|et)\b|$)"
)
_NONE_WORDS = re.compile(
    r"^(?:none|none known|aucune?|non|n/a|nil|no known.*|no allergies|not allergic.*|unknown|.*\ballerg.*"
    r"|(?:refer to|see|per|as per) (?:the )?(?:chart|record|list|above|below).*)$",  # "ALLERGIES: Refer to chart."
    re.IGNORECASE,
)


def _next_start(starts: list[int], offset: int) -> list[int]:
    """The first section start after ``offset`` (bisection), as a list: empty when there is none."""
    at = bisect_right(starts, offset)
    return starts[at : at + 1]


def find_allergies(text: str, language: str, sections: list[Section]) -> list[Allergy]:
    """Allergy facts: NKDA statements, then the substances listed in allergy sections or after triggers."""
    data = load(language, "allergies")
    facts = [
        Allergy(
            label="No known drug allergies", nkda=True, evidence=Evidence(start=m.start(), end=m.end(), text=m.group(0))
        )
        for m in phrase_pattern(data["nkda"]).finditer(text)
    ]
    taken = [(f.evidence.start, f.evidence.end) for f in facts if f.evidence]
    starts = sorted(s.start for s in sections)
    spans = [
        (m.end(), min([_clause_end(text, m.end()), *_next_start(starts, m.end())]))
        for m in phrase_pattern(data["triggers"]).finditer(text)
    ]
    for section in sections:
        if section.name == "allergies":
            inline = text[section.body_start : _line_end(text, section.body_start)].strip()
            end = min(section.end, _line_end(text, section.body_start)) if inline else section.end
            if not any(a <= section.body_start < b or section.body_start <= a < end for a, b in taken):
                facts += _none_statement(text, section.body_start, end)
                taken += [(f.evidence.start, f.evidence.end) for f in facts[-1:] if f.evidence and f.nkda]
            spans.append((section.body_start, end))
    for start, end in spans:
        facts += _items(text, start, end, taken)
    return sorted(facts, key=lambda f: f.evidence.start if f.evidence else 0)


_CLAUSE_END = re.compile(r"[\n;]|\.(?=\s|,|$)")
# "ALLERGIES: , None.", "NONE KNOWN.", "He is not allergic to any medication."
_NONE_STATEMENT = re.compile(
    r"[\s,:]*(?:(?:he|she|the patient|patient) (?:is|has|reports|denies) )?"
    r"(?P<none>none(?: known)?|no known (?:drug |medicine |medical |medication )?allergies|not allergic to any \w+"
    r"|no (?:drug |medication )?allergies"
    # French: "ALLERGIES : aucune", "Aucune connue", "Néant", "Il n'a pas d'allergies", "Pas d'allergie connue"
    r"|(?:(?:il|elle|le patient|la patiente) )?(?:n'a |ne présente )?(?:aucune?|pas d'|néant|nkda)(?:[ \w'’]{0,40}?)"
    r"(?=\s*[.,;\n]|$))",
    re.IGNORECASE,
)
_LEAD = re.compile(
    r"(?:include|includes|including|(?:also )?(?:an )?intolerance to"
    r"|patient admits allergies to|admits allergies to|(?:he|she) is allergic(?: only)? to"
    r"|allergic(?: only)? to|allergies to|only|and|or"
    r"|inclure|comprend|(?:il|elle|le patient|la patiente) est (?:aussi |également )?allergique (?:à|aux?)"
    r"|allergique (?:à|aux?)|allergie (?:à|aux?)|et|ou|la|le|les|l'|à la|au|aux)\s*(?<=\s|')",
    re.IGNORECASE,
)
_REACTION_CUE = re.compile(r"\s+(?:resulting in|causing|with|provoque|provoquant|entraînant)\s+")
_MAX_SUBSTANCE_WORDS = 4  # a longer run of words is prose, not a substance


def _clause_end(text: str, start: int) -> int:
    """ "allergic to X (reaction), Y." lists its items up to the end of its sentence or line."""
    m = _CLAUSE_END.search(text, start)
    return m.start() if m else len(text)


def _none_statement(text: str, start: int, end: int) -> list[Allergy]:
    """An allergy section that says there is none: the NKDA fact, on those words."""
    m = _NONE_STATEMENT.match(text, start, end)
    if not m:
        return []
    s0, e0 = m.start("none"), m.end("none")
    return [Allergy(label="No known drug allergies", nkda=True, evidence=Evidence(start=s0, end=e0, text=text[s0:e0]))]


def _line_end(text: str, start: int) -> int:
    """``Allergies: X`` on one line lists its items on that line only."""
    end = text.find("\n", start)
    return end if end >= 0 else len(text)


def _items(text: str, start: int, end: int, taken: list[tuple[int, int]]) -> list[Allergy]:
    facts = []
    position = start
    while position < end:
        m = _ITEM.match(text, position, end)
        if not m or m.end() == position:
            position += 1
            continue
        position = m.end()
        s0, s1 = m.start("substance"), m.end("substance")
        while lead := _LEAD.match(text, s0, s1):  # "Include IV DYE", "and DEMEROL", "allergic only to X"
            s0 = lead.end()
        if cut := _REACTION_CUE.search(text[s0:s1]):  # "tape resulting in severe rash"
            s1 = s0 + cut.start()
        substance = text[s0:s1].strip()
        if (
            not substance
            or any(a <= s0 < b for a, b in taken)
            or _NONE_WORDS.match(substance)
            or len(substance.split()) > _MAX_SUBSTANCE_WORDS
        ):
            continue
        reaction = m.group("reaction")
        evidence_end = m.end("reaction") + 1 if reaction else s0 + len(substance)
        taken.append((s0, evidence_end))
        facts.append(
            Allergy(
                label=f"{substance} ({reaction})" if reaction else substance,
                substance=substance,
                reaction=reaction.strip() if reaction else None,
                evidence=Evidence(start=s0, end=evidence_end, text=text[s0:evidence_end]),
            )
        )
    return facts
