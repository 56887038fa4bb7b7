"""medspeak: the Streamlit entry point. Page config, login gate, and the pages the role allows."""

from __future__ import annotations

import streamlit as st

from components import auth_gate, navigation
from medspeak.errors import PermissionDenied


def run() -> None:
    st.set_page_config(page_title="medspeak", page_icon=":material/ecg_heart:", layout="wide")
    user = auth_gate.require_login()
    page = st.navigation(navigation.pages_for(user.actor.role))
    auth_gate.sidebar(user)
    try:
        page.run()
    except PermissionDenied as exc:  # the services check the role again, whatever the page shows
        st.error(str(exc), icon=":material/block:")


run()
