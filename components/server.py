"""Start the app: ``python -m components.server [streamlit options]`` (what `make run` does).

The app is served as a Streamlit ``st.App`` with the routes of ``components.web_routes`` beside
Streamlit's own: the server sets the login cookie (``HttpOnly``) and serves exports to a live session
only. Options are Streamlit's (``--server.port 8501``...), passed to ``App.run``.

Streamlit runs any script found in a ``pages/`` folder beside the entry point as a stand-alone
page ("multipage v1") until the first ``st.navigation`` call of the process: on a fresh server,
the first visitor of ``/admin`` would get ``pages/admin.py`` without the login gate of ``app.py``
(the services still refuse, but the gate must not depend on that). Turning the legacy mode off
before the server starts makes every run go through ``app.py``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from components import page_errors, runtime, web_routes
from medspeak.errors import ScrubTracebacks

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"


# Streamlit logs a failing page's traceback with the exception's message before our handler runs.
_STREAMLIT_LOGGERS = ("streamlit.error_util", "streamlit.runtime.scriptrunner.script_runner")


def build() -> st.App:
    """The app with its routes; the store is opened by the first request or page that needs it."""
    return st.App(
        APP,
        routes=web_routes.routes(lambda: runtime.shared_context().settings, runtime.shared_store),
        on_script_error=page_errors.on_script_error,
    )


def _options(args: list[str]) -> dict[str, Any]:
    """``--server.port 8501 --server.headless true`` (or ``--a.b=c``) as ``{"server.port": "8501", ...}``."""
    options: dict[str, Any] = {}
    rest = list(args)
    while rest:
        flag = rest.pop(0)
        if not flag.startswith("--"):
            raise SystemExit(f"unexpected argument {flag!r}: options are --section.name value")
        name, eq, value = flag[2:].partition("=")
        if not eq:
            if not rest:
                raise SystemExit(f"option {flag} needs a value")
            value = rest.pop(0)
        options[name] = value
    return options


def main() -> None:
    PagesManager.uses_pages_directory = False
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    for name in _STREAMLIT_LOGGERS:
        logging.getLogger(name).addFilter(ScrubTracebacks())
    options = {**_options(sys.argv[1:]), "logger.enableRich": False}  # rich prints past the logging filters
    sys.argv = [str(APP)]
    build().run(config=options)


if __name__ == "__main__":
    main()
