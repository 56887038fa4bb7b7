"""API keys for service accounts (lab interfaces, bed boards): created and revoked by administrators.

A key is ``msk_`` + 43 random url-safe characters (256 bits). Only its SHA-256 is stored: with
that much entropy a fast hash is enough (no dictionary to attack), and each request can check it
cheaply. The key is shown once, at creation. A key acts as the account it belongs to: the same
role, the same permission checks, the same audit rows; revoking the key, disabling the account or
the key's expiry refuse it at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from medspeak.auth.roles import Actor, Permission
from medspeak.errors import NotFound, SessionInvalid, ValidationFailed
from medspeak.i18n import N_
from medspeak.services.audited import audited
from medspeak.services.read_models import ReadModel
from medspeak.store.db import Store
from medspeak.store.models import ApiKey, User
from medspeak.store.types import utcnow

__all__ = [
    "KEY_PREFIX",
    "ApiKeySummary",
    "add_key",
    "create_key",
    "hash_key",
    "list_keys",
    "looks_like_key",
    "resolve_key",
    "revoke_key",
]

KEY_PREFIX: Final = "msk_"
_RANDOM_BYTES: Final = 32  # 256 bits: guessing is hopeless, so SHA-256 (not bcrypt) is the right hash
_SHOWN_CHARS: Final = 12  # "msk_" + 8 characters: enough to tell keys apart in a list, useless to an attacker
_MAX_KEY_CHARS: Final = 128
_REFUSED = N_("The API key is not valid (unknown, revoked or expired). Ask an administrator for a new one.")


class ApiKeySummary(ReadModel):
    """A key as lists show it: never the key itself."""

    id: int
    username: str
    role: str
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > utcnow())


def hash_key(key: str) -> str:
    """The stored form of a key: SHA-256, hex."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def looks_like_key(credential: str | None) -> bool:
    """Whether a bearer credential is an API key rather than a JWT (JWTs never start with ``msk_``)."""
    return bool(credential) and str(credential).startswith(KEY_PREFIX)


def _summary(key: ApiKey) -> ApiKeySummary:
    return ApiKeySummary(
        id=key.id,
        username=key.user.username,
        role=key.user.role,
        name=key.name,
        prefix=key.prefix,
        created_at=key.created_at,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
    )


def add_key(
    db: Session, username: str, name: str, *, expires_days: int | None = None, created_by: int | None = None
) -> tuple[ApiKeySummary, str]:
    """Create a key for ``username`` without an actor (CLI); services call ``create_key``.

    Returns the summary and the key, which is never shown again.
    """
    user = db.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(N_("No user {value!r}: create the service account first."), value=username.strip().lower())
    if not user.is_active:
        raise ValidationFailed(
            N_("The account {username} is disabled; enable it before giving it a key."), username=user.username
        )
    name = name.strip()
    if not 1 <= len(name) <= 80:
        raise ValidationFailed(N_("Name the key (1-80 characters), e.g. 'lab interface'."))
    if expires_days is not None and not 1 <= expires_days <= 3650:
        raise ValidationFailed(N_("A key expires after 1 to 3650 days, or never."))
    key = KEY_PREFIX + secrets.token_urlsafe(_RANDOM_BYTES)
    now = utcnow()
    row = ApiKey(
        user_id=user.id,
        name=name,
        prefix=key[:_SHOWN_CHARS],
        key_hash=hash_key(key),
        created_by=created_by,
        created_at=now,
        expires_at=now + timedelta(days=expires_days) if expires_days else None,
    )
    db.add(row)
    db.flush()
    return _summary(row), key


def create_key(
    store: Store, actor: Actor, username: str, name: str, *, expires_days: int | None = None
) -> tuple[ApiKeySummary, str]:
    """An administrator creates a key for a (service) account; returns it once."""
    with audited(store, actor, "apikey.create", Permission.MANAGE_USERS) as call:
        summary, key = add_key(call.db, username, name, expires_days=expires_days, created_by=actor.user_id)
        call.detail = f"key {summary.id} ({summary.prefix}) for user {summary.username}"
        return summary, key


def _revoke(db: Session, key_id: int) -> ApiKeySummary:
    row = db.get(ApiKey, key_id)
    if row is None:
        raise NotFound(N_("No API key with id {key_id}."), key_id=key_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return _summary(row)


def revoke_key(store: Store, actor: Actor, key_id: int) -> ApiKeySummary:
    """Revoke a key at once (safe to repeat); requests with it get 401 from then on."""
    with audited(store, actor, "apikey.revoke", Permission.MANAGE_USERS) as call:
        summary = _revoke(call.db, key_id)
        call.detail = f"key {summary.id} ({summary.prefix}) of user {summary.username}"
        return summary


def list_keys(store: Store, actor: Actor, *, username: str | None = None) -> list[ApiKeySummary]:
    """Every key (or one account's), newest first; never the keys themselves."""
    with audited(store, actor, "apikey.list", Permission.MANAGE_USERS) as call:
        stmt = select(ApiKey).order_by(ApiKey.id.desc())
        if username:
            stmt = stmt.join(User, ApiKey.user_id == User.id).where(User.username == username.strip().lower())
        return [_summary(k) for k in call.db.scalars(stmt)]


def resolve_key(store: Store, key: str) -> Actor:
    """The actor a key acts for.

    Raises:
        SessionInvalid: unknown, revoked or expired key, or the account is disabled.
    """
    if not looks_like_key(key) or len(key) > _MAX_KEY_CHARS:
        raise SessionInvalid(_REFUSED)
    with store.transaction() as db:
        row = db.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
        if row is None or row.revoked_at is not None:
            raise SessionInvalid(_REFUSED)
        if row.expires_at is not None and row.expires_at <= utcnow():
            raise SessionInvalid(_REFUSED)
        if not row.user.is_active:
            raise SessionInvalid(N_("This account is disabled."))
        return Actor(row.user.id, row.user.username, row.user.role)
