"""The login cookie: a signed, short-lived reference to a server-side session, set by the server.

streamlit-authenticator's cookie signs ``{username, exp}``: anyone with the key can forge a login, and
logout cannot revoke a copied cookie. Here the signed cookie only carries a random server-side session
token (checked and revocable in the store), the key is random per install (production refuses the
default), and the cookie lives no longer than the server session. It is set by the app's own server
(``components.web_routes``) with ``HttpOnly; SameSite=Strict`` (``Secure`` whenever the app is reached
over HTTPS, directly or behind a TLS proxy): no script in the page can read it, and the page reads it
server-side from the request that opened the connection (``st.context.cookies``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import jwt
import streamlit as st

__all__ = ["SessionCookie", "served_over_https"]


def served_over_https(url: str | None, headers: Mapping[str, str]) -> bool:
    """Whether the browser reached the app over HTTPS: its URL, or a TLS proxy's ``X-Forwarded-Proto``."""
    forwarded = next((v for k, v in headers.items() if k.lower() == "x-forwarded-proto"), "")
    return (url or "").lower().startswith("https://") or forwarded.split(",")[0].strip().lower() == "https"


class SessionCookie:
    """Encode and decode the cookie's value (an HS256 JWT ``{sid, exp}`` under the install's key)."""

    def __init__(self, name: str, key: str) -> None:
        self.cookie_name = name
        self.cookie_key = key

    def read_token(self) -> str | None:
        """The session token in the cookie the browser sent when this session connected."""
        return self.decode(st.context.cookies.get(self.cookie_name))

    def decode(self, raw: str | None) -> str | None:
        """The session token in a cookie value; ``None`` for a missing, forged or expired one."""
        if not raw:
            return None
        try:
            payload = jwt.decode(raw, self.cookie_key, algorithms=["HS256"], options={"require": ["exp", "sid"]})
        except jwt.PyJWTError:
            return None
        sid = payload.get("sid")
        return sid if isinstance(sid, str) else None

    def encode(self, token: str, expires_at: datetime) -> str:
        """The cookie value for a session token, expiring with the session."""
        return jwt.encode({"sid": token, "exp": int(expires_at.timestamp())}, self.cookie_key, algorithm="HS256")
