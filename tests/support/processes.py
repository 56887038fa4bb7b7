"""Code run in a fresh interpreter: what a test must see without this process's imports and caches."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, *, env: dict[str, str] | None = None, timeout_s: float = 120) -> str:
    """Run ``code`` with this interpreter from the repository root; return its standard output.

    ``env``: the whole environment (default: this one); ``PYTHONPATH`` is set to the repository either way.
    The test fails with the end of the standard error when the code fails.
    """
    environment = dict(os.environ if env is None else env, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout_s)  # noqa: S603
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout
