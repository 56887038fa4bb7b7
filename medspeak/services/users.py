"""User administration (admins): accounts, roles, passwords, unlocking.

Changing a role, a password or disabling an account ends that user's sessions.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from medspeak.auth.passwords import generate_password, hash_password
from medspeak.auth.roles import Actor, Permission, Role
from medspeak.auth.service import clear_throttles, is_throttled, revoke_user_sessions
from medspeak.errors import NotFound, ValidationFailed
from medspeak.i18n import LANGUAGES, N_, normalise
from medspeak.services.audited import audited
from medspeak.services.read_models import ReadModel
from medspeak.store import audit
from medspeak.store.db import Store
from medspeak.store.models import User
from medspeak.store.types import utcnow

__all__ = [
    "UserSummary",
    "create_user",
    "language_of",
    "list_users",
    "reset_password",
    "set_active",
    "set_language",
    "set_role",
    "unlock",
]

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class UserSummary(ReadModel):
    """An account as the Admin page lists it: never its password hash."""

    id: int
    username: str
    display_name: str
    role: str
    is_active: bool
    locked: bool
    failed_attempts: int
    created_at: datetime


def _summary(db: Session, user: User) -> UserSummary:
    locked = is_throttled(db, user.username)  # some address must wait before trying this account again
    return UserSummary(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        is_active=user.is_active,
        locked=locked,
        failed_attempts=user.failed_attempts,
        created_at=user.created_at,
    )


def _user(db: Session, user_id: int | str) -> User:
    """The account of an id, or of a username."""
    if isinstance(user_id, str):
        user = db.scalar(select(User).where(User.username == user_id.strip().lower()))
        if user is None:
            raise NotFound(N_("No user {value!r}."), value=user_id.strip().lower())
        return user
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(N_("No user with id {user_id}."), user_id=user_id)
    return user


def add_user(db: Session, username: str, display_name: str, role: str, password: str, *, rounds: int) -> User:
    """Insert a user without an actor (first start, CLI); services call ``create_user``."""
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise ValidationFailed(N_("Usernames are 2-64 characters: lowercase letters, digits, '.', '_' or '-'."))
    if role not in {r.value for r in Role}:
        raise ValidationFailed(
            N_("Unknown role {role!r}; choose one of {value}."), role=role, value=", ".join(r.value for r in Role)
        )
    if db.scalar(select(User.id).where(User.username == username)) is not None:
        raise ValidationFailed(N_("The username {username} is taken."), username=username)
    user = User(
        username=username,
        display_name=display_name.strip()[:120] or username,
        role=role,
        password_hash=hash_password(password, rounds=rounds),
    )
    db.add(user)
    db.flush()
    return user


def list_users(store: Store, actor: Actor) -> list[UserSummary]:
    with audited(store, actor, "user.list", Permission.MANAGE_USERS) as call:
        return [_summary(call.db, u) for u in call.db.scalars(select(User).order_by(User.username))]


def create_user(
    store: Store, actor: Actor, username: str, display_name: str, role: str, password: str | None = None
) -> tuple[UserSummary, str]:
    """Create an account; returns it and its password (generated when not given, shown once)."""
    password = password or generate_password()
    with audited(store, actor, "user.create", Permission.MANAGE_USERS) as call:
        user = add_user(
            call.db, username, display_name or username, role, password, rounds=store.settings.bcrypt_rounds
        )
        call.detail = f"user {user.id} role {role}"
        return _summary(call.db, user), password


def set_role(store: Store, actor: Actor, user_id: int, role: str) -> UserSummary:
    if role not in {r.value for r in Role}:
        raise ValidationFailed(N_("Unknown role {role!r}."), role=role)
    with audited(store, actor, "user.set_role", Permission.MANAGE_USERS) as call:
        user = _user(call.db, user_id)
        if user.id == actor.user_id and role != Role.ADMIN:
            raise ValidationFailed(N_("You cannot remove your own administrator role."))
        user.role = role
        revoke_user_sessions(call.db, user.id)
        call.detail = f"user {user.id} role {role}"
        return _summary(call.db, user)


def set_active(store: Store, actor: Actor, user_id: int, active: bool) -> UserSummary:
    with audited(store, actor, "user.set_active", Permission.MANAGE_USERS) as call:
        user = _user(call.db, user_id)
        if user.id == actor.user_id and not active:
            raise ValidationFailed(N_("You cannot disable your own account."))
        user.is_active = active
        if not active:
            revoke_user_sessions(call.db, user.id)
        call.detail = f"user {user.id} active={active}"
        return _summary(call.db, user)


def reset_password(store: Store, actor: Actor, user_id: int, password: str | None = None) -> str:
    """Set a new password (generated when not given), end the user's sessions, return it once."""
    password = password or generate_password()
    with audited(store, actor, "user.reset_password", Permission.MANAGE_USERS) as call:
        user = _user(call.db, user_id)
        user.password_hash = hash_password(password, rounds=store.settings.bcrypt_rounds)
        user.password_changed_at = utcnow()
        user.failed_attempts, user.locked_until = 0, None
        clear_throttles(call.db, user.username)
        revoke_user_sessions(call.db, user.id)
        call.detail = f"user {user.id}"
        return password


def unlock(store: Store, actor: Actor, user_id: int | str) -> UserSummary:
    """Clear failed attempts and a lockout; ``user_id`` may be the username (the CLI's way to name one)."""
    with audited(store, actor, "user.unlock", Permission.MANAGE_USERS) as call:
        user = _user(call.db, user_id)
        user.failed_attempts, user.locked_until = 0, None
        clear_throttles(call.db, user.username)
        call.detail = f"user {user.id}"
        return _summary(call.db, user)


def language_of(store: Store, actor: Actor) -> str:
    """The interface language ``actor`` chose (``en`` until they choose); every user may read their own."""
    with store.read() as db:
        user = db.get(User, actor.user_id) if actor.user_id is not None else None
        return normalise(user.language if user is not None else None)


def set_language(store: Store, actor: Actor, language: str) -> str:
    """Keep ``language`` as ``actor``'s interface language (their own preference only); audited.

    Raises:
        ValidationFailed: a language the interface does not speak.
    """
    if language not in LANGUAGES:
        raise ValidationFailed(
            N_("Unknown language {language!r}: choose one of {value}."), language=language, value=", ".join(LANGUAGES)
        )
    with store.transaction() as db:
        user = db.get(User, actor.user_id) if actor.user_id is not None else None
        if user is None:
            raise NotFound(N_("No such account."))
        user.language = language
        audit.record(
            db, username=actor.username, role=actor.role, action="user.language", outcome="success", detail=language
        )
    return language
