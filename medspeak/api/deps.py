"""Typed dependencies: the store, the settings, and the actor behind a bearer token.

The actor is resolved from the server-side session on every request (``resolve_session``), so a
revoked session refuses its token at once.
"""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from medspeak.api import tokens
from medspeak.auth.roles import Actor
from medspeak.auth.service import resolve_session
from medspeak.config import Settings
from medspeak.store.db import Store

__all__ = ["CurrentActor", "SessionToken", "SettingsDep", "StoreDep"]

# auto_error=False: a missing token raises SessionInvalid, so every 401 has the same error body.
_bearer = OAuth2PasswordBearer(tokenUrl="token", auto_error=False)


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


def get_session_token(settings: SettingsDep, token: Annotated[str | None, Depends(_bearer)]) -> str:
    """The server-side session token carried by a valid access token (``SessionInvalid`` otherwise)."""
    return tokens.session_token(settings, token)


SessionToken = Annotated[str, Depends(get_session_token)]


def get_current_actor(store: StoreDep, session: SessionToken) -> Actor:
    """The actor of a live session: expired, revoked or disabled ones raise ``SessionInvalid``."""
    actor, _ = resolve_session(store, session)
    return actor


CurrentActor = Annotated[Actor, Depends(get_current_actor)]
