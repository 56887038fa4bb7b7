"""One error body for every failure: ``{"error": {"code", "message"}}``.

Domain exceptions carry messages safe to show (no PHI, no secrets); anything else becomes a
generic 500 whose detail stays in the log: where it failed, not the message (which may quote data).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from medspeak.errors import (
    AccountLocked,
    IngestFailed,
    InvalidCredentials,
    MedspeakError,
    NotFound,
    PermissionDenied,
    SessionInvalid,
    StorageFull,
    StoreUnavailable,
    UploadRejected,
    ValidationFailed,
    safe_traceback,
)
from medspeak.los.artifact import ModelUnavailable as LosModelUnavailable
from medspeak.triage.model import ModelUnavailable as TriageModelUnavailable

__all__ = ["ErrorBody", "ErrorDetail", "error_response", "install"]

_log = logging.getLogger(__name__)

# Most specific first: the first class an exception is an instance of decides.
_STATUS: Final[tuple[tuple[type[MedspeakError], int, str], ...]] = (
    (AccountLocked, 423, "account_locked"),
    (InvalidCredentials, 401, "invalid_credentials"),
    (SessionInvalid, 401, "not_authenticated"),
    (PermissionDenied, 403, "permission_denied"),
    (NotFound, 404, "not_found"),
    (UploadRejected, 422, "upload_rejected"),
    (ValidationFailed, 422, "validation_failed"),
    (IngestFailed, 422, "ingest_failed"),
    (StorageFull, 503, "storage_full"),
    (StoreUnavailable, 503, "store_unavailable"),
    (LosModelUnavailable, 503, "model_unavailable"),
    (TriageModelUnavailable, 503, "model_unavailable"),
)
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


class ErrorBody(BaseModel):
    """The body of every 4xx and 5xx response."""

    error: ErrorDetail


def error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """A JSON error response with the house body."""
    body = ErrorBody(error=ErrorDetail(code=code, message=message))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _bearer_challenge(status: int) -> dict[str, str] | None:
    return {"WWW-Authenticate": "Bearer"} if status == 401 else None


async def _domain(_: Request, exc: Exception) -> JSONResponse:
    for cls, status, code in _STATUS:
        if isinstance(exc, cls):
            return error_response(status, code, str(exc), _bearer_challenge(status))
    return error_response(400, "refused", str(exc))


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


async def _database(_: Request, exc: Exception) -> JSONResponse:
    # The driver's text may quote SQL and values: it goes to the log, never to the client.
    reason = str(getattr(exc, "orig", exc)).lower()
    _log.error("API request failed in the database:\n%s", safe_traceback(exc))
    if "full" in reason or "no space" in reason:  # SQLite "database or disk is full"; PostgreSQL "No space left"
        return error_response(
            503, "storage_full", "The database is full: nothing was saved. Ask an administrator to free disk space."
        )
    if "locked" in reason or "busy" in reason:
        return error_response(
            503, "database_busy", "The database is busy; nothing was saved. Retry shortly.", {"Retry-After": "2"}
        )
    return error_response(503, "store_unavailable", "The database is not available; nothing was saved.")


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    _log.error("API request failed:\n%s", safe_traceback(exc))
    return error_response(500, "internal_error", "Internal error; it was logged.")


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(MedspeakError, _domain)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(DataError, _out_of_range)
    app.add_exception_handler(OperationalError, _database)
    app.add_exception_handler(Exception, _unexpected)
