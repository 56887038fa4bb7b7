"""In headless Chromium: the record's evidence names which of two identical mentions it shows (line,
"mention 2 of 2") and stays in view beside a long list (issue 18, item 4). The crop and zoom of the page
image are checked in tests/indexing/test_mentions.py.

Needs Debian's chromium (``.ci/run`` installs it); skipped with the reason when it is absent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import log_in, patient_without_documents, upload_for_patient

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.flaky(reruns=1, reruns_delay=2)]

_REPORT = (
    "Discharge letter\n"
    "Medications on admission: Lisinopril 10 mg PO daily.\n"
    "Course: blood pressure controlled.\n"
    "Discharge medications: Lisinopril 10 mg PO daily.\n"
)


def test_the_evidence_names_the_mention_and_stays_in_view(
    server: tuple[str, dict[str, str], Path], tmp_path: Path, open_page: Callable[[int, int], Page]
) -> None:
    from playwright.sync_api import expect

    url, creds, db = server
    patient_id, mrn = patient_without_documents(db)
    letter = tmp_path / "two-mentions.txt"
    letter.write_text(_REPORT)
    page = open_page(1400, 900)
    try:
        log_in(page, url, "clinician", creds["clinician"])
        expect(page.get_by_role("heading", name="Home")).to_be_visible()
        upload_for_patient(page, url, mrn, letter)
        medication = page.get_by_role("button", name=re.compile(r"Lisinopril 10 mg"))
        for _ in range(36):
            page.goto(f"{url}/patients?patient={patient_id}")
            expect(page.get_by_role("heading", name="Record from documents")).to_be_visible()
            if medication.count():
                break
            page.wait_for_timeout(5_000)
        medication.first.click()
        expect(page.get_by_text(re.compile(r"two-mentions\.txt .* line 4 · mention 2 of 2"))).to_be_visible()
        panel = page.locator(".st-key-record-evidence")
        assert panel.evaluate("e => getComputedStyle(e).position") == "sticky"

    finally:
        page.screenshot(path=str(tmp_path / "evidence.png"), full_page=True)
