"""The login gate: the login form, the session check on every run, and logout.

Session-state keys owned here: ``auth.token``, ``auth.actor``, ``auth.name``,
``auth.expires``, ``auth.notice``, ``auth.cookie_ticket``, ``auth.cookie_for``.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from components import i18n, runtime, web_routes
from components.i18n import N_, _, error_text
from components.safe_text import md
from components.session_cookie import SessionCookie
from medspeak.auth import service as auth
from medspeak.auth.roles import Actor
from medspeak.config import DEFAULT_COOKIE_KEY
from medspeak.errors import InvalidCredentials, LoginThrottled, SessionInvalid
from medspeak.store.types import utcnow

# The core's session messages, shown in the user's language (the core speaks English).
_SESSION_MESSAGES = (
    N_("Please log in."),
    N_("Your session has ended. Please log in again."),
    N_("Your session expired. Please log in again."),
    N_("This account is disabled."),
    N_("Wrong username or password."),
)
_ROLE_LABELS = {"clinician": N_("Clinician"), "bed_manager": N_("Bed manager"), "admin": N_("Administrator")}


def role_label(role: str) -> str:
    """A role as the reader reads it ("Clinicien"), never its stored code ("clinician")."""
    return _(_ROLE_LABELS.get(role, role))


@dataclass(frozen=True)
class LoggedIn:
    actor: Actor
    name: str


def _init_state() -> None:
    for key, default in (
        ("auth.token", None),
        ("auth.actor", None),
        ("auth.name", ""),
        ("auth.expires", None),
        ("auth.notice", None),
        ("auth.cookie_ticket", None),  # the one-time ticket the page's image hands to the server
        ("auth.cookie_for", None),  # the session token the browser's cookie now holds ("" once cleared)
    ):
        st.session_state.setdefault(key, default)


def _cookie() -> SessionCookie:
    settings = runtime.settings()
    return SessionCookie(settings.cookie_name, settings.cookie_key.get_secret_value())


def _client_address() -> str:
    """The browser's address, for the login delays (behind a proxy, the proxy's: see the README)."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else "unknown"


def _submit_login() -> None:
    """Form callback: runs before the script, so the page renders already logged in."""
    username = st.session_state.get("auth.username", "")
    password = st.session_state.get("auth.password", "")
    st.session_state["auth.password"] = ""  # never keep the password in the session
    try:
        result = auth.login(runtime.store(), username, password, source=_client_address())
    except (InvalidCredentials, LoginThrottled) as exc:
        st.session_state["auth.notice"] = error_text(exc)
        return
    st.session_state.update(
        {
            "auth.token": result.token,
            "auth.actor": result.actor,
            "auth.name": result.display_name,
            "auth.expires": result.expires_at,
            "auth.notice": None,
        }
    )


def _login_form() -> None:
    st.title("medspeak")
    st.caption(_("Clinical decision support: documents, triage, length of stay and beds."))
    i18n.choose("auth.language")
    with st.form("auth.login", clear_on_submit=False):
        st.text_input(_("Username"), key="auth.username", autocomplete="username")
        st.text_input(_("Password"), type="password", key="auth.password", autocomplete="current-password")
        st.form_submit_button(_("Log in"), type="primary", on_click=_submit_login)
    if st.session_state["auth.notice"]:
        st.error(_(st.session_state["auth.notice"]))
    if runtime.settings().cookie_key.get_secret_value() == DEFAULT_COOKIE_KEY:
        st.warning(
            _(
                "No secrets file: sessions are signed with the public development key. Run `make run` (it writes "
                "`.streamlit/secrets.toml` with a random key) or set MEDSPEAK_COOKIE_KEY."
            ),
            icon=":material/key_off:",
        )
    st.info(
        _(
            "First start: the demo accounts and their passwords were printed by `make run` "
            "and written to `var/demo-credentials.txt`."
        ),
        icon=":material/info:",
    )


def require_login() -> LoggedIn:
    """Return the logged-in user, or draw the login form and stop the run."""
    _init_state()
    cookie = _cookie()
    token = st.session_state["auth.token"] or cookie.read_token()
    if token:
        try:
            actor, name = auth.resolve_session(runtime.store(), token)
        except SessionInvalid as exc:
            _forget(notice=error_text(exc) if st.session_state["auth.token"] else None)
        else:
            st.session_state.update({"auth.token": token, "auth.actor": actor, "auth.name": name})
            _sync_cookie(cookie, token)
            return LoggedIn(actor, name)
    _sync_cookie(cookie, None)
    _login_form()
    st.stop()
    raise RuntimeError("unreachable")


def _sync_cookie(cookie: SessionCookie, token: str | None) -> None:
    """Make the browser's cookie match the session: the server sets it (``HttpOnly``), no script can.

    A page run cannot send headers, so it draws an invisible image whose URL carries a one-time ticket;
    the server answers the browser's request for it with ``Set-Cookie``. The image is drawn on every run
    until the ticket is taken (a rerun may replace the page before the browser asked for it).
    """
    if st.session_state["auth.cookie_for"] is None:  # first run of this connection: what the browser sent
        st.session_state["auth.cookie_for"] = cookie.read_token() or ""
    ticket = st.session_state["auth.cookie_ticket"]
    if ticket is not None and not web_routes.tickets.pending(ticket):
        ticket = st.session_state["auth.cookie_ticket"] = None  # taken: the browser holds the cookie now
    want = token or ""
    if ticket is None and st.session_state["auth.cookie_for"] != want:
        expires = st.session_state["auth.expires"]
        if want and expires is None:
            return  # a session found in the cookie: the browser already holds it
        value = cookie.encode(want, expires) if want else ""
        max_age = max(1, int((expires - utcnow()).total_seconds())) if want else 0
        ticket = st.session_state["auth.cookie_ticket"] = web_routes.tickets.issue(value, max_age)
        st.session_state["auth.cookie_for"] = want
    if ticket is not None:
        st.html(f'<img src="{web_routes.PREFIX}/cookie/{ticket}" alt="" width="1" height="1" style="opacity:0">')


def _forget(notice: str | None = None) -> None:
    st.session_state.update({"auth.token": None, "auth.actor": None, "auth.name": "", "auth.expires": None})
    if notice is not None:
        st.session_state["auth.notice"] = notice


def _logout() -> None:
    auth.logout(runtime.store(), st.session_state.get("auth.token"))
    _forget(notice=N_("You are logged out."))


def sidebar(user: LoggedIn) -> None:
    """Who is logged in, with which role, and the logout button."""
    with st.sidebar:
        st.markdown(f"**{md(user.name)}**  \n{role_label(user.actor.role)}")
        st.button(_("Log out"), icon=":material/logout:", on_click=_logout, key="auth.logout")


def current_actor() -> Actor:
    """The actor for service calls; a page reached without a login stops here, showing nothing."""
    actor = st.session_state.get("auth.actor")
    if not isinstance(actor, Actor):
        st.warning(_("Please log in."), icon=":material/lock:")
        st.stop()
        raise SessionInvalid("Please log in.")  # unreachable: st.stop() raises
    return actor
