"""What the services return: frozen pydantic read models, one definition for the pages and the API.

A service builds a :class:`ReadModel`; a page renders it and the API answers it as it is (FastAPI takes
its fields, descriptions and JSON schema from the class), so the two never describe the same answer
twice. Fields that hold a domain object (a triage :class:`~medspeak.triage.levels.Level`, an
:class:`~medspeak.triage.explain.Explanation`) keep the object itself: pydantic keeps a dataclass
instance as it is and serialises it field by field.

English sentences that a page shows translated are :class:`~medspeak.i18n.Said`: a plain ``str`` field
would copy them into bare strings and lose their template, so such fields are typed :data:`Sentence`.
"""

from __future__ import annotations

from typing import Annotated, Generic, TypeAlias, TypeVar

from pydantic import BaseModel, ConfigDict, PlainValidator

__all__ = ["Page", "ReadModel", "Sentence"]


class ReadModel(BaseModel):
    """A service's answer: immutable, built from keyword arguments (or a row, ``model_validate(row)``)."""

    model_config = ConfigDict(frozen=True, from_attributes=True)


def _text_as_is(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("text expected")  # noqa: TRY004 - pydantic turns ValueError into a validation error
    return value  # a Said stays a Said (pydantic's own str validator returns a bare copy)


Sentence: TypeAlias = Annotated[str, PlainValidator(_text_as_is, json_schema_input_type=str)]


Item = TypeVar("Item")


class Page(ReadModel, Generic[Item]):
    """One page of a longer list: ``has_more`` says whether asking from ``offset + limit`` finds more."""

    items: list[Item]
    limit: int
    offset: int
    has_more: bool
