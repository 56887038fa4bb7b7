"""HTTP routes the app's own server answers beside Streamlit's: the login cookie and file exports.

The login cookie is set by the server (``Set-Cookie`` with ``HttpOnly; SameSite=Strict``, and ``Secure``
when the browser came over HTTPS), so no script in the page can read it. A page run cannot send
headers: after a login, the page shows an invisible image whose URL holds a one-time ticket; the
browser's request for it gets the cookie. The ticket lives 60 s and is taken at first use.

Downloads go through authenticated routes rather than Streamlit's media URLs, which anyone holding the
URL can fetch while the button is on screen (no cookie is checked there): ``/_medspeak/fhir/{id}``,
``/_medspeak/gold/{id}``, ``/_medspeak/documents/{id}/original`` and ``/_medspeak/audit.csv`` answer only
to a request carrying a live session's cookie, and each download is audited by the service.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from components.session_cookie import SessionCookie, served_over_https
from medspeak.auth import service as auth
from medspeak.auth.roles import Actor
from medspeak.config import Settings
from medspeak.errors import MedspeakError, NotFound
from medspeak.services import audit_log, documents, record
from medspeak.store.db import Store

__all__ = ["PREFIX", "Tickets", "audit_csv_url", "fhir_url", "gold_url", "original_url", "routes", "tickets"]

PREFIX: Final = "/_medspeak"
_TICKET_SECONDS: Final = 60.0  # the image is requested within a second of the page drawing it
_MAX_TICKETS: Final = 10_000  # bounded: a flood of logins cannot grow the process without end
_CLEAR: Final = ""  # a ticket for this value deletes the cookie (logout)


@dataclass(frozen=True, slots=True)
class _Ticket:
    value: str
    max_age: int
    expires: float  # time.monotonic()


class Tickets:
    """One-time tickets that hand a cookie value from a page run to the browser's next request.

    In the server's memory, not the store: the page run and the route are the same process, and a
    ticket is worth nothing once taken or after a minute.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: dict[str, _Ticket] = {}

    def issue(self, value: str, max_age: int) -> str:
        ticket = secrets.token_urlsafe(24)
        now = self._clock()
        with self._lock:
            self._pending = {k: t for k, t in self._pending.items() if t.expires > now}
            if len(self._pending) >= _MAX_TICKETS:
                self._pending.pop(next(iter(self._pending)))
            self._pending[ticket] = _Ticket(value, max_age, now + _TICKET_SECONDS)
        return ticket

    def take(self, ticket: str) -> _Ticket | None:
        with self._lock:
            found = self._pending.pop(ticket, None)
        return found if found is not None and found.expires > self._clock() else None

    def pending(self, ticket: str) -> bool:
        with self._lock:
            found = self._pending.get(ticket)
        return found is not None and found.expires > self._clock()


tickets = Tickets()  # one per server process: the page runs and the routes share it


def original_url(document_id: int) -> str:
    """Where the browser downloads a document's original (its session cookie is checked there)."""
    return f"{PREFIX}/documents/{document_id}/original"


def gold_url(patient_id: int) -> str:
    """Where the browser downloads a patient's reviewed facts as gold JSONL (its session cookie is checked)."""
    return f"{PREFIX}/gold/{patient_id}"


def fhir_url(patient_id: int) -> str:
    """Where the browser downloads a patient's FHIR bundle (its session cookie is checked there)."""
    return f"{PREFIX}/fhir/{patient_id}"


def audit_csv_url(filters: audit_log.AuditFilter) -> str:
    """Where an admin downloads every audit event matching ``filters`` as CSV (streamed; cookie checked)."""
    query = {
        "user": filters.username or "",
        "action": filters.action or "",
        "outcome": filters.outcome or "",
        "patient": "" if filters.patient_id is None else str(filters.patient_id),
        "since": filters.since.date().isoformat() if filters.since else "",
        "until": filters.until.date().isoformat() if filters.until else "",
    }
    return f"{PREFIX}/audit.csv?" + urlencode({k: v for k, v in query.items() if v})


def _audit_filter(params: dict[str, str]) -> audit_log.AuditFilter:
    """The filters of an ``audit.csv`` request (``ValueError``: a malformed id or day)."""
    since, until, patient = params.get("since"), params.get("until"), params.get("patient")
    return audit_log.AuditFilter.of_days(
        username=params.get("user"),
        action=params.get("action"),
        outcome=params.get("outcome"),
        patient_id=int(patient) if patient else None,
        since=date.fromisoformat(since) if since else None,
        until=date.fromisoformat(until) if until else None,
    )


