"""Short-lived JWTs that carry an opaque reference to a server-side session (``medspeak.auth.service``).

The reference is the session's id in the store (SHA-256 of the session token), never the token itself.
The JWT only proves, for a few minutes, which session it was issued for; every request still
resolves that session in the store, so logout, a password reset, a role change or disabling the
account refuse the token at once. The signing key is derived from the install's ``cookie_key``
(HMAC with a purpose label) so that a token of the app's cookie can never pass as an API token,
nor the reverse.

References: RFC 7519 (JWT), RFC 6750 (bearer tokens), PyJWT.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

import jwt

from medspeak.config import Settings
from medspeak.errors import SessionInvalid
from medspeak.store.types import utcnow

__all__ = ["ACCESS_TOKEN_MINUTES", "AUDIENCE", "ALGORITHM", "issue", "session_ref", "signing_key"]

ACCESS_TOKEN_MINUTES = 15  # short: a leaked token is useful for minutes; the session behind it is revocable
ALGORITHM = "HS256"
AUDIENCE = "medspeak-api"
_PURPOSE = b"medspeak api access token v2"  # v2: the claim ``ref`` (v1 carried the session token)


def signing_key(settings: Settings) -> bytes:
    """The HS256 key: HMAC-SHA256 of a purpose label under the install's cookie key."""
    return hmac.new(settings.cookie_key.get_secret_value().encode("utf-8"), _PURPOSE, hashlib.sha256).digest()


def issue(settings: Settings, *, username: str, session_ref: str, session_expires: datetime) -> tuple[str, int]:
    """A signed access token for the session named by ``session_ref``; returns it and its lifetime in seconds.

    The token never outlives its session.
    """
    now = utcnow()
    expires = min(now + timedelta(minutes=ACCESS_TOKEN_MINUTES), session_expires)
    claims = {"sub": username, "ref": session_ref, "aud": AUDIENCE, "iat": now, "exp": expires}
    return jwt.encode(claims, signing_key(settings), algorithm=ALGORITHM), max(0, int((expires - now).total_seconds()))


def session_ref(settings: Settings, token: str | None) -> str:
    """The session reference inside a valid access token.

    Raises:
        SessionInvalid: no token, a bad signature or algorithm, expired, or missing claims.
    """
    if not token:
        raise SessionInvalid("Please log in: send an access token from POST /token as 'Authorization: Bearer ...'.")
    try:
        claims = jwt.decode(
            token,
            signing_key(settings),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["exp", "iat", "sub", "ref", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise SessionInvalid("Your access token expired. Please log in again.") from exc
    except jwt.InvalidTokenError as exc:
        raise SessionInvalid("The access token is not valid. Please log in again.") from exc
    ref = claims.get("ref")
    if not isinstance(ref, str) or not ref:
        raise SessionInvalid("The access token is not valid. Please log in again.")
    return ref
