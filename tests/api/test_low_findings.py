"""Issue 19, low findings: rate-limit key, security headers, audit of failed logins and list views."""

from __future__ import annotations

import itertools

from fastapi.testclient import TestClient

from medspeak.api import create_app
from medspeak.auth.roles import Actor
from medspeak.store.db import Store
from tests.conftest import PASSWORD
from tests.support.api import count_events


def test_spellings_of_bearer_share_one_rate_limit(store: Store, actors: dict[str, Actor]) -> None:
    # Before: the limit was keyed by the raw header, so 40 case spellings of "Bearer" gave 39 x 200 over 10/min.
    app = create_app(store.settings.model_copy(update={"token_rate_per_minute": 100, "api_rate_per_minute": 10}))
    with TestClient(app, client=("203.0.113.9", 1)) as client:
        token = client.post("/token", data={"username": "clinician", "password": PASSWORD}).json()["access_token"]
        spellings = ["".join(c) for c in itertools.product(*((ch.lower(), ch.upper()) for ch in "bearer"))][:40]
        statuses = [client.get("/patients", headers={"Authorization": f"{s}  {token} "}).status_code for s in spellings]
    assert statuses.count(200) == 10 and statuses.count(429) == 30, statuses


def test_api_responses_carry_security_headers_and_no_store(client: TestClient, login: object) -> None:
    # Before: no security headers, and patient data could be kept by any cache on the way.
    headers = login("clinician")  # type: ignore[operator]
    r = client.get("/patients", headers=headers)
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in r.headers["content-security-policy"]


def test_the_docs_page_loads_nothing_from_another_host(client: TestClient) -> None:
    # Before: Swagger UI from cdn.jsdelivr.net (a moving "@5" at first, then pinned): a third party's code
    # running beside a clinician's token, and a request leaving the hospital's network.
    import re

    docs = client.get("/docs")
    assert docs.status_code == 200
    assert not re.findall(r"(?:src|href)=['\"]https?://", docs.text), docs.text
    policy = docs.headers["content-security-policy"]
    assert "script-src 'self' 'unsafe-inline'" in policy and "http" not in policy
    for asset in re.findall(r"(?:src|href)=['\"](/docs/assets/[^'\"]+)", docs.text):
        r = client.get(asset)
        assert r.status_code == 200 and len(r.content) > 1000, asset
    assert "SwaggerUIBundle" in client.get("/docs/assets/swagger-ui-bundle.js").text


def test_a_password_typed_as_a_username_is_not_kept_in_the_audit_trail(
    client: TestClient, store: Store, actors: dict[str, Actor]
) -> None:
    # Before: a failed login with an unknown username stored that username, often the user's password.
    r = client.post("/token", data={"username": "Tr0ub4dor&3-my-password", "password": "whatever it is"})
    assert r.status_code == 401
    assert count_events(store, action="auth.login", outcome="failure") == 1
    assert count_events(store, username="tr0ub4dor&3-my-password") == 0


def test_a_patient_list_is_audited_with_the_ids_shown(
    client: TestClient, store: Store, actors: dict[str, Actor], login: object
) -> None:
    from datetime import date

    from medspeak.services import patients

    ids = [
        patients.register_patient(
            store,
            actors["clinician"],
            given_name=f"P{i}",
            family_name="Listed",
            sex="male",
            birth_date=date(1970, 1, 1),
        ).id
        for i in range(3)
    ]
    r = client.get("/patients", headers=login("clinician"))  # type: ignore[operator]
    assert r.status_code == 200
    from sqlalchemy import select

    from medspeak.store.models import AuditEvent

    with store.read() as db:
        detail = db.scalars(
            select(AuditEvent.detail).where(AuditEvent.action.startswith("patient.")).order_by(AuditEvent.id.desc())
        ).first()
    assert detail is not None and all(str(i) in detail for i in ids), detail


def test_a_slowed_account_answers_a_wrong_password_as_an_unknown_account(
    client: TestClient, store: Store, actors: dict[str, Actor]
) -> None:
    # Before: 423 for a locked account whatever the password, 401 for an unknown one: the difference told an
    # attacker which accounts exist. Now an unknown username is slowed down exactly like a known one.
    for name in ("clinician", "nobody-here"):
        for _ in range(5):
            assert client.post("/token", data={"username": name, "password": "guess-1234567"}).status_code == 401
    slowed_wrong = client.post("/token", data={"username": "clinician", "password": "guess-7654321"})
    unknown = client.post("/token", data={"username": "nobody-here", "password": "guess-7654321"})
    assert slowed_wrong.status_code == unknown.status_code == 429
    assert slowed_wrong.json() == unknown.json()
    assert client.post("/token", data={"username": "clinician", "password": PASSWORD}).status_code == 429
