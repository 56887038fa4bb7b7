"""In headless Chromium: a discharge letter with two regimens of one drug, "as needed" orders and
drugs given in hospital only; the record lists each order in plain words, grouped by where it is taken.

Needs Debian's chromium (``.ci/run`` installs it); skipped with the reason when it is absent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import attach_file, choose_option, first_patient, log_in
from tests.indexing.test_medication_list import DO_NOT_USE, LETTER

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.flaky(reruns=1, reruns_delay=2)]


def test_the_record_lists_every_order_as_written_in_plain_words(
    server: tuple[str, dict[str, str], Path], tmp_path: Path, open_page: Callable[[int, int], Page]
) -> None:
    from playwright.sync_api import expect

    url, creds, db = server
    patient_id, mrn, _ = first_patient(db)
    letter = tmp_path / "lamictal-letter.txt"
    letter.write_text(LETTER)
    page = open_page(1500, 1200)
    try:
        log_in(page, url, "clinician", creds["clinician"])
        page.goto(f"{url}/documents")
        expect(page.get_by_role("heading", name="Documents", exact=True)).to_be_visible()
        page.get_by_role("textbox", name="Patient (name or MRN)", exact=True).fill(mrn)
        page.keyboard.press("Enter")
        choose_option(page, "Attach to", re.compile(mrn))
        page.wait_for_timeout(2_000)  # the page reruns for the chosen patient
        attach_file(page, letter)
        page.get_by_role("button", name="Upload and read").click()
        expect(page.get_by_text("Reading", exact=True)).to_be_visible()

        def order(words: str) -> object:
            return page.get_by_role("button", name=re.compile(rf"^\S*\s*{re.escape(words)}$"))

        first = order("Lamictal 100 mg by mouth once daily")
        for _ in range(36):  # the app reads one document at a time: reload until ours is in the record
            page.goto(f"{url}/patients?patient={patient_id}")
            expect(page.get_by_role("heading", name="Record from documents")).to_be_visible()
            if page.get_by_role("button", name=re.compile(r"Lamictal")).count():
                break
            page.wait_for_timeout(5_000)
        expect(first).to_be_visible()
        expect(order("Lamictal 150 mg by mouth at bedtime")).to_be_visible()
        expect(order("Oxycodone 5 mg by mouth every 4 hours as needed")).to_be_visible()
        expect(page.get_by_text("Given in hospital only", exact=True)).to_be_visible()
        expect(order("Ondansetron 4 mg intravenous every 8 hours as needed")).to_be_visible()
        medications = page.get_by_role("button", name=re.compile(r"Lamictal|Oxycodone|Ondansetron|Morphine"))
        shown = medications.all_inner_texts()
        assert not [t for t in shown if DO_NOT_USE.search(t)], shown
    finally:
        page.screenshot(path=str(tmp_path / "medications.png"), full_page=True)
