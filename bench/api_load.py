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
check, model, explanation, audit row), ``GET /patients/{id}/record`` (token check, audited read).

Targets (issue 7, on 2 cores): triage p95 <= 50 ms and >= 300 requests/s at 50 clients with 0 errors;
record p95 <= 100 ms. The load generator shares the machine with the server, so figures are a floor.

Run: ``PYTHONPATH=. .venv/bin/python bench/api_load.py [--duration 10] [--clients 50] [--rate 300]
[--mode both|closed|paced] [--workers N] [--only triage,record] [--json]``; ``--json`` prints one JSON object:
``{"<endpoint> [<shape>]": {"rps", "p50_ms", "p95_ms", "errors", ...}, "server_rss_mb": ..., "settings": ...}``.
Results are also written to ``bench/results/api_load.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psutil

from bench import save_results

_ROOT = Path(__file__).resolve().parent.parent
_TRIAGE = {
    "temperature_c": 38.4,
    "heart_rate": 118,
    "respiratory_rate": 24,
    "spo2": 92,
    "systolic_bp": 104,
    "diastolic_bp": 66,
    "age": 71,
    "sex": "female",
    "chief_complaint": "shortness of breath",
    "mental_status": "alert",
    "pain": 4,
    "transport_mode": "public ambulance",
}
_MAX_REQUESTS = 200_000  # a hard stop whatever the duration
_STARTUP_S = 120.0
_BACKLOG_GRACE_S = 5.0  # paced mode: how long past the schedule's end the queued requests may still go out


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


def _counting(request: Request, counts: dict[str, int], key: str) -> Request:
    """``request``, counting every call (warm-up included) in ``counts[key]``."""
    counts[key] = 0

    async def counted(client: httpx.AsyncClient) -> httpx.Response:
        counts[key] += 1
        return await request(client)

    return counted


def _workers(pid: int) -> int:
    """Processes answering requests: uvicorn's spawned workers, or the server itself when it has none."""
    spawned = [p for p in psutil.Process(pid).children() if "spawn_main" in " ".join(p.cmdline())]
    return len(spawned) or 1


def _server_cpu_s(pid: int) -> float:
    """CPU seconds used so far by the server and its worker processes."""
    tree = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    return sum(t.user + t.system for t in (p.cpu_times() for p in tree))


Request = Callable[[httpx.AsyncClient], Coroutine[Any, Any, httpx.Response]]


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


async def _send(client: httpx.AsyncClient, request: Request) -> bool:
    try:
        response = await request(client)
    except httpx.HTTPError:
        return False
    return response.status_code < 400


async def _warm(client: httpx.AsyncClient, request: Request, clients: int) -> None:
    # Every server process loads its models and caches on its first requests: a start-up cost, not a
    # per-request one. A burst over all connections reaches each process.
    first = await request(client)
    if first.status_code >= 400:
        raise SystemExit(f"the first request failed: {first.status_code} {first.text[:200]}")
    for _ in range(3):
        await asyncio.gather(*(request(client) for _ in range(clients)))


