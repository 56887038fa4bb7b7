"""Request limits, checked before a byte of the body is read: body size, and requests a minute.

Uploads may carry ``max_upload_mb`` plus the multipart envelope; any other request a small JSON
body. A body without ``Content-Length`` (chunked) is refused with 411 so the limit cannot be
dodged. The upload service checks the file's own size again, with the same setting.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from medspeak.api.errors import error_response

__all__ = ["BodySizeLimit", "RateLimit", "SlidingWindow", "UPLOAD_PATHS"]

UPLOAD_PATHS: Final = frozenset({"/documents"})
_ENVELOPE_BYTES: Final = 64 * 1024  # multipart boundaries, headers and form fields beside the file
_JSON_BYTES: Final = 256 * 1024  # a triage form or a query is a few hundred bytes
_UNLIMITED_PATHS: Final = frozenset({"/healthz"})


class BodySizeLimit:
    """ASGI middleware: 413 when ``Content-Length`` is over the path's limit, 411 for chunked bodies."""

    def __init__(self, app: ASGIApp, *, max_upload_bytes: int) -> None:
        self.app = app
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        limit = self.max_upload_bytes + _ENVELOPE_BYTES if scope["path"] in UPLOAD_PATHS else _JSON_BYTES
        length = headers.get(b"content-length")
        if length is None and headers.get(b"transfer-encoding"):
            response = error_response(411, "length_required", "Send the request with a Content-Length header.")
            await response(scope, receive, send)
            return
        try:
            too_big = length is not None and int(length) > limit
        except ValueError:
            response = error_response(400, "bad_request", "Content-Length is not a number.")
            await response(scope, receive, send)
            return
        if too_big:
            mib = limit / 2**20
            response = error_response(
                413, "payload_too_large", f"The request is larger than the {mib:.1f} MiB this endpoint accepts."
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class SlidingWindow:
    """Per-client request counts over a sliding minute, in O(1) memory per client.

    The sliding-window-counter approximation: the previous fixed window's count, weighted by how
    much of it still overlaps the last ``window_s``, plus the current window's count. Clients seen
    longest ago are forgotten first beyond ``max_clients``, so a flood of addresses cannot grow it.
    """

    def __init__(self, limit: int, window_s: float = 60.0, *, max_clients: int = 50_000) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_clients = max_clients
        self._counts: OrderedDict[str, tuple[int, int, int]] = OrderedDict()  # key -> (window no., prev, current)

    def hit(self, key: str, now: float | None = None) -> float:
        """Count one request; returns 0 when allowed, else the seconds to wait (nothing counted)."""
        now = time.monotonic() if now is None else now
        window, into = divmod(now, self.window_s)
        number = int(window)
        start, prev, cur = self._counts.pop(key, (number, 0, 0))
        if number == start + 1:
            prev, cur = cur, 0
        elif number > start + 1:
            prev, cur = 0, 0
        fraction = into / self.window_s
        estimate = prev * (1 - fraction) + cur
        if estimate + 1 > self.limit:
            self._counts[key] = (number, prev, cur)
            return self._wait(prev, cur, fraction)
        self._counts[key] = (number, prev, cur + 1)
        while len(self._counts) > self.max_clients:
            self._counts.popitem(last=False)
        return 0.0

    def _wait(self, prev: int, cur: int, fraction: float) -> float:
        if cur + 1 > self.limit:  # only the next window can help: wait until cur's weight has dropped enough
            needed = 1 - (self.limit - 1) / cur
            return (1 - fraction + needed) * self.window_s
        needed = 1 - (self.limit - cur - 1) / prev  # prev > 0 here
        return max(needed - fraction, 0.0) * self.window_s


def _client_key(scope: Scope, headers: dict[bytes, bytes]) -> str:
    """The credential when one is sent (a JWT or an API key, hashed), else the peer address."""
    credential = headers.get(b"x-api-key") or headers.get(b"authorization")
    if credential:
        # The credential itself, not its spelling: "bearer", "BEARER" and extra spaces name the same token
        # (keyed by the raw header, 40 spellings of "Bearer" gave 40 budgets).
        parts = credential.split(None, 1)
        if len(parts) == 2 and parts[0].lower() == b"bearer":
            credential = parts[1]
        return "cred:" + hashlib.sha256(credential.strip()).hexdigest()[:32]
    client = scope.get("client")
    return "ip:" + (client[0] if client else "unknown")


class RateLimit:
    """ASGI middleware: 429 with ``Retry-After`` beyond the settings' per-minute limits.

    ``POST /token`` is limited per client address (password guessing from one place; the per-account
    lockout covers guessing from many); every other route per credential, else per address.
    ``/healthz`` is never limited (load balancers poll it).

    The counters live in the process. Behind N server processes ``create_app`` gives each 1/N of the
    configured limits (rounded up), so a client spread over every process never exceeds them; one whose
    connections all land in a single process gets at least 1/N. The per-account lockout is in the
    database and exact whatever the number of processes.
    """

    def __init__(self, app: ASGIApp, *, token_per_minute: int, api_per_minute: int) -> None:
        self.app = app
        self.token = SlidingWindow(token_per_minute) if token_per_minute else None
        self.api = SlidingWindow(api_per_minute) if api_per_minute else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        wait = 0.0
        if self.token is not None and scope["path"] == "/token" and scope.get("method") == "POST":
            client = scope.get("client")
            wait = self.token.hit("ip:" + (client[0] if client else "unknown"))
        if not wait and self.api is not None:
            wait = self.api.hit(_client_key(scope, {k.lower(): v for k, v in scope.get("headers", [])}))
        if wait:
            seconds = max(1, math.ceil(wait))
            response = error_response(
                429, "rate_limited", f"Too many requests; retry in {seconds} s.", {"Retry-After": str(seconds)}
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
