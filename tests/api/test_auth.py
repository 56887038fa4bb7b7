"""Token flow: the same accounts, login delays and revocation as the app."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import jwt
import pytest
from fastapi.testclient import TestClient

from medspeak.api import tokens
from medspeak.auth.roles import Actor
from medspeak.services import users
from medspeak.store.db import Store
from medspeak.store.types import utcnow
from tests.conftest import PASSWORD
from tests.support.api import count_events


def _token(client: TestClient, username: str, password: str = PASSWORD) -> str:
    r = client.post("/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and 0 < body["expires_in"] <= tokens.ACCESS_TOKEN_MINUTES * 60
    return str(body["access_token"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_token_opens_the_api_for_the_users_role(client: TestClient, actors: dict[str, Actor]) -> None:
    token = _token(client, "bedmanager")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "bedmanager" and claims["ref"] and "password" not in str(claims)
    assert client.get("/patients", headers=_bearer(token)).status_code == 200
    assert client.get("/audit", headers=_bearer(token)).status_code == 403


def test_wrong_password_and_unknown_user_get_the_same_401(client: TestClient, actors: dict[str, Actor]) -> None:
    wrong = client.post("/token", data={"username": "clinician", "password": "not the password at all"})
    unknown = client.post("/token", data={"username": "nobody", "password": "not the password at all"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "invalid_credentials"


def test_five_failures_make_this_client_wait_with_a_clear_message(
    client: TestClient, store: Store, actors: dict[str, Actor]
) -> None:
    for _ in range(5):
        r = client.post("/token", data={"username": "clinician", "password": "guessing-password-1"})
        assert r.status_code == 401
    slowed = client.post("/token", data={"username": "clinician", "password": PASSWORD})
    assert slowed.status_code == 429 and slowed.headers["Retry-After"] == "30"
    error = slowed.json()["error"]
    assert error["code"] == "too_many_attempts" and "Try again in 30 seconds" in error["message"]
    assert count_events(store, username="clinician", action="auth.login", outcome="denied") == 1


def test_logout_revokes_the_token(client: TestClient, actors: dict[str, Actor]) -> None:
    token = _token(client, "clinician")
    assert client.get("/patients", headers=_bearer(token)).status_code == 200
    assert client.post("/logout", headers=_bearer(token)).status_code == 204
    after = client.get("/patients", headers=_bearer(token))
    assert after.status_code == 401 and after.json()["error"]["code"] == "not_authenticated"
    assert client.post("/logout", headers=_bearer(token)).status_code == 401


def test_password_reset_and_disabling_revoke_tokens(client: TestClient, store: Store, actors: dict[str, Actor]) -> None:
    token = _token(client, "clinician")
    users.reset_password(store, actors["admin"], actors["clinician"].user_id or 0, "a brand new passphrase")
    assert client.get("/patients", headers=_bearer(token)).status_code == 401
    token = _token(client, "bedmanager")
    users.set_active(store, actors["admin"], actors["bed_manager"].user_id or 0, False)
    r = client.get("/patients", headers=_bearer(token))
    assert r.status_code == 401 and r.json()["error"]["code"] == "not_authenticated"


def _claims(client: TestClient) -> dict[str, object]:
    token = _token(client, "clinician")
    return dict(jwt.decode(token, options={"verify_signature": False}))


Forge = Callable[[dict[str, object], bytes], str]
_OTHER_KEY = b"another install's key 0123456789"


@pytest.mark.parametrize(
    ("forge", "expected"),
    [
        pytest.param(lambda c, key: jwt.encode(c, key, algorithm="HS256"), 200, id="control-resigned"),
        pytest.param(lambda c, key: jwt.encode(c, _OTHER_KEY, algorithm="HS256"), 401, id="other-key"),
        pytest.param(lambda c, key: jwt.encode(c, "", algorithm="none"), 401, id="alg-none"),
        pytest.param(lambda c, key: jwt.encode({**c, "exp": utcnow() - timedelta(seconds=1)}, key), 401, id="expired"),
        pytest.param(lambda c, key: jwt.encode({**c, "aud": "medspeak-app"}, key), 401, id="audience"),
        pytest.param(lambda c, key: jwt.encode({**c, "ref": "made-up-session"}, key), 401, id="unknown-session"),
        pytest.param(lambda c, key: jwt.encode({k: v for k, v in c.items() if k != "exp"}, key), 401, id="no-exp"),
        pytest.param(lambda c, key: "not.a.jwt", 401, id="garbage"),
    ],
)
def test_forged_or_expired_tokens_get_401(
    client: TestClient, store: Store, actors: dict[str, Actor], forge: Forge, expected: int
) -> None:
    claims = _claims(client)
    r = client.get("/patients", headers=_bearer(forge(claims, tokens.signing_key(store.settings))))
    assert r.status_code == expected, r.text
    if expected == 401:
        assert r.json()["error"]["code"] == "not_authenticated"


def test_the_app_cookie_key_alone_does_not_sign_api_tokens(client: TestClient, store: Store) -> None:
    claims = {"sub": "admin", "ref": "x", "aud": tokens.AUDIENCE, "iat": utcnow(), "exp": utcnow() + timedelta(1)}
    raw_key = store.settings.cookie_key.get_secret_value()
    r = client.get("/audit", headers=_bearer(jwt.encode(claims, raw_key, algorithm="HS256")))
    assert r.status_code == 401
