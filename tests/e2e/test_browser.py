"""The real app in headless Chromium: a clinician logs in and opens a patient.

Needs Debian's chromium (``.ci/run`` installs it); skipped with the reason when it is absent.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path]]:
    """`medspeak init` then Streamlit on a free loopback port, as `make run` does."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    home = tmp_path_factory.mktemp("e2e")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDSPEAK_")}
    env.update(
        {
            "MEDSPEAK_HOME": str(home / "var"),
            "MEDSPEAK_SECRETS_FILE": str(home / "secrets.toml"),
            "MEDSPEAK_DEMO_PATIENTS": "12",
            "MEDSPEAK_BCRYPT_ROUNDS": "4",
            "PYTHONPATH": str(ROOT),
        }
    )
    (home / "secrets.toml").write_text('cookie_key = "e2e-only-random-key-0123456789abcdefghijkl"\n')
    out = subprocess.run(
        [sys.executable, "-m", "medspeak", "init"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    creds = dict(re.findall(r"^\s+(\w+)\s+\w+\s+(\S+)$", out, flags=re.MULTILINE))
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as answer:  # noqa: S310 - loopback
                    if answer.read() == b"ok":
                        break
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        else:
            pytest.fail("the app did not answer /_stcore/health within 60 s")
        yield url, creds, home / "var" / "medspeak.db"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _first_patient(db: Path) -> tuple[int, str, str]:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT id, mrn, family_name FROM patients ORDER BY id LIMIT 1").fetchone()
    return int(row[0]), str(row[1]), str(row[2])


def test_clinician_logs_in_and_opens_a_patient(server: tuple[str, dict[str, str], Path], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, creds, db = server
    patient_id, mrn, family = _first_patient(db)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(30_000)
        page.goto(url)
        page.get_by_role("textbox", name="Username").fill("clinician")
        page.get_by_role("textbox", name="Password").fill(creds["clinician"])
        page.get_by_role("button", name="Log in").click()
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
        browser.close()
