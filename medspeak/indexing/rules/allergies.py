"""Allergies: the no-known-allergy statement (NKDA) or ``substance (reaction)`` items.

Items come from an allergy section or line (``Allergies: Penicillin (rash), Latex``) and from
"allergic to X (reaction)" in prose.
"""

from __future__ import annotations

import re

from medspeak.indexing.rules.lexicon import load, phrase_pattern
from medspeak.indexing.rules.sections import Section
from medspeak.indexing.schema import Allergy, Evidence

__all__ = ["find_allergies"]

_ITEM = re.compile(r"\s*(?P<substance>[^\W\d_][^(),;\n.]*?)\s*(?:\((?P<reaction>[^)\n]+)\))?\s*(?=[,;\n.]|$)")
_NONE_WORDS = re.compile(r"^(?:none|aucune?|non|n/a|nil)$", re.IGNORECASE)


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
    spans = [(m.end(), _line_end(text, m.end())) for m in phrase_pattern(data["triggers"]).finditer(text)]
    for section in sections:
        if section.name == "allergies":
            inline = text[section.body_start : _line_end(text, section.body_start)].strip()
            spans.append((section.body_start, _line_end(text, section.body_start) if inline else section.end))
    for start, end in spans:
        facts += _items(text, start, end, taken)
    return sorted(facts, key=lambda f: f.evidence.start if f.evidence else 0)


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
        position = m.end() + 1
        s0 = m.start("substance")
        if any(a <= s0 < b for a, b in taken) or _NONE_WORDS.match(m.group("substance").strip()):
            continue
        substance = m.group("substance").strip()
        reaction = m.group("reaction")
        evidence_end = m.end("reaction") + 1 if reaction else m.end("substance")
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
