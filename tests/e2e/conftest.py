"""Browser tests: one app server for the session (`medspeak init` + Streamlit), Debian chromium."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.support.servers import serve

ROOT = Path(__file__).resolve().parents[2]
# The first open of a model page on a busy 2-core runner can take seconds: wait for it, not 5 s.
expect.set_options(timeout=60_000)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
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


@pytest.fixture(scope="session")
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
            "MEDSPEAK_ENV": "test",  # production (the default) refuses cheap password hashing
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

    def command(port: int) -> list[str]:
        address = ["--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"]
        return [sys.executable, "-m", "components.server", *address]

    with serve(command, "/_stcore/health", home / "server.log", env=env, cwd=ROOT) as (url, _):
        yield url, creds, home / "var" / "medspeak.db"


def wait_for_session_cookie(page: Page) -> None:
    """The server sets the login cookie (HttpOnly) when the page's image asks for it, a moment after the login."""
    for _ in range(100):
        if any(c["name"] == "medspeak_session" for c in page.context.cookies()):
            return
        page.wait_for_timeout(100)
    pytest.fail("the session cookie was never set")


def first_patient(db: Path) -> tuple[int, str, str]:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT id, mrn, family_name FROM patients ORDER BY id LIMIT 1").fetchone()
    return int(row[0]), str(row[1]), str(row[2])


def patient_without_documents(db: Path) -> tuple[int, str]:
    """(id, MRN) of a demo patient with no document yet: a test's upload is then all the record holds."""
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT id, mrn FROM patients WHERE id NOT IN "
            "(SELECT patient_id FROM documents WHERE patient_id IS NOT NULL) ORDER BY id LIMIT 1"
        ).fetchone()
    if row is None:  # the other browser tests on this worker's server took them all: a fresh patient, not a skip
        return _fresh_patient(db)
    return int(row[0]), str(row[1])


def _fresh_patient(db: Path) -> tuple[int, str]:
    """A new patient with no document, written beside the seeded ones (their columns' formats copied from one)."""
    with sqlite3.connect(db) as conn:
        count = int(conn.execute("SELECT COUNT(*) FROM patients").fetchone()[0])
        mrn = f"E2E{count:06d}"
        cursor = conn.execute(
            "INSERT INTO patients (mrn, given_name, family_name, sex, birth_date, language, created_at) "
            "SELECT ?, 'Ada', 'Fresh', sex, birth_date, language, created_at FROM patients ORDER BY id LIMIT 1",
            (mrn,),
        )
        return int(cursor.lastrowid or 0), mrn


def choose_option(page: Page, selectbox: str, option: re.Pattern[str] | str, tries: int = 6) -> None:
    """Open the selectbox labelled ``selectbox`` and pick ``option``, once the page has rerun with it.

    A selectbox opened before a rerun lands (a search just typed, on a busy machine) lists the old options
    and keeps them while open: close it and open it again rather than wait a fixed time.
    """
    box = page.get_by_test_id("stSelectbox").filter(has_text=selectbox)
    wanted = page.get_by_role("option", name=option)
    for _ in range(tries):
        box.click()
        try:
            wanted.first.wait_for(state="visible", timeout=5_000)
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            continue
        wanted.first.click()
        return
    pytest.fail(f"the option {option!r} never appeared in {selectbox!r}")


def open_options(page: Page, box: Locator, tries: int = 6) -> None:
    """Click ``box`` until its option list shows: a click that lands while the page reruns opens nothing."""
    for _ in range(tries):
        box.click()
        try:
            page.get_by_role("option").first.wait_for(state="visible", timeout=5_000)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    pytest.fail("the option list never opened")


def log_in(page: Page, url: str, username: str, password: str) -> None:
    page.goto(url)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    wait_for_session_cookie(page)  # the page reruns once the cookie is written: act after it


def attach_file(page: Page, path: Path) -> None:
    """Give ``path`` to the page's file uploader until the uploader shows it.

    A file given while the page reruns (the login cookie being written, a patient just chosen) can be
    dropped by Streamlit: give it again, up to three times.
    """
    remove = page.get_by_role("button", name=f"Remove {path.name}")
    for _ in range(3):
        page.locator("input[type=file]").set_input_files(str(path))
        try:
            expect(remove).to_be_visible(timeout=10_000)
            return
        except AssertionError:
            page.wait_for_timeout(2_000)
    expect(remove).to_be_visible()


def upload_for_patient(page: Page, url: str, mrn: str, path: Path) -> None:
    """Log-in done: upload ``path`` for the patient with ``mrn`` from the Documents page and wait until it is queued."""
    page.goto(f"{url}/documents")
    expect(page.get_by_role("heading", name="Documents", exact=True)).to_be_visible()
    page.get_by_role("textbox", name="Patient (name or MRN)", exact=True).fill(mrn)
    page.keyboard.press("Enter")
    choose_option(page, "Attach to", re.compile(re.escape(mrn)))
    page.wait_for_timeout(2_000)  # the page reruns for the chosen patient
    attach_file(page, path)
    page.get_by_role("button", name="Upload and read").click()
    expect(page.get_by_text("Reading", exact=True)).to_be_visible()


@pytest.fixture
def open_page() -> Iterator[Callable[[int, int], Page]]:
    """Opens a headless Chromium page of a given viewport (width, height); its browser closes after the test."""
    from playwright.sync_api import Browser, sync_playwright

    browsers: list[Browser] = []
    with sync_playwright() as pw:

        def open_(width: int, height: int) -> Page:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            browsers.append(browser)
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(60_000)  # a shared runner may still be reading the demo documents
            return page

        try:
            yield open_
        finally:
            for browser in browsers:
                browser.close()
