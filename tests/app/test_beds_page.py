"""The Beds and LOS pages, run alone with a logged-in actor (the committed model, a generated hospital)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from medspeak.auth.roles import Actor
from medspeak.store.db import Store
from tests.los.conftest import insert_demo

PAGES = Path(__file__).resolve().parents[2] / "pages"


@pytest.fixture
def hospital(store: Store) -> Store:
    insert_demo(store, 60, 9)
    return store


def _page(path: str, actor: Actor) -> AppTest:
    at = AppTest.from_file(str(PAGES / path), default_timeout=60)
    at.session_state["auth.actor"] = actor
    return at.run()


def test_bed_manager_sees_tomorrow_per_ward_with_bands_and_backtest(hospital: Store, actors: dict[str, Actor]) -> None:
    at = _page("beds.py", actors["bed_manager"])
    assert not at.exception, at.exception
    assert at.title[0].value == "Beds"
    summary = at.dataframe[0].value
    assert len(summary) == 6 and {"Tomorrow (median)", "Tomorrow (90 % band)", "Discharges today"} <= set(
        summary.columns
    )
    assert len(at.get("plotly_chart")) == 6 + 1  # one fan chart a ward, and the back-test
    assert len(at.dataframe[1].value) > 0
    assert {m.label for m in at.metric} >= {"Inside the 90 % band", "Stays inside P10-P90"}
    assert at.error or at.success  # the capacity alert line is always stated, one way or the other


def test_what_if_electives_show_in_the_summary(hospital: Store, actors: dict[str, Actor]) -> None:
    at = _page("beds.py", actors["bed_manager"])
    before = at.dataframe[0].value.set_index("Ward")
    at.selectbox(key="beds.whatif_ward").set_value("SURG")
    at.number_input(key="beds.whatif_count").set_value(12).run()
    after = at.dataframe[0].value.set_index("Ward")
    assert after.loc["Surgery", "Electives added"] == 12
    assert after.loc["Surgery", "Max P(full)"] >= before.loc["Surgery", "Max P(full)"]
    assert after.loc["Cardiology", "Max P(full)"] == before.loc["Cardiology", "Max P(full)"]


def test_los_page_shows_stay_interval_drivers_and_history(hospital: Store, actors: dict[str, Actor]) -> None:
    at = _page("los.py", actors["clinician"])
    assert not at.exception, at.exception
    assert {"Expected discharge", "80 % interval", "Predicted stay (days)"} <= {m.label for m in at.metric}
    assert "lengthens" in at.markdown[-1].value or "shortens" in at.markdown[-1].value
    assert len(at.dataframe[0].value) == 1


def test_admin_cannot_open_a_patients_stay(hospital: Store, actors: dict[str, Actor]) -> None:
    at = AppTest.from_file(str(PAGES / "los.py"), default_timeout=60)
    at.session_state["auth.actor"] = actors["admin"]
    at.run()
    assert not at.metric
    assert any("does not allow" in e.message for e in at.exception) or any(
        "does not allow" in e.value for e in at.error
    )
