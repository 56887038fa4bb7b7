"""One settings object for the app, the API and the CLI.

Values come, highest priority first, from ``MEDSPEAK_*`` environment variables,
a ``.env`` file, and the install's secrets file (``.streamlit/secrets.toml``,
written by ``medspeak init`` with random keys, mode 0600).

Unless ``MEDSPEAK_ENV=development`` is set explicitly, settings without a random key of at least
32 characters are refused, so no entry point (app, API, CLI) signs anything with the public default.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

__all__ = [
    "DEFAULT_COOKIE_KEY",
    "Settings",
    "audit_signing_key",
    "load_settings",
    "secrets_file",
    "weak_secret_reason",
]

_PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The key a fresh checkout falls back to in explicit development mode. Public, so every other mode refuses it.
DEFAULT_COOKIE_KEY = "medspeak-development-cookie-key-not-secret"
_MIN_SECRET_CHARS = 32  # 32 url-safe characters carry ~190 bits: enough to sign session cookies


def secrets_file() -> Path:
    """The install's secrets file (``MEDSPEAK_SECRETS_FILE``, else ``.streamlit/secrets.toml``)."""
    import os

    return Path(os.environ.get("MEDSPEAK_SECRETS_FILE", _PROJECT_ROOT / ".streamlit" / "secrets.toml"))


class Settings(BaseSettings):
    """Runtime configuration; every field can be set as ``MEDSPEAK_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix="MEDSPEAK_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Production unless told otherwise: a forgotten setting must fail closed, not open.
    env: Literal["development", "test", "production"] = "production"
    home: Path = Field(default=_PROJECT_ROOT / "var", description="Folder for the database, documents and credentials")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite under `home` when unset")
    cookie_key: SecretStr = SecretStr(DEFAULT_COOKIE_KEY)
    audit_key: SecretStr | None = Field(
        default=None,
        description="Keys the audit chain (HMAC); written by `medspeak init`; unset: derived from cookie_key",
    )
    cookie_name: str = "medspeak_session"
    session_ttl_minutes: int = Field(default=480, ge=5, le=24 * 60, description="A shift; then log in again")
    lockout_threshold: int = Field(
        default=5, ge=1, description="Failed logins of one username from one address before each try waits"
    )
    login_delay_seconds: int = Field(
        default=30, ge=1, le=3600, description="The first wait; it doubles with each further failure"
    )
    lockout_minutes: int = Field(default=15, ge=1, description="The longest wait between two tries")
    file_store: Literal["disk", "database"] = Field(
        default="disk", description="Originals on the local disk (one machine) or in the database (every worker)"
    )
    max_upload_mb: int = Field(default=20, ge=1, le=200)
    max_pages: int = Field(default=50, ge=1, le=500, description="Longer documents are split before upload")
    ocr_engine: Literal["auto", "tesseract", "rapidocr", "easyocr"] = "auto"
    ocr_page_budget_s: float = Field(default=60.0, gt=0, description="A slower page fails alone")
    ingest_max_attempts: int = Field(
        default=3, ge=1, le=100, description="Interrupted reads of one document before it is failed, not resumed"
    )
    index_budget_s: float = Field(
        default=45.0, gt=0, description="Extracting a document's facts; then its text is kept without them"
    )
    queue_url: str | None = Field(
        default=None,
        description="PostgreSQL for the task engine (procrastinate); unset: documents are read in this process",
    )
    ingest_workers: int = Field(default=1, ge=1, le=8, description="Documents read at once; 1 keeps a core for users")
    ocr_page_workers: int = Field(
        default=0, ge=0, le=16, description="Pages of a document OCR'd at once (Tesseract); 0: one a core, at most 4"
    )
    seed_demo: bool = True
    demo: bool = Field(
        default=False,
        description="A demonstration install: `medspeak demo reset` (and the Admin page) may wipe and re-seed its data",
    )
    demo_patients: int = Field(default=200, ge=0, le=5000)
    demo_seed: int = 20261128
    sqlite_busy_timeout_ms: int = 15_000
    bcrypt_rounds: int = Field(default=12, ge=4, le=16, description="~0.25 s a hash at 12; tests use 4")
    llm_backend: str = Field(default="auto", description="auto | transformers | openai | rules (checked by indexing)")
    llm_model: str = Field(
        default="teknium/OpenHermes-2.5-Mistral-7B",
        description="Local folder (or model id already in the Hugging Face cache); never downloaded",
    )
    llm_url: str | None = Field(default=None, description="OpenAI-compatible server (vLLM, llama.cpp, TGI)")
    llm_timeout_s: float = Field(default=60.0, gt=0, description="One request to the server; then rules")
    llm_concurrency: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Requests to the LLM server in flight at once (all documents); vLLM/TGI batch them",
    )
    api_workers: int = Field(default=0, ge=0, le=32, description="API server processes; 0: one a CPU core")
    api_threads: int = Field(
        default=4, ge=1, le=64, description="Threads an API process runs store and model work on (requests beyond wait)"
    )
    # In-process sliding windows: with N API processes each enforces 1/N of the limit. 0 turns a limit off.
    token_rate_per_minute: int = Field(default=20, ge=0, description="POST /token attempts a client (IP) a minute")
    api_rate_per_minute: int = Field(
        default=1200, ge=0, description="API requests a minute per credential (token or key), else per IP"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=secrets_file())
        return (init_settings, env_settings, dotenv_settings, toml)

    @model_validator(mode="after")
    def _refuse_weak_secrets(self) -> Settings:
        reason = weak_secret_reason(self)
        if reason:
            raise ValueError(reason)
        if self.env == "production" and self.bcrypt_rounds < 12:
            raise ValueError("Production mode refuses MEDSPEAK_BCRYPT_ROUNDS below 12.")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL, SQLite under ``home`` by default."""
        return self.database_url or f"sqlite:///{self.home / 'medspeak.db'}"

    @property
    def max_upload_bytes(self) -> int:
        """The upload limit in bytes (``max_upload_mb`` MiB): validation, the API's body limit, the CLI."""
        return self.max_upload_mb * 2**20

    @property
    def documents_dir(self) -> Path:
        """Where original uploads are stored, addressed by SHA-256."""
        return self.home / "documents"

    @property
    def credentials_file(self) -> Path:
        """Where the demo users' passwords are written once (mode 0600)."""
        return self.home / "demo-credentials.txt"


