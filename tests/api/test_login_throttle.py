"""Issue 19, low finding, through the API: a guesser from one address delays only that address, and
gets the same answer whether the account exists or not (before: 423 vs 401, and ``admin`` kept out)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from medspeak.api import create_app
from medspeak.auth.roles import Actor
from medspeak.store.db import Store
from tests.conftest import PASSWORD
from tests.support.api import count_events


def _clients(store: Store) -> tuple[TestClient, TestClient]:
    app = create_app(store.settings.model_copy(update={"token_rate_per_minute": 1000}))
    return TestClient(app, client=("203.0.113.66", 1)), TestClient(app, client=("10.1.2.3", 1))


def test_guesses_from_one_address_leave_the_account_open_from_another(store: Store, actors: dict[str, Actor]) -> None:
    attacker, ward = _clients(store)
    with attacker, ward:
        for _ in range(6):
            attacker.post("/token", data={"username": "admin", "password": "a wrong guess 123"})
        r = ward.post("/token", data={"username": "admin", "password": PASSWORD})
        assert r.status_code == 200, r.text
        slowed = attacker.post("/token", data={"username": "admin", "password": PASSWORD})
        assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) >= 1
    assert count_events(store, username="admin", action="auth.login", outcome="denied") >= 1


def test_a_slowed_known_account_and_an_unknown_one_get_the_same_answer(store: Store, actors: dict[str, Actor]) -> None:
    attacker, _ = _clients(store)
    with attacker:
        for name in ("clinician", "nobody-here"):
            for _ in range(5):
                r = attacker.post("/token", data={"username": name, "password": "a wrong guess 123"})
                assert r.status_code == 401
        known = attacker.post("/token", data={"username": "clinician", "password": PASSWORD})
        unknown = attacker.post("/token", data={"username": "nobody-here", "password": PASSWORD})
    assert known.status_code == unknown.status_code == 429
    assert known.json() == unknown.json()
    assert known.headers["Retry-After"] == unknown.headers["Retry-After"]
