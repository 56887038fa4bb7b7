"""One settings object for the app, the API and the CLI.

Values come, highest priority first, from ``MEDSPEAK_*`` environment variables,
a ``.env`` file, and the install's secrets file (``.streamlit/secrets.toml``,
written by ``make run`` with a random cookie key).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

__all__ = ["DEFAULT_COOKIE_KEY", "Settings", "get_settings", "reset_settings"]

_PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The key a fresh checkout falls back to in development. Public, so production refuses it.
DEFAULT_COOKIE_KEY = "medspeak-development-cookie-key-not-secret"
_MIN_SECRET_CHARS = 32  # 32 url-safe characters carry ~190 bits: enough to sign session cookies


def _secrets_file() -> Path:
    import os

    return Path(os.environ.get("MEDSPEAK_SECRETS_FILE", _PROJECT_ROOT / ".streamlit" / "secrets.toml"))


class Settings(BaseSettings):
    """Runtime configuration; every field can be set as ``MEDSPEAK_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix="MEDSPEAK_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Literal["development", "test", "production"] = "development"
    home: Path = Field(default=_PROJECT_ROOT / "var", description="Folder for the database, documents and credentials")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite under `home` when unset")
    cookie_key: SecretStr = SecretStr(DEFAULT_COOKIE_KEY)
    cookie_name: str = "medspeak_session"
    session_ttl_minutes: int = Field(default=480, ge=5, le=24 * 60, description="A shift; then log in again")
    lockout_threshold: int = Field(default=5, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)
    file_store: Literal["disk", "database"] = Field(
        default="disk", description="Originals on the local disk (one machine) or in the database (every worker)"
    )
    max_upload_mb: int = Field(default=20, ge=1, le=200)
    max_pages: int = Field(default=50, ge=1, le=500, description="Longer documents are split before upload")
    ocr_engine: Literal["auto", "tesseract", "rapidocr", "easyocr"] = "auto"
    ocr_page_budget_s: float = Field(default=60.0, gt=0, description="A slower page fails alone")
    queue_url: str | None = Field(
        default=None,
        description="PostgreSQL for the task engine (procrastinate); unset: documents are read in this process",
    )
    ingest_workers: int = Field(default=1, ge=1, le=8, description="Documents read at once; 1 keeps a core for users")
    ocr_page_workers: int = Field(
        default=0, ge=0, le=16, description="Pages of a document OCR'd at once (Tesseract); 0: one a core, at most 4"
    )
    seed_demo: bool = True
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
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_secrets_file())
        return (init_settings, env_settings, dotenv_settings, toml)

    @model_validator(mode="after")
    def _refuse_weak_secrets_in_production(self) -> Settings:
        key = self.cookie_key.get_secret_value()
        if self.env == "production" and (key == DEFAULT_COOKIE_KEY or len(key) < _MIN_SECRET_CHARS):
            raise ValueError(
                "Production mode refuses the default or a short cookie key: set MEDSPEAK_COOKIE_KEY "
                f"(or cookie_key in {_secrets_file()}) to a random string of at least {_MIN_SECRET_CHARS} characters."
            )
        if self.env == "production" and self.bcrypt_rounds < 12:
            raise ValueError("Production mode refuses MEDSPEAK_BCRYPT_ROUNDS below 12.")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL, SQLite under ``home`` by default."""
        return self.database_url or f"sqlite:///{self.home / 'medspeak.db'}"

    @property
    def documents_dir(self) -> Path:
        """Where original uploads are stored, addressed by SHA-256."""
        return self.home / "documents"

    @property
    def credentials_file(self) -> Path:
        """Where the demo users' passwords are written once (mode 0600)."""
        return self.home / "demo-credentials.txt"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests and the CLI change the environment)."""
    get_settings.cache_clear()
