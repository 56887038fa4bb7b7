"""In headless Chromium: the record's latest-results table flags BP 197/97, K 3.3 mmol/L and WBC 13.0 in words
and a symbol, each row with its unit, date and evidence (issue 18, item 5).

Needs Debian's chromium (``.ci/run`` installs it); skipped with the reason when it is absent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page

from tests.e2e.conftest import log_in, patient_without_documents, upload_for_patient

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.flaky(reruns=1, reruns_delay=2)]

_REPORT = (
    "Emergency department note\n"
    "Vitals: BP 197/97, HR 88, SpO2 97%, Temp 37.0 C.\n"
    "Labs: K 3.3 mmol/L, Na 139 mmol/L, WBC 13.0 x10^9/L.\n"
)


def test_the_latest_results_table_flags_abnormal_values(
    server: tuple[str, dict[str, str], Path], tmp_path: Path, open_page: Callable[[int, int], Page]
) -> None:
    from playwright.sync_api import expect

    url, creds, db = server
    patient_id, mrn = patient_without_documents(db)
    report = tmp_path / "ed-note.txt"
    report.write_text(_REPORT)
    page = open_page(1400, 900)
    try:
        log_in(page, url, "clinician", creds["clinician"])
        expect(page.get_by_role("heading", name="Home")).to_be_visible()
        upload_for_patient(page, url, mrn, report)
        tab = page.get_by_role("tab", name="Vitals and labs")
        for _ in range(36):  # reload until the note has been read
            page.goto(f"{url}/patients?patient={patient_id}")
            expect(page.get_by_role("heading", name="Record from documents")).to_be_visible()
            tab.click()
            if page.get_by_text("Latest results").count():
                break
            page.wait_for_timeout(5_000)
        # Issue 18, item 11: at 1400 px the record's tab bar cut its last tab ("Follow-up").
        follow_up = page.get_by_role("tab", name="Follow-up")
        bar = page.get_by_role("tablist").filter(has=follow_up).bounding_box()
        last = follow_up.bounding_box()
        assert bar is not None and last is not None
        assert last["x"] + last["width"] <= bar["x"] + bar["width"] + 1, (last, bar)
        rows = page.locator('[data-testid="stHorizontalBlock"]')

        def row(measure: str) -> Locator:
            # the innermost row holding the measure (the record's two columns are a row too)
            return rows.filter(has=page.get_by_text(measure, exact=True)).last

        expected = {
            "Systolic BP": ("197", "mmHg", "⇈ critical high"),
            "Diastolic BP": ("97", "mmHg", "↑ high"),
            "Potassium": ("3.3", "mmol/L", "↓ low"),
            "White blood cells": ("13", "x10^9/L", "↑ high"),
            "Sodium": ("139", "mmol/L", "normal"),
            "Heart rate": ("88", "/min", "normal"),
        }
        for measure, (value, unit, flag) in expected.items():
            found = row(measure)
            for text in (value, unit, flag):
                expect(found).to_contain_text(text)
            expect(found.get_by_role("button", name=re.compile("Evidence"))).to_be_visible()
        row("Potassium").get_by_role("button", name=re.compile("Evidence")).click()
        expect(page.get_by_text("K 3.3 mmol/L", exact=True).last).to_be_visible()
    finally:
        page.screenshot(path=str(tmp_path / "latest-results.png"), full_page=True)
