"""Start the app: ``python -m components.server [streamlit options]`` (what `make run` does).

Streamlit runs any script found in a ``pages/`` folder beside the entry point as a stand-alone
page ("multipage v1") until the first ``st.navigation`` call of the process: on a fresh server,
the first visitor of ``/admin`` would get ``pages/admin.py`` without the login gate of ``app.py``
(the services still refuse, but the gate must not depend on that). Turning the legacy mode off
before the server starts makes every run go through ``app.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

APP = Path(__file__).resolve().parent.parent / "app.py"


def main() -> None:
    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(APP), *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
