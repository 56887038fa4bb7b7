"""A small ConText (Harkema et al., J Biomed Inform 2009) over sentences: assertion of a target span.

A trigger modifies the targets in its direction (forward: after it; backward: before it) up to the end
of the sentence or a terminator ("but", "mais"); pseudo-triggers ("no change") block the trigger they
contain. The closest trigger wins, a historical one only when no other applies ("no history of X" is
absent); section defaults apply when no trigger does (family history → family).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from medspeak.indexing.rules.lexicon import load, phrase_pattern
from medspeak.indexing.schema import Assertion

__all__ = ["ConText", "context_for", "sentence_bounds"]

_DURATION_BEFORE = re.compile(  # "a 3-day history of", "a two-week history of", "a long history of"
    r"(?:(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|several|few)[- ](?:day|week|month|hour)s?"
    r"|long|longstanding|long-standing|lifelong)[- ]$",
    re.IGNORECASE,
)
_OR_ITEM = re.compile(r"\s*(?:or|and/or|versus|vs\.?)\s", re.IGNORECASE)  # an alternative of the item before
_SENTENCE_END = re.compile(r"[.;!\n]|\?(?=\s)|:\s*\n|:(?=\s*,|\s+[A-Z])")


@dataclass(frozen=True)
class _Trigger:
    start: int
    end: int
    category: Assertion
    direction: str
    literal: str = ""


def sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence around ``text[start:end]``: from after the previous stop to the next one."""
    before = max((m.end() for m in _SENTENCE_END.finditer(text, max(0, start - 300), start)), default=0)
    after = _SENTENCE_END.search(text, end)
    return before, after.start() if after else len(text)


class ConText:
    """Assertion of targets in one language's text, from ``data/<language>/context.json``."""

    def __init__(self, language: str) -> None:
        self.language = language
        rules = load(language, "context")
        self._by_literal = {t["literal"].lower(): t for t in rules["triggers"]}
        self._triggers = phrase_pattern(list(self._by_literal))
        self._question = "?" in self._by_literal
        self._terminators = phrase_pattern(rules["terminators"])
        self._pseudo = phrase_pattern(rules["pseudo"])
        self._section_defaults: dict[str, str] = rules["section_defaults"]
        chronic = rules.get("chronic_history", {})
        self._chronic_triggers = frozenset(t.lower() for t in chronic.get("triggers", ()))
        self._episodes = phrase_pattern(chronic["episodes"]) if chronic.get("episodes") else None
        ongoing = chronic.get("ongoing", ())
        self._ongoing = re.compile(rf"(?:{'|'.join(map(re.escape, ongoing))})\b", re.I) if ongoing else None
        past = rules.get("past_after", {}).get("pattern")
        self._past_after = re.compile(past, re.IGNORECASE) if past else None

    def assertion(
        self, text: str, start: int, end: int, section: str | None = None, item: tuple[int, int] | None = None
    ) -> Assertion:
        """The assertion of the target ``text[start:end]`` from its sentence and section.

        ``item`` bounds the list item the target is in (a problem list): an uncertainty trigger
        ("possible") modifies its own item only, as in "Possible ischemic cecum, acute renal failure".
        """
        s0, s1 = sentence_bounds(text, start, end)
        if self._question and s1 < len(text) and text[s1] == "?":
            s1 += 1
        triggers = self._find(text, s0, s1, start, end)
        forward = [t for t in triggers if t.end <= start and t.direction != "backward"]
        backward = [t for t in triggers if t.start >= end and t.direction != "forward"]
        forward = [t for t in forward if not self._terminated(text, t.end, start)]
        if item is not None and not _OR_ITEM.match(text, item[0], start):  # "may be A, or B": B is hedged too
            forward = [t for t in forward if t.category is not Assertion.POSSIBLE or t.start >= item[0]]
        backward = [t for t in backward if not self._terminated(text, end, t.start)]
        candidates = forward + backward
        dated = self._past_after is not None and self._past_after.match(text, end) is not None  # "MI in 1998"
        # a negation, uncertainty or experiencer outranks "history of": "no history of X" is absent
        current = [t for t in candidates if t.category is not Assertion.HISTORICAL] or candidates
        if current:
            closest = min(current, key=lambda t: start - t.end if t.end <= start else t.start - end)
            if closest.literal in self._chronic_triggers and not self._episode(text, start, end):
                return Assertion.HISTORICAL if dated else Assertion.PRESENT  # "history of hypertension": current
            return closest.category
        if dated and section != "family_history":
            return Assertion.HISTORICAL  # "Breast cancer in 1992": a past event
        default = self._section_defaults.get(section or "")
        return Assertion(default) if default else Assertion.PRESENT

    def _find(self, text: str, s0: int, s1: int, start: int, end: int) -> list[_Trigger]:
        blocked = [(m.start(), m.end()) for m in self._pseudo.finditer(text, s0, s1)]
        found = []
        for m in self._triggers.finditer(text, s0, s1):
            if m.start() < end and m.end() > start:  # a trigger inside the target is part of its name
                continue
            if any(b0 <= m.start() and m.end() <= b1 for b0, b1 in blocked):
                continue
            rule = self._by_literal[m.group(0).lower()]
            if rule["category"] == "historical" and _DURATION_BEFORE.search(text, max(0, m.start() - 30), m.start()):
                continue  # "a 3-day history of cough" is a current complaint, not a past one
            found.append(
                _Trigger(m.start(), m.end(), Assertion(rule["category"]), rule["direction"], m.group(0).lower())
            )
        return found

    def _episode(self, text: str, start: int, end: int) -> bool:
        """Whether the target names an episode (an infarction, a fracture, a cancer treated) rather than a
        chronic condition: only an episode is put in the past by "history of"."""
        if self._ongoing is not None and self._ongoing.match(text, start, end):
            return False  # "recurrent urinary tract infections", "chronic bronchitis": a lasting condition
        return self._episodes is not None and self._episodes.search(text, start, end) is not None

    def _terminated(self, text: str, a: int, b: int) -> bool:
        """A terminator between ``a`` and ``b`` that is not part of a pseudo-trigger ("but not limited to")."""
        pseudo = [(m.start(), m.end()) for m in self._pseudo.finditer(text, a, b)]
        return any(
            not any(p0 <= m.start() and m.end() <= p1 for p0, p1 in pseudo)
            for m in self._terminators.finditer(text, a, b)
        )


@cache
def context_for(language: str) -> ConText:
    """The shared ConText of a language (rules are immutable once loaded)."""
    return ConText(language)
