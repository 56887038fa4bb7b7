"""The FastAPI application over the same services as the pages, and ``serve`` to run it.

The API holds no rules of its own: every route calls a service, which checks the role and
writes the audit trail. CORS stays closed (no middleware): browsers on other origins get no
access; an integrator calls the API from a server.

``serve`` runs one uvicorn process a CPU core by default (``MEDSPEAK_API_WORKERS``): a triage is a
few milliseconds of CPU in Python, so a single process, held to one core by the GIL, is the limit.
Each process accepts on a ``SO_REUSEPORT`` socket of its own, so the kernel spreads connections over
them. The processes share the database (SQLite in WAL mode queues the writers; the audit chain is
appended under the write lock) and nothing else: each keeps its own rate-limit counters, so each
enforces its share of the limits and the total stays within them.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

from anyio import to_thread
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from medspeak.api import errors
from medspeak.api.headers import (
    DOCS_ASSETS,
    DOCS_CSS_URL,
    DOCS_FAVICON_URL,
    DOCS_JS_URL,
    SecurityHeaders,
    docs_assets_dir,
)
from medspeak.api.limits import BodySizeLimit, RateLimit
from medspeak.api.logs import log_config
from medspeak.api.routes import audit, auth, documents, health, los, patients, triage
from medspeak.config import Settings, load_settings, weak_secret_reason
from medspeak.errors import MedspeakError
from medspeak.services.context import AppContext

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "FirstUseApp", "create_app", "served_app", "serve", "worker_count"]

DEFAULT_HOST: Final = "127.0.0.1"  # loopback: put a TLS reverse proxy in front to expose it
DEFAULT_PORT: Final = 8000
_log = logging.getLogger(__name__)


def _share(limit: int, processes: int) -> int:
    """One process's share of a per-minute limit (0, no limit, stays 0)."""
    return limit and max(1, math.ceil(limit / processes))


def create_app(settings: Settings | None = None, *, processes: int = 1, context: AppContext | None = None) -> FastAPI:
    """Build the API over an application context; the store must be migrated.

    ``context``: the one to serve (its owner closes it); else the app builds its own over ``settings`` (the
    environment's when not given) and closes it when the server stops. ``processes``: how many server
    processes share the port; each enforces that share of the rate limits.
    """
    if context is not None:
        settings = context.settings
    elif settings is None:
        settings = load_settings()
    reason = weak_secret_reason(settings)  # settings built by model_copy skipped their validation
    if reason:
        raise ValueError(reason)  # before the context opens its store: a refused start leaves nothing open
    ctx = context if context is not None else AppContext(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Store and model work runs on this many threads; more requests wait for a free one. Python runs
        # one thread at a time (the GIL), so beyond a few threads more only add switching (futex calls,
        # measured as system time) and more writers queueing for the database lock.
        to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
        yield
        if context is None:
            ctx.close()

    app = FastAPI(
        lifespan=lifespan,
        title="medspeak API",
        summary="Clinical decision support over the medspeak services: documents, patients, triage, stays, beds.",
        version="0.1.0",
        docs_url=None,  # served below, with Swagger UI's files from this server
        redoc_url=None,
        responses={
            401: {"model": errors.ErrorBody, "description": "No, expired or revoked token or API key"},
            403: {"model": errors.ErrorBody, "description": "The role does not allow this"},
            404: {"model": errors.ErrorBody, "description": "No such patient, stay, document or job"},
            422: {"model": errors.ErrorBody, "description": "Input refused, with the reason"},
            429: {"model": errors.ErrorBody, "description": "Too many requests; wait for Retry-After seconds"},
            500: {"model": errors.ErrorBody, "description": "A fault on our side; quote its correlation_id"},
            503: {"model": errors.ErrorBody, "description": "The database, the disk or a model is not available"},
        },
    )
    app.state.context = ctx
    app.state.settings = settings
    app.state.store = ctx.store
    errors.install(app)
    app.add_middleware(BodySizeLimit, max_upload_bytes=settings.max_upload_bytes)
    # Added last, so it runs first: a client over its limit costs no parsing.
    app.add_middleware(
        RateLimit,
        token_per_minute=_share(settings.token_rate_per_minute, processes),
        api_per_minute=_share(settings.api_rate_per_minute, processes),
    )
    # Added last, so it runs first: every response, a 429 included, gets the headers.
    app.add_middleware(SecurityHeaders)
    for module in (health, auth, documents, patients, triage, los, audit):
        app.include_router(module.router)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="medspeak API",
            swagger_js_url=DOCS_JS_URL,
            swagger_css_url=DOCS_CSS_URL,
            swagger_favicon_url=DOCS_FAVICON_URL,
            oauth2_redirect_url="/docs/oauth2-redirect",
        )

    app.mount(DOCS_ASSETS, StaticFiles(directory=docs_assets_dir()), name="docs-assets")

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def docs_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    return app


