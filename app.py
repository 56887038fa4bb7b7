"""medspeak: the Streamlit entry point. Page config, login gate, and the pages the role allows."""

from __future__ import annotations

from functools import partial

import streamlit as st

from components import auth_gate, i18n, navigation, runtime
from components.i18n import _, error_text
from medspeak.errors import PermissionDenied
from medspeak.services import audit_log, users


def run() -> None:
    # An emoji icon is drawn by the browser itself; a :material/...: one is fetched from a public font host.
    st.set_page_config(page_title="medspeak", page_icon="🩺", layout="wide")
    user = auth_gate.require_login()
    i18n.load_for(user.actor.user_id, partial(users.language_of, runtime.store(), user.actor))

    def denied(spec: navigation.PageSpec) -> None:
        audit_log.record_page_denied(runtime.store(), user.actor, spec.file)
        st.title(_(spec.title))
        st.error(_("You do not have access to this page."), icon=":material/block:")
        st.caption(
            _("Your role does not include it; the attempt has been recorded. Ask an administrator if you need it.")
        )

    page = st.navigation(navigation.pages_for(user.actor.role, denied))
    auth_gate.sidebar(user)
    i18n.switch(partial(users.set_language, runtime.store(), user.actor))
    try:
        page.run()
    except PermissionDenied as exc:  # the services check the role again, whatever the page shows
        st.error(error_text(exc), icon=":material/block:")


run()
