"""Indexing tests run on the rules backend whatever the shell's ``MEDSPEAK_LLM_BACKEND`` says."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _rules_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MEDSPEAK_LLM_BACKEND", "MEDSPEAK_LLM_URL", "MEDSPEAK_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
