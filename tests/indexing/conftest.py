"""Indexing tests run on the rules backend whatever the shell's ``MEDSPEAK_LLM_BACKEND`` says."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _rules_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDSPEAK_LLM_BACKEND", raising=False)
