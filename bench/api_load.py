"""Load on the REST API over loopback: bounded, self-stopping, with the server's memory sampled.

Starts the API server (``python -m medspeak.api``) in a subprocess on a fresh home with the demo accounts
and seeded demo data, logs in as the demo clinician, then drives each endpoint in turn for ``--duration``
seconds (after a short warm-up), under two load shapes, side by side:

- closed loop (saturation): each of ``--clients`` clients sends its next request as soon as the previous
  one returns, so the figure is the most the server can answer; by Little's law the latency is then
  ``clients / rps`` whatever the server does, so it says nothing about a service level;
- paced (``--rate``): requests on a fixed total arrival schedule (one every ``1 / rate`` s) over at most
  ``--clients`` connections; each latency runs from the request's *scheduled* send time, so time spent
  queued behind a slow response counts (no coordinated omission). This is the load the targets describe:
  50 concurrent clients offering 300 requests/s together.

Endpoints: ``GET /healthz`` (the baseline: no credential, no audit row, no model), ``POST /triage`` (token
check, model, explanation, audit row), ``GET /patients/{id}/record`` (token check, audited read). The
triage requests cycle through 500 distinct, plausible emergency-department patients (seeded, so every run
sends the same sequence; each field is missing now and then, as at a real triage desk), never one body
over and over.

Two HTTP clients drive the same schedules (``--client``):

- ``raw`` (the default): one asyncio connection per client, HTTP/1.1 keep-alive, each request encoded to
  bytes once before the run; a response is read as its status line, headers and ``Content-Length`` bytes
  of body (a chunked or length-less response stops the run with a message rather than being misread).
  The load generator shares the machine's cores with the server, so every millisecond of CPU it spends on
  a request is taken from the server and lowers the figures the server can show: this client spends
  ~0.1-0.2 ms of CPU a request (column "cli cpu ms"), a tenth of httpx's.
- ``httpx``: an ``httpx.AsyncClient`` with a pool of ``--clients`` connections, kept for comparison
  (a full-featured client, as an application would use; ~1-2 ms of CPU a request here).

A status >= 400, a connection error or a timeout (30 s) counts as an error; the raw client then reconnects.

Why a client of our own rather than locust, oha or wrk (issue 16, measured side by side on this 2-core
machine, 2026-12-05, same server and shapes: 50 closed-loop clients, 10 s, twice each, alternating): locust
2.47 with its fast client (``FastHttpUser``, geventhttpclient, ``wait_time = constant(0)``) spent 0.23-0.24 ms
of CPU a ``/healthz`` request and 0.56-0.63 ms a triage, against 0.11 ms and 0.13-0.22 ms for the raw client:
2-4x the CPU, taken from the server it measures on 2 shared cores. Its throughput figures were within the
noise of the machine (healthz 1,301-1,522 vs 1,279-1,300/s; triage 252-334 vs 160-534/s at load averages
3-5 from other work), and it has no paced shape that times latency from the scheduled send. oha and wrk are
not installable here (no package index but PyPI). The raw client and its tests stay.

Targets (issue 7, on 2 cores): triage p95 <= 50 ms and >= 300 requests/s at 50 clients with 0 errors;
record p95 <= 100 ms. The load generator shares the machine with the server, so figures are a floor.

Run: ``PYTHONPATH=. .venv/bin/python bench/api_load.py [--duration 10] [--clients 50] [--rate 300]
[--mode both|closed|paced] [--client raw|httpx] [--workers N] [--only triage,record] [--json]``; ``--json``
prints one JSON object: ``{"<endpoint> [<shape>]": {"rps", "p50_ms", "p95_ms", "errors", ...},
"server_rss_mb": ..., "settings": ...}`` (the settings name the client). Results are also written to
``bench/results/api_load.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Final, Protocol

import httpx2 as httpx
import psutil

from bench import save_results

_ROOT = Path(__file__).resolve().parent.parent
_MAX_REQUESTS = 200_000  # a hard stop whatever the duration
_STARTUP_S = 120.0
_BACKLOG_GRACE_S = 5.0  # paced mode: how long past the schedule's end the queued requests may still go out
_TIMEOUT_S = 30.0  # one request, either client: a server that stalls this long has failed the run anyway

# Triage bodies: enough distinct patients that a run sends each only a few times (10 s at 300/s: 6 times).
_TRIAGE_BODIES: Final = 500
_TRIAGE_SEED: Final = 7
_MISSING_RATE: Final = 0.1  # a field left blank at the desk (busy nurse, monitor not yet attached)
# (chief complaint as a patient or nurse says it, whether it is an injury)
_COMPLAINTS: Final = (
    ("chest pain", False),
    ("shortness of breath", False),
    ("abdominal pain", False),
    ("headache", False),
    ("dizziness", False),
    ("fever and cough", False),
    ("palpitations", False),
    ("vomiting and diarrhoea", False),
    ("fainted at home", False),
    ("sudden weakness of the right arm", False),
    ("slurred speech", False),
    ("confusion", False),
    ("back pain", False),
    ("unable to pass urine", False),
    ("blood in urine", False),
    ("flank pain", False),
    ("sore throat", False),
    ("rash", False),
    ("swollen lips after eating peanuts", False),
    ("swollen painful left leg", False),
    ("seizure", False),
    ("nosebleed", False),
    ("vomiting blood", False),
    ("black stools", False),
    ("suicidal thoughts", False),
    ("drunk and vomiting", False),
    ("took too many paracetamol tablets", False),
    ("low blood sugar", False),
    ("painful red eye", False),
    ("earache", False),
    ("burning when passing urine", False),
    ("generally unwell", False),
    ("cough with green sputum", False),
    ("toothache", False),
    ("fall from standing", True),
    ("laceration left hand", True),
    ("twisted right ankle", True),
    ("head injury after a fall", True),
    ("car accident, neck pain", True),
    ("burn to the right forearm", True),
    ("dog bite", True),
    ("wrist pain after a fall", True),
    ("hurt back lifting", True),
    ("something in the eye", True),
)
# Arrival modes: the values the API accepts (medspeak.triage.inputs.TRANSPORT_MODES), weighted as an ED sees them.
_TRANSPORT_WEIGHTS: Final = {
    "walk-in": 45,
    "public ambulance": 25,
    "private vehicle": 20,
    "private ambulance": 5,
    "other": 5,
}
_AVPU_WEIGHTS: Final = {"alert": 92, "verbal": 5, "pain": 2, "unresponsive": 1}


# Recorded on every form: without the complaint and three vital signs there is no level, only the list of
# what is needed (issue 15), and the load test measures levels.
_ALWAYS: Final = frozenset({"chief_complaint", "heart_rate", "respiratory_rate", "temperature_c"})


def _clipped(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def _triage_patient(rng: random.Random) -> dict[str, Any]:
    """One adult at the ED door, every value within what ``medspeak.triage.plausibility`` accepts."""
    complaint, injury = rng.choice(_COMPLAINTS)
    systolic = round(_clipped(rng.gauss(135, 22), 80, 200))
    patient: dict[str, Any] = {
        "temperature_c": round(_clipped(rng.gauss(37.1, 0.7), 35.5, 40.5), 1),
        "heart_rate": round(_clipped(rng.gauss(88, 18), 45, 160)),
        "respiratory_rate": round(_clipped(rng.gauss(18, 3.5), 10, 36)),
        "spo2": round(_clipped(100 - abs(rng.gauss(0, 3.5)), 82, 100)),
        "blood_pressure": (systolic, round(systolic * rng.uniform(0.5, 0.72))),  # diastolic below systolic
        "age": round(_clipped(rng.gauss(55, 20), 18, 95)),
        "sex": rng.choice(("female", "male")),
        "transport_mode": rng.choices(list(_TRANSPORT_WEIGHTS), weights=list(_TRANSPORT_WEIGHTS.values()))[0],
        "mental_status": rng.choices(list(_AVPU_WEIGHTS), weights=list(_AVPU_WEIGHTS.values()))[0],
        "pain": rng.randint(0, 10),
        "injury": injury,
        "chief_complaint": complaint,
    }
    body = {name: value for name, value in patient.items() if name in _ALWAYS or rng.random() >= _MISSING_RATE}
    if "blood_pressure" in body:  # a cuff reading gives both or neither
        body["systolic_bp"], body["diastolic_bp"] = body.pop("blood_pressure")
    return body


def triage_bodies(count: int = _TRIAGE_BODIES, seed: int = _TRIAGE_SEED) -> list[dict[str, Any]]:
    """``count`` plausible triage forms (``POST /triage`` bodies), the same for the same seed."""
    rng = random.Random(seed)  # noqa: S311 - test data, not a secret
    return [_triage_patient(rng) for _ in range(count)]


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One request, with its HTTP/1.1 bytes encoded once (``wire``) for the raw client."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    wire: bytes

    @classmethod
    def build(cls, host: str, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> HttpRequest:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items())]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        wire = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        return cls(method, path, headers, body, wire)


@dataclass(slots=True)
class Endpoint:
    """The requests of one endpoint, sent in turn; ``sent`` counts every one (warm-up included)."""

    requests: list[HttpRequest]
    sent: int = 0

    def next(self) -> HttpRequest:
        request = self.requests[self.sent % len(self.requests)]
        self.sent += 1
        return request


class TransportError(Exception):
    """A request that got no response (refused, reset, timed out): counted as an error."""


class UnsupportedResponse(Exception):
    """A response the raw client does not read (chunked, no length): the run stops rather than misread it."""


# Sends one request on one client's connection: (status, body); raises TransportError.
Send = Callable[[HttpRequest], Awaitable[tuple[int, bytes]]]


class Clients(Protocol):
    """The connections of one run: ``connection()`` once per simulated client, ``aclose()`` at the end."""

    def connection(self) -> Send: ...

    async def aclose(self) -> None: ...


class HttpxClients:
    """httpx's pooled client (``clients`` connections), for comparison with the raw one."""

    def __init__(self, host: str, port: int, clients: int) -> None:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        self._client = httpx.AsyncClient(base_url=f"http://{host}:{port}", limits=limits, timeout=_TIMEOUT_S)

    def connection(self) -> Send:
        return self._send  # the pool hands each request a free connection

    async def _send(self, request: HttpRequest) -> tuple[int, bytes]:
        try:
            response = await self._client.request(
                request.method, request.path, headers=request.headers, content=request.body or None
            )
        except httpx.HTTPError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        return response.status_code, response.content

    async def aclose(self) -> None:
        await self._client.aclose()


