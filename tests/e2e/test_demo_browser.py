"""In headless Chromium, on a fresh app (`medspeak init` + Streamlit): the guided demo of issue 20, end to end, in
English and in French. A clinician switches the language in the sidebar, opens the Demo page and follows each
step's link: the French scan uploaded as a sample is read (OCR) and its drugs shown, the record, triage, length of
stay and beds open on the story's patient; then an administrator opens the audit trail from the same page.

Needs Debian's chromium (``.ci/run`` installs it); skipped with the reason when it is absent.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.flaky(reruns=1, reruns_delay=2)]

_WORDS = {
    "en": {
        "demo": "Demo",
        "title": "Demo: the story in five minutes",
        "upload": "Upload the sample",
        "links": (
            "Open Documents with the French scan ready",
            "Open the patient's record",
            "Open Triage for this patient",
            "Open this patient's length of stay",
            "Open the bed forecast",
        ),
        "audit": "Open the audit trail for this patient",
        "heart_rate": "Heart rate (/min)",  # the vitals spec's label, in the core
        "propose": "Propose a level",
        "proposal": r"P\(level 1-2\) \d+ ?%",  # the critical alert's line, with its reasons and the rules below
        "driver": r"(lengthens|shortens) the stay by about \d+ %",  # the LOS drivers' sentences, in the core
    },
    "fr": {
        "demo": "Démo",
        "title": "Démo : l'histoire en cinq minutes",
        "upload": "Déposer l'exemple",
        "links": (
            "Ouvrir Documents avec le scan en français prêt",
            "Ouvrir le dossier du patient",
            "Ouvrir le triage de ce patient",
            "Ouvrir la durée de séjour de ce patient",
            "Ouvrir la prévision des lits",
        ),
        "audit": "Ouvrir la piste d'audit de ce patient",
        "heart_rate": "Fréquence cardiaque (/min)",
        "propose": "Proposer un niveau",
        "proposal": r"P\(niveau 1-2\) \d+ ?%",
        "driver": r"(allonge|raccourcit) le séjour d'environ \d+ %",
    },
}


def _speak(page: Page, db: Path, username: str, language: str) -> None:
    """Start from English (the stored choice of an earlier test), then switch in the sidebar as a user would."""
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE users SET language = 'en' WHERE username = ?", (username,))
    page.reload()
    if language == "fr":
        page.get_by_test_id("stSidebar").get_by_role("radio", name="Français").click()
    expect(page.get_by_test_id("stSidebarNav").get_by_text(_WORDS[language]["demo"], exact=True)).to_be_visible()


def _demo(page: Page, url: str, language: str) -> None:
    page.goto(f"{url}/demo")
    expect(page.get_by_role("heading", name=_WORDS[language]["title"])).to_be_visible()


@pytest.fixture(autouse=True)
def _english_after(server: tuple[str, dict[str, str], Path]) -> Iterator[None]:
    """The language is kept per user: put every account back in English, or the next module's test reads French."""
    yield
    with sqlite3.connect(server[2]) as conn:
        conn.execute("UPDATE users SET language = 'en'")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_guided_demo_end_to_end(
    server: tuple[str, dict[str, str], Path], open_page: Callable[[int, int], Page], language: str
) -> None:
    url, creds, db = server
    words = _WORDS[language]
    page = open_page(1400, 1000)
    log_in(page, url, "clinician", creds["clinician"])
    _speak(page, db, "clinician", language)
    _demo(page, url, language)
    mrn = re.search(r"MS\d{6}", page.get_by_test_id("stAlert").first.inner_text())
    assert mrn, "the Demo page names the story's patient"

    documents, record, triage, stay, beds = words["links"]
    page.get_by_role("link", name=documents).click()
    expect(page).to_have_url(re.compile(r"/documents\?.*sample=fr-scanned-letter"))
    page.get_by_role("button", name=words["upload"]).click()
    # Read by OCR (no text layer) on a machine that may still be reading the demo's own documents.
    text = page.get_by_role("textbox", name="Text")  # the words read, beside the page image
    expect(text).to_have_value(re.compile(r"Bisoprolol 5 mg.*Apixaban 5 mg", re.DOTALL), timeout=240_000)
    expect(page.get_by_role("img").first).to_be_visible()

    for link, path in ((record, "patients"), (triage, "triage")):
        _demo(page, url, language)
        page.get_by_role("link", name=link).click()
        expect(page).to_have_url(re.compile(rf"/{path}\?"))
        expect(page.get_by_test_id("stMain")).to_contain_text(mrn.group(0))  # the story's patient, already chosen
    expect(page.get_by_label(words["heart_rate"], exact=True)).to_be_visible()  # the triage form's vitals
    page.get_by_role("button", name=words["propose"]).click()  # prefilled from the story's visit
    expect(page.get_by_test_id("stMain")).to_contain_text(re.compile(words["proposal"]), timeout=60_000)
    _demo(page, url, language)
    page.get_by_role("link", name=stay).click()
    expect(page).to_have_url(re.compile(r"/los\?encounter="))
    expect(page.get_by_role("combobox").first).to_have_value(re.compile(mrn.group(0)))  # the patient's stay
    expect(page.get_by_test_id("stMetric").first).to_be_visible()  # the predicted stay
    expect(page.get_by_test_id("stMain")).to_contain_text(re.compile(words["driver"]))  # why, in the reader's words

    _demo(page, url, language)
    page.get_by_role("link", name=record).click()
    drug = page.get_by_role("button", name=re.compile(r"Bisoprolol 5 mg"))  # the sample's drugs, in the record
    expect(drug.first).to_be_visible()

    _demo(page, url, language)
    page.get_by_role("link", name=beds).click()
    expect(page).to_have_url(re.compile(r"/beds"))
    expect(page.get_by_test_id("stPlotlyChart").first).to_be_visible()

    admin = open_page(1400, 1000)
    log_in(admin, url, "admin", creds["admin"])
    _speak(admin, db, "admin", language)
    _demo(admin, url, language)
    admin.get_by_role("link", name=words["audit"]).click()
    expect(admin).to_have_url(re.compile(r"/admin\?tab=audit"))
    expect(admin.get_by_role("tab", selected=True)).to_have_text(re.compile("Audit trail|Piste d'audit"))
