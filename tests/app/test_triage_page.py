"""The triage and ED queue pages, driven headless with a clinician in the session."""

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from medspeak.auth.roles import Actor
from medspeak.services import patients
from medspeak.services.context import AppContext
from medspeak.store.db import Store
from medspeak.store.models import Assessment, AuditEvent, Encounter
from medspeak.store.types import utcnow
from tests.indexing.test_llm_server import FakeServer, llm_server  # noqa: F401 - the fixture
from tests.support.pages import page

ROOT = Path(__file__).resolve().parents[2]


def _fill(at: AppTest, **values: object) -> None:
    for name, value in values.items():
        if name in ("transport_mode", "sex", "mental_status", "injury", "immunocompromised", "nurse_level"):
            at.selectbox(key=f"triage.f.{name}").select(value)
        elif isinstance(value, float | int):
            at.number_input(key=f"triage.f.{name}").set_value(value)
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
    assert any("SpO2 below 92" in w.value for w in at.warning)  # the rule fired, with its source
    assert any("Source:" in w.value for w in at.warning)
    assert at.get("plotly_chart")  # the SHAP waterfall
    assert "Breathing difficulty" in " ".join(m.value for m in at.markdown)  # the pathway
    assert any("Temperature (°C) (" in m.value for m in at.markdown)  # missing inputs named as the form names them
    # Issue 18 item 6: the inputs used were raw JSON with null; now a table with the form's labels and units.
    assert not at.json
    inputs = dict(at.table[0].value.itertuples(index=False))
    assert inputs["SpO2 (%)"] == "86" and inputs["Heart rate (/min)"] == "120"
    assert inputs["Temperature (°C)"] == "not recorded" and inputs["Chief complaint"] == "dyspnea"
    # no language model here: the optional rationale says so, and nothing else changes
    assert "In words (language model, optional)" in [e.label for e in at.expander]
    assert any("language model" in c.value.lower() for c in at.caption)


def test_fahrenheit_is_offered_as_celsius_and_an_impossible_heart_rate_refused(
    store: Store, actors: dict[str, Actor]
) -> None:
    at = page("triage.py", actors["clinician"]).run()
    _fill(at, temperature_c=100.4, heart_rate=300.0, respiratory_rate=20.0, chief_complaint="fever")
    at.button(key="triage.submit").click().run()
    assert any("Heart rate 300" in e.value and "impossible" in e.value for e in at.error)
    assert any("did you mean 38" in w.value for w in at.warning)
    at.button(key="triage.convert.0").click().run()
    assert at.number_input(key="triage.f.temperature_c").value == 38.0
    _fill(at, heart_rate=96.0)
    at.button(key="triage.submit").click().run()
    # no refusal left (a red box may still be the critical alert, which is not an error)
    assert not [e for e in at.error if "Possible level 1-2" not in e.value] and not at.exception
    assert any("Level" in m.value for m in at.markdown)


def test_heart_rate_zero_on_an_otherwise_blank_form_is_level_1_with_the_rule(
    store: Store, actors: dict[str, Actor]
) -> None:
    at = page("triage.py", actors["clinician"]).run()
    _fill(at, heart_rate=0.0)
    at.button(key="triage.submit").click().run()
    assert not at.error or all("impossible" not in e.value for e in at.error)
    assert any("Level 1 · Resuscitation" in m.value for m in at.markdown)
    assert any("Heart rate 0 (no pulse" in w.value for w in at.warning)


def test_a_blank_form_gets_no_level_but_the_list_of_what_is_needed(store: Store, actors: dict[str, Actor]) -> None:
    at = page("triage.py", actors["clinician"]).run()
    at.button(key="triage.submit").click().run()
    assert not at.exception
    assert not any("Level" in m.value for m in at.markdown)  # the old page said "Level 2" here
    assert any("not enough is recorded" in i.value for i in at.info)
    needed = [t.value for t in at.text]
    assert "• the chief complaint" in needed and any("heart rate" in t for t in needed)


