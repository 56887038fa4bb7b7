"""``extract_facts``: run the chosen backend, then ground every fact; unsupported facts are kept apart.

Backends share one interface (``Backend``) and are chosen by ``MEDSPEAK_LLM_BACKEND``
(``auto|transformers|openai|rules``). ``auto`` takes the local model when its folder and CUDA are
there, else the server when ``MEDSPEAK_LLM_URL`` is set and answers, else the rules, with a notice.
A language model's facts go through the hybrid checks (``medspeak.indexing.llm.hybrid``); when the
model cannot answer at extraction time (server down or too slow), the rules take over and the output
says so in ``notices``: an ingest job never fails because a model server is away.
"""

from __future__ import annotations

import threading
from typing import Protocol

from pydantic import BaseModel, Field, ValidationError

from medspeak.config import Settings
from medspeak.errors import ExtractionFailed
from medspeak.i18n import N_
from medspeak.indexing.grounding import ground_facts
from medspeak.indexing.llm.base import LLMResult, LLMUnavailable
from medspeak.indexing.llm.hybrid import cross_check, reject_inconsistent, reject_instructions
from medspeak.indexing.llm.local import LocalLLMBackend, llm_packages_installed, resolve_model
from medspeak.indexing.llm.server import ServerBackend
from medspeak.indexing.rules.backend import RulesBackend
from medspeak.indexing.rules.lexicon import LANGUAGES, detect_language
from medspeak.indexing.schema import Fact
from medspeak.ingest.types import PageText
from medspeak.work_budget import WorkBudget

__all__ = ["Backend", "ExtractionFailed", "ExtractionOutput", "Extractors", "environment_extractors", "extract_facts"]

BACKENDS = ("auto", "transformers", "openai", "rules")
NO_MODEL_NOTICE = "No language-model backend is available: facts come from the rules."


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


def _new_local(model: str) -> LocalLLMBackend:
    return LocalLLMBackend(model)


def _cuda_available() -> bool:
    if not llm_packages_installed(("torch",)):  # the optional LLM group is not installed: no local model
        return False
    import torch

    return bool(torch.cuda.is_available())


class Extractors:
    """The extraction backends of one configuration: an application context owns one (``AppContext.models``).

    The local model is loaded once, on first use, and a server's connection pool is kept, for the life of the
    context; nothing is shared between contexts. Settings are the context's: a changed ``MEDSPEAK_LLM_*``
    variable is seen by the next context (the next start of the app, the API or a command).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._local: LocalLLMBackend | None = None
        self._server: ServerBackend | None = None

    def local(self) -> LocalLLMBackend:
        """The local model backend (the model itself loads on its first document)."""
        with self._lock:
            if self._local is None:
                self._local = _new_local(self.settings.llm_model)
            return self._local

    def server(self) -> ServerBackend:
        """The OpenAI-compatible server backend at ``MEDSPEAK_LLM_URL``."""
        with self._lock:
            if self._server is None:
                s = self.settings
                self._server = ServerBackend(s.llm_url or "", timeout_s=s.llm_timeout_s, concurrency=s.llm_concurrency)
            return self._server

    def close(self) -> None:
        """Close the server's connections (a local model is freed with the context)."""
        with self._lock:
            if self._server is not None:
                self._server.close()
            self._server = self._local = None

    def choose(self, name: str | None = None) -> tuple[Backend, list[str]]:
        """The backend named (else ``MEDSPEAK_LLM_BACKEND``, default ``auto``) and notices for the user.

        Raises:
            ExtractionFailed: an unknown name, or a language-model backend asked for by name that is not
                configured (no model folder, no server URL), with the reason.
        """
        settings = self.settings
        name = (name or settings.llm_backend or "auto").lower()
        if name not in BACKENDS:
            raise ExtractionFailed(
                N_("Unknown extraction backend {name!r}; choose one of {value}."), name=name, value=", ".join(BACKENDS)
            )
        if name == "rules":
            return RulesBackend(), []
        if name == "transformers":
            local = self.local()
            reason = local.unavailable_reason()
            if reason:
                raise ExtractionFailed(
                    N_("The transformers extraction backend is unavailable: {reason}."), reason=reason
                )
            return local, []
        if name == "openai":
            if not settings.llm_url:
                raise ExtractionFailed(N_("The openai extraction backend is unavailable: MEDSPEAK_LLM_URL is not set."))
            return self.server(), []
        notices = []
        if resolve_model(settings.llm_model) is not None:
            if not llm_packages_installed():
                notices.append("The local language model needs the optional LLM packages (make install-llm).")
            elif not _cuda_available():  # a 7B model on CPU takes minutes a document: not an automatic choice
                notices.append("The local language model needs a CUDA device; none was found.")
            elif (reason := self.local().unavailable_reason()) is None:
                return self.local(), []
            else:
                notices.append(f"The local language model cannot be used ({reason}).")
        if settings.llm_url:
            server = self.server()
            reason = server.unavailable_reason()
            if reason is None:
                return server, []
            notices.append(f"The language-model server cannot be used ({reason}): facts come from the rules.")
        return RulesBackend(), notices if settings.llm_url else [*notices, NO_MODEL_NOTICE]


