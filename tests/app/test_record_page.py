"""The patient's merged record on the Patients page: lines, evidence, review, FHIR download."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from medspeak.auth.roles import Actor
from medspeak.services import record
from medspeak.services.context import AppContext
from medspeak.store.db import Store
from tests.services.record_seed import SeededRecord, fact_id, fact_ids, seed_record


@pytest.fixture
def seeded(ctx: AppContext, store: Store, actors: dict[str, Actor]) -> SeededRecord:
    return seed_record(ctx, actors["clinician"])


def _open_patient(at: AppTest, patient_id: int) -> AppTest:
    at.switch_page("pages/patients.py").run()
    at.session_state["patients.selected_id"] = patient_id
    at.run()
    assert not at.exception, at.exception
    return at


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_a_medication_links_to_its_highlighted_evidence(seeded: SeededRecord, login: Callable[..., AppTest]) -> None:
    at = _open_patient(login("clinician"), seeded.patient_id)
    assert any(s.value == "Record from documents" for s in at.subheader)
    metoprolol = at.button(key="record.med.metoprolol")
    assert metoprolol.label == "Metoprolol 50 mg by mouth twice daily"  # the order in plain words
    assert ":gray-badge[stopped]" in _markdown(at)  # lisinopril, stopped by the newer prescription
    assert at.button(key="record.refuted.0").label == "chest pain"
    assert "Select a line" in " ".join(i.value for i in at.info)
    metoprolol.click().run()
    assert not at.exception
    mentions = at.radio(key="record.source.medication:metoprolol").options
    assert len(mentions) == 2  # one mention in each document, the newest chosen
    assert ":red-background[**Metoprolol 50 mg PO twice daily**]" in _markdown(at)
    assert any("prescription.txt" in c.value for c in at.caption)


def test_a_clinician_rejects_a_fact_and_the_record_drops_it(
    store: Store, actors: dict[str, Actor], seeded: SeededRecord, login: Callable[..., AppTest]
) -> None:
    at = _open_patient(login("clinician"), seeded.patient_id)
    at.button(key="record.problem.0").click().run()
    pneumonia = fact_id(store, seeded.summary_id, "problem", "pneumonia")
    key = f"review.record.{pneumonia}"
    at.radio(key=f"{key}.decision").set_value("rejected")
    at.button(key=f"FormSubmitter:{key}.form-Save review").click().run()
    assert "Say why" in " ".join(e.value for e in at.error)  # a rejection needs a reason
    at.text_input(key=f"{key}.reason").input("Ruled out on CT")
    at.button(key=f"FormSubmitter:{key}.form-Save review").click().run()
    assert not at.exception
    assert "Saved: rejected." in " ".join(s.value for s in at.success)
    assert [p.text for p in record.patient_record(store, actors["clinician"], seeded.patient_id).problems] == []
    assert "Left out: 1 rejected." in " ".join(c.value for c in at.caption)


def test_the_fhir_bundle_is_offered_through_the_authenticated_route(
    seeded: SeededRecord, login: Callable[..., AppTest]
) -> None:
    # Before: a download button, whose file sat at a Streamlit media URL anyone could fetch without a cookie.
    at = _open_patient(login("clinician"), seeded.patient_id)
    assert not at.get("download_button")
    (link,) = [b for b in at.get("link_button") if "FHIR" in b.proto.label]
    assert link.proto.url == f"/_medspeak/fhir/{seeded.patient_id}"


def test_a_bed_manager_sees_the_stays_but_no_record(seeded: SeededRecord, login: Callable[..., AppTest]) -> None:
    at = _open_patient(login("bedmanager"), seeded.patient_id)
    assert not any(s.value == "Record from documents" for s in at.subheader)
    assert not [b for b in at.button if (b.key or "").startswith("record.")]


def test_the_documents_page_shows_facts_by_kind_and_their_review_state(
    store: Store, actors: dict[str, Actor], seeded: SeededRecord, login: Callable[..., AppTest]
) -> None:
    fid = fact_id(store, seeded.prescription_id, "medication", "metoprolol")
    record.review_fact(store, actors["clinician"], fid, "accepted")
    at = login("clinician")
    at.switch_page("pages/documents.py").run()
    at.session_state["documents.patient_id"] = seeded.patient_id
    at.run()
    assert not at.exception
    facts = at.dataframe(key=f"documents.facts.{seeded.prescription_id}").value
    reviewed = dict(zip(facts["Fact"], facts["Review"], strict=True))
    assert reviewed["Metoprolol 50 mg"] == "accepted" and reviewed["Lisinopril 10 mg"] == "proposed"
    text = _markdown(at)
    assert ":blue-background[Metoprolol 50 mg PO twice daily]" in text
    assert ":green-background[HR 72" in text


def test_the_vitals_timeline_is_charted_and_each_value_links_to_its_words(
    store: Store, seeded: SeededRecord, login: Callable[..., AppTest]
) -> None:
    at = _open_patient(login("clinician"), seeded.patient_id)
    at.selectbox(key="record.measure").set_value("vital: heart_rate").run()
    assert at.get("plotly_chart"), "the heart-rate timeline is charted"
    newest = fact_id(store, seeded.prescription_id, "vital", "HR")
    at.button(key=f"record.point.{newest}.heart_rate").click().run()
    assert not at.exception
    assert ":red-background[**HR 72" in _markdown(at)


def test_reviewed_documents_are_offered_as_gold(
    store: Store, actors: dict[str, Actor], seeded: SeededRecord, login: Callable[..., AppTest]
) -> None:
    at = _open_patient(login("clinician"), seeded.patient_id)
    at.button(key="record.gold_prepare").click().run()
    assert "No document of this patient has all its facts reviewed yet." in [i.value for i in at.info]
    for fid in fact_ids(store, seeded.prescription_id):
        record.review_fact(store, actors["clinician"], fid, "accepted")
    at.button(key="record.gold_prepare").click().run()
    assert not at.get("download_button")  # before: a Streamlit media URL that answered without a cookie
    (link,) = [b for b in at.get("link_button") if "gold" in b.proto.label]
    assert "Download gold JSONL (1 document(s))" in link.proto.label
    assert link.proto.url == f"/_medspeak/gold/{seeded.patient_id}"


def test_a_misfiled_document_raises_a_visible_warning_and_visit_tabs_link_to_evidence(
    ctx: AppContext, store: Store, actors: dict[str, Actor], seeded: SeededRecord, login: Callable[..., AppTest]
) -> None:
    from datetime import UTC, datetime

    from tests.services.record_seed import upload_text
    from tests.services.test_record_visit import ANOTHER_PATIENT, FITTING

    clinician = actors["clinician"]
    when = datetime(2026, 3, 12, tzinfo=UTC)
    upload_text(ctx, clinician, seeded.patient_id, "letter.txt", FITTING, when)
    upload_text(ctx, clinician, seeded.patient_id, "misfiled.txt", ANOTHER_PATIENT, when)
    at = _open_patient(login("clinician"), seeded.patient_id)
    (warning,) = [e.value.replace("\\", "") for e in at.error if "another patient" in e.value]
    assert warning.startswith("misfiled.txt may belong to another patient") and "the age 45" in warning
    at.button(key="record.identity.0").click().run()
    assert not at.exception
    assert ":red-background[**45\\-year\\-old gentleman**]" in _markdown(at)
    assert "Chief complaint: Palpitations" in _markdown(at)
    assert at.button(key="record.procedure.0").label == "appendectomy"
    follow = at.button(key="record.follow_up.0")
    assert follow.label == "Follow up with cardiology in 2 weeks"
    follow.click().run()
    assert ":red-background[**Follow up with cardiology in 2 weeks**]" in _markdown(at)


def test_the_wrong_patient_warning_reads_in_french(
    ctx: AppContext, store: Store, actors: dict[str, Actor], seeded: SeededRecord, login: Callable[..., AppTest]
) -> None:
    """Issue 20: the warning the record builds (core) is shown in the reader's language, its values as written."""
    from datetime import UTC, datetime

    from medspeak.services import users
    from tests.services.record_seed import upload_text
    from tests.services.test_record_visit import ANOTHER_PATIENT

    users.set_language(store, actors["clinician"], "fr")
    upload_text(
        ctx,
        actors["clinician"],
        seeded.patient_id,
        "misfiled.txt",
        ANOTHER_PATIENT,
        datetime(2026, 3, 12, tzinfo=UTC),
    )
    at = _open_patient(login("clinician"), seeded.patient_id)
    (warning,) = [e.value.replace("\\", "") for e in at.error if "autre patient" in e.value]
    assert warning.startswith("misfiled.txt appartient peut-être à un autre patient : il indique masculin")
    assert "il donne l'âge de 45 ans" in warning
    assert "Vérifiez le document" in warning and "may belong" not in warning


