"""Fixtures of the reading tests."""

from __future__ import annotations

import pytest

from tests.support.jobs import count_reads


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The display names of the documents actually read (OCR or text layer), in order."""
    return count_reads(monkeypatch)
