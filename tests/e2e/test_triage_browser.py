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
    expect(page.get_by_text("SpO2 below 92 %").first).to_be_visible()
    expect(page.get_by_role("heading", name="Why")).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()  # the SHAP waterfall
    expect(page.get_by_text("points towards level 1-2").first).to_be_attached()  # in probability points
    page.screenshot(path=str(tmp_path / "triage.png"), full_page=True)


def test_nurse_enters_her_level_reads_the_alert_and_the_flag_and_her_decision_is_stored(
    server: tuple[str, dict[str, str], Path], tmp_path: Path, open_page: Callable[[int, int], Page]
) -> None:
    """The issue's shock patient: level 1 with the rule, the alert beside it, her level 2 flagged; she changes it."""
    import json
    import re
    import sqlite3

    from playwright.sync_api import expect

    from tests.e2e.conftest import first_patient

    url, creds, db = server
    patient_id, mrn, family = first_patient(db)
    page = open_page(1400, 1600)
    log_in(page, url, "clinician", creds["clinician"])
    expect(page.get_by_role("heading", name="Home")).to_be_visible()
    page.goto(f"{url}/triage?patient={patient_id}")
    expect(page.get_by_role("heading", name="Triage")).to_be_visible()
    expect(page.get_by_text(re.compile(rf"{family.upper()}, .* · MRN {mrn}"))).to_be_visible()  # not "Patient 1"
    for label, value in (
        ("SpO2 (%)", "85"),
        ("Heart rate (/min)", "130"),
        ("Respiratory rate (/min)", "28"),
        ("Temperature (°C)", "39.2"),
        ("Age (years)", "70"),
        ("Blood pressure (mmHg)", "85/50"),
        ("Chief complaint", "shortness of breath"),
    ):
        page.get_by_label(label).fill(value)
    page.get_by_test_id("stSelectbox").filter(has_text="Your level").click()
    page.get_by_role("option", name="2 · Emergency").click()
    page.get_by_role("button", name="Propose a level").click()

    expect(page.get_by_text("Level 1 · Resuscitation")).to_be_visible()
    expect(page.get_by_text("Shock: hypotension with tachycardia").first).to_be_visible()
    expect(page.get_by_text("Possible level 1-2")).to_be_visible()
    expect(page.get_by_text("Your level 2 may be too low")).to_be_visible()
    expect(page.get_by_text("points towards level 1-2").first).to_be_visible()
    decision = page.get_by_test_id("stForm").filter(has_text="Your decision")
    decision.get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name="1 · Resuscitation").click()
    decision.get_by_role("button", name="Record my decision").click()
    expect(page.get_by_text("Decision recorded: level 1 (changed; your level was 2")).to_be_visible()
    # Issue 18 item 6: the inputs used were raw JSON ("spo2": 85, "pain": null); now the form's words and units.
    page.get_by_text("Inputs used and model version").click()
    inputs = page.get_by_test_id("stTable")
    expect(inputs.get_by_text("SpO2 (%)", exact=True)).to_be_visible()
    expect(inputs.get_by_text("not recorded").first).to_be_visible()
    expect(page.get_by_test_id("stJson")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "triage-decision.png"), full_page=True)

    with sqlite3.connect(db) as conn:
        output, override = conn.execute(
            "SELECT output, override FROM assessments WHERE patient_id = ? ORDER BY id DESC LIMIT 1", (patient_id,)
        ).fetchone()
        audited = conn.execute(
            "SELECT count(*) FROM audit_events WHERE action = 'triage.decide' AND outcome = 'success'"
        ).fetchone()[0]
    stored, decided = json.loads(output), json.loads(override)
    assert stored["level"] == 1 and stored["nurse_level"] == 2 and stored["second_reading"]["flagged"]
    assert stored["alert"]["raised"]
    assert decided["level"] == 1 and decided["decision"] == "changed" and decided["nurse_level"] == 2
    assert audited >= 1

    page.get_by_role("link", name="ED queue").click()
    expect(
        page.get_by_text(re.compile(r"\d+ patient\(s\) waiting or being seen; [1-9]\d* with a critical alert"))
    ).to_be_visible()
    page.wait_for_timeout(1_000)  # the table is drawn on a canvas after the caption
    page.screenshot(path=str(tmp_path / "ed-queue.png"), full_page=True)


def test_a_french_nurses_decision_is_confirmed_in_french(
    server: tuple[str, dict[str, str], Path], tmp_path: Path, open_page: Callable[[int, int], Page]
) -> None:
    """The confirmation of her decision mixed English into the French sentence ("modifiée" was "changed", and
    "; your level was 2")."""
    import re
    import sqlite3

    from playwright.sync_api import expect

    from tests.e2e.conftest import choose_option, first_patient, open_options

    url, creds, db = server
    patient_id = first_patient(db)[0]
    page = open_page(1400, 2400)  # French runs longer: the decision's options must open on screen
    try:
        log_in(page, url, "clinician", creds["clinician"])
        page.get_by_test_id("stSidebar").get_by_role("radio", name="Français").click()
        # The choice is saved by the rerun the click starts: a page opened before it ends was still in English.
        expect(page.get_by_test_id("stSidebarNav").get_by_text("Accueil", exact=True)).to_be_visible()
        page.goto(f"{url}/triage?patient={patient_id}")
        expect(page.get_by_role("heading", name="Triage")).to_be_visible()
        for label, value in (
            ("SpO2 (%)", "85"),
            ("Fréquence cardiaque (/min)", "130"),
            ("Fréquence respiratoire (/min)", "28"),
            ("Température (°C)", "39.2"),
            ("Âge (ans)", "70"),
            ("Pression artérielle (mmHg)", "85/50"),
            ("Motif de consultation", "shortness of breath"),
        ):
            page.get_by_label(label, exact=True).fill(value)
        choose_option(page, "Votre niveau", re.compile(r"^2 · "))
        page.get_by_role("button", name="Proposer un niveau").click()
        decision = page.get_by_test_id("stForm").filter(has_text="Votre décision")
        decision.get_by_role("button", name="Enregistrer ma décision").scroll_into_view_if_needed()
        open_options(page, decision.get_by_test_id("stSelectbox"))
        page.get_by_role("option", name=re.compile(r"^1 · ")).click()
        decision.get_by_role("button", name="Enregistrer ma décision").click()
        done = page.get_by_test_id("stAlert").filter(has_text="Décision enregistrée")
        expect(done).to_contain_text("Décision enregistrée : niveau 1 (modifiée ; votre niveau était 2 ;")
        expect(done).not_to_contain_text("changed")
        expect(done).not_to_contain_text("your level")
    finally:
        page.screenshot(path=str(tmp_path / "triage-decision-fr.png"), full_page=True)
        with sqlite3.connect(db) as conn:  # the language is kept per user: the next test reads English
            conn.execute("UPDATE users SET language = 'en'")
