"""What a service returns is a frozen pydantic read model (issue 16): one definition that a page renders and
the API answers as it is, never a dataclass the API copies field by field into its own class."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import typing
from datetime import UTC, datetime

import pydantic
import pytest

import medspeak.services
from medspeak.i18n import N_, Said
from medspeak.services.context import AppContext
from medspeak.services.read_models import ReadModel, Sentence
from medspeak.services.triage import CriticalAlert

# Returned by a service, not a read model, each for a stated reason.
_NOT_READ_MODELS = {
    "medspeak.services.archive.ArchiveReport": "a tally counted up while an archive run goes (mutable)",
    "medspeak.services.audited.AuditedCall": "the audit row a service fills in while it works (mutable plumbing)",
    "medspeak.services.triage.TriageEngine": "the loaded model and its explainer (a resource, not an answer)",
}


def _classes(annotation: object) -> list[type]:
    if isinstance(annotation, type):
        return [annotation]
    return [c for arg in typing.get_args(annotation) for c in _classes(arg)]


def _service_returns() -> list[tuple[str, type]]:
    found = []
    for info in pkgutil.iter_modules(medspeak.services.__path__):
        module = importlib.import_module(f"medspeak.services.{info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or function.__module__ != module.__name__:
                continue
            hints = typing.get_type_hints(function, localns={"AppContext": AppContext})  # imported for type checks only
            found += [(f"{module.__name__}.{name}", c) for c in _classes(hints.get("return"))]
    return found


def test_every_class_a_service_returns_is_a_read_model() -> None:
    returned = [(where, c) for where, c in _service_returns() if c.__module__.startswith("medspeak.services")]
    assert len({c for _, c in returned}) >= 25  # the walk sees the services (it would pass vacuously otherwise)
    for where, cls in returned:
        name = f"{cls.__module__}.{cls.__qualname__}"
        if name in _NOT_READ_MODELS or not (dataclasses.is_dataclass(cls) or issubclass(cls, pydantic.BaseModel)):
            continue
        assert issubclass(cls, ReadModel), f"{where} returns {name}: make it a ReadModel"


def test_a_read_model_is_frozen_and_keeps_a_sentence_translatable() -> None:
    said = Said(N_("Level {level}"), level=2)
    alert = CriticalAlert(raised=True, probability=0.4, threshold=0.2, reasons=[said])
    assert alert.reasons[0] is said  # pydantic's own str would have copied it into a bare str
    with pytest.raises(pydantic.ValidationError):
        alert.raised = False  # type: ignore[misc]
    assert alert.model_dump(mode="json")["reasons"] == ["Level 2"]

    class Plain(ReadModel):
        words: str
        sentence: Sentence
        at: datetime

    plain = Plain(words=said, sentence=said, at=datetime(2026, 12, 5, tzinfo=UTC))
    assert type(plain.words) is str and type(plain.sentence) is Said  # why the Sentence type exists
    with pytest.raises(pydantic.ValidationError):
        Plain(words="x", sentence=3, at=plain.at)  # type: ignore[arg-type]
