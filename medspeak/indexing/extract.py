"""``extract_facts``: run the chosen backend, then ground every fact; unsupported facts are kept apart.

Backends share one interface (``Backend``) and are chosen by ``MEDSPEAK_LLM_BACKEND``
(``auto|transformers|openai|rules``). ``auto`` takes the local model when its folder and CUDA are
there, else the server when ``MEDSPEAK_LLM_URL`` is set and answers, else the rules, with a notice.
A language model's facts go through the hybrid checks (``medspeak.indexing.llm.hybrid``); when the
model cannot answer at extraction time (server down or too slow), the rules take over and the output
says so in ``notices``: an ingest job never fails because a model server is away.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
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

__all__ = ["Backend", "ExtractionFailed", "ExtractionOutput", "extract_facts", "get_backend", "reset_backends"]

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


_backends: dict[tuple[str, ...], LocalLLMBackend | ServerBackend] = {}
_backends_lock = threading.Lock()


def _new_local(model: str) -> LocalLLMBackend:
    return LocalLLMBackend(model)


def _local(settings: Settings) -> LocalLLMBackend:
    """The process's local model backend (the model is loaded once, on first use)."""
    key = ("transformers", settings.llm_model)
    with _backends_lock:
        backend = _backends.get(key)
        if backend is None:
            backend = _backends[key] = _new_local(settings.llm_model)
    assert isinstance(backend, LocalLLMBackend)  # noqa: S101 - the key fixes the type
    return backend


def _server(settings: Settings) -> ServerBackend:
    url = settings.llm_url or ""
    key = ("openai", url, str(settings.llm_timeout_s), str(settings.llm_concurrency))
    with _backends_lock:
        backend = _backends.get(key)
        if backend is None:
            backend = _backends[key] = ServerBackend(
                url, timeout_s=settings.llm_timeout_s, concurrency=settings.llm_concurrency
            )
    assert isinstance(backend, ServerBackend)  # noqa: S101 - the key fixes the type
    return backend


def reset_backends() -> None:
    """Forget the cached model and server backends (tests; a changed configuration)."""
    with _backends_lock:
        for backend in _backends.values():
            if isinstance(backend, ServerBackend):
                backend.close()
        _backends.clear()


def _cuda_available() -> bool:
    if not llm_packages_installed(("torch",)):  # the optional LLM group is not installed: no local model
        return False
    import torch

    return bool(torch.cuda.is_available())


_LLM_KEYS = ("LLM_BACKEND", "LLM_MODEL", "LLM_URL", "LLM_TIMEOUT_S", "LLM_CONCURRENCY")


@lru_cache(maxsize=8)
def _llm_settings(*environment: str | None) -> Settings:
    """Settings as the ``MEDSPEAK_LLM_*`` variables now stand: a changed variable is seen at the next
    document, without the ~4 ms of reading every source again for each one."""
    return Settings()


def get_backend(name: str | None = None) -> tuple[Backend, list[str]]:
    """The backend named (else ``MEDSPEAK_LLM_BACKEND``, default ``auto``) and notices for the user.

    Raises:
        ExtractionFailed: an unknown name, or a language-model backend asked for by name that is not
            configured (no model folder, no server URL), with the reason.
    """
    if name == "rules":
        return RulesBackend(), []
    try:
        settings = _llm_settings(*(os.environ.get(f"MEDSPEAK_{key}") for key in _LLM_KEYS))
    except ValidationError as exc:
        raise ExtractionFailed(
            N_("The language-model settings are invalid: {value}."), value=exc.errors()[0]["msg"]
        ) from exc
    name = (name or settings.llm_backend or "auto").lower()
    if name not in BACKENDS:
        raise ExtractionFailed(
            N_("Unknown extraction backend {name!r}; choose one of {value}."), name=name, value=", ".join(BACKENDS)
        )
    if name == "rules":
        return RulesBackend(), []
    if name == "transformers":
        local = _local(settings)
        reason = local.unavailable_reason()
        if reason:
            raise ExtractionFailed(N_("The transformers extraction backend is unavailable: {reason}."), reason=reason)
        return local, []
    if name == "openai":
        if not settings.llm_url:
            raise ExtractionFailed(N_("The openai extraction backend is unavailable: MEDSPEAK_LLM_URL is not set."))
        return _server(settings), []
    notices = []
    if resolve_model(settings.llm_model) is not None:
        if not llm_packages_installed():
            notices.append("The local language model needs the optional LLM packages (make install-llm).")
        elif not _cuda_available():  # a 7B model on CPU takes minutes a document: not an automatic choice
            notices.append("The local language model needs a CUDA device; none was found.")
        elif (reason := _local(settings).unavailable_reason()) is None:
            return _local(settings), []
        else:
            notices.append(f"The local language model cannot be used ({reason}).")
    if settings.llm_url:
        server = _server(settings)
        reason = server.unavailable_reason()
        if reason is None:
            return server, []
        notices.append(f"The language-model server cannot be used ({reason}): facts come from the rules.")
    return RulesBackend(), notices if settings.llm_url else [*notices, NO_MODEL_NOTICE]


def extract_facts(
    text: str,
    *,
    language: str = "auto",
    pages: list[PageText] | None = None,
    backend: str | None = None,
    budget: WorkBudget | None = None,
) -> ExtractionOutput:
    """Facts of a document's ``text``, each grounded to its words (page and box from ``pages``).

    Args:
        text: the document text as stored (pages joined), which evidence offsets refer to.
        language: ``en``, ``fr`` or ``auto`` (detected from function words).
        pages: the ingested pages with word boxes, to give each fact its page and box.
        backend: overrides ``MEDSPEAK_LLM_BACKEND``.
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
    chosen, notices = get_backend(backend)
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