def test_a_misfiled_document_is_left_out_of_the_export_until_a_clinician_confirms_it(
    ctx: AppContext, store: Store, actors: dict[str, Actor], seeded: SeededRecord, login: Callable[..., AppTest]
) -> None:
    # Issue 18 item 3: the record flagged the document, the FHIR export carried it as this patient's.
    from datetime import UTC, datetime

    from tests.services.record_seed import upload_text
    from tests.services.test_record_visit import ANOTHER_PATIENT

    clinician = actors["clinician"]
    upload_text(ctx, clinician, seeded.patient_id, "misfiled.txt", ANOTHER_PATIENT, datetime(2026, 3, 12, tzinfo=UTC))
    at = _open_patient(login("clinician"), seeded.patient_id)
    assert "Left out of the FHIR export until a clinician confirms the patient." in [c.value for c in at.caption]
    assert record.fhir_export(store, clinician, seeded.patient_id).left_out == ("misfiled.txt",)
    at.text_input(key="record.identity_reason.0").input("Called the GP: the same patient")
    at.button(key="FormSubmitter:record.identity_confirm.0-Confirm it is this patient's").click().run()
    assert not at.exception
    assert any("Confirmed as this patient's by clinician" in w.value for w in at.warning)
    assert not [e for e in at.error if "another patient" in e.value]
    assert record.fhir_export(store, clinician, seeded.patient_id).left_out == ()


