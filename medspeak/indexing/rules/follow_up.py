"""Follow-up instructions: every sentence of a follow-up section ("Follow-up", "Suivi"), and elsewhere a
sentence with a follow-up cue and a time ("Follow up with cardiology in 2 weeks", "Revoir dans 1 mois",
"Return to clinic in 3 months"). ``with_whom`` and ``interval`` are read from the sentence when written.
"""

from __future__ import annotations

import re
from functools import cache

from medspeak.indexing.rules.encounters import alternation, encounter_lexicon
from medspeak.indexing.rules.sections import Section, section_at
from medspeak.indexing.schema import Evidence, FollowUp

__all__ = ["find_follow_ups"]

_MAX_CHARS = 200  # one instruction; a longer sentence is prose about the stay
# a sentence; "Dr. Smith" and "q.d." do not end one
_SENTENCE = re.compile(r"(?:[^.\n;!?]|\.(?=\S)|(?<=\b(?:Dr|Mr|Ms|Pr|St))\.[ \t]|(?<=\bMrs)\.[ \t])+")
_LABEL = re.compile(r"[^\W\d_][\w /'’-]{1,30}:[ \t]+(?=\S)")  # "Plan: follow up ...": the label is not the instruction
_NUMBER_WORDS = (
    r"\d+(?:\s*(?:-|to|à|or|ou)\s*\d+)?|a|an|one|two|three|four|six|un|une|deux|trois|quatre|quelques|few|several"
)
_ACTION = re.compile(
    r"^(?:please\s+)?(?:follow[- ]?up(?:\s+(?:with|in|at))?|f/u(?:\s+with)?|return(?:\s+to(?:\s+see)?)?|see|recheck"
    r"|to be seen(?:\s+(?:by|in|at))?|appointment with|(?:à\s+)?revoir(?:\s+(?:en|par|chez))?|reconvoqu\w*"
    r"|rendez-vous(?:\s+(?:avec|en|chez))?|suivi(?:\s+(?:en|par|chez))?|contrôle)\b",
    re.I,
)
_STOP_WORDS = re.compile(
    r"^(?:and|et|then|puis|please|veuillez|to|the|a|with|avec|en|chez|par|le|la|son|sa|his|her)\s+", re.I
)


@cache
def _patterns(language: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    data = encounter_lexicon(language)
    cues = re.compile(rf"\b(?:{alternation(data['follow_up_cues'])})(?![\w-])", re.I)
    interval = re.compile(
        rf"\b(?:{alternation(data['interval_words'])})\s+(?P<interval>(?:{_NUMBER_WORDS})\s+"
        rf"(?:{alternation(data['interval_units'])}))\b",
        re.I,
    )
    return cues, interval


def find_follow_ups(text: str, language: str, sections: list[Section]) -> list[FollowUp]:
    """Follow-up facts, one per instruction sentence."""
    cues, interval = _patterns(language)
    facts = []
    for m in _SENTENCE.finditer(text):
        start, end = m.start(), m.end()
        while start < end and (text[start].isspace() or text[start] in "-*•,:"):
            start += 1
        while end > start and text[end - 1] in " \t,":
            end -= 1
        if label := _LABEL.match(text, start, end):
            start = label.end()
        sentence = text[start:end]
        if len(sentence) < 4 or len(sentence) > _MAX_CHARS:
            continue
        section = section_at(sections, start)
        in_section = section is not None and section.name == "follow_up" and start >= section.body_start
        cue, when = cues.search(sentence), interval.search(sentence)
        with_someone = cue is not None and re.search(r"\b(?:with|avec|chez|en)\b", sentence[cue.end() :])
        # in a follow-up section a cue or a time is enough (not the signature under it); elsewhere both
        if not ((in_section and (cue or when)) or (cue and (when or with_someone))):
            continue
        facts.append(
            FollowUp(
                label=f"Follow-up: {sentence}",
                text=sentence,
                with_whom=_whom(sentence, when),
                interval=when["interval"] if when else None,
                evidence=Evidence(start=start, end=end, text=sentence),
                confidence=0.85 if when else 0.7,
            )
        )
    return facts


def _whom(sentence: str, when: re.Match[str] | None) -> str | None:
    """Who the patient is to see: the words before the time, the action words dropped ("Follow up with
    cardiology in 2 weeks" → "cardiology"; "Family physician in 1-2 weeks" → "Family physician")."""
    phrase = sentence[: when.start()] if when is not None else sentence
    phrase = _ACTION.sub("", phrase.strip(" ,:.")).strip(" ,:.")
    while stripped := _STOP_WORDS.match(phrase):
        phrase = phrase[stripped.end() :].strip(" ,:.")
    if not phrase or len(phrase.split()) > 8 or not any(c.isalpha() for c in phrase):
        return None
    return phrase
