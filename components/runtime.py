"""The app's application context (settings, store, reading runner, models), built once per configuration.

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
from medspeak.config import Settings, load_settings
from medspeak.errors import MedspeakError, StoreUnavailable
from medspeak.services.context import AppContext
from medspeak.store.db import Store

_HEAVY_MODULES = ("medspeak.services.stays", "medspeak.services.triage")


def _release(ctx: AppContext) -> None:
    ctx.close()


@st.cache_resource(show_spinner=False, on_release=_release)
def _context(configuration: str) -> AppContext:
    """The app's one context for a configuration (its settings as JSON: a changed setting is a new context)."""
    ctx = AppContext(load_settings())
    ctx.store.migrate()  # idempotent; a fresh install or an upgrade gets its schema here
    _ = ctx.runner  # starts the reading workers and resumes jobs a previous run left
    threading.Thread(target=_warm_up, args=(ctx,), name="medspeak-warm-up", daemon=True).start()
    return ctx


def _warm_up(ctx: AppContext) -> None:
    """Import the model stack (xgboost, scipy, pandas: seconds on 2 cores) and load the triage model before a
    page needs them."""
    for module in _HEAVY_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    with contextlib.suppress(MedspeakError, ImportError):  # no model: the triage page says so when opened
        ctx.models.triage()


def _settings() -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:
        st.error(_("medspeak cannot start: its configuration is refused."))
        st.code("\n".join(err["msg"] for err in exc.errors()), language=None)
        st.stop()
        raise  # unreachable: st.stop() raises


def shared_context() -> AppContext:
    """The app's context, for the server's own routes (no page to draw a message on: errors propagate)."""
    return _context(load_settings().model_dump_json())


def context() -> AppContext:
    """The app's context; stops the page with a clear message when the configuration or the database is unusable."""
    try:
        return _context(_settings().model_dump_json())
    except StoreUnavailable as exc:
        st.error(error_text(exc))
        st.stop()
        raise


def settings() -> Settings:
    """The context's settings (the one settings object the pages read)."""
    return context().settings


def store() -> Store:
    """The context's store, for the services that need only the database."""
    return context().store


def shared_store() -> Store:
    """The context's store, for the server's own routes."""
    return shared_context().store


def close() -> None:
    """Close every context the app holds (its readers finish the documents in progress): tests, shutdown."""
    _context.clear()
