"""Issue 20: the Demo page walks the presenter through six steps, each one click to the right page and patient."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from medspeak.auth.roles import Actor
from medspeak.demo.seed import seed_demo
from medspeak.store.db import Store
from medspeak.store.models import Encounter, Patient


def _links(at: AppTest) -> dict[str, dict[str, list[str]]]:
    return {e.proto.page: parse_qs(e.proto.query_string) for e in at.get("page_link")}


def test_a_clinician_gets_each_step_linked_to_the_storys_patient(
    store: Store, actors: dict[str, Actor], login: Callable[..., AppTest]
) -> None:
    seed_demo(store, n_patients=12, seed=20261128)
    at = login("clinician")
    at.switch_page("pages/demo.py").run()
    assert not at.exception
    links = _links(at)
    assert list(links) == ["documents", "patients", "triage", "los", "beds"]
    (patient,) = {int(q["patient"][0]) for q in links.values() if "patient" in q}
    assert links["documents"]["sample"] == ["fr-scanned-letter"]
    with store.transaction() as db:
        stay = db.get_one(Encounter, int(links["los"]["encounter"][0]))
        emergency = db.scalars(select(Encounter).where(Encounter.patient_id == patient, Encounter.kind == "emergency"))
        assert (stay.patient_id, stay.kind, stay.ended_at) == (patient, "inpatient", None)  # in a bed now
        assert list(emergency), "the story's patient came through the emergency department (triage prefilled)"
    assert any(str(patient) in i.value or "·" in i.value for i in at.info)
    assert len([m for m in at.markdown if m.value.startswith("**")]) == 6
    assert any("Log in as an administrator" in c.value for c in at.caption)  # the audit step


def test_an_administrator_gets_the_audit_step_and_is_told_who_shows_the_others(login: Callable[..., AppTest]) -> None:
    at = login("admin")
    at.switch_page("pages/demo.py").run()
    assert not at.exception
    assert _links(at) == {"admin": {"tab": ["audit"]}}
    said = [c.value for c in at.caption]
    assert said.count("Log in as a clinician for this step.") == 2  # documents, triage
    assert said.count("Log in as a clinician or a bed manager for this step.") == 3  # record, stay, beds


def test_the_demo_link_opens_the_audit_trail_on_its_tab_filtered_on_the_patient(
    store: Store, login: Callable[..., AppTest]
) -> None:
    seed_demo(store, n_patients=12, seed=20261128)
    with store.transaction() as db:
        patient = db.scalars(select(Patient).order_by(Patient.id).offset(6)).first()
        assert patient is not None
        patient_id, mrn = patient.id, patient.mrn
    at = login("admin")
    at.query_params.update({"tab": "audit", "patient": str(patient_id)})
    at.switch_page("pages/admin.py").run()
    assert not at.exception
    assert at.text_input(key="admin.audit.mrn").value == mrn  # the filter names the patient as staff know them
