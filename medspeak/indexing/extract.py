"""``extract_facts``: run the chosen backend, then ground every fact; unsupported facts are kept apart.

Backends share one interface (``Backend``) and are chosen by ``MEDSPEAK_LLM_BACKEND``
(``auto|transformers|openai|rules``); the rules backend is the one implemented today, and ``auto``
falls back to it with a notice when no language-model backend is available.
"""

from __future__ import annotations

import os
from typing import Protocol

from pydantic import BaseModel, Field

from medspeak.errors import MedspeakError
from medspeak.indexing.grounding import ground_facts
from medspeak.indexing.rules.backend import RulesBackend
from medspeak.indexing.rules.lexicon import LANGUAGES, detect_language
from medspeak.indexing.schema import Fact
from medspeak.ingest.types import PageText

__all__ = ["Backend", "ExtractionFailed", "ExtractionOutput", "extract_facts", "get_backend"]

BACKENDS = ("auto", "transformers", "openai", "rules")


class ExtractionFailed(MedspeakError):
    """Extraction could not run as asked (unknown or unavailable backend, unsupported language)."""


class Backend(Protocol):
    """An extractor: candidate facts with claimed evidence; grounding is done by the caller."""

    name: str

    def available(self) -> bool: ...

    def extract(self, text: str, language: str) -> list[Fact]: ...


class ExtractionOutput(BaseModel):
    """Grounded facts (the record) and unsupported ones (shown for review, never as facts)."""

    facts: list[Fact] = Field(default_factory=list)
    unsupported: list[Fact] = Field(default_factory=list)
    backend: str
    language: str
    notices: list[str] = Field(default_factory=list)


def get_backend(name: str | None = None) -> tuple[Backend, list[str]]:
    """The backend named (else ``MEDSPEAK_LLM_BACKEND``, default ``auto``) and notices for the user."""
    name = (name or os.environ.get("MEDSPEAK_LLM_BACKEND") or "auto").lower()
    if name not in BACKENDS:
        raise ExtractionFailed(f"Unknown extraction backend {name!r}; choose one of {', '.join(BACKENDS)}.")
    if name in ("transformers", "openai"):
        raise ExtractionFailed(f"The {name} extraction backend is not installed yet; use 'rules' or 'auto'.")
    notices = ["No language-model backend is available: facts come from the rules."] if name == "auto" else []
    return RulesBackend(), notices


def extract_facts(
    text: str, *, language: str = "auto", pages: list[PageText] | None = None, backend: str | None = None
) -> ExtractionOutput:
    """Facts of a document's ``text``, each grounded to its words (page and box from ``pages``).

    Args:
        text: the document text as stored (pages joined), which evidence offsets refer to.
        language: ``en``, ``fr`` or ``auto`` (detected from function words).
        pages: the ingested pages with word boxes, to give each fact its page and box.
        backend: overrides ``MEDSPEAK_LLM_BACKEND``.
    """
    if language == "auto":
        language = detect_language(text)
    if language not in LANGUAGES:
        raise ExtractionFailed(f"Language {language!r} is not supported; expected one of {', '.join(LANGUAGES)}.")
    chosen, notices = get_backend(backend)
    facts, unsupported = ground_facts(chosen.extract(text, language), text, pages)
    return ExtractionOutput(
        facts=facts, unsupported=unsupported, backend=chosen.name, language=language, notices=notices
    )
