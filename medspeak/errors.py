"""Domain exceptions: each carries a message a clinician or an operator can act on.

Every domain exception of the project lives here, with the HTTP status and error code the API
answers it with (``http_status``, ``code``): the API reads them, it keeps no table of its own. An
exception that is not a :class:`MedspeakError` is a fault of ours, never the client's: 500.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from medspeak.i18n import N_, Said, listed, translated

__all__ = [
    "BudgetExceeded",
    "Cancelled",
    "ExportFailed",
    "ExtractionFailed",
    "ImplausibleInputs",
    "IncompleteInputs",
    "IngestFailed",
    "InputIssue",
    "InvalidCredentials",
    "LLMUnavailable",
    "LoginThrottled",
    "MedspeakError",
    "ModelUnavailable",
    "NotFound",
    "PermissionDenied",
    "ScrubTracebacks",
    "SessionInvalid",
    "StorageFull",
    "StoreUnavailable",
    "UploadRejected",
    "ValidationFailed",
    "http_statuses",
    "safe_traceback",
]


class MedspeakError(Exception):
    """Base class; ``str(exc)`` is safe to show to the user (no PHI, no secrets).

    ``http_status`` and ``code`` say how the API answers it; a subclass that sets neither is a 500.

    The message is an English template marked ``N_("...")`` with its values apart: ``raise
    NotFound(N_("No document {document_id}."), document_id=7)``, kept as a :class:`~medspeak.i18n.Said`.
    ``str(exc)`` is the English sentence (the API, the logs and the CLI speak English); a page shows
    :meth:`translated` in the reader's language from the same catalogue as its own labels
    (``components.i18n.error_text``).
    """

    http_status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str = "", /, **params: object) -> None:
        super().__init__(Said(message, **params) if params else message)

    def translated(self, gettext: Callable[[str], str]) -> str:
        """The message in another language, by ``gettext``: the template, and each value that is itself a message."""
        message = self.args[0] if self.args else ""
        return translated(gettext, message) if isinstance(message, str) and message else str(self)


class StoreUnavailable(MedspeakError):
    """The database cannot be opened or migrated."""

    http_status, code = 503, "store_unavailable"


class StorageFull(MedspeakError):
    """The disk holding the documents or the database is full: nothing was saved."""

    http_status, code = 503, "storage_full"


class InvalidCredentials(MedspeakError):
    """Wrong username or password (deliberately the same message for both)."""

    http_status, code = 401, "invalid_credentials"


class LoginThrottled(MedspeakError):
    """Too many failed logins for this username from this address: wait ``retry_after`` seconds.

    The same for an existing account and an unknown one, so that it tells a guesser nothing.
    """

    http_status, code = 429, "too_many_attempts"

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        if retry_after < 120:
            message = N_(
                "Too many failed attempts for this username from this computer. Try again in {seconds} seconds, "
                "or ask an administrator to unlock the account."
            )
            super().__init__(message, seconds=retry_after)
        else:
            message = N_(
                "Too many failed attempts for this username from this computer. Try again in {minutes} minutes, "
                "or ask an administrator to unlock the account."
            )
            super().__init__(message, minutes=-(-retry_after // 60))


class SessionInvalid(MedspeakError):
    """The session expired, was revoked by a logout, or never existed."""

    http_status, code = 401, "not_authenticated"


class PermissionDenied(MedspeakError):
    """The user's role does not allow this action."""

    http_status, code = 403, "permission_denied"


class NotFound(MedspeakError):
    """The patient, document or user does not exist."""

    http_status, code = 404, "not_found"


class ValidationFailed(MedspeakError):
    """Input the service refuses, with the reason."""

    http_status, code = 422, "validation_failed"


