"""In headless Chromium: a clinician uploads a French report and reads a record a French clinician would
recognise (issue 14): the drugs with their regimen and ATC code, the problems with their CIM-10 code,
denied symptoms apart, examination findings apart from the problem list, NKDA.

Needs Debian's chromium (``.ci/run`` installs it); skipped with the reason when it is absent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import attach_file, choose_option, first_patient, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.flaky(reruns=1, reruns_delay=2)]

_REPORT = (
    "COMPTE RENDU DE CONSULTATION\n"
    "MOTIF : Dyspnée.\n"
    "HDM : Patiente de 72 ans, essoufflement depuis 3 jours. Elle n'a pas eu de fièvre. Elle nie toute douleur "
    "thoracique.\n"
    "ATCD : Asthme. Hypertension artérielle.\n"
    "MÉDICAMENTS ACTUELS : Céfuroxime 500 mg 1-0-1, Kardégic 75 mg 1/j.\n"
    "ALLERGIES : aucune.\n"
    "EXAMEN PHYSIQUE : Pas d'adénopathie. Crépitants aux bases.\n"
)


def test_a_french_report_gives_a_record_a_french_clinician_recognises(
    server: tuple[str, dict[str, str], Path], tmp_path: Path, open_page: Callable[[int, int], Page]
) -> None:
    from playwright.sync_api import expect

    url, creds, db = server
    patient_id, mrn, _ = first_patient(db)
    report = tmp_path / "consultation.txt"
    report.write_text(_REPORT, encoding="utf-8")
    page = open_page(1500, 1400)
    try:
        log_in(page, url, "clinician", creds["clinician"])
        expect(page.get_by_role("heading", name="Home")).to_be_visible()
        page.goto(f"{url}/documents")
        expect(page.get_by_role("heading", name="Documents", exact=True)).to_be_visible()
        page.get_by_role("textbox", name="Patient (name or MRN)", exact=True).fill(mrn)
        page.keyboard.press("Enter")
        choose_option(page, "Attach to", re.compile(mrn))
        page.wait_for_timeout(2_000)
        attach_file(page, report)
        page.get_by_role("button", name="Upload and read").click()
        expect(page.get_by_text("Reading", exact=True)).to_be_visible()

        medication = page.get_by_role("button", name=re.compile(r"^\S*\s*Céfuroxime 500 mg"))
        for _ in range(36):  # one document at a time: reload until ours is in the record
            page.goto(f"{url}/patients?patient={patient_id}")
            expect(page.get_by_role("heading", name="Record from documents")).to_be_visible()
            if medication.count():
                break
            page.wait_for_timeout(5_000)
        expect(medication).to_be_visible()
        expect(page.get_by_text("ATC J01DC02").first).to_be_visible()  # cefuroxime
        page.get_by_role("tab", name="Problems").click()
        expect(page.get_by_role("button", name=re.compile(r"Asthme")).first).to_be_visible()
        expect(page.get_by_text("CIM-10 J45").first).to_be_visible()
        expect(page.get_by_text(re.compile(r"Examination findings")).first).to_be_visible()
        expect(page.get_by_role("button", name=re.compile(r"Crépitants aux bases")).first).to_be_visible()
    finally:
        page.screenshot(path=str(tmp_path / "french-record.png"))
