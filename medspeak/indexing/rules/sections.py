"""Section detection: ``# Medications`` (Markdown), ``Allergies: ...`` or a header line, EN and FR.

A section runs from its header to the next header, or to the end of its line when the header line
holds content (``Allergies: Codeine (nausea)``); text outside any section has section ``None``.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from medspeak.indexing.rules.lexicon import load

__all__ = ["Section", "find_sections", "section_at"]

_HEADER = re.compile(r"^[ \t]*(?:#{1,3}[ \t]*)?(?P<title>[^\n:#]{2,80}?)[ \t]*(?::|$)", re.MULTILINE)


@dataclass(frozen=True)
class Section:
    name: str  # canonical name: medications, allergies, family_history...
    start: int  # where the header starts
    body_start: int  # just after the header (and its colon)
    end: int


def find_sections(text: str, language: str) -> list[Section]:
    """The known sections of ``text`` in order, headers matched on the language's section names."""
    names: dict[str, str] = load(language, "sections")
    found: list[tuple[str, int, int]] = []
    for match in _HEADER.finditer(text):
        title = match.group("title").strip().lower().rstrip(".")
        if title in names:
            found.append((names[title], match.start(), match.end()))
    sections = []
    for i, (name, start, body) in enumerate(found):
        end = found[i + 1][1] if i + 1 < len(found) else len(text)
        line_end = text.find("\n", body)
        line_end = len(text) if line_end < 0 else line_end
        if text[body:line_end].strip():  # "Allergies: Codeine (nausea)": an inline section is its line
            end = min(end, line_end)
        sections.append(Section(name, start, body, end))
    return sections


def section_at(sections: list[Section], offset: int) -> Section | None:
    """The section holding character ``offset``, or ``None`` before the first header."""
    index = bisect_right([s.start for s in sections], offset) - 1
    return sections[index] if index >= 0 and offset < sections[index].end else None