def test_the_shock_patient_is_level_1_with_the_alert_and_the_nurses_level_flagged(
    store: Store, actors: dict[str, Actor]
) -> None:
    at = page("triage.py", actors["clinician"]).run()
    _fill(
        at,
        spo2=85.0,
        heart_rate=130.0,
        respiratory_rate=28.0,
        blood_pressure="85/50",
        temperature_c=39.2,
        age=70.0,
        chief_complaint="shortness of breath",
        nurse_level=2,
    )
    at.button(key="triage.submit").click().run()
    assert not at.exception
    assert any("Level 1 · Resuscitation" in m.value for m in at.markdown)  # the old page: level 2
    assert any("Shock: hypotension with tachycardia" in w.value and "level 1 at most" in w.value for w in at.warning)
    assert any("Possible level 1-2" in e.value for e in at.error)  # the alert, beside the level
    assert any("Your level 2 may be too low" in e.value for e in at.error)  # the second reader
    texts = [t.value for t in at.text]
    assert any("points towards level 1-2" in t for t in texts)  # the explanation in probability points
    assert "Vitals" in [c.value for c in at.caption]  # grouped: vitals, complaint, age and sex, arrival
    assert not any("Headache" in t for t in texts)  # one complaint driver, not 26 category bars
    assert not any("log-odds" in (c.value or "") for c in at.caption)


