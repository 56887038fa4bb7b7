"""The FastAPI application over the same services as the pages, and ``serve`` to run it.

The API holds no rules of its own: every route calls a service, which checks the role and
writes the audit trail. CORS stays closed (no middleware): browsers on other origins get no
access; an integrator calls the API from a server.
"""

from __future__ import annotations

from typing import Final

from fastapi import FastAPI

from medspeak.api import errors
from medspeak.api.limits import BodySizeLimit, RateLimit
from medspeak.api.logs import log_config
from medspeak.api.routes import audit, auth, documents, health, los, patients, triage
from medspeak.config import Settings, get_settings
from medspeak.store.db import get_store

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "create_app", "serve"]

DEFAULT_HOST: Final = "127.0.0.1"  # loopback: put a TLS reverse proxy in front to expose it
DEFAULT_PORT: Final = 8000


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API for ``settings`` (the process settings when not given); the store must be migrated."""
    settings = settings or get_settings()
    app = FastAPI(
        title="medspeak API",
        summary="Clinical decision support over the medspeak services: documents, patients, triage, stays, beds.",
        version="0.1.0",
        docs_url="/docs",
        redoc_url=None,
        responses={
            401: {"model": errors.ErrorBody, "description": "No, expired or revoked token or API key"},
            403: {"model": errors.ErrorBody, "description": "The role does not allow this"},
            404: {"model": errors.ErrorBody, "description": "No such patient, stay, document or job"},
            422: {"model": errors.ErrorBody, "description": "Input refused, with the reason"},
            429: {"model": errors.ErrorBody, "description": "Too many requests; wait for Retry-After seconds"},
            503: {"model": errors.ErrorBody, "description": "The database or a model is not available"},
        },
    )
    app.state.settings = settings
    app.state.store = get_store(settings)
    errors.install(app)
    app.add_middleware(BodySizeLimit, max_upload_bytes=settings.max_upload_mb * 2**20)
    # Added last, so it runs first: a client over its limit costs no parsing.
    app.add_middleware(
        RateLimit, token_per_minute=settings.token_rate_per_minute, api_per_minute=settings.api_rate_per_minute
    )
    for module in (health, auth, documents, patients, triage, los, audit):
        app.include_router(module.router)
    return app


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Migrate the store, then serve the API with uvicorn until interrupted."""
    import uvicorn

    settings = get_settings()
    get_store(settings).migrate()
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        proxy_headers=False,
        server_header=False,
        log_config=log_config(),  # the access log keeps paths (ids), never query strings (names searched)
    )
