from collections.abc import Callable
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from medspeak.auth.roles import Actor
from medspeak.services import patients
from medspeak.store.db import Store
from tests.app.conftest import APP


@pytest.fixture
def patient_id(store: Store, actors: dict[str, Actor]) -> int:
    return patients.register_patient(
        store,
        actors["clinician"],
        given_name="Claire",
        family_name="Dubois",
        sex="female",
        birth_date=date(1948, 6, 30),
        language="fr",
    ).id


def test_clinician_searches_and_opens_a_patient(login: Callable[..., AppTest], patient_id: int) -> None:
    at = login("clinician")
    at.switch_page("pages/patients.py").run()
    at.text_input(key="patients.query").input("dubois").run()
    assert "1 patient(s)" in at.caption[0].value
    at.query_params["patient"] = str(patient_id)
    at.run()
    assert not at.exception
    assert at.header[0].value == "DUBOIS, Claire"
    assert any("MRN" in c.value and "language FR" in c.value for c in at.caption)
    assert "Documents" in [s.value for s in at.subheader]  # clinicians see the documents section


def test_bed_manager_sees_the_patient_without_documents(login: Callable[..., AppTest], patient_id: int) -> None:
    at = login("bedmanager")
    at.switch_page("pages/patients.py").run()
    at.query_params["patient"] = str(patient_id)
    at.run()
    assert at.header[0].value == "DUBOIS, Claire"
    assert "Documents" not in [s.value for s in at.subheader]


@pytest.mark.parametrize(("username", "registers"), [("clinician", True), ("bedmanager", False)])
def test_only_clinicians_are_offered_the_register_form(
    login: Callable[..., AppTest], username: str, registers: bool
) -> None:
    at = login(username)
    at.switch_page("pages/patients.py").run()  # the list, where the form lives (a patient's page never has it)
    assert not at.exception
    assert at.title[0].value == "Patients"
    assert any("Register" in e.label for e in at.expander) is registers


def test_clinician_registers_a_patient(login: Callable[..., AppTest]) -> None:
    at = login("clinician")
    at.switch_page("pages/patients.py").run()
    at.text_input[1].input("Marie")
    at.text_input[2].input("Curie")
    at.button[0].click().run()
    assert not at.exception
    assert at.success[0].value.startswith("Registered CURIE, Marie")


def test_admin_sees_users_and_verifies_the_chain(login: Callable[..., AppTest]) -> None:
    at = login("admin")
    at.switch_page("pages/admin.py").run()
    assert not at.exception
    users_table = at.dataframe[0].value
    assert set(users_table["Username"]) == {"admin", "bedmanager", "clinician"}
    at.button(key="admin.verify").click().run()
    assert at.success[0].value.startswith("The audit chain is intact")


def test_admin_resets_a_password_shown_once(login: Callable[..., AppTest]) -> None:
    at = login("admin")
    at.switch_page("pages/admin.py").run()
    at.selectbox(key="admin.user").select("clinician").run()
    at.button(key="admin.reset").click().run()
    assert at.success[0].value.startswith("New password: `")


def test_production_without_a_secret_refuses_to_start(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDSPEAK_ENV", "production")
    monkeypatch.delenv("MEDSPEAK_COOKIE_KEY")
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert at.error[0].value == "medspeak cannot start: its configuration is refused."
    assert not at.text_input  # no login form on a misconfigured install


def test_a_seeded_patient_page_shows_vitals_stays_and_documents(store: Store, login: Callable[..., AppTest]) -> None:
    from sqlalchemy import select

    from medspeak.demo.seed import seed_demo
    from medspeak.store.models import Document, Encounter

    seed_demo(store, n_patients=8, seed=3)
    with store.transaction() as db:
        patient_id = db.scalar(
            select(Encounter.patient_id)
            .join(Document, Document.patient_id == Encounter.patient_id)
            .where(Encounter.vitals.is_not(None), Document.text.is_not(None))
            .limit(1)
        )
    at = login("clinician")
    at.switch_page("pages/patients.py").run()
    at.query_params["patient"] = str(patient_id)
    at.run()
    assert not at.exception
    assert {"Temp (°C)", "SpO2 (%)", "AVPU"} <= {m.label for m in at.metric}
    assert {"Visits and stays", "Documents", "Assessments"} <= {s.value for s in at.subheader}
    assert at.expander  # the text of a plain-text document can be read in place
    # The original is offered through the server's authenticated route, not a Streamlit media URL.
    (link,) = [b for b in at.get("link_button") if b.proto.label == "Download original"]
    assert link.proto.url.startswith("/_medspeak/documents/") and link.proto.url.endswith("/original")
    assert not at.get("download_button")


def test_bed_manager_sees_no_complaint_nor_vitals_on_the_patient_page(
    store: Store, login: Callable[..., AppTest], patient_id: int
) -> None:
    # Issue 19, finding 9: the page showed the chief complaint, acuity and vitals to bed managers.
    from datetime import timedelta

    from medspeak.store.models import Encounter, Ward
    from medspeak.store.types import utcnow

    with store.transaction() as db:
        ward = Ward(code="MED", name="General Medicine", capacity=20)
        db.add(ward)
        db.flush()
        db.add(
            Encounter(
                patient_id=patient_id,
                kind="inpatient",
                ward_id=ward.id,
                started_at=utcnow() - timedelta(days=1),
                chief_complaint="crushing chest pain",
                acuity=2,
                vitals={"heart_rate": 131, "spo2": 86},
                details={"admission_type": "emergency", "insurance": "Medicaid"},
            )
        )
    at = login("bedmanager")
    at.switch_page("pages/patients.py").run()
    at.query_params["patient"] = str(patient_id)
    at.run()
    assert not at.exception
    shown = " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.metric, *at.dataframe])
    assert "General Medicine" in shown
    assert "crushing chest pain" not in shown and "Medicaid" not in shown and "131" not in shown
    assert not at.metric  # no vitals
