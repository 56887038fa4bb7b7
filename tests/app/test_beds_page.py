"""The Beds and LOS pages, run alone with a logged-in actor (the committed model, a generated hospital)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from medspeak.auth.roles import Actor
from medspeak.services.beds import forecast_occupancy
from medspeak.services.context import AppContext
from medspeak.store.db import Store
from medspeak.store.models import Assessment
from tests.los.conftest import NOW, insert_demo
from tests.support.pages import page

PAGES = Path(__file__).resolve().parents[2] / "pages"


@pytest.fixture
def hospital(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    insert_demo(store, 60, 9)
    # The pages read "now"; pin it to the moment the hospital was generated, so that the stays' ages (and so
    # every forecast below) are the same on any day the suite runs.
    monkeypatch.setattr("medspeak.services.beds.utcnow", lambda: NOW)
    monkeypatch.setattr("medspeak.services.stays.utcnow", lambda: NOW)
    return store


def test_bed_manager_sees_tomorrow_per_ward_with_bands_and_backtest(
    ctx: AppContext, hospital: Store, actors: dict[str, Actor]
) -> None:
    at = page("beds.py", actors["bed_manager"]).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Beds"
    summary = at.dataframe[0].value
    assert len(summary) == 6 and {"Tomorrow (median)", "Tomorrow (90 % band)", "Expected discharges today"} <= set(
        summary.columns
    )
    # Issue 18, item 7: each ward's fullest day is named without an alert, the arrivals assumed are stated,
    # and discharges are counted as people ("about 2", not "0.4").
    assert summary["Peak day"].str.match(r"^\w{3} \d{2} \w{3}$").all()
    assert (summary["Expected peak (median beds)"] >= 0).all() and (summary["Admissions a day (assumed)"] >= 0).all()
    assert summary["Expected discharges today"].str.match(r"^(about \d+|fewer than 1)$").all()
    assert any(c.value.startswith("Arrivals assumed: each ward's admissions of the last 4 weeks") for c in at.caption)
    assert len(at.get("plotly_chart")) == 6 + 1  # one fan chart a ward, and the back-test
    # Issue 18, item 7: the fan chart's dots were not in its legend (plotly marks a short series' points
    # unless told otherwise): every trace drawn with dots is named in the legend.
    traces = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    dotted = [t for t in traces if "markers" in t.get("mode", "lines+markers")]
    assert dotted and all(t.get("showlegend", True) and t.get("name") for t in dotted), dotted
    assert len(at.dataframe[1].value) > 0
    assert {m.label for m in at.metric} >= {"Inside the 90 % band", "Stays inside P10-P90"}
    # The capacity alert is always stated: one error line per ward the forecast flags, or one all-clear line.
    flagged = [w.name for w in forecast_occupancy(ctx, actors["bed_manager"], 14, now=NOW).wards if w.alert_days]
    assert [e.value.split(":")[0] for e in at.error] == flagged
    assert [s.value.startswith("No ward passes") for s in at.success] == ([] if flagged else [True])
    # A what-if that overfills Surgery turns its line into an alert, and the all-clear goes.
    at.selectbox(key="beds.whatif_ward").set_value("SURG")
    at.number_input(key="beds.whatif_count").set_value(30).run()
    assert "Surgery" in [e.value.split(":")[0] for e in at.error]
    assert not at.success


def test_what_if_electives_show_in_the_summary(hospital: Store, actors: dict[str, Actor]) -> None:
    at = page("beds.py", actors["bed_manager"]).run()
    before = at.dataframe[0].value.set_index("Ward")
    at.selectbox(key="beds.whatif_ward").set_value("SURG")
    at.number_input(key="beds.whatif_count").set_value(12).run()
    after = at.dataframe[0].value.set_index("Ward")
    assert after.loc["Surgery", "Electives added"] == 12
    risk = "Highest chance of running out"
    assert after.loc["Surgery", risk] >= before.loc["Surgery", risk]
    assert after.loc["Cardiology", risk] == before.loc["Cardiology", risk]


def test_los_page_shows_stay_interval_drivers_and_history(hospital: Store, actors: dict[str, Actor]) -> None:
    at = page("los.py", actors["clinician"]).run()
    assert not at.exception, at.exception
    assert {"Expected discharge", "80 % interval", "Predicted stay (days)"} <= {m.label for m in at.metric}
    assert any("lengthens" in m.value or "shortens" in m.value for m in at.markdown)
    assert "report(s)" not in " ".join(c.value for c in at.caption)  # 'no report', 'one report', 'N reports'
    # Opening the page stores nothing (issue 18 item 7); the clinician saves the prediction by an explicit act.
    assert _assessments(hospital) == 0 and not at.dataframe
    at.button(key="los.save").click().run()
    assert _assessments(hospital) == 1 and len(at.dataframe[0].value) == 1


def test_a_bed_manager_reads_a_stay_and_writes_nothing(hospital: Store, actors: dict[str, Actor]) -> None:
    at = page("los.py", actors["bed_manager"]).run()
    assert not at.exception, at.exception
    assert {"Expected discharge", "80 % interval"} <= {m.label for m in at.metric}
    assert not [b for b in at.button if b.key == "los.save"]
    at.run()
    assert _assessments(hospital) == 0


def _assessments(store: Store) -> int:
    with store.transaction() as db:
        return int(db.scalar(select(func.count(Assessment.id))) or 0)


def test_admin_cannot_open_a_patients_stay(hospital: Store, actors: dict[str, Actor]) -> None:
    at = page("los.py", actors["admin"]).run()
    assert not at.exception  # refused with a message on the page, not a traceback
    assert not at.metric
    assert any("does not allow" in e.value for e in at.error)
