"""The rules backend: every rules module run over the text, facts carrying their evidence spans."""

from __future__ import annotations

from medspeak.indexing.rules.allergies import find_allergies
from medspeak.indexing.rules.encounters import find_demographics, find_encounters, split_chief_complaints
from medspeak.indexing.rules.follow_up import find_follow_ups
from medspeak.indexing.rules.lexicon import detect_language
from medspeak.indexing.rules.measurements import find_labs, find_vitals
from medspeak.indexing.rules.medications import find_medications
from medspeak.indexing.rules.orders import find_orders
from medspeak.indexing.rules.problems import find_problems
from medspeak.indexing.rules.procedures import find_procedures
from medspeak.indexing.rules.sections import find_sections
from medspeak.indexing.schema import Fact

__all__ = ["RulesBackend"]


class RulesBackend:
    """CPU extractor from lexicons and patterns; always available, deterministic, needs no model."""

    name = "rules"

    def available(self) -> bool:
        return True

    def extract(self, text: str, language: str) -> list[Fact]:
        """Candidate facts of ``text`` (``language`` ``en``, ``fr`` or ``auto``), not yet grounded."""
        if language == "auto":
            language = detect_language(text)
        headed = find_sections(text, language)
        sections = split_chief_complaints(text, headed)  # the complaint itself is no problem; the story after it is
        facts: list[Fact] = [
            *find_medications(text, sections),
            *find_problems(text, language, sections),
            *find_allergies(text, language, sections),
            *find_vitals(text, language),
            *find_labs(text, language),
            *find_orders(text, sections),
            *find_demographics(text, language),
            *find_encounters(text, language, headed),
            *find_procedures(text, language, sections),
            *find_follow_ups(text, language, sections),
        ]
        for fact in facts:
            fact.extractor = self.name
        return facts
