"""Issue 19, low finding: a hard lock let anyone keep an account out (5 guesses every 15 minutes kept
``admin`` locked for good). Failed logins now slow down one (typed username, client address) pair with a
delay that doubles, so a guesser delays only themself; the account stays open from anywhere else."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from medspeak.auth import service as auth
from medspeak.auth.roles import Actor
from medspeak.errors import InvalidCredentials, LoginThrottled
from medspeak.services import users
from medspeak.store.db import Store
from medspeak.store.models import AuditEvent
from tests.conftest import PASSWORD

_NOW = datetime(2026, 12, 5, 9, 0, 0).astimezone()
_ATTACKER, _WARD_PC = "203.0.113.66", "10.1.2.3"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Pins the login service's "now"; call it with seconds to move forward."""
    now = [_NOW]
    monkeypatch.setattr(auth, "utcnow", lambda: now[0])

    def advance(seconds: float) -> None:
        now[0] += timedelta(seconds=seconds)

    return advance


def _fail(store: Store, username: str, source: str, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentials):
            auth.login(store, username, "a wrong guess 123", source=source)


def test_a_guesser_cannot_keep_the_admin_out_from_elsewhere(
    store: Store, actors: dict[str, Actor], clock: Callable[[float], None]
) -> None:
    # Before: five guesses locked the account for everyone; five more every 15 minutes, for good.
    for _ in range(8):  # two hours of it
        for _ in range(5):
            with pytest.raises((InvalidCredentials, LoginThrottled)):
                auth.login(store, "admin", "a wrong guess 123", source=_ATTACKER)
        clock(15 * 60 - 1)
        assert auth.login(store, "admin", PASSWORD, source=_WARD_PC).actor.username == "admin"


def test_the_delay_doubles_with_each_failure_past_the_threshold_up_to_the_cap(
    store: Store, actors: dict[str, Actor], clock: Callable[[float], None]
) -> None:
    delay = store.settings.login_delay_seconds
    _fail(store, "clinician", _ATTACKER, 4)  # below the threshold: no delay
    _fail(store, "clinician", _ATTACKER)  # the fifth: a first delay
    waits = []
    for _ in range(8):
        with pytest.raises(LoginThrottled) as refused:
            auth.login(store, "clinician", PASSWORD, source=_ATTACKER)  # even the right password waits
        waits.append(refused.value.retry_after)
        clock(refused.value.retry_after)
        _fail(store, "clinician", _ATTACKER)
    cap = store.settings.lockout_minutes * 60
    assert waits == [min(delay * 2**i, cap) for i in range(8)]
    # the account is open from another address all along
    assert auth.login(store, "clinician", PASSWORD, source=_WARD_PC).actor.username == "clinician"


def test_unknown_and_known_accounts_are_slowed_alike(
    store: Store, actors: dict[str, Actor], clock: Callable[[float], None]
) -> None:
    # Before: 423 for a locked account and the right password, 401 for an unknown one: which accounts exist.
    _fail(store, "clinician", _ATTACKER, 5)
    _fail(store, "nobody-here", _ATTACKER, 5)
    with pytest.raises(LoginThrottled) as known:
        auth.login(store, "clinician", PASSWORD, source=_ATTACKER)
    with pytest.raises(LoginThrottled) as unknown:
        auth.login(store, "nobody-here", PASSWORD, source=_ATTACKER)
    assert str(known.value) == str(unknown.value) and known.value.retry_after == unknown.value.retry_after


def test_a_success_clears_the_count_and_the_wait_ends_on_time(
    store: Store, actors: dict[str, Actor], clock: Callable[[float], None]
) -> None:
    _fail(store, "clinician", _WARD_PC, 5)
    clock(store.settings.login_delay_seconds)
    auth.login(store, "clinician", PASSWORD, source=_WARD_PC)
    _fail(store, "clinician", _WARD_PC, 4)  # counted from zero again: no delay yet
    auth.login(store, "clinician", PASSWORD, source=_WARD_PC)


def test_an_administrator_lifts_every_delay_and_everything_is_audited(
    store: Store, actors: dict[str, Actor], clock: Callable[[float], None]
) -> None:
    _fail(store, "clinician", _ATTACKER, 5)
    with pytest.raises(LoginThrottled):
        auth.login(store, "clinician", PASSWORD, source=_ATTACKER)
    clinician = users.list_users(store, actors["admin"])
    summary = next(u for u in clinician if u.username == "clinician")
    assert summary.locked  # the admin sees the account is being slowed down somewhere
    users.unlock(store, actors["admin"], summary.id)
    assert auth.login(store, "clinician", PASSWORD, source=_ATTACKER).actor.username == "clinician"
    with store.read() as db:
        rows = db.execute(select(AuditEvent.action, AuditEvent.outcome).where(AuditEvent.username == "clinician")).all()
    assert [tuple(r) for r in rows] == [("auth.login", "failure")] * 5 + [
        ("auth.login", "denied"),
        ("auth.login", "success"),
    ]
