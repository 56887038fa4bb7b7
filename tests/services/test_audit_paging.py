"""Issue 18, item 9: the audit trail stopped at 500 of 913 events without saying so, and its CSV export was
capped the same way. Now the table pages through every event and the export streams all of them."""

from __future__ import annotations

import csv
import io

import pytest

from medspeak.auth.roles import Actor
from medspeak.errors import PermissionDenied
from medspeak.services import audit_log
from medspeak.store import audit
from medspeak.store.db import Store

_EVENTS = 1_200  # more than the 500 the table and the export stopped at


@pytest.fixture
def trail(store: Store) -> Store:
    with store.transaction() as db:
        for n in range(_EVENTS):
            audit.record(db, username="nurse", role="clinician", action="patient.read", outcome="success",
                         patient_id=n % 7 + 1, detail=f"read {n}")  # fmt: skip
    return store


def test_the_table_pages_through_every_event_and_says_how_many(trail: Store, actors: dict[str, Actor]) -> None:
    reading = audit_log.AuditFilter(username="nurse")
    first = audit_log.page_events(trail, actors["admin"], reading, offset=0, limit=500)
    assert first.total == _EVENTS and len(first.items) == 500
    last = audit_log.page_events(trail, actors["admin"], reading, offset=1_000, limit=500)
    assert (last.offset, len(last.items)) == (1_000, 200)
    assert last.items[-1].detail == "read 0"  # the oldest event is reachable
    ids = [r.id for r in first.items]
    assert ids == sorted(ids, reverse=True)  # newest first
    beyond = audit_log.page_events(trail, actors["admin"], reading, offset=99_999, limit=500)
    assert (beyond.offset, len(beyond.items)) == (1_000, 200)  # a page past the end shows the last page
    assert first.has_more and not last.has_more
    # The API's clients page on until has_more is false: past the end, an empty page, never the last one again.
    api_beyond = audit_log.page_events(trail, actors["admin"], reading, offset=1_200, limit=500, past_end=True)
    assert (api_beyond.offset, api_beyond.items, api_beyond.has_more, api_beyond.total) == (1_200, [], False, _EVENTS)
    one_patient = audit_log.page_events(trail, actors["admin"], audit_log.AuditFilter(patient_id=3), limit=10)
    assert one_patient.total == len([n for n in range(_EVENTS) if n % 7 + 1 == 3])


def test_the_export_streams_every_matching_event_and_is_audited(trail: Store, actors: dict[str, Actor]) -> None:
    chunks = audit_log.export_csv(trail, actors["admin"], audit_log.AuditFilter(action="patient."))
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8"))))
    assert rows[0][:3] == ["#", "When (UTC)", "User"]
    assert len(rows) - 1 == _EVENTS  # was cut at 500
    assert {r[8] for r in rows[1:]} == {f"read {n}" for n in range(_EVENTS)}
    exports = audit_log.page_events(trail, actors["admin"], audit_log.AuditFilter(action="audit.export")).items
    assert len(exports) == 1 and exports[0].detail.endswith(f"{_EVENTS} events")


@pytest.mark.parametrize("role", ["clinician", "bed_manager"])
def test_only_an_admin_exports_the_trail(store: Store, actors: dict[str, Actor], role: str) -> None:
    with pytest.raises(PermissionDenied):
        audit_log.export_csv(store, actors[role], audit_log.AuditFilter())  # refused before any byte
