"""``POST /token`` (OAuth2 password flow) and ``POST /logout``."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from medspeak.api import tokens
from medspeak.api.deps import CurrentActor, SessionRef, SettingsDep, StoreDep
from medspeak.auth import service as auth

router = APIRouter(tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int  # seconds
    role: str


@router.post("/token")
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, store: StoreDep, settings: SettingsDep
) -> TokenOut:
    """Log in with a username and password; the same accounts, roles and login delays as the app."""
    # The peer's address (behind a proxy, run uvicorn with --proxy-headers so that this is the client's).
    source = request.client.host if request.client is not None else "unknown"
    result = auth.login(store, form.username, form.password, source=source)
    access, ttl = tokens.issue(
        settings, username=result.actor.username, session_ref=result.ref, session_expires=result.expires_at
    )
    return TokenOut(access_token=access, expires_in=ttl, role=result.actor.role)


@router.post("/logout", status_code=204)
def logout(actor: CurrentActor, session: SessionRef, store: StoreDep) -> Response:
    """End the session behind the token: this token and any other issued for it stop working."""
    auth.logout_ref(store, session)
    return Response(status_code=204)
