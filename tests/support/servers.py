"""A server process on a free loopback port, for tests that talk to a real one (the API, the app in a browser).

A port found free can be taken by another process before the server binds it: a server that exits while
starting is started again on another port, and one that never answers fails the test with its own log.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

_ATTEMPTS = 3  # a port race lost three times in a row means something else is wrong
_START_BUDGET_S = 180.0  # a cold start (imports, migration, models) on 2 busy cores; ~5-20 s when idle


def free_port() -> int:
    """A loopback port no process listens on right now (it may be taken before it is used: see ``serve``)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback URL built by the test
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def serve(
    command: Callable[[int], list[str]],
    health_path: str,
    log: Path,
    **popen: object,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start ``command(port)`` and yield its base URL and process once ``health_path`` answers 200.

    The server's output goes to ``log`` (shown when it fails to start); it is stopped on exit.
    """
    for _attempt in range(_ATTEMPTS):
        port = free_port()
        with log.open("ab") as out:
            proc = subprocess.Popen(command(port), stdout=out, stderr=subprocess.STDOUT, **popen)  # type: ignore[call-overload]  # noqa: S603
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + _START_BUDGET_S
        while proc.poll() is None and time.monotonic() < deadline and not _healthy(base + health_path):
            time.sleep(0.2)
        if proc.poll() is None and _healthy(base + health_path):
            try:
                yield base, proc
            finally:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
            return
        if proc.poll() is None:  # alive but silent for the whole budget: not a port race
            proc.kill()
            proc.wait(10)
            break
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    pytest.fail(f"the server did not start ({_ATTEMPTS} ports tried or {_START_BUDGET_S:.0f} s); its log:\n{tail}")
