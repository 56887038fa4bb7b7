"""Load on the REST API over loopback: bounded, self-stopping, with the server's memory sampled.

Starts uvicorn (``python -m medspeak.api``) in a subprocess on a fresh home with the demo accounts and
seeded demo data, logs in as the demo clinician, then drives each endpoint in turn with N concurrent
async clients for ``--duration`` seconds (after a short warm-up):

- ``GET /healthz``: the baseline (no credential, no audit row, no model), side by side;
- ``POST /triage``: a KTAS proposal (token check, model, explanation, audit row);
- ``GET /patients/{id}/record``: a patient's record (token check, audited read).

Targets (issue 7, on 2 cores): triage p95 <= 50 ms and >= 300 requests/s at 50 clients with 0 errors;
record p95 <= 100 ms. The load generator shares the machine with the server, so figures are a floor.

Run: ``PYTHONPATH=. .venv/bin/python bench/api_load.py [--duration 10] [--clients 50] [--json]``;
``--json`` prints one JSON object: ``{endpoint: {"rps", "p50_ms", "p95_ms", "errors"}, "server_rss_mb": ...}``.
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


def _start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(  # noqa: S603 - fixed arguments, our own interpreter
        [sys.executable, "-m", "medspeak.api", "--port", str(port)],
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
    """The server's resident memory every ``interval_s``."""

    def __init__(self, pid: int, interval_s: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.interval_s = interval_s
        self.samples: list[float] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.samples.append(self.process.memory_info().rss / 2**20)
            except psutil.Error:
                return
            self._stop_event.wait(self.interval_s)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


Request = Callable[[httpx.AsyncClient], Coroutine[Any, Any, httpx.Response]]


async def _drive(base: str, request: Request, clients: int, duration_s: float, warmup_s: float) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    count = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        first = await request(client)  # loads models and caches: a start-up cost, not a per-request one
        if first.status_code >= 400:
            raise SystemExit(f"the first request failed: {first.status_code} {first.text[:200]}")
        start = time.perf_counter()
        measure_from = start + warmup_s
        stop_at = measure_from + duration_s

        async def one_client() -> None:
            nonlocal errors, count
            while count < _MAX_REQUESTS:
                t0 = time.perf_counter()
                if t0 >= stop_at:
                    return
                try:
                    response = await request(client)
                    ok = response.status_code < 400
                except httpx.HTTPError:
                    ok = False
                t1 = time.perf_counter()
                if t0 >= measure_from:
                    count += 1
                    latencies.append(t1 - t0)
                    errors += 0 if ok else 1

        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.perf_counter() - measure_from
    if not latencies:
        return {"rps": 0.0, "p50_ms": 0.0, "p95_ms": 0.0, "errors": errors, "requests": 0}
    return {
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 2),
        "p95_ms": round(1000 * statistics.quantiles(latencies, n=20)[18], 2) if len(latencies) > 1 else 0.0,
        "errors": errors,
        "requests": len(latencies),
    }


def _run(args: argparse.Namespace) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="medspeak-api-load-"))
    env = _environment(home, args.patients)
    _prepare(env)
    port = _free_port()
    server = _start_server(env, port)
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

        sampler = _RssSampler(server.pid)
        sampler.start()
        results: dict[str, Any] = {}
        for name, request in (
            ("GET /healthz (baseline)", healthz),
            ("POST /triage", triage),
            ("GET /patients/{id}/record", record),
        ):
            before = len(sampler.samples)
            results[name] = asyncio.run(_drive(base, request, args.clients, args.duration, args.warmup))
            phase = sampler.samples[before:] or [0.0]
            results[name]["rss_mb_start_end"] = [round(phase[0], 1), round(phase[-1], 1)]
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
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "demo_patients": args.patients,
            "cpus": os.cpu_count(),
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
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--patients", type=int, default=50, help="demo patients to seed")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args()
    results = _run(args)
    if save_results("api_load", results, print_json=args.json):
        return
    sys.stdout.write(f"{args.clients} clients, {args.duration:.0f} s per endpoint, {os.cpu_count()} CPUs\n")
    sys.stdout.write(f"{'endpoint':28} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7} {'RSS MB':>13}\n")
    for name, r in results.items():
        if name in ("server_rss_mb", "settings"):
            continue
        rss_phase = "{} -> {}".format(*r["rss_mb_start_end"])
        sys.stdout.write(
            f"{name:28} {r['rps']:8.1f} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} {r['errors']:7d} {rss_phase:>13}\n"
        )
    rss = results["server_rss_mb"]
    sys.stdout.write(f"server RSS: {rss['start']} MB at start, {rss['end']} MB at end, {rss['max']} MB max\n")


if __name__ == "__main__":
    main()
