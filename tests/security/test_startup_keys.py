"""Issue 19, finding 1: no entry point starts on the public default key outside explicit development mode.

Started without ``make`` (no secrets file), the app, the API and the CLI used to sign sessions and API tokens
with ``DEFAULT_COOKIE_KEY``, a string published in the source: anyone could forge a login.
"""

from __future__ import annotations

import hashlib
import stat
import tomllib
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError
from sqlalchemy import select
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from medspeak.auth.roles import Actor
from medspeak.cli import app as cli_app
from medspeak.config import DEFAULT_COOKIE_KEY, Settings
from medspeak.store.db import Store
from medspeak.store.models import AuthSession
from tests.conftest import PASSWORD

_APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def unconfigured(env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh install started without `make`: no MEDSPEAK_ENV, no key anywhere, no secrets file."""
    monkeypatch.delenv("MEDSPEAK_ENV", raising=False)
    monkeypatch.delenv("MEDSPEAK_COOKIE_KEY", raising=False)
    monkeypatch.delenv("MEDSPEAK_AUDIT_KEY", raising=False)
    monkeypatch.setenv("MEDSPEAK_BCRYPT_ROUNDS", "12")
    secrets_file = env / "install" / "secrets.toml"
    monkeypatch.setenv("MEDSPEAK_SECRETS_FILE", str(secrets_file))
    return secrets_file


def test_settings_without_a_key_or_a_mode_are_refused(unconfigured: Path) -> None:
    with pytest.raises(ValidationError, match="cookie key"):
        Settings()


def test_only_explicit_development_mode_accepts_the_default_key(
    unconfigured: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDSPEAK_ENV", "test")
    with pytest.raises(ValidationError, match="cookie key"):
        Settings()
    monkeypatch.setenv("MEDSPEAK_ENV", "development")
    assert Settings().cookie_key.get_secret_value() == DEFAULT_COOKIE_KEY


def test_every_cli_command_refuses_to_start_without_a_key(unconfigured: Path) -> None:
    result = CliRunner().invoke(cli_app, ["audit", "verify"])
    assert result.exit_code != 0
    assert not (unconfigured.parent.parent / "var" / "medspeak.db").exists()  # refused before opening the store


def test_init_generates_the_keys_itself_in_a_private_file(unconfigured: Path) -> None:
    monkeypatch_free = CliRunner()
    first = monkeypatch_free.invoke(cli_app, ["init"])
    assert first.exit_code == 0, first.output
    assert stat.S_IMODE(unconfigured.stat().st_mode) == 0o600
    keys = tomllib.loads(unconfigured.read_text())
    assert len(keys["cookie_key"]) >= 32 and keys["cookie_key"] != DEFAULT_COOKIE_KEY
    assert CliRunner().invoke(cli_app, ["init"]).exit_code == 0
    assert tomllib.loads(unconfigured.read_text())["cookie_key"] == keys["cookie_key"]  # kept, not rotated
    assert CliRunner().invoke(cli_app, ["audit", "verify"]).exit_code == 0  # the other commands now start


def test_python_m_medspeak_api_refuses_to_serve_without_a_key(
    unconfigured: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    from medspeak.api.__main__ import main

    served: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: served.append(a))
    with pytest.raises(SystemExit) as exit_info:
        main(["--port", "0", "--workers", "1"])
    assert exit_info.value.code == 2
    assert not served
    assert "cookie key" in capsys.readouterr().err


def test_the_api_refuses_settings_carrying_the_default_key(store: Store) -> None:
    from medspeak.api import create_app

    weak = store.settings.model_copy(update={"cookie_key": SecretStr(DEFAULT_COOKIE_KEY)})
    with pytest.raises(ValueError, match="cookie key"):
        create_app(weak)


def test_the_app_refuses_to_start_without_a_key(unconfigured: Path) -> None:
    at = AppTest.from_file(_APP, default_timeout=30).run()
    assert at.error and at.error[0].value == "medspeak cannot start: its configuration is refused."
    assert not at.text_input


def test_the_access_token_carries_an_opaque_reference_not_the_session_token(
    store: Store, actors: dict[str, Actor]
) -> None:
    from medspeak.api import create_app

    with TestClient(create_app(store.settings)) as client:
        r = client.post("/token", data={"username": "clinician", "password": PASSWORD})
        assert r.status_code == 200
        token = r.json()["access_token"]
        assert client.get("/patients", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    claims = jwt.decode(token, options={"verify_signature": False})
    with store.read() as db:
        session_ids = set(db.scalars(select(AuthSession.id)))
    # The store keeps SHA-256(session token): no claim may be a value whose hash is a session id.
    for value in claims.values():
        if isinstance(value, str):
            assert hashlib.sha256(value.encode()).hexdigest() not in session_ids
