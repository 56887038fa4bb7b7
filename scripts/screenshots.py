"""Regenerate the README screenshots: a fresh demo install, the Demo page, a clinician's Home, a patient's page
and record, the beds.

Run: ``PYTHONPATH=. .venv/bin/python scripts/screenshots.py [demo home patient record beds]`` (needs Debian
chromium); with names, only those pictures are taken.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> None:
    wanted = set(sys.argv[1:]) or {"demo", "home", "patient", "record", "beds"}
    home = Path(tempfile.mkdtemp(prefix="medspeak-shots-"))
    env = {
        **os.environ,
        "MEDSPEAK_HOME": str(home / "var"),
        "MEDSPEAK_SECRETS_FILE": str(home / "s.toml"),
        "PYTHONPATH": str(ROOT),
    }
    (home / "s.toml").write_text('cookie_key = "screenshots-only-key-0123456789abcdefghij"\n')
    out = subprocess.run(
        [sys.executable, "-m", "medspeak", "init"], env=env, check=True, capture_output=True, text=True
    ).stdout
    password = re.search(r"^\s+clinician\s+\w+\s+(\S+)$", out, re.MULTILINE).group(1)  # type: ignore[union-attr]
    with sqlite3.connect(home / "var" / "medspeak.db") as conn:
        patient_id = conn.execute(
            "SELECT p.id FROM patients p JOIN documents d ON d.patient_id = p.id JOIN encounters e "
            "ON e.patient_id = p.id WHERE d.text IS NOT NULL AND e.vitals IS NOT NULL LIMIT 1"
        ).fetchone()[0]
        # The patient whose documents the reader takes first (lowest ids): their record fills first.
        record_patient = conn.execute(
            "SELECT patient_id FROM documents WHERE patient_id IS NOT NULL AND kind = 'discharge_summary' "
            "AND language = 'en' ORDER BY id LIMIT 1"
        ).fetchone()[0]
    server = subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "components.server", "--server.port", "8599"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen("http://127.0.0.1:8599/_stcore/health", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto("http://127.0.0.1:8599")
            page.get_by_role("textbox", name="Username").fill("clinician")
            page.get_by_role("textbox", name="Password").fill(password)
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_text("Ward census").first).to_be_visible()
            page.wait_for_timeout(1500)
            if "home" in wanted:
                page.screenshot(path=str(ROOT / "docs" / "home.png"))
            if "demo" in wanted:
                for _ in range(100):  # the login cookie is written a moment after the login: a new page needs it
                    if any(c["name"] == "medspeak_session" for c in page.context.cookies()):
                        break
                    page.wait_for_timeout(100)
                page.goto("http://127.0.0.1:8599/demo")
                expect(page.get_by_text(re.compile(r"^The story's patient: "))).to_be_visible(timeout=60_000)
                page.wait_for_timeout(1500)
                page.screenshot(path=str(ROOT / "docs" / "demo.png"), full_page=True)
            if not wanted & {"patient", "record", "beds"}:
                browser.close()
                return
            page.goto(f"http://127.0.0.1:8599/patients?patient={patient_id}")
            expect(page.get_by_role("heading", name="Visits and stays")).to_be_visible()
            page.get_by_role("heading", name="Visits and stays").scroll_into_view_if_needed()
            page.wait_for_timeout(1500)
            page.screenshot(path=str(ROOT / "docs" / "patient.png"))
            for _ in range(240):  # the demo documents are read in the background after the first start
                with sqlite3.connect(home / "var" / "medspeak.db") as conn:
                    waiting = conn.execute(
                        "SELECT COUNT(*) FROM ingest_jobs j JOIN documents d ON d.id = j.document_id "
                        "WHERE d.patient_id = ? AND j.status IN ('queued', 'running')",
                        (record_patient,),
                    ).fetchone()[0]
                if not waiting:
                    break
                time.sleep(1)
            page.goto(f"http://127.0.0.1:8599/patients?patient={record_patient}")
            heading = page.get_by_role("heading", name="Record from documents")
            expect(heading).to_be_visible(timeout=60_000)
            medication = page.get_by_role("button", name=re.compile(r"\d mg\b")).first
            expect(medication).to_be_visible(timeout=30_000)
            medication.click()
            expect(page.get_by_text("Select a line to see the words")).to_have_count(0, timeout=30_000)
            page.wait_for_timeout(2000)
            heading.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(1000)
            page.screenshot(path=str(ROOT / "docs" / "record.png"))
            for slug, marker in (("beds", "How good is this forecast?"),):
                page.goto(f"http://127.0.0.1:8599/{slug}")
                expect(page.get_by_text(marker).first).to_be_visible(timeout=60_000)
                page.wait_for_timeout(2500)
                page.screenshot(path=str(ROOT / "docs" / f"{slug}.png"))
            browser.close()
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
