"""Security headers on every API response, and ``no-store``: responses carry patient data.

The OpenAPI page (``/docs``) loads Swagger UI from this server (``/docs/assets``, the files that the
``fastapi-offline`` package ships), never from a CDN: its policy allows this origin and nothing else.
References: OWASP Secure Headers Project, RFC 9111 (``no-store``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DOCS_ASSETS", "DOCS_CSS_URL", "DOCS_FAVICON_URL", "DOCS_JS_URL", "SecurityHeaders", "docs_assets_dir"]

DOCS_ASSETS: Final = "/docs/assets"
DOCS_JS_URL: Final = f"{DOCS_ASSETS}/swagger-ui-bundle.js"
DOCS_CSS_URL: Final = f"{DOCS_ASSETS}/swagger-ui.css"
DOCS_FAVICON_URL: Final = f"{DOCS_ASSETS}/favicon.png"
_API_POLICY: Final = b"default-src 'none'; frame-ancestors 'none'"
# 'unsafe-inline' for scripts: FastAPI's Swagger page starts the UI from an inline script.
_DOCS_POLICY: Final = (
    b"default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self'; img-src 'self' data:; "
    b"connect-src 'self'; frame-ancestors 'none'"
)


def docs_assets_dir() -> Path:
    """Swagger UI's files as installed with ``fastapi-offline`` (MIT; Swagger UI 5, for OpenAPI 3.1)."""
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("fastapi-offline is not installed: the API's /docs page needs its files")
    return Path(spec.origin).parent / "static"


_COMMON: Final = [
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


class SecurityHeaders:
    """ASGI middleware: adds the headers to every HTTP response (errors and 429s included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = _DOCS_POLICY if scope["path"] == "/docs" else _API_POLICY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in [*_COMMON, (b"content-security-policy", policy)] if k not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