def environment_extractors() -> Extractors:
    """Extractors for the environment's settings now: for callers without an application context (evaluations,
    benchmarks). The app, the API and the CLI use their context's, which keep a loaded model.

    Raises:
        ExtractionFailed: the language-model settings are invalid.
    """
    try:
        return Extractors(Settings())
    except ValidationError as exc:
        raise ExtractionFailed(
            N_("The language-model settings are invalid: {value}."), value=exc.errors()[0]["msg"]
        ) from exc


def extract_facts(
    text: str,
    *,
    language: str = "auto",
    pages: list[PageText] | None = None,
    backend: str | None = None,
    budget: WorkBudget | None = None,
    extractors: Extractors | None = None,
) -> ExtractionOutput:
    """Facts of a document's ``text``, each grounded to its words (page and box from ``pages``).

    Args:
        text: the document text as stored (pages joined), which evidence offsets refer to.
        language: ``en``, ``fr`` or ``auto`` (detected from function words).
        pages: the ingested pages with word boxes, to give each fact its page and box.
        backend: overrides ``MEDSPEAK_LLM_BACKEND``.
        extractors: the context's backends (a loaded model is reused); without, the rules when ``backend``
            is ``"rules"``, else backends built for this call from the environment (:func:`environment_extractors`).
        budget: the document's time budget and cancel, checked between steps and for every fact.

    Raises:
        BudgetExceeded, Cancelled: from ``budget``.
    """
    if language == "auto":
        language = detect_language(text)
    if language not in LANGUAGES:
        raise ExtractionFailed(
            N_("Language {language!r} is not supported; expected one of {value}."),
            language=language,
            value=", ".join(LANGUAGES),
        )
    if backend == "rules":
        return _extract(RulesBackend(), [], text, language, pages, budget)
    if extractors is not None:
        return _extract(*extractors.choose(backend), text, language, pages, budget)
    owned = environment_extractors()
    try:
        return _extract(*owned.choose(backend), text, language, pages, budget)
    finally:
        owned.close()


def _extract(
    chosen: Backend,
    notices: list[str],
    text: str,
    language: str,
    pages: list[PageText] | None,
    budget: WorkBudget | None,
) -> ExtractionOutput:
    if budget is not None:
        budget.check()
    if isinstance(chosen, LocalLLMBackend | ServerBackend):
        try:
            result = chosen.run(text, language)
        except LLMUnavailable as exc:
            notices.append(f"The language model could not be used ({exc}): facts come from the rules.")
        else:
            return _hybrid(result, text, language, pages, chosen.name, notices, budget)
        chosen = RulesBackend()
    claimed = chosen.extract(text, language)
    facts, unsupported = ground_facts(claimed, text, pages, budget=budget)
    # Same policy on every path: words of a sentence addressed to a model are text, not facts.
    facts, injected = reject_instructions(facts, text)
    return ExtractionOutput(
        facts=facts, unsupported=[*unsupported, *injected], backend=chosen.name, language=language, notices=notices
    )


def _hybrid(
    result: LLMResult,
    text: str,
    language: str,
    pages: list[PageText] | None,
    name: str,
    notices: list[str],
    budget: WorkBudget | None = None,
) -> ExtractionOutput:
    """Model facts grounded, checked against their own evidence and the rules; rules fill what it missed.

    Facts quoting a sentence addressed to the model are rejected from the whole hybrid record: an
    obedient model and the rules' literal reading of "list morphine 100 mg" would otherwise agree.
    The rules-only path applies the same rejection, so a document gives the same record whatever the backend.
    """
    grounded, unsupported = ground_facts(result.facts, text, pages, budget=budget)
    grounded, inconsistent = reject_inconsistent(grounded)
    rules, _ = ground_facts(RulesBackend().extract(text, language), text, pages, budget=budget)
    record, injected = reject_instructions(cross_check(grounded, rules), text)
    return ExtractionOutput(
        facts=record,
        unsupported=[*unsupported, *inconsistent, *injected],
        backend=name,
        language=language,
        notices=[*notices, *result.notices],
    )
