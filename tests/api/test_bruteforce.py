"""Brute force: rate limits per client (429 + Retry-After), and no timing oracle for usernames."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from medspeak.api import create_app
from medspeak.api.limits import SlidingWindow
from medspeak.auth import passwords
from medspeak.auth import service as auth
from medspeak.auth.roles import Actor
from medspeak.errors import InvalidCredentials
from medspeak.services.users import add_user
from medspeak.store.db import Store
from tests.conftest import PASSWORD


def _client(store: Store, address: str = "203.0.113.7", **limits: int) -> TestClient:
    app = create_app(store.settings.model_copy(update=limits))
    return TestClient(app, client=(address, 50000))


@pytest.fixture
def limited(store: Store, actors: dict[str, Actor]) -> Iterator[TestClient]:
    with _client(store, token_rate_per_minute=3, api_rate_per_minute=1000) as client:
        yield client


def _guess(client: TestClient, username: str) -> int:
    return client.post("/token", data={"username": username, "password": "a wrong guess 123"}).status_code


def test_token_attempts_beyond_the_limit_get_429_with_retry_after(limited: TestClient) -> None:
    assert [_guess(limited, f"user{i}") for i in range(3)] == [401, 401, 401]
    r = limited.post("/token", data={"username": "clinician", "password": PASSWORD})
    assert r.status_code == 429, "the right password must not slip past the limit either"
    assert r.json()["error"]["code"] == "rate_limited"
    retry = int(r.headers["retry-after"])
    # The sliding-window estimate can ask for up to two windows after a burst (the test of the window
    # below checks that the wait is right for it); never less than a second, never unbounded.
    assert 1 <= retry <= 120 and f"{retry} s" in r.json()["error"]["message"]


def test_the_token_limit_is_per_client_address(store: Store, actors: dict[str, Actor]) -> None:
    app = create_app(store.settings.model_copy(update={"token_rate_per_minute": 2}))
    with TestClient(app, client=("198.51.100.1", 1)) as first, TestClient(app, client=("198.51.100.2", 1)) as second:
        assert [_guess(first, "a1"), _guess(first, "a2"), _guess(first, "a3")] == [401, 401, 429]
        assert second.post("/token", data={"username": "clinician", "password": PASSWORD}).status_code == 200


def test_api_requests_are_limited_per_credential_and_healthz_never(store: Store, actors: dict[str, Actor]) -> None:
    with _client(store, token_rate_per_minute=100, api_rate_per_minute=4) as client:
        tokens = {}
        for user in ("clinician", "bedmanager"):
            r = client.post("/token", data={"username": user, "password": PASSWORD})
            assert r.status_code == 200, r.text
            tokens[user] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        statuses = [client.get("/patients", headers=tokens["clinician"]).status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 200, 429]
        assert client.get("/patients", headers=tokens["bedmanager"]).status_code == 200  # its own budget
        assert all(client.get("/healthz").status_code == 200 for _ in range(10))


def test_a_zero_limit_turns_limiting_off(store: Store, actors: dict[str, Actor]) -> None:
    with _client(store, token_rate_per_minute=0, api_rate_per_minute=0) as client:
        assert {_guess(client, f"user{i}") for i in range(30)} == {401}


def test_the_sliding_window_forgets_gradually_and_says_how_long_to_wait() -> None:
    window = SlidingWindow(limit=10, window_s=60)
    assert [window.hit("a", now=t) for t in range(10)] == [0.0] * 10
    wait = window.hit("a", now=30.0)
    assert 0 < wait <= 90
    # The estimate is only a little early or late: refused just before the wait ends, allowed just after.
    assert window.hit("a", now=30.0 + wait - 2) > 0
    assert window.hit("a", now=30.0 + wait + 0.01) == 0.0
    assert window.hit("b", now=30.0) == 0.0  # clients are independent
    window.hit("a", now=600.0)  # long quiet: the history is gone
    assert all(window.hit("a", now=600.0 + i / 10) == 0.0 for i in range(9))


def test_the_window_remembers_a_bounded_number_of_clients() -> None:
    window = SlidingWindow(limit=1, window_s=60, max_clients=100)
    for n in range(1000):
        window.hit(f"10.0.{n // 256}.{n % 256}", now=1.0)
    assert len(window._counts) == 100


# --- timing -------------------------------------------------------------------------------------
_TIMING_ROUNDS = 10  # ~50-70 ms a bcrypt check here: well above the noise of one database transaction
_PAIRS = 25


def _login_s(store: Store, username: str) -> float:
    start = time.perf_counter()
    with pytest.raises(InvalidCredentials):
        auth.login(store, username, "not the password, sorry")
    return time.perf_counter() - start


def _bcrypt_check_s() -> float:
    hashed = passwords.hash_password("a calibration passphrase", rounds=_TIMING_ROUNDS)
    samples = []
    for _ in range(7):
        start = time.perf_counter()
        passwords.verify_password("wrong calibration phrase", hashed, rounds=_TIMING_ROUNDS)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


@pytest.fixture
def slow_hashes(store: Store, env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """Real-looking bcrypt cost and no lockout, so only the password check differs between paths."""
    monkeypatch.setenv("MEDSPEAK_BCRYPT_ROUNDS", str(_TIMING_ROUNDS))
    monkeypatch.setenv("MEDSPEAK_LOCKOUT_THRESHOLD", "100000")
    slow = Store(store.settings.model_copy(update={"bcrypt_rounds": _TIMING_ROUNDS, "lockout_threshold": 100000}))
    with slow.transaction() as db:
        add_user(db, "nurse.real", "Real nurse", "clinician", PASSWORD, rounds=_TIMING_ROUNDS)
    yield slow
    slow.dispose()


def _gap_over_hash(store: Store) -> float:
    """Median of paired (unknown user - wrong password) login times, as a fraction of one bcrypt check.

    Pairs run back to back, so a load spike from other processes hits both sides of a pair alike.
    """
    for username in ("nurse.real", "nobody.here"):  # warm both paths (the dummy hash, statement caches)
        for _ in range(3):
            _login_s(store, username)
    differences = [_login_s(store, "nobody.here") - _login_s(store, "nurse.real") for _ in range(_PAIRS)]
    return abs(statistics.median(differences)) / _bcrypt_check_s()


def test_wrong_user_and_wrong_password_take_the_same_time(slow_hashes: Store) -> None:
    gap = _gap_over_hash(slow_hashes)
    assert gap < 0.4, f"an unknown username answers {gap:.0%} of a bcrypt check faster or slower"


def test_the_timing_check_would_see_a_skipped_hash(slow_hashes: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The statistic above must be able to fail: skip the dummy hash and it sees the gap."""
    real = passwords.verify_password

    def leaky(password: str, password_hash: str | None, *, rounds: int) -> bool:
        return False if password_hash is None else real(password, password_hash, rounds=rounds)

    monkeypatch.setattr(auth, "verify_password", leaky)
    assert _gap_over_hash(slow_hashes) > 0.6