def test_the_medication_list_keeps_regimens_apart_in_plain_words(
    ctx: AppContext, store: Store, actors: dict[str, Actor], login: Callable[..., AppTest]
) -> None:
    from datetime import UTC, date, datetime

    from medspeak.services import patients
    from tests.indexing.test_medication_list import DO_NOT_USE, LETTER
    from tests.services.record_seed import upload_text

    clinician = actors["clinician"]
    patient = patients.register_patient(
        store, clinician, given_name="Léa", family_name="Roux", sex="female", birth_date=date(1980, 2, 2)
    )
    upload_text(ctx, clinician, patient.id, "letter.txt", LETTER, datetime(2026, 3, 4, tzinfo=UTC))
    at = _open_patient(login("clinician"), patient.id)
    labels = [b.label for b in at.button if (b.key or "").startswith("record.med.")]
    assert labels == [
        "Lamictal 100 mg by mouth once daily",
        "Lamictal 150 mg by mouth at bedtime",
        "Oxycodone 5 mg by mouth every 4 hours as needed",
        "Morphine 5 mg intravenous every 4 hours as needed",
        "Ondansetron 4 mg intravenous every 8 hours as needed",
    ]
    assert not any(DO_NOT_USE.search(label) for label in labels)
    text = _markdown(at)
    assert "**Current and discharge**" in text and "**Given in hospital only**" in text
    assert text.index("**Current and discharge**") < text.index("**Given in hospital only**")
    assert ":blue-badge[in hospital only]" in text and ":violet-badge[as needed]" in text
    fhir = record.fhir_export(store, clinician, patient.id).content
    assert "Lamictal 100 mg by mouth once daily" in fhir and "Lamictal 150 mg by mouth at bedtime" in fhir
