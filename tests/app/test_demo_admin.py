"""Issue 20: the Admin page's reset button puts the demo data back; outside demo mode there is no button."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from medspeak.demo.seed import seed_demo
from medspeak.store.db import Store
from medspeak.store.models import Patient


@pytest.fixture
def demo_mode(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDSPEAK_DEMO", "true")
    monkeypatch.setenv("MEDSPEAK_DEMO_PATIENTS", "8")


def _patients(store: Store) -> int:
    with store.transaction() as db:
        return db.scalar(select(func.count()).select_from(Patient)) or 0


def test_the_admin_resets_the_demo_data_after_confirming(
    demo_mode: None, store: Store, login: Callable[..., AppTest]
) -> None:
    seed_demo(store, n_patients=8, seed=3)
    with store.transaction() as db:
        db.execute(Patient.__table__.delete().where(Patient.id <= 3))
    at = login("admin")
    at.switch_page("pages/admin.py").run()
    assert at.button(key="admin.demo.reset").disabled, "nothing is wiped without a confirmation"
    at.checkbox(key="admin.demo.sure").check().run()
    at.button(key="admin.demo.reset").click().run()
    assert not at.exception
    assert any("Demo data reset: 8 patients" in s.value for s in at.success)
    assert _patients(store) == 8


def test_outside_demo_mode_the_admin_page_offers_no_reset(login: Callable[..., AppTest]) -> None:
    at = login("admin")
    at.switch_page("pages/admin.py").run()
    assert not at.exception
    assert not [b for b in at.button if b.key == "admin.demo.reset"]
    assert any("not a demo" in c.value for c in at.caption)