def worker_count(settings: Settings) -> int:
    """Server processes: ``MEDSPEAK_API_WORKERS``, or one a CPU core when it is 0."""
    return settings.api_workers or os.cpu_count() or 1


def served_app(processes: int | None = None) -> FastAPI:
    """The app of one server process (uvicorn's factory), with the triage model loaded before the first request.

    ``processes``: how many serve the port and share the rate limits (default: ``worker_count``).
    """
    settings = load_settings()
    app = create_app(settings, processes=processes or worker_count(settings))
    try:
        app.state.context.models.triage()  # ~1 s: paid at start, not by the first patient of each process
    except MedspeakError as exc:  # no model: the triage routes answer 503 with the reason; the rest works
        _log.warning("triage model not loaded: %s", type(exc).__name__)
    return app


class FirstUseApp:
    """The ASGI app behind ``uvicorn medspeak.api:app``: built when the server starts, not at import.

    On the server's first event (its lifespan start-up) the store is migrated and the served app built, as
    ``serve`` does for each of its processes. uvicorn started this way runs one process unless told
    otherwise; with ``--workers N`` set ``MEDSPEAK_API_WORKERS=N`` too, so that each process enforces its
    share of the rate limits (unset, each process counts as the only one).
    """

    def __init__(self) -> None:
        self._app: FastAPI | None = None
        self._lock = threading.Lock()

    def _build(self) -> FastAPI:
        with self._lock:
            if self._app is None:
                settings = load_settings()
                with AppContext(settings) as ctx:
                    ctx.store.migrate()
                self._app = served_app(processes=settings.api_workers or 1)
            return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await (self._app or self._build())(scope, receive, send)


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, workers: int | None = None) -> None:
    """Migrate the store, then serve the API with uvicorn until interrupted.

    ``workers``: server processes (``MEDSPEAK_API_WORKERS`` when not given; 0 there means one a core).
    """
    import uvicorn

    settings = load_settings()
    with AppContext(settings) as ctx:
        ctx.store.migrate()
    processes = workers or worker_count(settings)
    # Each server process builds its context from the environment (served_app): tell it how many share the port.
    os.environ["MEDSPEAK_API_WORKERS"] = str(processes)
    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        "proxy_headers": False,
        "server_header": False,
        "log_config": log_config(),  # the access log keeps paths (ids), never query strings (names searched)
    }
    if processes == 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(_APP, workers=processes if processes > 1 else None, **options)
    else:
        _serve_balanced(uvicorn.Config(_APP, workers=processes, **options), host, port)


_APP: Final = "medspeak.api.app:served_app"


def reuse_port_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` sockets bound to one address with ``SO_REUSEPORT`` (port 0: the first one's port for all).

    The kernel spreads new connections over them by a hash of each connection's addresses. With one shared
    socket (uvicorn's own ``workers``), the first process to wake accepts every pending connection: 50
    keep-alive clients connecting at once could all land on one process while the other idled (measured:
    164 triage requests/s with the load on one process, 330-390 with it spread).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _serve_balanced(config: Any, host: str, port: int) -> None:
    """uvicorn's supervisor (signals, health checks, restarts), each worker on a ``SO_REUSEPORT`` socket of its own.

    A worker restarted after a crash listens on all the sockets: still served, if less evenly.

    Kept, with its measured reason (``reuse_port_sockets``: 164 triage requests/s with one shared socket,
    330-390 with one socket a process). gunicorn's ``--reuse-port`` does not give that: its arbiter binds the
    listeners once and every worker inherits the same socket (the option only lets a second gunicorn bind
    the port). N plain uvicorn processes (``uvicorn --fd``) would need a supervisor of our own for signals and
    restarts, which is what this reuses. The one method overridden is checked against uvicorn's own by
    ``tests/api/test_serving.py``, so an uvicorn release that changes it fails a test, not a deployment.
    """
    from uvicorn.supervisors.multiprocess import Multiprocess, Process

    class OneSocketEach(Multiprocess):
        def init_processes(self) -> None:
            for sock in self.sockets:
                process = Process(self.config, [sock])
                process.start()
                self.processes.append(process)

    sockets = reuse_port_sockets(host, port, config.workers)
    try:
        OneSocketEach(config, sockets).run()
    except KeyboardInterrupt:
        pass
    finally:
        for sock in sockets:
            sock.close()