def test_a_patient_opened_from_the_queue_is_prefilled_and_the_decision_recorded(
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
        left = patients.register_patient(
            store, clinician, given_name="Rui", family_name="Costa", sex="male", birth_date=date(1960, 1, 1)
        ).id
        # admitted an hour ago: the visit has ended, so the queue does not list him (the old queue did)
        db.add(
            Encounter(
                patient_id=left,
                kind="emergency",
                started_at=utcnow() - timedelta(hours=4),
                ended_at=utcnow() - timedelta(hours=1),
                acuity=3,
            )
        )
    queue = page("ed_queue.py", clinician).run()
    assert not queue.exception
    table = queue.dataframe[0].value
    assert table["Patient"].tolist() == ["LIMA, Ana"] and table["MRN"].tolist()[0]
    assert "1 patient(s) waiting or being seen" in queue.caption[0].value

    at = page("triage.py", clinician)
    at.query_params["patient"] = str(pid)
    at.run()
    assert any(c.value.startswith("LIMA, Ana · MRN ") for c in at.caption)  # not "Patient <id>"
    assert at.number_input(key="triage.f.heart_rate").value == 82
    assert at.text_input(key="triage.f.chief_complaint").value == "ankle sprain"
    assert at.selectbox(key="triage.f.nurse_level").value == 4  # the level given at the door comes with the visit
    _fill(at, respiratory_rate=18.0, temperature_c=36.8)
    at.button(key="triage.submit").click().run()
    assert not at.exception
    at.selectbox(key="triage.decision_level").select(2)
    at.text_input(key="triage.decision_reason").input("pale, diaphoretic, history of syncope")
    at.button(key="triage.decision_submit").click().run()
    assert at.success and any("Decision recorded: level 2 (changed; your level was 4" in s.value for s in at.success)
    with store.transaction() as db:
        row = db.scalar(select(Assessment).where(Assessment.patient_id == pid))
        assert row is not None and row.override is not None and row.override["level"] == 2
        assert row.output["nurse_level"] == 4 and row.override["decision"] == "changed"
    queue = page("ed_queue.py", clinician).run()
    assert queue.dataframe[0].value["Level"].tolist() == ["2 · Emergency"]
    assert queue.dataframe[0].value["From"].tolist() == ["nurse's decision"]


def test_the_queue_shows_a_flagged_patient_by_name_with_the_flag(
    ctx: AppContext, store: Store, actors: dict[str, Actor]
) -> None:
    from medspeak.services import triage as service
    from tests.triage.conftest import HYPOXIC

    clinician = actors["clinician"]
    pid = patients.register_patient(
        store, clinician, given_name="Bo", family_name="Kim", sex="male", birth_date=date(1950, 1, 1)
    ).id
    service.assess(ctx, clinician, HYPOXIC, pid, nurse_level=4)  # opens a visit; the reader flags her 4
    queue = page("ed_queue.py", clinician).run()
    row = queue.dataframe[0].value.iloc[0]
    assert row["Patient"] == "KIM, Bo" and row["Alert"] == "possible level 1-2"
    assert row["Flag"] == "nurse's level may be too low"


def test_a_triage_without_a_patient_can_be_saved_to_one(store: Store, actors: dict[str, Actor]) -> None:
    clinician = actors["clinician"]
    patients.register_patient(
        store, clinician, given_name="Ana", family_name="Lima", sex="female", birth_date=date(1950, 3, 1)
    )
    at = page("triage.py", clinician).run()
    _fill(at, heart_rate=80.0, respiratory_rate=16.0, temperature_c=36.6, chief_complaint="ankle sprain", nurse_level=4)
    at.button(key="triage.submit").click().run()
    assert not at.exception
    at.text_input(key="triage.save_query").input("lima").run()
    at.selectbox(key="triage.save_patient").select_index(0).run()
    at.button(key="triage.save").click().run()
    assert not at.exception
    with store.transaction() as db:
        row = db.scalar(select(Assessment))
        assert row is not None and row.output["nurse_level"] == 4 and row.encounter_id is not None
    assert at.button(key="triage.decision_submit")  # stored: the nurse can now record her decision


def test_a_bed_manager_reaching_the_page_is_refused(store: Store, actors: dict[str, Actor]) -> None:
    at = page("triage.py", actors["bed_manager"]).run()
    at.button(key="triage.submit").click().run()
    assert any("does not allow" in e.value for e in at.error)
    assert not any("Level" in m.value for m in at.markdown)


def test_a_febrile_immunocompromised_patient_is_level_2_with_the_rule(store: Store, actors: dict[str, Actor]) -> None:
    at = page("triage.py", actors["clinician"]).run()
    _fill(
        at,
        temperature_c=38.6,
        heart_rate=92.0,
        respiratory_rate=18.0,
        blood_pressure="128/76",
        chief_complaint="fever after chemotherapy",
        immunocompromised="yes",
    )
    at.button(key="triage.submit").click().run()
    assert not at.exception
    badge = " ".join(m.value for m in at.markdown)
    assert "Level 1" in badge or "Level 2" in badge
    assert any("Fever with immunosuppression" in w.value and "level 2 at most" in w.value for w in at.warning)


def test_the_rationale_button_sends_the_inputs_only_through_the_audited_service(
    store: Store,
    actors: dict[str, Actor],
    llm_server: FakeServer,  # noqa: F811
) -> None:
    def reply(request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        facts = json.loads(request["messages"][1]["content"].split("\n", 1)[1])
        level, spo2 = facts["proposed_level"]["number"], facts["inputs_recorded"]["spo2"]
        content = json.dumps({"rationale": f"Level {level}: an oxygen saturation of {spo2:g} % calls for it."})
        choice = {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        return 200, {"id": "c1", "object": "chat.completion", "model": "tiny", "choices": [choice]}

    llm_server.reply = reply
    at = page("triage.py", actors["clinician"]).run()
    _fill(at, spo2=86.0, heart_rate=120.0, respiratory_rate=28.0, chief_complaint="dyspnea")
    at.button(key="triage.submit").click().run()
    at.button(key="triage.rationale").click().run()
    assert not at.exception
    assert any("an oxygen saturation of 86 % calls for it" in m.value for m in at.markdown)
    assert len(llm_server.requests) == 1
    with store.read() as db:
        rows = db.execute(
            select(AuditEvent.username, AuditEvent.outcome, AuditEvent.detail).where(
                AuditEvent.action == "triage.rationale"
            )
        ).all()
    assert [(r.username, r.outcome) for r in rows] == [("clinician", "success")]  # who sent inputs where
    assert "dyspnea" not in rows[0].detail and "86" not in rows[0].detail
