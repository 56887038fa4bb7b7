"""API keys: stored hashed, shown once, the account's role and audit, refused once revoked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from typer.testing import CliRunner

from medspeak.auth.roles import Actor
from medspeak.cli import app as cli_app
from medspeak.errors import PermissionDenied
from medspeak.services import apikeys, users
from medspeak.store.db import Store
from medspeak.store.models import ApiKey
from medspeak.store.types import utcnow
from tests.api.test_access import RULES
from tests.support.api import Seeded, count_events, username_of

_ANONYMOUS_401 = {route: rule for route, rule in RULES.items() if rule.anonymous == 401}


def _key(store: Store, actors: dict[str, Actor], role: str) -> str:
    _, key = apikeys.create_key(store, actors["admin"], username_of(role), f"{role} interface")
    return key


def _x(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def test_a_key_is_shown_once_and_only_its_hash_is_stored(store: Store, actors: dict[str, Actor]) -> None:
    summary, key = apikeys.create_key(store, actors["admin"], "bedmanager", "bed board", expires_days=30)
    assert key.startswith("msk_") and len(key) >= 40 and summary.prefix == key[:12]
    assert summary.username == "bedmanager" and summary.role == "bed_manager" and summary.active
    with store.transaction() as db:
        dump = " ".join(str(v) for row in db.execute(text("SELECT * FROM api_keys")) for v in row)
    assert key not in dump and key[12:] not in dump and apikeys.hash_key(key) in dump
    listed = apikeys.list_keys(store, actors["admin"])
    assert [k.id for k in listed] == [summary.id] and key not in repr(listed)
    assert count_events(store, action="apikey.create", outcome="success", username="admin") == 1


@pytest.mark.parametrize("role", ["clinician", "bed_manager"])
def test_only_administrators_create_or_revoke_keys(store: Store, actors: dict[str, Actor], role: str) -> None:
    with pytest.raises(PermissionDenied):
        apikeys.create_key(store, actors[role], username_of(role), "self-service")
    summary, _ = apikeys.create_key(store, actors["admin"], "clinician", "lab interface")
    with pytest.raises(PermissionDenied):
        apikeys.revoke_key(store, actors[role], summary.id)
    assert count_events(store, action="apikey.create", outcome="denied", username=username_of(role)) == 1
    assert count_events(store, action="apikey.revoke", outcome="denied", username=username_of(role)) == 1


@pytest.mark.parametrize("route", sorted(_ANONYMOUS_401), ids=lambda r: f"{r[0]} {r[1]}")
def test_a_key_gets_exactly_its_accounts_access(
    route: tuple[str, str], client: TestClient, store: Store, actors: dict[str, Actor], seeded: Seeded
) -> None:
    rule = RULES[route]
    for role, expected in rule.roles.items():
        key = _key(store, actors, role)
        if route == ("POST", "/logout"):
            expected = 401  # a key has no session: administrators revoke keys instead
        for headers in (_x(key), {"Authorization": f"Bearer {key}"}):
            denied_before = count_events(store, username=username_of(role), outcome="denied")
            r = rule.call(client, headers, seeded)
            assert r.status_code == expected, f"{role} via {list(headers)}: {r.status_code} {r.text}"
            denied_after = count_events(store, username=username_of(role), outcome="denied")
            assert denied_after == denied_before + (1 if expected == 403 else 0)


def test_reads_with_a_key_are_audited_as_the_account(
    client: TestClient, store: Store, actors: dict[str, Actor], seeded: Seeded
) -> None:
    key = _key(store, actors, "bed_manager")
    r = client.get(f"/patients/{seeded.patient_id}/record", headers=_x(key))
    assert r.status_code == 200
    assert count_events(store, username="bedmanager", role="bed_manager", outcome="success", action="patient.read")


def test_a_revoked_key_gets_401_at_once(client: TestClient, store: Store, actors: dict[str, Actor]) -> None:
    summary, key = apikeys.create_key(store, actors["admin"], "clinician", "lab interface")
    assert client.get("/patients", headers=_x(key)).status_code == 200
    apikeys.revoke_key(store, actors["admin"], summary.id)
    for headers in (_x(key), {"Authorization": f"Bearer {key}"}):
        r = client.get("/patients", headers=headers)
        assert r.status_code == 401, r.text
        assert r.json()["error"]["code"] == "not_authenticated" and "revoked" in r.json()["error"]["message"]
    assert apikeys.revoke_key(store, actors["admin"], summary.id).revoked_at is not None  # safe to repeat
    assert count_events(store, action="apikey.revoke", outcome="success") == 2


def test_expired_unknown_and_disabled_keys_get_401(client: TestClient, store: Store, actors: dict[str, Actor]) -> None:
    summary, key = apikeys.create_key(store, actors["admin"], "clinician", "lab interface", expires_days=1)
    with store.transaction() as db:
        db.execute(update(ApiKey).where(ApiKey.id == summary.id).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/patients", headers=_x(key)).status_code == 401
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert client.get("/patients", headers=_x(forged)).status_code == 401
    assert client.get("/patients", headers=_x("msk_" + "x" * 500)).status_code == 401
    other = _key(store, actors, "bed_manager")
    users.set_active(store, actors["admin"], actors["bed_manager"].user_id or 0, False)
    r = client.get("/patients", headers=_x(other))
    assert r.status_code == 401 and "disabled" in r.json()["error"]["message"]


def test_two_different_credentials_are_refused(client: TestClient, store: Store, actors: dict[str, Actor]) -> None:
    clinician, bed_manager = _key(store, actors, "clinician"), _key(store, actors, "bed_manager")
    r = client.get("/patients", headers={"X-API-Key": bed_manager, "Authorization": f"Bearer {clinician}"})
    assert r.status_code == 401 and "one credential" in r.json()["error"]["message"]


def test_the_openapi_page_offers_the_key_header(client: TestClient) -> None:
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert any(s.get("type") == "apiKey" and s.get("name") == "X-API-Key" for s in schemes.values())


def test_cli_creates_lists_and_revokes_keys(client: TestClient, store: Store, actors: dict[str, Actor]) -> None:
    runner = CliRunner()
    created = runner.invoke(cli_app, ["users", "apikey", "create", "bedmanager", "--name", "bed board"])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    assert key.startswith("msk_")
    assert client.get("/occupancy", headers=_x(key)).status_code == 200
    with store.transaction() as db:
        key_id = db.scalar(select(ApiKey.id).where(ApiKey.key_hash == apikeys.hash_key(key)))
    listed = runner.invoke(cli_app, ["users", "apikey", "list"])
    assert listed.exit_code == 0 and "bedmanager" in listed.output and "active" in listed.output
    assert key not in listed.output
    revoked = runner.invoke(cli_app, ["users", "apikey", "revoke", str(key_id)])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert client.get("/occupancy", headers=_x(key)).status_code == 401
    assert count_events(store, username="cli", action="apikey.revoke", outcome="success") == 1
    missing = runner.invoke(cli_app, ["users", "apikey", "create", "nobody", "--name", "x"])
    assert missing.exit_code != 0 and "nobody" in str(missing.exception)


def test_the_migration_creates_the_table_the_model_describes(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from medspeak.store.models import Base

    with store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diffs if "api_keys" in repr(d)] == []
