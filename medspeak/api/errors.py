"""One error body for every failure: ``{"error": {"code", "message"[, "correlation_id"]}}``.

Domain exceptions carry messages safe to show (no PHI, no secrets) and their own HTTP status
(``medspeak.errors``); anything else is a fault of ours: a 500. Every 5xx gets a correlation id, in the
body, the ``X-Correlation-Id`` header and the log line, whose detail is where it failed (types, files,
lines), never a message (which may quote data); and an audit row (outcome ``error``) when the request
carried a valid credential.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from medspeak.api import deps
from medspeak.auth.roles import Actor
from medspeak.errors import LoginThrottled, MedspeakError, safe_traceback
from medspeak.services import audit_log

__all__ = ["ErrorBody", "ErrorDetail", "error_response", "install"]

_log = logging.getLogger(__name__)

_HTTP_CODES: Final = {
    401: "not_authenticated",
    404: "not_found",
    405: "method_not_allowed",
    411: "length_required",
    413: "payload_too_large",
}


class ErrorDetail(BaseModel):
    code: str
    message: str
    correlation_id: str | None = None  # 5xx only: quote it to an administrator; the log line carries it


class ErrorBody(BaseModel):
    """The body of every 4xx and 5xx response."""

    error: ErrorDetail


def error_response(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    correlation_id: str | None = None,
) -> JSONResponse:
    """A JSON error response with the house body."""
    body = ErrorBody(error=ErrorDetail(code=code, message=message, correlation_id=correlation_id))
    if correlation_id is not None:
        headers = {**(headers or {}), "X-Correlation-Id": correlation_id}
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def _where(request: Request) -> str:
    """Method and route template (``GET /patients/{patient_id}``): the ids stay out, and no query string."""
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', None) or request.url.path}"


async def _credentials(request: Request) -> deps.Credentials | None:
    try:
        return await deps.credentials_of(request)
    except Exception:  # noqa: BLE001 - no credential, or a forged or expired one: nobody to attribute it to
        return None


def _audit_failure(request: Request, credentials: deps.Credentials | None, correlation_id: str, error: str) -> None:
    """An audit row for a failure met by a known actor (a store lookup and a write: call it off the event loop)."""
    if credentials is None:
        return
    try:
        actor: Actor = credentials.actor()
    except MedspeakError:  # the session ended or the key was revoked: nobody to attribute it to
        return
    try:
        audit_log.record_error(credentials.store, actor, _where(request), correlation_id, error)
    except Exception as exc:  # noqa: BLE001 - the store may be what failed (full disk): the log line stays
        _log.error("audit row for failure %s not written:\n%s", correlation_id, safe_traceback(exc))


async def _server_fault(
    request: Request,
    exc: Exception,
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A 5xx: a correlation id in the answer, the log line and an audit row; no message of the exception."""
    correlation_id = uuid.uuid4().hex
    _log.error(
        "API request %s failed: %s, answered %d %s [correlation %s]\n%s",
        _where(request),
        type(exc).__qualname__,
        status,
        code,
        correlation_id,
        safe_traceback(exc),
    )
    await run_in_threadpool(_audit_failure, request, await _credentials(request), correlation_id, code)
    return error_response(
        status, code, f"{message} Reference: {correlation_id}.", headers, correlation_id=correlation_id
    )


def _bearer_challenge(status: int) -> dict[str, str] | None:
    return {"WWW-Authenticate": "Bearer"} if status == 401 else None


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MedspeakError)  # noqa: S101 - registered for this class only
    if exc.http_status >= 500:  # a fault on our side: traced and audited
        return await _server_fault(request, exc, exc.http_status, exc.code, str(exc))
    headers = _bearer_challenge(exc.http_status)
    if isinstance(exc, LoginThrottled):
        headers = {"Retry-After": str(exc.retry_after)}
    return error_response(exc.http_status, exc.code, str(exc), headers)


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for this class only
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), exc.headers or _bearer_challenge(exc.status_code))


async def _request_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for this class only
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg", "invalid")))
    return error_response(422, "validation_failed", "; ".join(parts) or "The request is not valid.")


async def _out_of_range(_: Request, exc: Exception) -> JSONResponse:
    # A number the database cannot hold (SQLite: > 2**63; PostgreSQL INTEGER: > 2**31) names no row. Routes
    # bound their ids (deps.DbId); this keeps a route that forgot from answering 500.
    _log.info("API request refused: %s reached the database driver", type(exc).__name__)
    return error_response(422, "validation_failed", "A number in the request is out of range.")


async def _database(request: Request, exc: Exception) -> JSONResponse:
    # The driver's text may quote SQL and values: it is read for its kind here, and goes nowhere.
    reason = str(getattr(exc, "orig", exc)).lower()
    if "full" in reason or "no space" in reason:  # SQLite "database or disk is full"; PostgreSQL "No space left"
        return await _server_fault(
            request,
            exc,
            503,
            "storage_full",
            "The database is full: nothing was saved. Ask an administrator to free disk space.",
        )
    if "locked" in reason or "busy" in reason:
        return await _server_fault(
            request, exc, 503, "database_busy", "The database is busy; nothing was saved. Retry shortly.",
            {"Retry-After": "2"},
        )  # fmt: skip
    return await _server_fault(
        request, exc, 503, "store_unavailable", "The database is not available; nothing was saved."
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    return await _server_fault(request, exc, 500, "internal_error", "Internal error; it was logged.")


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(MedspeakError, _domain)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(DataError, _out_of_range)
    app.add_exception_handler(OperationalError, _database)
    app.add_exception_handler(Exception, _unexpected)
