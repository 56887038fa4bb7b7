"""Typed dependencies: the store, the settings, and the actor behind a bearer token or an API key.

The actor is resolved from the store on every request (``resolve_session``, ``resolve_key``), so a
revoked session or key is refused at once. Service accounts send their key as ``X-API-Key: msk_...``
or ``Authorization: Bearer msk_...``; people send the JWT from ``POST /token``.
"""

from typing import Annotated, Final

from annotated_types import Ge, Le
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from medspeak.api import tokens
from medspeak.auth.apikeys import looks_like_key, resolve_key
from medspeak.auth.roles import Actor
from medspeak.auth.service import resolve_session
from medspeak.config import Settings
from medspeak.errors import SessionInvalid
from medspeak.store.db import Store

__all__ = ["API_KEY_HEADER", "MAX_ID", "CurrentActor", "DbId", "SessionToken", "SettingsDep", "StoreDep"]

MAX_ID: Final = 2**31 - 1  # PostgreSQL INTEGER: a larger id can name no row, and would crash the driver
DbId = Annotated[int, Ge(1), Le(MAX_ID)]
"""A row id in a path, query, form or body: out of range is a 422 before any query runs."""

API_KEY_HEADER = "X-API-Key"
# auto_error=False: a missing credential raises SessionInvalid, so every 401 has the same error body.
_bearer = OAuth2PasswordBearer(tokenUrl="token", auto_error=False)
_api_key = APIKeyHeader(
    name=API_KEY_HEADER, auto_error=False, description="A service account's key (msk_...), from an administrator"
)


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> Store:
    """The app's store (one engine per database URL per process)."""
    store: Store = request.app.state.store
    return store


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
BearerDep = Annotated[str | None, Depends(_bearer)]
ApiKeyDep = Annotated[str | None, Depends(_api_key)]


def get_session_token(settings: SettingsDep, token: BearerDep) -> str:
    """The server-side session token carried by a valid access token (``SessionInvalid`` otherwise)."""
    if looks_like_key(token):
        raise SessionInvalid("An API key has no session to end; an administrator revokes keys.")
    return tokens.session_token(settings, token)


SessionToken = Annotated[str, Depends(get_session_token)]


def get_current_actor(store: StoreDep, settings: SettingsDep, token: BearerDep, api_key: ApiKeyDep) -> Actor:
    """The actor of a live session or a valid API key: anything else raises ``SessionInvalid``."""
    if api_key is not None:
        if token is not None and token != api_key:
            raise SessionInvalid("Send one credential: an X-API-Key or an Authorization header, not both.")
        return resolve_key(store, api_key)
    if looks_like_key(token):
        return resolve_key(store, token or "")
    actor, _ = resolve_session(store, tokens.session_token(settings, token))
    return actor


CurrentActor = Annotated[Actor, Depends(get_current_actor)]