async def _closed(base: str, request: Request, clients: int, duration_s: float, warmup_s: float) -> dict[str, Any]:
    """Each client sends its next request when the previous one returns: the saturation throughput."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        await _warm(client, request, clients)
        measure_from = time.perf_counter() + warmup_s
        stop_at = measure_from + duration_s

        async def one_client() -> None:
            nonlocal errors
            while len(latencies) < _MAX_REQUESTS:
                t0 = time.perf_counter()
                if t0 >= stop_at:
                    return
                ok = await _send(client, request)
                if t0 >= measure_from:
                    latencies.append(time.perf_counter() - t0)
                    errors += 0 if ok else 1

        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.perf_counter() - measure_from
    return _summary(latencies, errors, elapsed)


async def _paced(
    base: str, request: Request, clients: int, rate: float, duration_s: float, warmup_s: float
) -> dict[str, Any]:
    """Requests on a fixed schedule (``rate`` a second) over at most ``clients`` connections.

    Request ``i`` is due at ``start + i / rate``; a free connection sends the next due request, and its
    latency runs from the due time, so a backlog (every connection busy) shows up in the figures.
    """
    latencies: list[float] = []
    errors = 0
    late_starts = 0
    unsent = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    total = min(int(rate * (warmup_s + duration_s)), _MAX_REQUESTS)
    warm_count = int(rate * warmup_s)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        await _warm(client, request, clients)
        start = time.perf_counter()
        give_up_at = start + warmup_s + duration_s + _BACKLOG_GRACE_S
        next_index = 0

        async def one_connection() -> None:
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
                ok = await _send(client, request)
                if i >= warm_count:
                    latencies.append(time.perf_counter() - due)
                    errors += 0 if ok else 1

        await asyncio.gather(*(one_connection() for _ in range(clients)))
        elapsed = time.perf_counter() - (start + warm_count / rate)
    out = _summary(latencies, errors, elapsed)
    out["offered_rps"] = rate
    out["late_starts"] = late_starts  # requests sent > 1 ms after their due time (every connection was busy)
    out["unsent"] = unsent  # requests still queued when the run gave up (the server fell far behind)
    return out


def _run(args: argparse.Namespace) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="medspeak-api-load-"))
    env = _environment(home, args.patients)
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

        async def healthz(c: httpx.AsyncClient) -> httpx.Response:
            return await c.get("/healthz")

        async def triage(c: httpx.AsyncClient) -> httpx.Response:
            return await c.post("/triage", json=_TRIAGE, headers=headers)

        async def record(c: httpx.AsyncClient) -> httpx.Response:
            return await c.get(f"/patients/{patient_id}/record", headers=headers)

        endpoints: dict[str, tuple[str, Request]] = {
            "healthz": ("GET /healthz (baseline)", healthz),
            "triage": ("POST /triage", triage),
            "record": ("GET /patients/{id}/record", record),
        }
        sampler = _RssSampler(server.pid)
        sampler.start()
        results: dict[str, Any] = {}
        load_before = os.getloadavg()[0]
        counted: dict[str, int] = {}
        for key in args.only.split(","):
            name, request = endpoints[key.strip()]
            request = _counting(request, counted, key)
            shapes: list[tuple[str, Coroutine[Any, Any, dict[str, Any]]]] = []
            if args.mode in ("both", "closed"):
                shapes.append(("closed loop", _closed(base, request, args.clients, args.duration, args.warmup)))
            if args.mode in ("both", "paced"):
                shapes.append(
                    (
                        f"paced {args.rate:g}/s",
                        _paced(base, request, args.clients, args.rate, args.duration, args.warmup),
                    )
                )
            for shape, run in shapes:
                before = len(sampler.samples)
                server_cpu, client_cpu, sent_before = _server_cpu_s(server.pid), time.process_time(), counted[key]
                result = asyncio.run(run)
                # CPU per request (warm-up included in both counts): what a request costs, whatever the
                # other processes on the machine do to the wall-clock figures.
                sent = counted[key] - sent_before
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
            "clients": args.clients,
            "rate": args.rate,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "demo_patients": args.patients,
            "workers": args.workers,
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
    parser.add_argument("--workers", type=int, default=None, help="server processes (default: the server's own)")
    parser.add_argument("--only", default="healthz,triage,record", help="endpoints, comma-separated")
    parser.add_argument("--patients", type=int, default=50, help="demo patients to seed")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args()
    results = _run(args)
    if save_results("api_load", results, print_json=args.json):
        return
    settings = results["settings"]
    sys.stdout.write(
        f"{args.clients} clients, {args.duration:.0f} s per endpoint and load shape, {settings['server_workers']} "
        f"server worker process(es), {os.cpu_count()} CPUs, load average {settings['load_average_1min_before_after']}\n"
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
