"""The triage and ED queue pages, driven headless with a clinician in the session."""

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from medspeak.auth.roles import Actor
from medspeak.services import patients
from medspeak.store.db import Store
from medspeak.store.models import Assessment, Encounter
from medspeak.store.types import utcnow
from tests.support.pages import page

ROOT = Path(__file__).resolve().parents[2]


def _fill(at: AppTest, **values: object) -> None:
    for name, value in values.items():
        widget = at.number_input(key=f"triage.f.{name}") if isinstance(value, float | int) else None
        if widget is not None:
            widget.set_value(value)
        elif name in ("transport_mode", "sex", "mental_status", "injury"):
            at.selectbox(key=f"triage.f.{name}").select(value)
        else:
            at.text_input(key=f"triage.f.{name}").input(value)


def test_a_nurse_enters_vitals_and_reads_the_level_rules_and_explanation(
    store: Store, actors: dict[str, Actor]
) -> None:
    at = page("triage.py", actors["clinician"]).run()
    assert at.title[0].value == "Triage"
    _fill(
        at,
        spo2=86.0,
        heart_rate=120.0,
        respiratory_rate=28.0,
        age=74.0,
        chief_complaint="dyspnea",
        mental_status="alert",
        blood_pressure="105/70",
    )
    at.button(key="triage.submit").click().run()
    assert not at.exception
    badge = " ".join(m.value for m in at.markdown)
    assert "Level 1" in badge or "Level 2" in badge
    assert any("SpO2 below 90" in w.value for w in at.warning)  # the rule fired, with its source
    assert any("Source:" in w.value for w in at.warning)
    assert at.get("plotly_chart")  # the SHAP waterfall
    assert "Breathing difficulty" in " ".join(m.value for m in at.markdown)  # the pathway
    assert any("temperature c" in m.value for m in at.markdown)  # missing inputs are named
    # no language model here: the optional rationale says so, and nothing else changes
    assert "In words (language model, optional)" in [e.label for e in at.expander]
    assert any("language model" in c.value.lower() for c in at.caption)


def test_fahrenheit_is_offered_as_celsius_and_heart_rate_zero_refused(store: Store, actors: dict[str, Actor]) -> None:
    at = page("triage.py", actors["clinician"]).run()
    _fill(at, temperature_c=100.4, heart_rate=0.0, chief_complaint="fever")
    at.button(key="triage.submit").click().run()
    assert any("Heart rate 0" in e.value and "impossible" in e.value for e in at.error)
    assert any("did you mean 38" in w.value for w in at.warning)
    at.button(key="triage.convert.0").click().run()
    assert at.number_input(key="triage.f.temperature_c").value == 38.0
    _fill(at, heart_rate=96.0)
    at.button(key="triage.submit").click().run()
    assert not at.error and not at.exception
    assert any("Level" in m.value for m in at.markdown)


def test_a_patient_opened_from_the_queue_is_prefilled_and_the_override_recorded(
    store: Store, actors: dict[str, Actor]
) -> None:
    clinician = actors["clinician"]
    pid = patients.register_patient(
        store, clinician, given_name="Ana", family_name="Lima", sex="female", birth_date=date(1950, 3, 1)
    ).id
    with store.transaction() as db:
        db.add(
            Encounter(
                patient_id=pid,
                kind="emergency",
                started_at=utcnow() - timedelta(minutes=45),
                chief_complaint="ankle sprain",
                arrival_mode="walk-in",
                acuity=4,
                vitals={"heart_rate": 82, "spo2": 98.0, "systolic_bp": 130, "diastolic_bp": 80, "pain": 3},
            )
        )
    queue = page("ed_queue.py", clinician).run()
    assert not queue.exception
    assert queue.dataframe[0].value["MRN"].tolist() and "1 patient(s)" in queue.caption[0].value

    at = page("triage.py", clinician)
    at.query_params["patient"] = str(pid)
    at.run()
    assert at.number_input(key="triage.f.heart_rate").value == 82
    assert at.text_input(key="triage.f.chief_complaint").value == "ankle sprain"
    at.button(key="triage.submit").click().run()
    assert not at.exception
    at.selectbox(key="triage.override_level").select(2)
    at.text_input(key="triage.override_reason").input("pale, diaphoretic, history of syncope")
    at.button(key="triage.override_submit").click().run()
    assert at.success and "Override recorded: level 2" in at.success[0].value
    with store.transaction() as db:
        row = db.scalar(select(Assessment).where(Assessment.patient_id == pid))
        assert row is not None and row.override is not None and row.override["level"] == 2


def test_a_bed_manager_reaching_the_page_is_refused(store: Store, actors: dict[str, Actor]) -> None:
    at = page("triage.py", actors["bed_manager"]).run()
    at.button(key="triage.submit").click().run()
    assert any("does not allow" in e.value for e in at.error)
    assert not any("Level" in m.value for m in at.markdown)
