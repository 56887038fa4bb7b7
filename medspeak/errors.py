"""Domain exceptions: each carries a message a clinician or an operator can act on."""

from __future__ import annotations

__all__ = [
    "AccountLocked",
    "IngestFailed",
    "InvalidCredentials",
    "MedspeakError",
    "NotFound",
    "PermissionDenied",
    "SessionInvalid",
    "StoreUnavailable",
    "UploadRejected",
    "ValidationFailed",
]


class MedspeakError(Exception):
    """Base class; ``str(exc)`` is safe to show to the user (no PHI, no secrets)."""


class StoreUnavailable(MedspeakError):
    """The database cannot be opened or migrated."""


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