class _ResponseReader(asyncio.Protocol):
    """One keep-alive connection's responses: status line, headers, then ``Content-Length`` bytes."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.keep_alive = True
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # noqa: S101 - a TCP connection
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(TransportError(f"connection lost: {exc}" if exc else "the server closed the connection"))

    def exchange(self, wire: bytes) -> asyncio.Future[tuple[int, bytes]]:
        assert self.transport is not None  # noqa: S101 - connected before use
        self._buffer.clear()  # bytes nobody asked for (none expected) must not pass for this response
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(wire)
        return self._waiter

    def time_out(self) -> None:
        self._fail(TransportError(f"no response within {_TIMEOUT_S:g} s"))
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._waiter is None:
            return
        try:
            response = self._parse()
        except UnsupportedResponse as exc:
            self._fail(exc)
            self.close()
            return
        if response is not None:
            waiter, self._waiter = self._waiter, None
            if not waiter.done():
                waiter.set_result(response)

    def _fail(self, exc: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def _parse(self) -> tuple[int, bytes] | None:
        """The response once the buffer holds all of it, else ``None`` (more bytes to come)."""
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        status_line, *header_lines = bytes(self._buffer[:end]).split(b"\r\n")
        version, _, rest = status_line.partition(b" ")
        if not version.startswith(b"HTTP/1.") or not rest[:3].isdigit():
            raise UnsupportedResponse(f"not an HTTP/1.x status line: {status_line[:80]!r}")
        status = int(rest[:3])
        length: int | None = None
        for line in header_lines:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                raise UnsupportedResponse(
                    f"{status} response with Transfer-Encoding {value.strip()!r}: use --client httpx"
                )
            elif name == b"connection":
                self.keep_alive = value.strip().lower() != b"close"
        if length is None:
            if status not in (204, 304):
                raise UnsupportedResponse(f"{status} response without Content-Length: use --client httpx")
            length = 0
        total = end + 4 + length
        if len(self._buffer) < total:
            return None
        body = bytes(self._buffer[end + 4 : total])
        del self._buffer[:total]
        return status, body


class _RawConnection:
    """One client's connection, (re)opened on demand: after an error or a ``Connection: close``."""

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._loop = asyncio.get_running_loop()
        self.reader: _ResponseReader | None = None

    async def send(self, request: HttpRequest) -> tuple[int, bytes]:
        reader = self.reader
        if reader is None or reader.closed:
            try:
                _, reader = await self._loop.create_connection(_ResponseReader, self._host, self._port)
            except OSError as exc:
                raise TransportError(f"cannot connect: {exc}") from exc
            self.reader = reader
        timer = self._loop.call_later(_TIMEOUT_S, reader.time_out)
        try:
            response = await reader.exchange(request.wire)
        except (TransportError, UnsupportedResponse):
            reader.close()
            raise
        finally:
            timer.cancel()
        if not reader.keep_alive:
            reader.close()
        return response


