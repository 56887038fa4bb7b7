"""Security headers on every API response, and ``no-store``: responses carry patient data.

The OpenAPI page (``/docs``) loads Swagger UI from a CDN at a pinned version; its policy allows that
host and nothing else. References: OWASP Secure Headers Project, RFC 9111 (``no-store``).
"""

from __future__ import annotations

from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DOCS_CSS_URL", "DOCS_JS_URL", "SecurityHeaders"]

_SWAGGER: Final = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.17.14"  # pinned: a moving "@5" runs any release
DOCS_JS_URL: Final = f"{_SWAGGER}/swagger-ui-bundle.js"
DOCS_CSS_URL: Final = f"{_SWAGGER}/swagger-ui.css"
_API_POLICY: Final = b"default-src 'none'; frame-ancestors 'none'"
_DOCS_POLICY: Final = (
    b"default-src 'none'; script-src https://cdn.jsdelivr.net 'unsafe-inline'; style-src https://cdn.jsdelivr.net; "
    b"img-src data: https://fastapi.tiangolo.com; connect-src 'self'; frame-ancestors 'none'"
)
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
