"""Issue 19 finding 5, the other loggers: an exception that reaches uvicorn's or Streamlit's own logger is
logged by type and place, never by its message (which may quote a chief complaint or bound SQL values);
and a page that fails shows a reference, logs it, and audits it for the logged-in user."""

from __future__ import annotations

import logging

import pytest
from streamlit.testing.v1 import AppTest

from medspeak.api.logs import log_config
from medspeak.auth.roles import Actor
from medspeak.errors import ScrubTracebacks
from medspeak.store.db import Store
from tests.support.api import count_events

_PHI = "Zarkowski, chest pain since Tuesday"


def _record_with_exception(name: str) -> logging.LogRecord:
    try:
        raise RuntimeError(_PHI)
    except RuntimeError:
        import sys

        return logging.getLogger(name).makeRecord(
            name, logging.ERROR, __file__, 1, "Exception in ASGI application", None, sys.exc_info()
        )


def test_the_filter_keeps_the_type_and_place_and_drops_the_message() -> None:
    record = _record_with_exception("uvicorn.error")
    assert ScrubTracebacks().filter(record)
    text = logging.Formatter().format(record)
    assert "RuntimeError" in text and "test_scrubbed_tracebacks.py" in text
    assert "Zarkowski" not in text


def test_uvicorns_error_log_is_scrubbed() -> None:
    # Before: Starlette re-raises an unhandled exception after the API's 500, and uvicorn logged its
    # traceback with the message.
    config = log_config()
    assert "scrub" in config["handlers"]["default"]["filters"]


def _failing_page(actor: object) -> None:
    import streamlit as st

    from components import page_errors

    st.session_state["auth.actor"] = actor
    try:
        raise RuntimeError("Zarkowski, chest pain since Tuesday")
    except RuntimeError as exc:
        page_errors.on_script_error(exc)


def test_a_failing_page_shows_a_reference_logs_it_scrubbed_and_audits_it(
    store: Store, actors: dict[str, Actor], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from components import runtime

    monkeypatch.setattr(runtime, "shared_store", lambda: store)
    caplog.set_level(logging.INFO)
    at = AppTest.from_function(_failing_page, args=(actors["clinician"],), default_timeout=30).run()
    (error,) = at.error
    assert "Reference:" in error.value and "Zarkowski" not in error.value
    reference = error.value.split("Reference: ")[1].rstrip(".")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert reference in logged and "RuntimeError" in logged and "Zarkowski" not in logged
    assert count_events(store, username="clinician", action="page.error", outcome="error") == 1
