"""Password hashing (bcrypt) and the password policy.

Policy follows NIST SP 800-63B: a minimum length, no composition rules. bcrypt
reads at most 72 bytes, so longer passwords are refused rather than silently cut.
"""

from __future__ import annotations

import secrets

import bcrypt

from medspeak.errors import ValidationFailed
from medspeak.i18n import N_

__all__ = ["MIN_PASSWORD_CHARS", "check_policy", "generate_password", "hash_password", "verify_password"]

MIN_PASSWORD_CHARS = 12
_MAX_PASSWORD_BYTES = 72  # bcrypt's limit
_dummy_hashes: dict[int, bytes] = {}


def _dummy_hash(rounds: int) -> bytes:
    """A hash of a random password, checked when the username is unknown so both paths cost the same."""
    if rounds not in _dummy_hashes:
        _dummy_hashes[rounds] = bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds))
    return _dummy_hashes[rounds]


def check_policy(password: str) -> None:
    """Raise ``ValidationFailed`` with the reason when a new password is not acceptable."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValidationFailed(
            N_("The password must have at least {MIN_PASSWORD_CHARS} characters."),
            MIN_PASSWORD_CHARS=MIN_PASSWORD_CHARS,
        )
    if len(password.encode("utf-8")) > _MAX_PASSWORD_BYTES:
        raise ValidationFailed(
            N_("The password must fit in {MAX_PASSWORD_BYTES} bytes (UTF-8)."), MAX_PASSWORD_BYTES=_MAX_PASSWORD_BYTES
        )


def hash_password(password: str, *, rounds: int) -> str:
    """The bcrypt hash of an accepted password; ``rounds`` is the install's cost (``Settings.bcrypt_rounds``)."""
    check_policy(password)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, password_hash: str | None, *, rounds: int) -> bool:
    """Constant-cost check; an unknown user (``None`` hash) still costs one bcrypt check at ``rounds``."""
    candidate = password.encode("utf-8")[:_MAX_PASSWORD_BYTES]
    if password_hash is None:
        bcrypt.checkpw(candidate, _dummy_hash(rounds))
        return False
    try:
        return bcrypt.checkpw(candidate, password_hash.encode("ascii"))
    except ValueError:  # a malformed stored hash never logs anyone in
        return False


def generate_password() -> str:
    """A random password for demo and reset accounts (~120 bits)."""
    return secrets.token_urlsafe(15)