def weak_secret_reason(settings: Settings) -> str | None:
    """Why ``settings`` may not sign sessions and tokens, or None when its key is acceptable.

    Only an explicit ``MEDSPEAK_ENV=development`` accepts the public default key. Checked when settings are
    built, and again by ``create_app`` (a ``model_copy`` skips validation).
    """
    if settings.env == "development":
        return None
    audit = settings.audit_key.get_secret_value() if settings.audit_key is not None else None
    if audit is not None and len(audit) < _MIN_SECRET_CHARS:
        return f"The audit key is too short: at least {_MIN_SECRET_CHARS} random characters (MEDSPEAK_AUDIT_KEY)."
    key = settings.cookie_key.get_secret_value()
    if key == DEFAULT_COOKIE_KEY or len(key) < _MIN_SECRET_CHARS:
        return (
            f"{settings.env.capitalize()} mode refuses the default or a short cookie key: run `medspeak init` "
            f"(it writes random keys to {secrets_file()}, mode 0600), or set MEDSPEAK_COOKIE_KEY to a random string "
            f"of at least {_MIN_SECRET_CHARS} characters. Only MEDSPEAK_ENV=development accepts the public default."
        )
    return None


def audit_signing_key(settings: Settings) -> bytes:
    """The audit chain's HMAC key: ``audit_key``, else one derived from ``cookie_key`` with a purpose label.

    It lives outside the database, so a copy of the database alone cannot re-chain the trail. Keep
    ``audit_key`` for the life of the trail: rotating it (or the cookie key it is derived from) makes the
    rows written before fail verification.
    """
    if settings.audit_key is not None:
        return settings.audit_key.get_secret_value().encode("utf-8")
    cookie = settings.cookie_key.get_secret_value().encode("utf-8")
    return hmac.new(cookie, b"medspeak audit chain v1", hashlib.sha256).digest()


def load_settings() -> Settings:
    """The settings as the environment and the secrets file stand now (~4 ms).

    An application context reads them once, when it is built (``AppContext.open``); there is no process-wide
    copy to reset.
    """
    return Settings()
