from datetime import timedelta

import pytest
from sqlalchemy import select

from medspeak.auth import service as auth
from medspeak.auth.roles import Actor
from medspeak.errors import InvalidCredentials, LoginThrottled, SessionInvalid
from medspeak.services import users
from medspeak.services.bootstrap import ensure_demo_users
from medspeak.store.db import Store
from medspeak.store.models import AuditEvent, AuthSession
from medspeak.store.types import utcnow
from tests.conftest import PASSWORD


def test_login_opens_a_session_that_resolves_to_the_user(store: Store, actors: dict[str, Actor]) -> None:
    result = auth.login(store, "Clinician ", PASSWORD)  # case and spaces of the username are forgiven
    actor, name = auth.resolve_session(store, result.token)
    assert actor == actors["clinician"] and name == "Test clinician"
    with store.transaction() as db:  # the token itself is never stored, only its hash
        assert db.scalar(select(AuthSession.id)) != result.token


def test_wrong_password_and_unknown_user_get_the_same_message(store: Store, actors: dict[str, Actor]) -> None:
    with pytest.raises(InvalidCredentials) as wrong_password:
        auth.login(store, "clinician", "not the password at all")
    with pytest.raises(InvalidCredentials) as unknown_user:
        auth.login(store, "nobody", PASSWORD)
    assert str(wrong_password.value) == str(unknown_user.value)


def test_five_failures_make_that_address_wait_even_for_the_right_password(
    store: Store, actors: dict[str, Actor]
) -> None:
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            auth.login(store, "clinician", "wrong password 123", source="203.0.113.66")
    with pytest.raises(LoginThrottled, match="Try again in 30 seconds"):
        auth.login(store, "clinician", PASSWORD, source="203.0.113.66")
    # other accounts, and this account from another address, are not affected
    auth.login(store, "admin", PASSWORD, source="203.0.113.66")
    auth.login(store, "clinician", PASSWORD, source="10.1.2.3")
    with store.transaction() as db:
        outcomes = db.scalars(
            select(AuditEvent.outcome).where(AuditEvent.action == "auth.login").order_by(AuditEvent.id)
        ).all()
    assert outcomes == ["failure"] * 5 + ["denied", "success", "success"]


def test_logout_revokes_the_session_server_side(store: Store, actors: dict[str, Actor]) -> None:
    token = auth.login(store, "clinician", PASSWORD).token
    auth.logout(store, token)
    with pytest.raises(SessionInvalid, match="ended"):
        auth.resolve_session(store, token)  # a copied cookie is useless after logout
    auth.logout(store, token)  # twice is harmless


def test_expired_session_asks_to_log_in_again(store: Store, actors: dict[str, Actor]) -> None:
    token = auth.login(store, "clinician", PASSWORD).token
    with store.transaction() as db:
        for session in db.scalars(select(AuthSession)):
            session.expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(SessionInvalid, match="expired"):
        auth.resolve_session(store, token)


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_missing_or_forged_tokens_are_refused(store: Store, token: str | None) -> None:
    with pytest.raises(SessionInvalid):
        auth.resolve_session(store, token)


def test_password_reset_and_disabling_end_open_sessions(store: Store, actors: dict[str, Actor]) -> None:
    admin, clinician = actors["admin"], actors["clinician"]
    token = auth.login(store, "clinician", PASSWORD).token
    new_password = users.reset_password(store, admin, clinician.user_id or 0)
    with pytest.raises(SessionInvalid):
        auth.resolve_session(store, token)
    token = auth.login(store, "clinician", new_password).token
    users.set_active(store, admin, clinician.user_id or 0, False)
    with pytest.raises(SessionInvalid):
        auth.resolve_session(store, token)
    with pytest.raises(InvalidCredentials):
        auth.login(store, "clinician", new_password)


def test_demo_users_are_created_once_with_a_private_credentials_file(store: Store) -> None:
    created = ensure_demo_users(store)
    assert sorted(c.role for c in created) == ["admin", "bed_manager", "clinician"]
    path = store.settings.credentials_file
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text()
    for cred in created:
        assert cred.password in text
        assert auth.login(store, cred.username, cred.password).actor.role == cred.role
    assert ensure_demo_users(store) == []  # a restart does not create or print them again
    assert len({c.password for c in created}) == 3
