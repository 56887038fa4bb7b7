"""Serving with several processes: each enforces its share of the rate limits, a revoked token is refused by
every process at once, and a session check never queues behind a writer."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import psutil
import pytest
import uvicorn
import uvicorn.importer
from fastapi.testclient import TestClient
from sqlalchemy import select

from medspeak.api.app import FirstUseApp, create_app, reuse_port_sockets, served_app, worker_count
from medspeak.auth import service as auth
from medspeak.auth.roles import Actor
from medspeak.errors import SessionInvalid
from medspeak.store.db import Store
from medspeak.store.models import AuthSession
from medspeak.store.types import utcnow
from tests.conftest import PASSWORD
from tests.store.test_lock_waits import lock_held_by_another_process
from tests.support.api import count_events
from tests.support.servers import serve

_ROOT = Path(__file__).resolve().parents[2]
_TRIAGE = {"heart_rate": 118, "spo2": 88, "chief_complaint": "shortness of breath", "age": 71}


def _guesses(client: TestClient, n: int) -> list[int]:
    return [
        client.post("/token", data={"username": f"u{i}", "password": "a wrong guess 123"}).status_code for i in range(n)
    ]


def test_each_of_n_processes_enforces_a_share_of_the_limits(store: Store, actors: dict[str, Actor]) -> None:
    settings = store.settings.model_copy(update={"token_rate_per_minute": 6, "api_rate_per_minute": 1000})
    with TestClient(create_app(settings, processes=1), client=("203.0.113.9", 1)) as alone:
        assert _guesses(alone, 7) == [401] * 6 + [429]
    # Two processes behind one port: 3 attempts each, so a client never gets more than the 6 configured.
    with TestClient(create_app(settings, processes=2), client=("203.0.113.10", 1)) as one_of_two:
        assert _guesses(one_of_two, 4) == [401] * 3 + [429]


def test_a_limit_is_never_shared_down_to_zero(store: Store) -> None:
    settings = store.settings.model_copy(update={"token_rate_per_minute": 1, "api_rate_per_minute": 0})
    with TestClient(create_app(settings, processes=4), client=("203.0.113.11", 1)) as client:
        assert _guesses(client, 2) == [401, 429]  # 1/4 of a limit rounds up to one attempt, not to "unlimited"
        assert client.get("/patients").status_code == 401  # 0 (no API limit) stays off: no 429


@pytest.mark.parametrize(("workers", "allowed"), [("1", 4), ("2", 2)])
def test_a_served_process_takes_its_share_from_the_environment(
    store: Store, monkeypatch: pytest.MonkeyPatch, workers: str, allowed: int
) -> None:
    monkeypatch.setenv("MEDSPEAK_TOKEN_RATE_PER_MINUTE", "4")
    monkeypatch.setenv("MEDSPEAK_API_WORKERS", workers)  # what serve() sets before it starts the processes
    with TestClient(served_app(), client=("203.0.113.12", 1)) as client:
        assert _guesses(client, allowed + 1) == [401] * allowed + [429]


@pytest.mark.parametrize(("setting", "cores", "expected"), [(0, 6, 6), (0, None, 1), (3, 6, 3), (1, 6, 1)])
def test_the_worker_count_is_the_setting_else_one_a_core(
    store: Store, monkeypatch: pytest.MonkeyPatch, setting: int, cores: int | None, expected: int
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: cores)  # None: Python could not tell how many cores there are
    assert worker_count(store.settings.model_copy(update={"api_workers": setting})) == expected


def test_the_usual_uvicorn_command_serves_the_api(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    # `uvicorn medspeak.api:app` resolves its argument with this very function; it was a module, not an app.
    monkeypatch.setenv("MEDSPEAK_TOKEN_RATE_PER_MINUTE", "2")
    asgi = uvicorn.importer.import_from_string("medspeak.api:app")
    assert isinstance(asgi, FirstUseApp)
    monkeypatch.setattr(asgi, "_app", None)  # built here, on this test's store (a process builds it once)
    with TestClient(asgi, client=("203.0.113.13", 1)) as client:  # runs the lifespan, as uvicorn does
        assert client.get("/healthz").status_code == 200
        # one process unless MEDSPEAK_API_WORKERS says more: it keeps the whole limit, not a share of it
        assert _guesses(client, 3) == [401, 401, 429]


def test_a_session_check_does_not_wait_for_a_writer_and_sees_each_commit(
    store: Store, actors: dict[str, Actor]
) -> None:
    if not store.is_sqlite:
        pytest.skip("the write lock is SQLite's")
    token = auth.login(store, "clinician", PASSWORD).token
    started, release = threading.Event(), threading.Event()

    def revoke_slowly() -> None:
        with store.transaction() as db:  # BEGIN IMMEDIATE: holds SQLite's write lock until commit
            for session in db.scalars(select(AuthSession).where(AuthSession.revoked_at.is_(None))):
                session.revoked_at = utcnow()
            db.flush()
            started.set()
            release.wait(30)

    writer = threading.Thread(target=revoke_slowly)
    writer.start()
    try:
        assert started.wait(10)
        t0 = time.monotonic()
        actor, _ = auth.resolve_session(store, token)  # the revocation is not committed yet: still valid
        assert actor.username == "clinician"
        # Queued behind the writer it would wait for the release (30 s) or the busy timeout (15 s); a third of
        # that leaves a loaded machine room without ever passing a queued check.
        assert time.monotonic() - t0 < 5.0, "a session check queued behind the writer (busy timeout is 15 s)"
    finally:
        release.set()
        writer.join(30)
    with pytest.raises(SessionInvalid):  # committed: refused at once
        auth.resolve_session(store, token)


@pytest.fixture
def two_processes(store: Store, actors: dict[str, Actor], tmp_path: Path) -> Iterator[str]:
    if not store.is_sqlite:
        pytest.skip("the server subprocess runs on the test's SQLite file")
    env = {k: v for k, v in os.environ.items() if k.startswith("MEDSPEAK_") or k in ("PATH", "HOME", "LANG")}
    env.update(PYTHONPATH=str(_ROOT), MEDSPEAK_DATABASE_URL=store.settings.sqlalchemy_url, MEDSPEAK_API_WORKERS="2")

    def command(port: int) -> list[str]:
        return [sys.executable, "-m", "medspeak.api", "--port", str(port)]

    with serve(command, "/healthz", tmp_path / "api.log", env=env) as (base, server):
        yield base
        children = psutil.Process(server.pid).children(recursive=True)
        workers = [p for p in children if "spawn_main" in " ".join(p.cmdline())]  # uvicorn's worker processes
        assert len(workers) == 2, "MEDSPEAK_API_WORKERS=2 should serve with two processes"


@pytest.mark.slow
def test_a_revoked_token_is_refused_by_every_server_process_at_once(two_processes: str) -> None:
    limits = httpx2.Limits(max_connections=8)  # several connections: the kernel spreads them over the processes
    with httpx2.Client(base_url=two_processes, limits=limits, timeout=30) as client:
        r = client.post("/token", data={"username": "clinician", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        assert client.post("/triage", json=_TRIAGE, headers=headers).status_code == 200
        assert client.post("/logout", headers=headers).status_code == 204

        def triage(_: int) -> int:
            return client.post("/triage", json=_TRIAGE, headers=headers).status_code

        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(triage, range(40))) == {401}


def test_a_triage_waits_off_the_event_loop_when_another_writer_holds_the_lock(
    store: Store, client: TestClient, login: Callable[[str], dict[str, str]]
) -> None:
    # On SQLite a triage runs on the event loop and gives up waiting for the write lock after a few
    # milliseconds; then it runs again in a thread, which waits the full timeout: answered, audited once.
    if not store.is_sqlite:
        pytest.skip("the write lock is SQLite's")
    headers = login("clinician")
    before = count_events(store, action="triage.assess", outcome="success")
    with lock_held_by_another_process(store, 0.5):
        started = time.monotonic()
        r = client.post("/triage", json=_TRIAGE, headers=headers)
        waited = time.monotonic() - started
    assert r.status_code == 200, r.text
    assert r.json()["level"] <= 2  # SpO2 88 %
    assert waited >= 0.3  # it waited for the other writer rather than failing
    assert count_events(store, action="triage.assess", outcome="success") == before + 1


def test_server_processes_each_get_a_share_of_new_connections() -> None:
    # One socket a process, bound with SO_REUSEPORT: the kernel spreads connections over them (with one
    # shared socket, the first process to wake could accept all 50 keep-alive connections of a client pool).
    listeners = reuse_port_sockets("127.0.0.1", 0, 2)
    port = listeners[0].getsockname()[1]
    assert listeners[1].getsockname()[1] == port
    clients = []
    try:
        for sock in listeners:
            sock.listen(64)
            sock.setblocking(False)
        clients = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(40)]
        time.sleep(0.2)
        accepted = []
        for sock in listeners:
            count = 0
            while True:
                try:
                    conn, _ = sock.accept()
                except BlockingIOError:
                    break
                conn.close()
                count += 1
            accepted.append(count)
        assert sum(accepted) == 40
        assert min(accepted) >= 5, accepted  # a hash of the addresses: about half each
    finally:
        for sock in [*clients, *listeners]:
            sock.close()


def test_the_supervisor_override_still_matches_uvicorns_method() -> None:
    """_serve_balanced overrides one method of uvicorn's (private) supervisor: the one it replaces must still
    start ``Process(config, sockets)`` workers into ``self.processes``, or the override is wrong."""
    import inspect

    from uvicorn.supervisors.multiprocess import Multiprocess, Process

    upstream = inspect.getsource(Multiprocess.init_processes)
    assert "Process(self.config, self.sockets)" in upstream and "self.processes.append(process)" in upstream
    assert list(inspect.signature(Process.__init__).parameters) == ["self", "config", "sockets"]
    config = uvicorn.Config("medspeak.api.app:served_app", factory=True, workers=2)
    assert {"processes", "sockets"} <= set(vars(Multiprocess(config, [])))
