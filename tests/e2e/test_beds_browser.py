"""The real app in headless Chromium: a bed manager opens the Beds page and reads tomorrow's forecast.

Needs Debian's chromium and the page in the bed manager's navigation (sidebar link "Beds").
"""

from __future__ import annotations

import re
import sqlite3
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
    # Issue 18, item 7: a ward list with each ward's fullest day (alert or not), the arrivals the forecast
    # assumes, discharges counted as people, and a legend for the chart's dots and its dashed line.
    expect(page.get_by_role("heading", name="Wards", exact=True)).to_be_visible()
    table = page.get_by_test_id("stDataFrame").first
    expect(table.get_by_text("Peak day", exact=True)).to_be_attached()
    expect(table.get_by_text(re.compile(r"^\w{3} \d{2} \w{3}$")).first).to_be_attached()  # e.g. "Tue 08 Dec"
    expect(table.get_by_text(re.compile(r"^(about \d+|fewer than 1)$")).first).to_be_attached()
    assumed = re.compile(r"^Arrivals assumed: each ward's admissions of the last 4 weeks")
    expect(page.get_by_text(assumed)).to_be_visible()
    chart = page.get_by_test_id("stPlotlyChart").first
    expect(chart.get_by_text("Median: expected beds (one dot a night)")).to_be_attached()
    expect(chart.get_by_text(re.compile(r"^Beds: \d+$"))).to_be_attached()
    page.screenshot(path=str(tmp_path / "beds.png"), full_page=True)


def _assessments(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM assessments WHERE kind = 'los'").fetchone()[0])


def _saves(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM audit_events WHERE action = 'los.save'").fetchone()[0])


def test_opening_the_length_of_stay_page_writes_nothing(
    server: tuple[str, dict[str, str], Path], tmp_path: Path, open_page: Callable[[int, int], Page]
) -> None:
    # Issue 18 item 7: opening the page stored an assessment, even for the bed manager, who writes nothing clinical.
    from playwright.sync_api import expect

    url, creds, db = server
    before, saves = _assessments(db), _saves(db)
    page = open_page(1400, 1100)
    try:
        log_in(page, url, "bedmanager", creds["bedmanager"])
        page.get_by_role("link", name="Length of stay").click()
        expect(page.get_by_text("Expected discharge")).to_be_visible()
        expect(page.get_by_text("80 % interval")).to_be_visible()
        expect(page.get_by_role("button", name="Save to the stay's history")).to_have_count(0)
        page.wait_for_timeout(1_000)
        assert _assessments(db) == before
    finally:
        page.screenshot(path=str(tmp_path / "los-bed-manager.png"), full_page=True)
        page.context.close()
    page = open_page(1400, 1100)
    log_in(page, url, "clinician", creds["clinician"])
    page.get_by_role("link", name="Length of stay").click()
    expect(page.get_by_text("Expected discharge")).to_be_visible()
    assert _assessments(db) == before
    page.get_by_role("button", name="Save to the stay's history").click()
    expect(page.get_by_text("Saved to the stay's history.")).to_be_visible()
    # The explicit act is stored and audited. A stay's history keeps one row a day per model and inputs, so
    # when another browser test saved this stay today already (tests share the server) no row is added.
    assert _saves(db) == saves + 1
    assert _assessments(db) in (before, before + 1)
    assert _assessments(db) >= 1
