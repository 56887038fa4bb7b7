"""The login cookie, through the browser cookie component (extra-streamlit-components' CookieManager).

streamlit-authenticator, which wraps that component, was used for one base class whose constructor only
stored the name and key and created the CookieManager; its own cookie signs ``{username, exp}`` (anyone with
the key can forge a login, logout cannot revoke a copied cookie) and its login flow rewrites a YAML file.
The component is used directly: one dependency instead of an exact pin plus captcha, cryptography and
PyYAML that nothing here used. The signed cookie only
carries a random server-side session token (checked and revocable in the store),
the key is random per install (production refuses the default), the cookie is
SameSite=Strict, Secure whenever the app is reached over HTTPS (directly or behind a TLS proxy), and
lives no longer than the server session. It is written by a browser-side component, so it cannot be
HttpOnly: what it carries is only useful until logout or expiry, both revoked server-side.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import extra_streamlit_components as stx
import jwt
import streamlit as st


def served_over_https(url: str | None, headers: Mapping[str, str]) -> bool:
    """Whether the browser reached the app over HTTPS: its URL, or a TLS proxy's ``X-Forwarded-Proto``."""
    forwarded = next((v for k, v in headers.items() if k.lower() == "x-forwarded-proto"), "")
    return (url or "").lower().startswith("https://") or forwarded.split(",")[0].strip().lower() == "https"


class SessionCookie:
    """The session cookie of this browser: written, read and cleared through the cookie component."""

    def __init__(self, name: str, key: str) -> None:
        self.cookie_name = name
        self.cookie_key = key
        self.cookie_manager = stx.CookieManager()  # the browser-side component: one a script run

    def read_token(self) -> str | None:
        """The session token in the cookie the browser sent when this session connected."""
        return self._decode(st.context.cookies.get(self.cookie_name))

    def browser_token(self) -> str | None:
        """The session token in the browser's cookie now (as the cookie component last reported it)."""
        return self._decode(self.cookie_manager.cookies.get(self.cookie_name))

    def _decode(self, raw: str | None) -> str | None:
        if not raw:
            return None
        try:
            payload = jwt.decode(raw, self.cookie_key, algorithms=["HS256"], options={"require": ["exp", "sid"]})
        except jwt.PyJWTError:
            return None
        sid = payload.get("sid")
        return sid if isinstance(sid, str) else None

    def write_token(self, token: str, expires_at: datetime) -> None:
        value = jwt.encode({"sid": token, "exp": int(expires_at.timestamp())}, self.cookie_key, algorithm="HS256")
        secure = served_over_https(st.context.url, dict(st.context.headers))
        self.cookie_manager.set(
            self.cookie_name, value, expires_at=expires_at, same_site="strict", secure=secure, key="auth.set"
        )

    def clear(self) -> None:
        try:
            self.cookie_manager.delete(self.cookie_name, key="auth.delete")
        except KeyError:  # not set in this browser: nothing to delete
            pass
