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
