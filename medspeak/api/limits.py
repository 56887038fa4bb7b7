"""Request body limits, checked before a byte of the body is read.

Uploads may carry ``max_upload_mb`` plus the multipart envelope; any other request a small JSON
body. A body without ``Content-Length`` (chunked) is refused with 411 so the limit cannot be
dodged. The upload service checks the file's own size again, with the same setting.
"""

from __future__ import annotations

from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from medspeak.api.errors import error_response

__all__ = ["BodySizeLimit", "UPLOAD_PATHS"]

UPLOAD_PATHS: Final = frozenset({"/documents"})
_ENVELOPE_BYTES: Final = 64 * 1024  # multipart boundaries, headers and form fields beside the file
_JSON_BYTES: Final = 256 * 1024  # a triage form or a query is a few hundred bytes


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
