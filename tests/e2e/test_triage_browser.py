"""The triage page in headless Chromium: a clinician enters vitals and reads the level, rules and explanation.

Uses the session's app server (``tests/e2e/conftest.py``). The page is reached through the sidebar
link "Triage", which the navigation shows to clinicians.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import log_in

# A browser on a shared 2-core runner is at the mercy of its neighbours: one retry, never more.
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.flaky(reruns=1, reruns_delay=2)]


def test_clinician_triages_a_hypoxic_patient(
    server: tuple[str, dict[str, str], Path], tmp_path: Path, open_page: Callable[[int, int], Page]
) -> None:
    from playwright.sync_api import expect

    url, creds, _ = server
    page = open_page(1400, 1400)
    log_in(page, url, "clinician", creds["clinician"])
    expect(page.get_by_role("heading", name="Home")).to_be_visible()

    page.get_by_role("link", name="Triage").click()
    expect(page.get_by_role("heading", name="Triage")).to_be_visible()
    page.get_by_label("SpO2 (%)").fill("86")
    page.get_by_label("Heart rate (/min)").fill("122")
    page.get_by_label("Respiratory rate (/min)").fill("28")
    page.get_by_label("Age (years)").fill("74")
    page.get_by_label("Blood pressure (mmHg)").fill("105/70")
    page.get_by_label("Chief complaint").fill("dyspnea")
    page.get_by_role("button", name="Propose a level").click()

    expect(page.get_by_text("Level 2 · Emergency").or_(page.get_by_text("Level 1 · Resuscitation"))).to_be_visible()
    expect(page.get_by_role("heading", name="Safety rules fired")).to_be_visible()
    expect(page.get_by_text("SpO2 below 90 %")).to_be_visible()
    expect(page.get_by_role("heading", name="Why")).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()  # the SHAP waterfall
    expect(page.get_by_text("more urgent").first).to_be_attached()
    page.screenshot(path=str(tmp_path / "triage.png"), full_page=True)
