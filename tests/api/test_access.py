"""Access control over every route: the table must name each one, or this test fails.

For each route: the status without credentials, and for each role the status of a valid
request (allowed) or 403. Every 403 must leave a ``denied`` row in the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx2
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Mount, Route

from medspeak.store.db import Store
from tests.conftest import PASSWORD
from tests.support.api import TEXT_NOTE, Seeded, count_events, username_of

Call = Callable[[TestClient, dict[str, str], Seeded], httpx2.Response]
ROLES = ("clinician", "bed_manager", "admin")
PUBLIC = -1  # no credentials needed: the anonymous status is checked, roles are not


@dataclass(frozen=True)
class Rule:
    call: Call
    anonymous: int
    roles: dict[str, int]  # role -> expected status (403 = denied)


def _everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/healthz"): Rule(lambda c, h, s: c.get("/healthz", headers=h), 200, {}),
    ("GET", "/docs"): Rule(lambda c, h, s: c.get("/docs", headers=h), 200, {}),
    ("GET", "/docs/oauth2-redirect"): Rule(lambda c, h, s: c.get("/docs/oauth2-redirect", headers=h), 200, {}),
    # Swagger UI's own files (public code, no data), served so that /docs needs no CDN.
    ("GET", "/docs/assets"): Rule(lambda c, h, s: c.get("/docs/assets/swagger-ui.css", headers=h), 200, {}),
    ("GET", "/openapi.json"): Rule(lambda c, h, s: c.get("/openapi.json", headers=h), 200, {}),
    ("POST", "/token"): Rule(
        lambda c, h, s: c.post("/token", data={"username": "clinician", "password": PASSWORD}), 200, {}
    ),
    ("POST", "/logout"): Rule(lambda c, h, s: c.post("/logout", headers=h), 401, _everyone(204)),
    ("POST", "/documents"): Rule(
        lambda c, h, s: c.post(
            "/documents",
            headers=h,
            files={"file": ("letter.txt", b"Referral letter.\nChest pain since this morning.\n", "text/plain")},
            data={"patient_id": str(s.patient_id), "kind": "report"},
        ),
        401,
        {"clinician": 202, "bed_manager": 403, "admin": 403},
    ),
    ("PUT", "/documents/{document_id}/patient"): Rule(
        lambda c, h, s: c.put(
            f"/documents/{s.document_id}/patient",
            headers=h,
            json={"patient_id": s.patient_id, "reason": "filed under this patient by the ward clerk"},
        ),
        401,
        {"clinician": 200, "bed_manager": 403, "admin": 403},
    ),
    ("POST", "/documents/{document_id}/patient/confirm"): Rule(
        lambda c, h, s: c.post(
            f"/documents/{s.document_id}/patient/confirm",
            headers=h,
            json={"reason": "checked the MRN on the scanned original"},
        ),
        401,
        {"clinician": 200, "bed_manager": 403, "admin": 403},
    ),
    ("GET", "/jobs/{job_id}"): Rule(
        lambda c, h, s: c.get(f"/jobs/{s.job_id}", headers=h),
        401,
        {"clinician": 200, "bed_manager": 403, "admin": 403},
    ),
    ("GET", "/patients"): Rule(
        lambda c, h, s: c.get("/patients", params={"limit": 10}, headers=h),
        401,
        {"clinician": 200, "bed_manager": 200, "admin": 403},
    ),
    ("GET", "/patients/{patient_id}/record"): Rule(
        lambda c, h, s: c.get(f"/patients/{s.patient_id}/record", headers=h),
        401,
        {"clinician": 200, "bed_manager": 200, "admin": 403},
    ),
    ("GET", "/patients/{patient_id}/fhir"): Rule(
        lambda c, h, s: c.get(f"/patients/{s.patient_id}/fhir", headers=h),
        401,
        {"clinician": 200, "bed_manager": 403, "admin": 403},
    ),
    ("POST", "/triage"): Rule(
        lambda c, h, s: c.post(
            "/triage",
            headers=h,
            json={"heart_rate": 128, "spo2": 89, "age": 71, "sex": "female", "chief_complaint": "chest pain"},
        ),
        401,
        {"clinician": 200, "bed_manager": 403, "admin": 403},
    ),
    ("POST", "/triage/{assessment_id}/decision"): Rule(
        lambda c, h, s: c.post(
            "/triage/999999/decision", headers=h, json={"level": 2, "reason": "looks unwell, grey"}
        ),  # no such triage: a clinician passes the access check and gets 404 (tests/api/test_records.py: 200)
        401,
        {"clinician": 404, "bed_manager": 403, "admin": 403},
    ),
    ("POST", "/los"): Rule(
        lambda c, h, s: c.post("/los", headers=h, json={"encounter_id": s.stay_id}),
        401,
        {"clinician": 200, "bed_manager": 200, "admin": 403},
    ),
    ("GET", "/occupancy"): Rule(
        lambda c, h, s: c.get("/occupancy", params={"horizon_days": 3}, headers=h), 401, _everyone(200)
    ),
    ("GET", "/audit"): Rule(
        lambda c, h, s: c.get("/audit", params={"limit": 5}, headers=h),
        401,
        {"clinician": 403, "bed_manager": 403, "admin": 200},
    ),
}
assert TEXT_NOTE  # the seeded job reads this note; the upload above is a different file (no duplicate)


def _walk(routes: list[BaseRoute], prefix: str, found: set[tuple[str, str]]) -> None:
    for route in routes:
        if isinstance(route, APIRoute | Route):
            found |= {(m, prefix + route.path) for m in route.methods or () if m != "HEAD"}
        elif isinstance(route, Mount) and route.name == "docs-assets":  # static files: GET only
            found.add(("GET", prefix + route.path))
        elif hasattr(route, "original_router"):  # FastAPI >= 0.16x keeps included routers as branches
            context = getattr(route, "include_context", None)
            _walk(route.original_router.routes, prefix + getattr(context, "prefix", ""), found)
        else:
            raise AssertionError(f"unknown route type {type(route).__name__}: teach this test to read it")


def _routes(app: FastAPI) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    _walk(app.routes, "", found)
    return found


def test_every_route_has_an_access_rule(app: FastAPI) -> None:
    routes = _routes(app)
    assert routes - RULES.keys() == set(), "routes without an access rule: add them to RULES"
    assert RULES.keys() - routes == set(), "rules for routes that no longer exist"


@pytest.mark.parametrize("route", sorted(RULES), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_access(
    route: tuple[str, str],
    client: TestClient,
    store: Store,
    seeded: Seeded,
    login: Callable[[str], dict[str, str]],
) -> None:
    rule = RULES[route]
    anonymous = rule.call(client, {}, seeded)
    assert anonymous.status_code == rule.anonymous, anonymous.text
    if rule.anonymous == 401:
        assert anonymous.json()["error"]["code"] == "not_authenticated"
        assert anonymous.headers["www-authenticate"] == "Bearer"
    for role, expected in rule.roles.items():
        denied_before = count_events(store, username=username_of(role), outcome="denied")
        response = rule.call(client, login(role), seeded)
        assert response.status_code == expected, f"{role}: {response.status_code} {response.text}"
        denied_after = count_events(store, username=username_of(role), outcome="denied")
        if expected == 403:
            body = response.json()["error"]
            assert body["code"] == "permission_denied" and role in body["message"]
            assert denied_after == denied_before + 1, f"{role}'s denial was not audited"
        else:
            assert denied_after == denied_before


def test_forged_routes_also_get_the_error_body(client: TestClient) -> None:
    r = client.get("/no-such-route")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_the_rule_check_sees_a_route_added_later(app: FastAPI) -> None:
    router = APIRouter()

    @router.get("/patients/{patient_id}/secrets")
    def secrets(patient_id: int) -> dict[str, int]:
        return {"patient_id": patient_id}

    app.include_router(router)
    app.add_api_route("/export", secrets, methods=["POST"])
    missing = _routes(app) - RULES.keys()
    assert missing == {("GET", "/patients/{patient_id}/secrets"), ("POST", "/export")}
