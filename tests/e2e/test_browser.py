"""The real app in headless Chromium: a clinician logs in, opens a patient, uploads a scan.

Needs Debian's chromium (``.ci/run`` installs it); skipped with the reason when it is absent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import attach_file, first_patient, log_in

# A browser on a shared 2-core runner is at the mercy of its neighbours: one retry, never more.
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.flaky(reruns=1, reruns_delay=2)]


def test_clinician_logs_in_and_opens_a_patient(
    server: tuple[str, dict[str, str], Path], tmp_path: Path, open_page: Callable[[int, int], Page]
) -> None:
    from playwright.sync_api import expect

    url, creds, db = server
    patient_id, mrn, family = first_patient(db)
    page = open_page(1400, 1000)
    log_in(page, url, "clinician", creds["clinician"])
    expect(page.get_by_role("heading", name="Home")).to_be_visible()
    expect(page.get_by_text("Ward census")).to_be_visible()

    page.get_by_role("link", name="Patients").click()
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    page.get_by_role("textbox", name="Search by name or MRN").fill(mrn)
    page.keyboard.press("Enter")
    expect(page.get_by_text("1 patient(s)")).to_be_visible()

    # A new page load resumes the session from the signed cookie and opens the patient by link.
    page.goto(f"{url}/patients?patient={patient_id}")
    expect(page.get_by_role("heading", name=family.upper())).to_be_visible()
    expect(page.get_by_text(f"MRN {mrn}")).to_be_visible()
    expect(page.get_by_role("heading", name="Visits and stays")).to_be_visible()
    page.screenshot(path=str(tmp_path / "patient.png"), full_page=True)

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    page.goto(f"{url}/patients?patient={patient_id}")  # the revoked session does not come back
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    expect(page.get_by_text(f"MRN {mrn}")).to_have_count(0)


def test_clinician_uploads_a_scan_and_reads_its_text(
    server: tuple[str, dict[str, str], Path], tmp_path: Path, open_page: Callable[[int, int], Page]
) -> None:
    from playwright.sync_api import expect

    from medspeak.demo.render import render_scan

    url, creds, _ = server
    scan = tmp_path / "prescription-photo.png"
    scan.write_bytes(render_scan("Prescription\nAmoxicillin 500 mg PO three times daily for 7 days", 11))
    page = open_page(1400, 1100)
    log_in(page, url, "clinician", creds["clinician"])
    page.get_by_role("link", name="Documents").click()
    expect(page.get_by_role("heading", name="Documents", exact=True)).to_be_visible()
    attach_file(page, scan)
    page.get_by_role("button", name="Upload and read").click()
    text = page.get_by_role("textbox", name="Text")
    try:
        expect(text).to_have_value(re.compile("Amoxicillin 500 mg"), timeout=60_000)
    finally:
        page.screenshot(path=str(tmp_path / "documents.png"), full_page=True)
    expect(page.get_by_text(re.compile(r"ocr:tesseract, \d+ words"))).to_be_visible()
    # Issue 18, item 11. The file sent is no longer offered again in the uploader:
    expect(page.get_by_role("button", name=f"Remove {scan.name}")).to_have_count(0)
    # the text read is drawn in the body's ink, not greyed like a disabled field:
    ink = text.evaluate("e => getComputedStyle(e).webkitTextFillColor")
    assert ink == "rgb(49, 51, 63)", ink
    # and the language found ("English or French" at upload) is in the documents list.
    page.get_by_role("link", name="Home").click()
    # The grid is drawn on a canvas; its cells are also in the page, for screen readers.
    table = page.get_by_test_id("stDataFrame").filter(has_text=scan.name)
    expect(table).to_have_count(1)
    row = table.get_by_role("row", include_hidden=True).filter(has_text=scan.name).first
    cells = row.get_by_role("gridcell", include_hidden=True).all_inner_texts()
    assert "EN" in cells, cells
