"""In headless Chromium: the app asks nothing of any host but its own, page after page, for every role.

Behind a hospital firewall a request to a public host is a blocked call (and a leak of what is being read).
Streamlit turns a ``:material/...:`` page icon into a favicon fetched from a public font host (its frontend's
only such URL, for ``SET_PAGE_FAVICON``); icons inside the page (alerts, expanders, buttons) are drawn with the
Material Symbols font Streamlit serves itself, which the tour below checks on an expander and a refusal.
Every request the browser makes is recorded here.

Needs Debian's chromium (``.ci/run`` installs it); skipped with the reason when it is absent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, expect

from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.flaky(reruns=1, reruns_delay=2)]

_PAGES = {
    "clinician": ["Patients", "Documents", "Triage", "ED queue", "Length of stay", "Beds"],
    "admin": ["Administration"],
}


@pytest.mark.parametrize("role", sorted(_PAGES))
def test_no_request_leaves_the_machine(
    server: tuple[str, dict[str, str], Path], open_page: Callable[[int, int], Page], role: str
) -> None:
    url, creds, _ = server
    outside: list[str] = []
    page = open_page(1400, 900)

    def note(request: Request) -> None:
        host = urlsplit(request.url).hostname
        if request.url.startswith(("data:", "blob:", "about:")) or host in ("127.0.0.1", "localhost"):
            return
        outside.append(request.url)

    page.on("request", note)
    log_in(page, url, role, creds[role])
    expect(page.get_by_role("heading", name="Home")).to_be_visible()
    for title in _PAGES[role]:
        page.get_by_role("link", name=title, exact=True).click()
        expect(page.get_by_role("heading", name=title, exact=True).first).to_be_visible(timeout=60_000)
        page.wait_for_timeout(1_000)  # icons, fonts and charts load after the heading
        if title == "Documents":  # an expander's :material/ icon is drawn with the font Streamlit serves
            page.get_by_text("New patient", exact=True).click()
            page.wait_for_timeout(1_000)
        if title == "Administration":  # the audit export link's :material/download: icon
            page.get_by_role("tab", name="Audit trail").click()
            expect(page.get_by_role("link", name=re.compile(r"^Download all \d+ matching events"))).to_be_visible()
            page.wait_for_timeout(1_000)
    if role == "clinician":  # the refusal's :material/block: icon (app.py), on a page this role may not open
        page.goto(f"{url}/admin")
        expect(page.get_by_text("You do not have access to this page.")).to_be_visible()
        page.wait_for_timeout(1_000)
    assert outside == [], f"requests to other hosts: {sorted(set(outside))[:10]}"