def _cookie_route(settings: Callable[[], Settings]) -> Callable[[Request], Response]:
    def set_cookie(request: Request) -> Response:
        found = tickets.take(request.path_params["ticket"])
        response = Response(status_code=204, headers={"Cache-Control": "no-store"})
        if found is None:
            response.status_code = 404
            return response
        name = settings().cookie_name
        if found.value == _CLEAR:
            response.delete_cookie(name, path="/", httponly=True, samesite="strict")
            return response
        response.set_cookie(
            name,
            found.value,
            max_age=found.max_age,
            path="/",
            httponly=True,
            samesite="strict",
            secure=served_over_https(str(request.url), dict(request.headers)),
        )
        return response

    return set_cookie


_NO_STORE: Final = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _download(
    settings: Callable[[], Settings], store: Callable[[], Store], build: Callable[[Store, Actor, int], Response]
) -> Callable[[Request], Response]:
    """A route that answers only to a live session's cookie; ``build`` calls the (audited) service."""

    def download(request: Request) -> Response:
        conf = settings()
        cookie = SessionCookie(conf.cookie_name, conf.cookie_key.get_secret_value())
        try:
            item_id = int(request.path_params["item_id"])
            actor, _ = auth.resolve_session(store(), cookie.decode(request.cookies.get(conf.cookie_name)))
            return build(store(), actor, item_id)
        except (ValueError, MedspeakError) as exc:
            status = exc.http_status if isinstance(exc, MedspeakError) else 404
            return PlainTextResponse(str(exc), status_code=status, headers=_NO_STORE)

    return download


def _audit_export(settings: Callable[[], Settings], store: Callable[[], Store]) -> Callable[[Request], Response]:
    """``/_medspeak/audit.csv``: every matching event, streamed; refused (before any byte) but to an admin."""

    def export(request: Request) -> Response:
        conf = settings()
        cookie = SessionCookie(conf.cookie_name, conf.cookie_key.get_secret_value())
        try:
            filters = _audit_filter(dict(request.query_params))
            actor, _ = auth.resolve_session(store(), cookie.decode(request.cookies.get(conf.cookie_name)))
            chunks = audit_log.export_csv(store(), actor, filters)
        except ValueError:
            return PlainTextResponse("Invalid filter.", status_code=400, headers=_NO_STORE)
        except MedspeakError as exc:
            return PlainTextResponse(str(exc), status_code=exc.http_status, headers=_NO_STORE)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        headers = {**_NO_STORE, "Content-Disposition": _attachment(f"audit-{stamp}.csv")}
        return StreamingResponse(chunks, media_type="text/csv; charset=utf-8", headers=headers)

    return export


def _attachment(filename: str) -> str:
    """``Content-Disposition`` for a client-given filename: RFC 6266 / 5987, no quoting games."""
    ascii_name = "".join(c if c.isascii() and c.isalnum() or c in "-_." else "_" for c in filename)[:100]
    return f"attachment; filename=\"{ascii_name or 'download'}\"; filename*=UTF-8''{quote(filename[:200], safe='')}"


def _fhir(store: Store, actor: Actor, patient_id: int) -> Response:
    export = record.fhir_export(store, actor, patient_id)
    headers = {**_NO_STORE, "Content-Disposition": _attachment(export.filename)}
    return Response(export.content, media_type="application/fhir+json", headers=headers)


def _gold(store: Store, actor: Actor, patient_id: int) -> Response:
    lines = record.export_gold(store, actor, patient_id=patient_id)
    if not lines:
        raise NotFound("No document of this patient has all its facts reviewed yet.")
    headers = {**_NO_STORE, "Content-Disposition": _attachment(f"gold-patient-{patient_id}.jsonl")}
    return Response(record.gold_jsonl(lines), media_type="application/jsonl", headers=headers)


def _original(store: Store, actor: Actor, document_id: int) -> Response:
    doc, content = documents.read_original(store, actor, document_id)
    # sandbox: should a browser ever render it, an original runs no script on this origin.
    headers = {**_NO_STORE, "Content-Disposition": _attachment(doc.display_name), "Content-Security-Policy": "sandbox"}
    return Response(content, media_type=doc.media_type, headers=headers)


def routes(settings: Callable[[], Settings], store: Callable[[], Store]) -> list[Route]:
    """The routes, given how to reach the settings and the store (built lazily: the first request opens it)."""
    return [
        Route(f"{PREFIX}/cookie/{{ticket}}", _cookie_route(settings), methods=["GET"]),
        Route(f"{PREFIX}/fhir/{{item_id}}", _download(settings, store, _fhir), methods=["GET"]),
        Route(f"{PREFIX}/documents/{{item_id}}/original", _download(settings, store, _original), methods=["GET"]),
        Route(f"{PREFIX}/gold/{{item_id}}", _download(settings, store, _gold), methods=["GET"]),
        Route(f"{PREFIX}/audit.csv", _audit_export(settings, store), methods=["GET"]),
    ]