class RawClients:
    """A lean HTTP/1.1 client: one connection per simulated client, requests pre-encoded."""

    def __init__(self, host: str, port: int, clients: int) -> None:
        del clients  # one connection per ``connection()`` call
        self._host, self._port = host, port
        self._connections: list[_RawConnection] = []

    def connection(self) -> Send:
        connection = _RawConnection(self._host, self._port)
        self._connections.append(connection)
        return connection.send

    async def aclose(self) -> None:
        for connection in self._connections:
            if connection.reader is not None:
                connection.reader.close()
        await asyncio.sleep(0)  # let the transports finish closing inside this loop


CLIENTS: Final[dict[str, Callable[[str, int, int], Clients]]] = {"raw": RawClients, "httpx": HttpxClients}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _environment(home: Path, patients: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDSPEAK_")}
    env.update(
        {
            "PYTHONPATH": str(_ROOT),
            "MEDSPEAK_HOME": str(home),
            "MEDSPEAK_SECRETS_FILE": str(home / "none.toml"),
            "MEDSPEAK_BCRYPT_ROUNDS": "4",
            "MEDSPEAK_ENV": "development",  # a throwaway install: the public key and cheap hashing are fine
            "MEDSPEAK_DEMO_PATIENTS": str(patients),
            "MEDSPEAK_LLM_BACKEND": "rules",
            # The limiter stays in the path but cannot trip: one token sends every request here.
            "MEDSPEAK_API_RATE_PER_MINUTE": "100000000",
        }
    )
    return env


def _prepare(env: dict[str, str]) -> None:
    """Migrate, create the demo accounts and seed demo data, as ``medspeak init`` does."""
    subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter
        [sys.executable, "-m", "medspeak", "init"], env=env, check=True, capture_output=True, timeout=600
    )


