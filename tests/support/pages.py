"""A page of the app run alone, as a logged-in actor would see it (no login form, no navigation)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from medspeak.auth.roles import Actor

PAGES = Path(__file__).resolve().parents[2] / "pages"


def page(name: str, actor: Actor, timeout_s: float = 60) -> AppTest:
    """``pages/<name>`` with ``actor`` logged in, not yet run."""
    at = AppTest.from_file(str(PAGES / name), default_timeout=timeout_s)
    at.session_state["auth.actor"] = actor
    return at


def shown_text(at: AppTest) -> list[str]:
    """Every piece of interface text an AppTest run drew: titles, text, captions, alerts, widget labels, metrics,
    table headers, sidebar included (what a reader of the page would see, documents' contents aside)."""
    texts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        texts += [str(e.value) for e in getattr(at, kind)]
    for kind in ("button", "checkbox", "selectbox", "text_input", "number_input", "date_input", "radio", "expander"):
        texts += [str(e.label) for e in getattr(at, kind)]
    texts += [str(m.label) for m in at.metric]
    texts += [str(column) for frame in at.dataframe for column in frame.value.columns]
    texts += [str(t.label) for t in at.tabs]
    return texts
