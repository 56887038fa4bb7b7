"""In headless Chromium: a bed manager opens the Documents page's address; the app says she has no
access (not "Page not found") and the attempt is in the audit trail as denied.

Needs Debian's chromium (``.ci/run`` installs it); skipped with the reason when it is absent.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.flaky(reruns=1, reruns_delay=2)]


def _denials(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        (n,) = conn.execute(
            "SELECT count(*) FROM audit_events WHERE username = 'bedmanager' AND outcome = 'denied'"
            " AND action = 'page.open' AND detail LIKE 'page documents.py%'"
        ).fetchone()
    return int(n)


def test_a_forbidden_page_says_no_access_and_is_audited(
    server: tuple[str, dict[str, str], Path], tmp_path: Path, open_page: Callable[[int, int], Page]
) -> None:
    from playwright.sync_api import expect

    url, creds, db = server
    before = _denials(db)
    page = open_page(1400, 900)
    try:
        log_in(page, url, "bedmanager", creds["bedmanager"])
        expect(page.get_by_role("heading", name="Home")).to_be_visible()
        page.goto(f"{url}/documents")
        expect(page.get_by_text("You do not have access to this page.")).to_be_visible()
        expect(page.get_by_text("Page not found")).to_have_count(0)
        expect(page.get_by_role("link", name="Documents")).to_have_count(0)  # still not in her menu
        expect(page.get_by_role("button", name="Upload and read")).to_have_count(0)
        assert _denials(db) >= before + 1
    finally:
        page.screenshot(path=str(tmp_path / "denied.png"), full_page=True)
