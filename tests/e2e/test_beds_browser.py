"""The real app in headless Chromium: a bed manager opens the Beds page and reads tomorrow's forecast.

Needs Debian's chromium and the page in the bed manager's navigation (sidebar link "Beds").
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import log_in

# A browser on a shared 2-core runner is at the mercy of its neighbours: one retry, never more.
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.flaky(reruns=1, reruns_delay=2)]


def test_bed_manager_reads_the_forecast(
    server: tuple[str, dict[str, str], Path], tmp_path: Path, open_page: Callable[[int, int], Page]
) -> None:
    from playwright.sync_api import expect

    url, creds, _db = server
    page = open_page(1400, 1200)
    log_in(page, url, "bedmanager", creds["bedmanager"])
    expect(page.get_by_role("heading", name="Home")).to_be_visible()

    page.get_by_role("link", name="Beds").click()
    expect(page.get_by_role("heading", name="Beds")).to_be_visible()
    expect(page.get_by_text("occupied beds at midnight").first).to_be_visible()
    expect(page.get_by_role("heading", name="How good is this forecast?")).to_be_visible()
    expect(page.get_by_text("Inside the 90 % band")).to_be_visible()
    page.screenshot(path=str(tmp_path / "beds.png"), full_page=True)
