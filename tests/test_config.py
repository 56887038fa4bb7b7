from pathlib import Path

import pytest
from pydantic import ValidationError

from medspeak.config import DEFAULT_COOKIE_KEY, Settings


def test_development_accepts_the_default_key(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDSPEAK_ENV", "development")
    monkeypatch.delenv("MEDSPEAK_COOKIE_KEY")
    assert Settings().cookie_key.get_secret_value() == DEFAULT_COOKIE_KEY


@pytest.mark.parametrize("key", [DEFAULT_COOKIE_KEY, "short-but-random-key"])
def test_production_refuses_default_or_short_cookie_key(env: Path, monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    monkeypatch.setenv("MEDSPEAK_ENV", "production")
    monkeypatch.setenv("MEDSPEAK_BCRYPT_ROUNDS", "12")
    monkeypatch.setenv("MEDSPEAK_COOKIE_KEY", key)
    with pytest.raises(ValidationError, match="refuses the default or a short cookie key"):
        Settings()


def test_production_starts_with_a_long_random_key(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDSPEAK_ENV", "production")
    monkeypatch.setenv("MEDSPEAK_BCRYPT_ROUNDS", "12")
    monkeypatch.setenv("MEDSPEAK_COOKIE_KEY", "x" * 20 + "y" * 20)
    assert Settings().env == "production"


def test_production_refuses_cheap_password_hashing(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDSPEAK_ENV", "production")
    monkeypatch.setenv("MEDSPEAK_COOKIE_KEY", "k" * 48)
    with pytest.raises(ValidationError, match="BCRYPT_ROUNDS"):
        Settings()


def test_cookie_key_is_read_from_the_installs_secrets_file(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets_file = env / "secrets.toml"
    secrets_file.write_text('cookie_key = "from-the-secrets-file-0123456789abcdef"\n')
    monkeypatch.setenv("MEDSPEAK_SECRETS_FILE", str(secrets_file))
    monkeypatch.delenv("MEDSPEAK_COOKIE_KEY")
    assert Settings().cookie_key.get_secret_value() == "from-the-secrets-file-0123456789abcdef"


def test_environment_overrides_and_sqlite_default(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings()
    assert settings.sqlalchemy_url == f"sqlite:///{env / 'var' / 'medspeak.db'}"
    monkeypatch.setenv("MEDSPEAK_DATABASE_URL", "postgresql+psycopg://u@db/medspeak")
    assert Settings().sqlalchemy_url == "postgresql+psycopg://u@db/medspeak"


def test_secret_never_appears_in_repr(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDSPEAK_COOKIE_KEY", "super-secret-value-0123456789-abcdef")
    assert "super-secret-value" not in repr(Settings())