def _clinician_password(home: Path) -> str:
    for line in (home / "demo-credentials.txt").read_text().splitlines():
        if line.startswith("clinician\t"):
            return line.split("\t")[2]
    raise SystemExit("no clinician in the demo credentials")


def _start_server(env: dict[str, str], port: int, workers: int | None) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "medspeak.api", "--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    server = subprocess.Popen(  # noqa: S603 - fixed arguments, our own interpreter
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + _STARTUP_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the API server exited with {server.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit("the API server did not answer /healthz in time")


class _RssSampler(threading.Thread):
    """The server's resident memory every ``interval_s``: the process and its worker processes, summed."""

    def __init__(self, pid: int, interval_s: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.interval_s = interval_s
        self.samples: list[float] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                tree = [self.process, *self.process.children(recursive=True)]
                self.samples.append(sum(p.memory_info().rss for p in tree) / 2**20)
            except psutil.Error:
                return
            self._stop_event.wait(self.interval_s)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def _workers(pid: int) -> int:
    """Processes answering requests: uvicorn's spawned workers, or the server itself when it has none."""
    spawned = [p for p in psutil.Process(pid).children() if "spawn_main" in " ".join(p.cmdline())]
    return len(spawned) or 1


def _server_cpu_s(pid: int) -> float:
    """CPU seconds used so far by the server and its worker processes."""
    tree = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    return sum(t.user + t.system for t in (p.cpu_times() for p in tree))


def _summary(latencies: list[float], errors: int, elapsed: float) -> dict[str, Any]:
    if not latencies:
        return {"rps": 0.0, "p50_ms": 0.0, "p95_ms": 0.0, "errors": errors, "requests": 0}
    return {
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 2),
        "p95_ms": round(1000 * statistics.quantiles(latencies, n=20)[18], 2) if len(latencies) > 1 else 0.0,
        "errors": errors,
        "requests": len(latencies),
    }


async def _ok(send: Send, request: HttpRequest) -> bool:
    """Whether the request got a response below 400 (a connection error is a failed request)."""
    try:
        status, _ = await send(request)
    except TransportError:
        return False
    return status < 400


@asynccontextmanager
async def _connections(make: Callable[[], Clients], count: int, endpoint: Endpoint) -> AsyncIterator[list[Send]]:
    """``count`` warmed-up connections (one per simulated client), closed on exit."""
    clients = make()
    try:
        sends = [clients.connection() for _ in range(count)]
        # Every server process loads its models and caches on its first requests: a start-up cost, not a
        # per-request one. A burst over all connections reaches each process.
        try:
            status, body = await sends[0](endpoint.next())
        except TransportError as exc:
            raise SystemExit(f"the first request failed: {exc}") from exc
        if status >= 400:
            raise SystemExit(f"the first request failed: {status} {body[:200].decode(errors='replace')}")
        for _ in range(3):
            await asyncio.gather(*(_ok(send, endpoint.next()) for send in sends))
        yield sends
    finally:
        await clients.aclose()


async def _closed(
    make: Callable[[], Clients], endpoint: Endpoint, clients: int, duration_s: float, warmup_s: float
) -> dict[str, Any]:
    """Each client sends its next request when the previous one returns: the saturation throughput."""
    latencies: list[float] = []
    errors = 0
    async with _connections(make, clients, endpoint) as sends:
        measure_from = time.perf_counter() + warmup_s
        stop_at = measure_from + duration_s

        async def one_client(send: Send) -> None:
            nonlocal errors
            while len(latencies) < _MAX_REQUESTS:
                t0 = time.perf_counter()
                if t0 >= stop_at:
                    return
                ok = await _ok(send, endpoint.next())
                if t0 >= measure_from:
                    latencies.append(time.perf_counter() - t0)
                    errors += 0 if ok else 1

        await asyncio.gather(*(one_client(send) for send in sends))
        elapsed = time.perf_counter() - measure_from
    return _summary(latencies, errors, elapsed)


async def _paced(
    make: Callable[[], Clients], endpoint: Endpoint, clients: int, rate: float, duration_s: float, warmup_s: float
) -> dict[str, Any]:
    """Requests on a fixed schedule (``rate`` a second) over at most ``clients`` connections.

    Request ``i`` is due at ``start + i / rate``; a free connection sends the next due request, and its
    latency runs from the due time, so a backlog (every connection busy) shows up in the figures.
    """
    latencies: list[float] = []
    errors = 0
    late_starts = 0
    unsent = 0
    total = min(int(rate * (warmup_s + duration_s)), _MAX_REQUESTS)
    warm_count = int(rate * warmup_s)
    async with _connections(make, clients, endpoint) as sends:
        start = time.perf_counter()
        give_up_at = start + warmup_s + duration_s + _BACKLOG_GRACE_S
        next_index = 0

        async def one_connection(send: Send) -> None:
            nonlocal errors, next_index, late_starts, unsent
            while next_index < total:
                i = next_index
                next_index += 1
                due = start + i / rate
                if time.perf_counter() > give_up_at:  # a hopeless backlog: stop rather than run for minutes
                    unsent += 1
                    continue
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif i >= warm_count and -delay > 0.001:
                    late_starts += 1
                ok = await _ok(send, endpoint.next())
                if i >= warm_count:
                    latencies.append(time.perf_counter() - due)
                    errors += 0 if ok else 1

        await asyncio.gather(*(one_connection(send) for send in sends))
        elapsed = time.perf_counter() - (start + warm_count / rate)
    out = _summary(latencies, errors, elapsed)
    # Over a long run, when the slow requests came: p95 of each 10 s of the schedule (in completion order,
    # which follows the schedule to within the connections' spread).
    window = max(1, int(rate * 10))
    out["p95_ms_every_10s"] = [
        round(1000 * statistics.quantiles(latencies[k : k + window], n=20)[18], 1)
        for k in range(0, len(latencies) - 1, window)
        if len(latencies[k : k + window]) > 1
    ]
    out["offered_rps"] = rate
    out["late_starts"] = late_starts  # requests sent > 1 ms after their due time (every connection was busy)
    out["unsent"] = unsent  # requests still queued when the run gave up (the server fell far behind)
    return out


def _endpoints(host: str, token: str, patient_id: int) -> dict[str, tuple[str, Endpoint]]:
    auth = {"Authorization": f"Bearer {token}"}
    json_auth = {**auth, "Content-Type": "application/json"}
    triage = [
        HttpRequest.build(host, "POST", "/triage", json_auth, json.dumps(body, separators=(",", ":")).encode())
        for body in triage_bodies()
    ]
    return {
        "healthz": ("GET /healthz (baseline)", Endpoint([HttpRequest.build(host, "GET", "/healthz", {})])),
        "triage": ("POST /triage", Endpoint(triage)),
        "record": (
            "GET /patients/{id}/record",
            Endpoint([HttpRequest.build(host, "GET", f"/patients/{patient_id}/record", auth)]),
        ),
    }


def _run(args: argparse.Namespace) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="medspeak-api-load-"))
    env = _environment(home, args.patients)
    if args.threads is not None:
        env["MEDSPEAK_API_THREADS"] = str(args.threads)
    _prepare(env)
    port = _free_port()
    server = _start_server(env, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        token = httpx.post(
            f"{base}/token", data={"username": "clinician", "password": _clinician_password(home)}, timeout=10
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        patient_id = httpx.get(f"{base}/patients", params={"limit": 1}, headers=headers, timeout=10).json()["items"][0][
            "id"
        ]
        endpoints = _endpoints(f"127.0.0.1:{port}", token, patient_id)

        def make() -> Clients:
            return CLIENTS[args.client]("127.0.0.1", port, args.clients)

        sampler = _RssSampler(server.pid)
        sampler.start()
        results: dict[str, Any] = {}
        load_before = os.getloadavg()[0]
        for key in args.only.split(","):
            name, endpoint = endpoints[key.strip()]
            shapes: list[tuple[str, Callable[[], Coroutine[Any, Any, dict[str, Any]]]]] = []
            if args.mode in ("both", "closed"):
                shapes.append(
                    ("closed loop", partial(_closed, make, endpoint, args.clients, args.duration, args.warmup))
                )
            if args.mode in ("both", "paced"):
                paced = partial(_paced, make, endpoint, args.clients, args.rate, args.duration, args.warmup)
                shapes.append((f"paced {args.rate:g}/s", paced))
            for shape, run in shapes:
                before = len(sampler.samples)
                server_cpu, client_cpu, sent_before = _server_cpu_s(server.pid), time.process_time(), endpoint.sent
                result = asyncio.run(run())
                # CPU per request (warm-up included in both counts): what a request costs, whatever the
                # other processes on the machine do to the wall-clock figures.
                sent = endpoint.sent - sent_before
                result["server_cpu_ms_per_request"] = round(1000 * (_server_cpu_s(server.pid) - server_cpu) / sent, 2)
                result["client_cpu_ms_per_request"] = round(1000 * (time.process_time() - client_cpu) / sent, 2)
                phase = sampler.samples[before:] or [0.0]
                result["rss_mb_start_end"] = [round(phase[0], 1), round(phase[-1], 1)]
                result["rss_mb_every_10s"] = [round(x, 1) for x in phase[:: int(10 / sampler.interval_s)]]
                results[f"{name} [{shape}]"] = result
        sampler.stop()
        rss = sampler.samples or [0.0]
        results["server_rss_mb"] = {
            "start": round(rss[0], 1),
            "end": round(rss[-1], 1),
            "max": round(max(rss), 1),
            "samples": len(rss),
        }
        results["settings"] = {
            "client": args.client,
            "clients": args.clients,
            "rate": args.rate,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "demo_patients": args.patients,
            "triage_bodies": len(endpoints["triage"][1].requests),
            "workers": args.workers,
            "threads": args.threads,
            "server_workers": _workers(server.pid),
            "cpus": os.cpu_count(),
            "load_average_1min_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        }
        return results
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(home, ignore_errors=True)  # demo data and credentials of this run only


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per endpoint")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each endpoint")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (connections)")
    parser.add_argument("--rate", type=float, default=300.0, help="paced mode: requests a second, all clients together")
    parser.add_argument("--mode", choices=("both", "closed", "paced"), default="both", help="load shape(s) to run")
    parser.add_argument(
        "--client", choices=tuple(CLIENTS), default="raw", help="HTTP client: lean raw HTTP/1.1, or httpx to compare"
    )
    parser.add_argument("--workers", type=int, default=None, help="server processes (default: the server's own)")
    parser.add_argument(
        "--threads", type=int, default=None, help="threads a server process (default: the server's own)"
    )
    parser.add_argument("--only", default="healthz,triage,record", help="endpoints, comma-separated")
    parser.add_argument("--patients", type=int, default=50, help="demo patients to seed")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args()
    try:
        results = _run(args)
    except UnsupportedResponse as exc:
        raise SystemExit(f"the raw client cannot read a response: {exc}") from exc
    if save_results("api_load", results, print_json=args.json):
        return
    settings = results["settings"]
    sys.stdout.write(
        f"{args.clients} clients ({args.client} client), {args.duration:.0f} s per endpoint and load shape, "
        f"{settings['server_workers']} server worker process(es), {os.cpu_count()} CPUs, "
        f"load average {settings['load_average_1min_before_after']}\n"
    )
    sys.stdout.write("srv/cli cpu ms: CPU time a request of the server (all its processes) and of the load generator\n")
    sys.stdout.write(
        f"{'endpoint [load shape]':46} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7} "
        f"{'srv cpu ms':>10} {'cli cpu ms':>10} {'RSS MB':>13}\n"
    )
    for name, r in results.items():
        if name in ("server_rss_mb", "settings"):
            continue
        rss_phase = "{} -> {}".format(*r["rss_mb_start_end"])
        sys.stdout.write(
            f"{name:46} {r['rps']:8.1f} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} {r['errors']:7d} "
            f"{r['server_cpu_ms_per_request']:10.2f} {r['client_cpu_ms_per_request']:10.2f} {rss_phase:>13}\n"
        )
    rss = results["server_rss_mb"]
    sys.stdout.write(f"server RSS: {rss['start']} MB at start, {rss['end']} MB at end, {rss['max']} MB max\n")


if __name__ == "__main__":
    main()
