"""Process-wide resources for the pages: settings and the store, created once.

A broken configuration or database stops the page with a message an operator
can act on, instead of a stack trace.
"""

from __future__ import annotations

import contextlib
import importlib
import threading

import streamlit as st
from pydantic import ValidationError

from components.i18n import _, error_text
from medspeak.config import Settings, get_settings
from medspeak.errors import StoreUnavailable
from medspeak.services.reading import get_runner
from medspeak.store.db import Store

_HEAVY_MODULES = ("medspeak.services.stays", "medspeak.services.triage")


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Store:
    store = Store(get_settings())
    store.migrate()  # idempotent; a fresh install or an upgrade gets its schema here
    get_runner(store)  # starts the ingestion workers and resumes jobs a previous run left
    threading.Thread(target=_warm_up, name="medspeak-warm-up", daemon=True).start()
    return store


def _warm_up() -> None:
    """Import the model stack (xgboost, scipy, pandas: seconds on 2 cores) before a page needs it."""
    for module in _HEAVY_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)


def settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        st.error(_("medspeak cannot start: its configuration is refused."))
        st.code("\n".join(err["msg"] for err in exc.errors()), language=None)
        st.stop()
        raise  # unreachable: st.stop() raises


def shared_store() -> Store:
    """The shared store, for the server's own routes (no page to draw a message on: errors propagate)."""
    return _store(get_settings().sqlalchemy_url)


def store() -> Store:
    """The shared store; stops the page with a clear message when the database is unusable."""
    try:
        return _store(settings().sqlalchemy_url)
    except StoreUnavailable as exc:
        st.error(error_text(exc))
        st.stop()
        raise
