"""What a page run that fails unexpectedly leaves: a reference for the user, a log line, an audit row.

Streamlit's own handling would log the traceback with the exception's message (which may quote patient
data) and show a bare "error" box; ``components.server`` registers :func:`on_script_error` instead
(and scrubs Streamlit's logger, which still writes first).
"""

from __future__ import annotations

import logging
import uuid

import streamlit as st

from components import runtime
from components.i18n import _
from medspeak.auth.roles import Actor
from medspeak.errors import safe_traceback
from medspeak.services import audit_log

__all__ = ["on_script_error"]

_log = logging.getLogger(__name__)


def on_script_error(exc: Exception) -> bool:
    """Show a reference, log the failure by type and place with it, audit it for the logged-in user.

    Returns ``True``: Streamlit's own error box is not shown (this message replaces it).
    """
    correlation_id = uuid.uuid4().hex
    page = st.context.url or "page"
    where = "page " + page.split("?", 1)[0].rsplit("/", 1)[-1][:60]  # the page's name, never its query
    _log.error("%s failed: %s [correlation %s]\n%s", where, type(exc).__qualname__, correlation_id, safe_traceback(exc))
    actor = st.session_state.get("auth.actor")
    if isinstance(actor, Actor):
        try:
            audit_log.record_error(
                runtime.shared_store(), actor, where, correlation_id, type(exc).__name__, action="page.error"
            )
        except Exception as audit_exc:  # noqa: BLE001 - the store may be what failed: the log line stays
            _log.error("audit row for failure %s not written:\n%s", correlation_id, safe_traceback(audit_exc))
    st.error(
        _(
            "Something went wrong on our side and it was logged. If it happens again, give an "
            "administrator this reference. Reference: {correlation_id}."
        ).format(correlation_id=correlation_id),
        icon=":material/error:",
    )
    return True
