"""Issue 19, low findings: the login cookie set by the server (HttpOnly), and a FHIR export that a client
without the user's session cannot fetch (before: a Streamlit media URL served it to anyone)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from components import web_routes
from components.session_cookie import SessionCookie
from medspeak.auth import service as auth
from medspeak.auth.roles import Actor
from medspeak.services import audit_log
from medspeak.store.db import Store
from medspeak.store.types import utcnow
from tests.conftest import PASSWORD
from tests.support.api import TEXT_NOTE, Seeded, count_events


@pytest.fixture
def web(store: Store) -> TestClient:
    app = Starlette(routes=web_routes.routes(lambda: store.settings, lambda: store))
    return TestClient(app, base_url="http://127.0.0.1:8501")


def _cookie_value(store: Store, username: str) -> str:
    result = auth.login(store, username, PASSWORD)
    settings = store.settings
    return SessionCookie(settings.cookie_name, settings.cookie_key.get_secret_value()).encode(
        result.token, result.expires_at
    )


def test_the_cookie_is_set_by_the_server_httponly_strict_and_once(web: TestClient, store: Store) -> None:
    ticket = web_routes.tickets.issue("value-of-the-cookie", 3600)
    r = web.get(f"/_medspeak/cookie/{ticket}")
    assert r.status_code == 204
    header = r.headers["set-cookie"]
    assert header.startswith(f"{store.settings.cookie_name}=value-of-the-cookie;")
    flags = {part.strip().lower() for part in header.split(";")}
    assert {"httponly", "samesite=strict", "path=/", "max-age=3600"} <= flags
    assert "secure" not in flags  # plain HTTP on loopback: a Secure cookie would never come back
    assert web.get(f"/_medspeak/cookie/{ticket}").status_code == 404  # one use
    assert "set-cookie" not in web.get("/_medspeak/cookie/guessed-ticket").headers


def test_the_cookie_is_secure_behind_a_tls_proxy(web: TestClient) -> None:
    ticket = web_routes.tickets.issue("v", 60)
    r = web.get(f"/_medspeak/cookie/{ticket}", headers={"X-Forwarded-Proto": "https"})
    assert "secure" in {p.strip().lower() for p in r.headers["set-cookie"].split(";")}


def test_a_ticket_expires_after_a_minute() -> None:
    now = [1000.0]
    tickets = web_routes.Tickets(clock=lambda: now[0])
    ticket = tickets.issue("v", 60)
    now[0] += 61
    assert not tickets.pending(ticket) and tickets.take(ticket) is None


def test_a_fhir_export_is_served_only_with_a_live_session(
    web: TestClient, store: Store, actors: dict[str, Actor], seeded: Seeded
) -> None:
    url = web_routes.fhir_url(seeded.patient_id)
    anonymous = web.get(url)
    assert anonymous.status_code == 401 and "Bundle" not in anonymous.text
    name = store.settings.cookie_name
    forged = SessionCookie(name, "not-the-install-key-" * 3).encode("made-up", utcnow() + timedelta(hours=1))
    web.cookies.set(name, forged)
    assert web.get(url).status_code == 401
    web.cookies.set(name, _cookie_value(store, "clinician"))
    r = web.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "application/fhir+json"
    assert json.loads(r.text)["resourceType"] == "Bundle"
    assert r.headers["cache-control"] == "no-store" and "attachment" in r.headers["content-disposition"]
    assert count_events(store, action="record.fhir_export", outcome="success") == 1
    web.cookies.set(name, _cookie_value(store, "bedmanager"))
    denied = web.get(url)
    assert denied.status_code == 403 and "Bundle" not in denied.text


def test_a_logged_out_cookie_gets_nothing(
    web: TestClient, store: Store, actors: dict[str, Actor], seeded: Seeded
) -> None:
    name = store.settings.cookie_name
    result = auth.login(store, "clinician", PASSWORD)
    value = SessionCookie(name, store.settings.cookie_key.get_secret_value()).encode(result.token, result.expires_at)
    auth.logout(store, result.token)
    web.cookies.set(name, value)
    assert web.get(web_routes.fhir_url(seeded.patient_id)).status_code == 401


def test_an_original_is_served_only_with_a_live_session(
    web: TestClient, store: Store, actors: dict[str, Actor], seeded: Seeded
) -> None:
    # Before: "Fetch original" put the file at a Streamlit media URL that answered without a cookie.
    url = web_routes.original_url(seeded.document_id)
    anonymous = web.get(url)
    assert anonymous.status_code == 401 and b"Metoprolol" not in anonymous.content
    web.cookies.set(store.settings.cookie_name, _cookie_value(store, "clinician"))
    r = web.get(url)
    assert r.status_code == 200 and r.content == TEXT_NOTE
    assert r.headers["content-disposition"].startswith('attachment; filename="summary.txt"')
    assert r.headers["content-security-policy"] == "sandbox" and r.headers["cache-control"] == "no-store"
    assert count_events(store, action="document.download", outcome="success") == 1


def test_gold_facts_are_served_only_with_a_live_session(
    web: TestClient, store: Store, actors: dict[str, Actor], seeded: Seeded
) -> None:
    url = web_routes.gold_url(seeded.patient_id)
    assert web.get(url).status_code == 401
    web.cookies.set(store.settings.cookie_name, _cookie_value(store, "clinician"))
    nothing_yet = web.get(url)  # the seeded note has no reviewed facts
    assert nothing_yet.status_code == 404 and "reviewed" in nothing_yet.text


def test_the_audit_export_streams_the_whole_trail_to_an_admin_only(
    web: TestClient, store: Store, actors: dict[str, Actor]
) -> None:
    # Issue 18, item 9: the export was a Streamlit download of the table's 500 rows.
    from medspeak.store import audit

    with store.transaction() as db:
        for n in range(600):
            audit.record(db, username="nurse", role="clinician", action="patient.read", outcome="success",
                         detail=f"=cmd {n}")  # fmt: skip
    url = web_routes.audit_csv_url(audit_log.AuditFilter(username="nurse", action="patient."))
    assert web.get(url).status_code == 401  # no session
    name = store.settings.cookie_name
    web.cookies.set(name, _cookie_value(store, "clinician"))
    assert web.get(url).status_code == 403
    web.cookies.set(name, _cookie_value(store, "admin"))
    r = web.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["cache-control"] == "no-store" and "attachment" in r.headers["content-disposition"]
    lines = r.text.strip().splitlines()
    assert len(lines) == 1 + 600 and all(",'=cmd " in line for line in lines[1:])  # formulas stay inert
    assert count_events(store, action="audit.export", outcome="success") == 1
    assert web.get("/_medspeak/audit.csv?since=yesterday").status_code == 400
