"""Domain exceptions: each carries a message a clinician or an operator can act on."""

from __future__ import annotations

import traceback

__all__ = [
    "AccountLocked",
    "BudgetExceeded",
    "Cancelled",
    "IngestFailed",
    "InvalidCredentials",
    "MedspeakError",
    "NotFound",
    "PermissionDenied",
    "SessionInvalid",
    "StorageFull",
    "StoreUnavailable",
    "UploadRejected",
    "ValidationFailed",
    "safe_traceback",
]


class MedspeakError(Exception):
    """Base class; ``str(exc)`` is safe to show to the user (no PHI, no secrets)."""


class StoreUnavailable(MedspeakError):
    """The database cannot be opened or migrated."""


class StorageFull(MedspeakError):
    """The disk holding the documents or the database is full: nothing was saved."""


class InvalidCredentials(MedspeakError):
    """Wrong username or password (deliberately the same message for both)."""


class AccountLocked(MedspeakError):
    """Too many failed attempts; the account is locked for a while."""


class SessionInvalid(MedspeakError):
    """The session expired, was revoked by a logout, or never existed."""


class PermissionDenied(MedspeakError):
    """The user's role does not allow this action."""


class NotFound(MedspeakError):
    """The patient, document or user does not exist."""


class ValidationFailed(MedspeakError):
    """Input the service refuses, with the reason."""


class UploadRejected(MedspeakError):
    """An uploaded file is refused (size, type, corruption, encryption, too many pages...)."""


class IngestFailed(MedspeakError):
    """Text could not be obtained from a document or one of its pages."""


class Cancelled(MedspeakError):
    """The user cancelled the job; nothing of it is kept."""


class BudgetExceeded(MedspeakError):
    """Work on one document ran past its time budget; what was done before it is kept."""


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
