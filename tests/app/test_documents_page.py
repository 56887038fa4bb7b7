import json
from collections.abc import Callable
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from medspeak.auth.roles import Actor
from medspeak.demo.render import render_scan
from medspeak.services import documents, patients
from medspeak.services.context import AppContext
from medspeak.store.db import Store
from tests.support.jobs import wait_for_job

_TEXT = "Discharge summary\nMetoprolol 25 mg PO twice daily\nAllergies: penicillin (rash)\nBP 142/88 HR 96"


def test_clinician_sees_the_page_with_the_recognised_words(
    ctx: AppContext, store: Store, actors: dict[str, Actor], login: Callable[..., AppTest]
) -> None:
    clinician = actors["clinician"]
    patient = patients.register_patient(
        store, clinician, given_name="Marie", family_name="Dupont", sex="female", birth_date=date(1950, 1, 1)
    )
    outcome = documents.upload(
        ctx,
        clinician,
        filename="scan.png",
        content=render_scan(_TEXT, 1),
        patient_id=patient.id,
        kind="discharge_summary",
    )
    assert outcome.job_id is not None
    assert wait_for_job(store, clinician, outcome.job_id).status == "done"
    at = login("clinician")
    at.switch_page("pages/documents.py").run()
    assert not at.exception
    at.session_state["documents.patient_id"] = patient.id
    at.run()
    assert not at.exception
    assert at.image, "the page image with its word boxes is shown"
    text = at.text_area[0].value
    assert "Metoprolol 25 mg" in text
    assert any("ocr:" in c.value for c in at.caption)
    # Issue 18, item 11: the facts table gave Fact and Evidence a tenth of its width each, cutting them.
    (facts,) = [d for d in at.dataframe if "Evidence" in d.value.columns]
    widths = {name: json.loads(facts.proto.columns).get(name, {}).get("width") for name in ("Fact", "Evidence")}
    assert widths == {"Fact": "large", "Evidence": "large"}, widths


def test_bed_manager_has_no_documents_page(login: Callable[..., AppTest]) -> None:
    at = login("bedmanager")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/documents.py")


def test_facts_found_in_a_document_are_listed_with_their_evidence(
    ctx: AppContext, store: Store, actors: dict[str, Actor], login: Callable[..., AppTest]
) -> None:
    from tests.ingest import corpus

    clinician = actors["clinician"]
    outcome = documents.upload(
        ctx,
        clinician,
        filename="summary.pdf",
        content=corpus.pdf("Medications: Metoprolol 25 mg PO twice daily.\nAssessment: no chest pain."),
        patient_id=None,
        kind="discharge_summary",
    )
    assert wait_for_job(store, clinician, outcome.job_id or 0).status == "done"
    at = login("clinician")
    at.switch_page("pages/documents.py").run()
    assert not at.exception
    facts = at.dataframe(key=f"documents.facts.{outcome.document_id}").value
    row = facts[facts["Kind"] == "Medications"].iloc[0]
    assert row["Fact"].startswith("Metoprolol 25 mg") and "Metoprolol 25 mg" in row["Evidence"]
    assert row["Page"] == "1" and row["Match"] == "exact"
    assert "chest pain" in set(facts[facts["Assertion"] == "absent"]["Fact"].str.lower())


def test_a_sample_is_uploaded_to_the_chosen_patient_and_read(
    store: Store, actors: dict[str, Actor], login: Callable[..., AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDSPEAK_LLM_BACKEND", "rules")
    patient = patients.register_patient(
        store, actors["clinician"], given_name="Marie", family_name="Dupont", sex="female", birth_date=date(1950, 1, 1)
    )
    at = login("clinician")
    at.switch_page("pages/documents.py").run()
    assert at.button(key="documents.sample_upload").disabled, "no patient chosen: nowhere to file a sample"
    at.session_state["documents.patient_id"] = patient.id
    at.run()
    at.selectbox(key="documents.sample").select("negative-review").run()
    assert any("recorded as absent" in c.value for c in at.caption)
    at.button(key="documents.sample_upload").click().run()
    assert not at.exception
    (listed,) = documents.list_documents(store, actors["clinician"], patient_id=patient.id)
    assert listed.display_name.startswith("sample-negative-review")
    (job,) = at.session_state["documents.jobs"]
    assert wait_for_job(store, actors["clinician"], job["job_id"]).status == "done"
    at.run()
    facts = at.dataframe(key=f"documents.facts.{listed.id}").value
    assert {"chest pain", "fever"} <= set(facts[facts["Assertion"] == "absent"]["Fact"].str.lower())
