"""Typed dependencies: the store, the settings, and the actor behind a bearer token or an API key.

The actor is resolved from the store on every request (``resolve_session``, ``resolve_key``), so a
revoked session or key is refused at once: nothing about a session is cached between requests.
Service accounts send their key as ``X-API-Key: msk_...`` or ``Authorization: Bearer msk_...``;
people send the JWT from ``POST /token``.
"""

from dataclasses import dataclass
from typing import Annotated, Final

from annotated_types import Ge, Le
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from medspeak.api import tokens
from medspeak.auth.roles import Actor
from medspeak.auth.service import resolve_session_ref
from medspeak.config import Settings
from medspeak.errors import SessionInvalid
from medspeak.services.apikeys import looks_like_key, resolve_key
from medspeak.services.context import AppContext
from medspeak.store.db import Store

__all__ = [
    "API_KEY_HEADER",
    "MAX_ID",
    "Credentials",
    "CredentialsDep",
    "CurrentActor",
    "DbId",
    "SessionRef",
    "SettingsDep",
    "StoreDep",
    "credentials_of",
]

MAX_ID: Final = 2**31 - 1  # PostgreSQL INTEGER: a larger id can name no row, and would crash the driver
DbId = Annotated[int, Ge(1), Le(MAX_ID)]
"""A row id in a path, query, form or body: out of range is a 422 before any query runs."""

API_KEY_HEADER = "X-API-Key"
# auto_error=False: a missing credential raises SessionInvalid, so every 401 has the same error body.
_bearer = OAuth2PasswordBearer(tokenUrl="token", auto_error=False)
_api_key = APIKeyHeader(
    name=API_KEY_HEADER, auto_error=False, description="A service account's key (msk_...), from an administrator"
)


# The dependencies that only read app state, or only check a signature, are ``async``: FastAPI runs a
# plain ``def`` dependency in its thread pool, a hop that costs more than the work here. Anything
# that queries the store stays a plain ``def`` so that a busy database never blocks the event loop.


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_store(request: Request) -> Store:
    """The app's store (its context's)."""
    store: Store = request.app.state.store
    return store


async def get_context(request: Request) -> AppContext:
    """The app's context: for the routes whose service needs a model or the reading runner, not only the store."""
    ctx: AppContext = request.app.state.context
    return ctx


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
ContextDep = Annotated[AppContext, Depends(get_context)]
BearerDep = Annotated[str | None, Depends(_bearer)]
ApiKeyDep = Annotated[str | None, Depends(_api_key)]


async def get_session_ref(settings: SettingsDep, token: BearerDep) -> str:
    """The session reference carried by a valid access token (``SessionInvalid`` otherwise)."""
    if looks_like_key(token):
        raise SessionInvalid("An API key has no session to end; an administrator revokes keys.")
    return tokens.session_ref(settings, token)


SessionRef = Annotated[str, Depends(get_session_ref)]


@dataclass(frozen=True, slots=True)
class Credentials:
    """The credential a request carries, its form and signature checked; :meth:`actor` looks it up."""

    store: Store
    session: str | None  # the session reference inside a valid access token
    api_key: str | None

    def actor(self) -> Actor:
        """The actor of a live session or a valid API key (a store lookup: call it off the event loop).

        Raises:
            SessionInvalid: the session ended (logout, password reset, disabled account) or the key was revoked.
        """
        if self.api_key is not None:
            return resolve_key(self.store, self.api_key)
        actor, _ = resolve_session_ref(self.store, self.session or "")
        return actor


async def get_credentials(store: StoreDep, settings: SettingsDep, token: BearerDep, api_key: ApiKeyDep) -> Credentials:
    """The request's credential; a missing, malformed, forged or expired one raises ``SessionInvalid`` at once."""
    if api_key is not None:
        if token is not None and token != api_key:
            raise SessionInvalid("Send one credential: an X-API-Key or an Authorization header, not both.")
        return Credentials(store, None, api_key)
    if looks_like_key(token):
        return Credentials(store, None, token or "")
    return Credentials(store, tokens.session_ref(settings, token), None)


async def credentials_of(request: Request) -> Credentials:
    """The request's credential outside dependency injection (an error handler asking who met a failure)."""
    store, settings = await get_store(request), await get_settings(request)
    return await get_credentials(store, settings, await _bearer(request), await _api_key(request))


CredentialsDep = Annotated[Credentials, Depends(get_credentials)]
"""For the busiest routes (``async``): they resolve the actor in the same thread-pool trip as their work."""


def get_current_actor(credentials: CredentialsDep) -> Actor:
    """The actor of a live session or a valid API key: anything else raises ``SessionInvalid``."""
    return credentials.actor()


CurrentActor = Annotated[Actor, Depends(get_current_actor)]