@dataclass(frozen=True, slots=True)
class InputIssue:
    """One implausible triage value; ``converted`` is set when a conversion is offered instead of a refusal.

    ``message`` is the English sentence, a :class:`~medspeak.i18n.Said` that a page can show translated.
    """

    field: str
    value: float
    message: str
    converted: float | None = None
    conversion: str | None = None  # e.g. "°F → °C"

    @classmethod
    def of(
        cls,
        field: str,
        value: float,
        template: str,
        converted: float | None = None,
        conversion: str | None = None,
        /,
        **params: object,
    ) -> InputIssue:
        """An issue whose message is ``template`` (marked ``N_``) filled with ``params``."""
        return cls(field, value, Said(template, **params), converted, conversion)


class ImplausibleInputs(ValidationFailed):
    """Some triage inputs are out of range; the issues say which, and which can be converted."""

    def __init__(self, issues: list[InputIssue]) -> None:
        self.issues = issues
        super().__init__(" ".join(issue.message for issue in issues))

    def translated(self, gettext: Callable[[str], str]) -> str:
        return " ".join(translated(gettext, issue.message) for issue in self.issues)


class IncompleteInputs(ValidationFailed):
    """Too little was recorded for a level: ``needed`` says what to record (in words a nurse reads)."""

    def __init__(self, needed: list[str]) -> None:
        self.needed = needed
        super().__init__(N_("Not enough recorded to propose a level. Please record {needed}."), needed=listed(needed))

    def items(self, gettext: Callable[[str], str]) -> list[str]:
        """``needed`` in another language, by ``gettext``."""
        return [translated(gettext, item) for item in self.needed]


class UploadRejected(MedspeakError):
    """An uploaded file is refused (size, type, corruption, encryption, too many pages...)."""

    http_status, code = 422, "upload_rejected"


class IngestFailed(MedspeakError):
    """Text could not be obtained from a document or one of its pages."""

    http_status, code = 422, "ingest_failed"


class Cancelled(MedspeakError):
    """The user cancelled the job; nothing of it is kept."""

    http_status, code = 409, "cancelled"


class BudgetExceeded(MedspeakError):
    """Work on one document ran past its time budget; what was done before it is kept."""

    http_status, code = 422, "budget_exceeded"


class ModelUnavailable(MedspeakError):
    """A model (triage or length of stay) is missing or its files do not match their manifest."""

    http_status, code = 503, "model_unavailable"


class ExtractionFailed(MedspeakError):
    """Extraction could not run as asked (unknown or unavailable backend, unsupported language)."""

    http_status, code = 503, "extraction_unavailable"


class LLMUnavailable(MedspeakError):
    """The language model cannot answer now (no model, server down or too slow); the rules take over."""

    http_status, code = 503, "llm_unavailable"


class ExportFailed(MedspeakError):
    """The record could not be written as valid FHIR (a bug or corrupt data: nothing is exported).

    A 500: the request was fine, the export is what failed.
    """

    code = "export_failed"


def _subclasses(cls: type[MedspeakError]) -> list[type[MedspeakError]]:
    found: list[type[MedspeakError]] = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def http_statuses() -> dict[str, tuple[int, str]]:
    """The table the API answers by: exception name → (HTTP status, error code), for docs and tests."""
    classes: list[type[MedspeakError]] = [MedspeakError, *_subclasses(MedspeakError)]
    return {cls.__name__: (cls.http_status, cls.code) for cls in classes}


def safe_traceback(exc: BaseException) -> str:
    """Where an exception came from (types, files, lines, functions), without its messages.

    Messages may quote patient data (a value that failed to parse, a driver's SQL with its bound
    parameters), so the log keeps the shape of the failure and leaves out what it was about.
    """
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = traceback.extract_tb(current.__traceback__)
        parts.append(f"{type(current).__module__}.{type(current).__qualname__} (message omitted)")
        parts += [f"  at {f.filename}:{f.lineno} in {f.name}" for f in frames]
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


class ScrubTracebacks(logging.Filter):
    """A log filter: an exception attached to a record is logged as :func:`safe_traceback`, not in full.

    For the loggers the project does not write itself (uvicorn's, Streamlit's), which log a traceback
    with the exception's message: a driver's SQL with bound values, a value that failed to parse.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{record.getMessage()}\n{safe_traceback(record.exc_info[1])}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True
