"""Demo documents: in the patient's language, and saying exactly what their ground truth says."""

from __future__ import annotations

from collections import Counter

from medspeak.demo.dataset import DemoDataset, DemoDocument

_KINDS = {"discharge_summary", "prescription", "lab_order", "imaging_order"}
_FORBIDDEN_BY_ALLERGY = {
    "Penicillin": ("Amoxicillin", "Piperacillin"),
    "Pénicilline": ("Amoxicilline", "Pipéracilline"),
    "Ibuprofen": ("Ibuprofen", "Aspirin"),
    "Ibuprofène": ("Ibuprofène", "Acide acétylsalicylique"),
}


def _medication_text(medication: dict[str, str]) -> str:
    return f"{medication['name']} {medication['strength']} {medication['route']} {medication['frequency']}"


def test_most_patients_have_documents_of_the_four_kinds(dataset: DemoDataset) -> None:
    kinds = Counter(d.kind for d in dataset.documents)
    assert set(kinds) == _KINDS
    assert len(dataset.documents) >= len(dataset.patients)
    with_documents = len({d.mrn for d in dataset.documents}) / len(dataset.patients)
    assert 0.7 <= with_documents < 1.0  # most patients have some, not every patient has every kind


def test_french_patients_get_french_documents(big_dataset: DemoDataset) -> None:
    language = {p.mrn: p.language for p in big_dataset.patients}
    for document in big_dataset.documents:
        assert document.language == language[document.mrn]
        if document.language == "fr":
            assert document.text.startswith("Hôpital Saint-Aldric")
            assert "Date de naissance" in document.text
        else:
            assert document.text.startswith("St. Aldric General Hospital")
    french_summaries = [d for d in big_dataset.documents if d.language == "fr" and d.kind == "discharge_summary"]
    assert french_summaries and all("Antécédents médicaux" in d.text for d in french_summaries)


def test_the_header_names_the_patient_and_mrn(dataset: DemoDataset) -> None:
    patients = {p.mrn: p for p in dataset.patients}
    for document in dataset.documents:
        patient = patients[document.mrn]
        assert f"{patient.given_name} {patient.family_name}" in document.text
        assert document.mrn in document.text


def test_every_medication_allergy_and_problem_in_truth_appears_verbatim(big_dataset: DemoDataset) -> None:
    for document in big_dataset.documents:
        truth = document.truth
        for medication in truth["medications"]:
            assert _medication_text(medication) in document.text, (document.key, medication)
        for allergy in truth["allergies"]:
            assert f"{allergy['substance']} ({allergy['reaction']})" in document.text, (document.key, allergy)
        for problem in truth["problems"]:
            assert problem["text"] in document.text, (document.key, problem)
            assert problem["assertion"] in {"present", "absent", "possible", "family"}
        for order in truth["orders"]:
            assert order in document.text


def test_truth_states_allergies_or_nkda_where_the_document_lists_them(big_dataset: DemoDataset) -> None:
    for document in (d for d in big_dataset.documents if d.kind in {"discharge_summary", "prescription"}):
        truth = document.truth
        assert truth["nkda"] == (not truth["allergies"])
        if truth["nkda"]:
            assert "NKDA" in document.text or "Aucune allergie médicamenteuse connue" in document.text


def test_no_drug_is_given_against_a_documented_allergy(big_dataset: DemoDataset) -> None:
    for document in big_dataset.documents:
        substances = {a["substance"] for a in document.truth["allergies"]}
        names = [m["name"] for m in document.truth["medications"]]
        for substance in substances:
            for forbidden in _FORBIDDEN_BY_ALLERGY.get(substance, ()):
                assert not any(name.startswith(forbidden) for name in names), (document.key, substance, names)


def test_summary_vitals_are_the_visits_vitals(big_dataset: DemoDataset) -> None:
    encounters = {e.key: e for e in big_dataset.encounters}
    for document in (d for d in big_dataset.documents if d.kind == "discharge_summary"):
        stay = encounters[document.encounter_key or ""]
        shown = {k: v for k, v in (stay.vitals or {}).items() if v is not None}
        if stay.vitals and (stay.vitals["systolic_bp"] is None or stay.vitals["diastolic_bp"] is None):
            shown.pop("systolic_bp", None), shown.pop("diastolic_bp", None)  # a half blood pressure is not written
        assert document.truth["vitals"] == shown


def test_discharge_summaries_only_for_finished_stays(big_dataset: DemoDataset) -> None:
    encounters = {e.key: e for e in big_dataset.encounters}
    summaries = [d for d in big_dataset.documents if d.kind == "discharge_summary"]
    assert summaries
    for document in summaries:
        stay = encounters[document.encounter_key or ""]
        assert stay.kind == "inpatient" and stay.ended_at == document.created_at


def test_negated_findings_never_contradict_the_complaint(big_dataset: DemoDataset) -> None:
    for document in big_dataset.documents:
        absent = {p["text"] for p in document.truth["problems"] if p["assertion"] == "absent"}
        present = {p["text"] for p in document.truth["problems"] if p["assertion"] == "present"}
        assert not absent & present
        if document.kind == "discharge_summary":
            assert len(absent) >= 2


def test_texts_fit_a_core_pdf_font(big_dataset: DemoDataset) -> None:
    for document in big_dataset.documents:
        document.text.encode("latin-1")  # raises if a character would be lost in the PDF


def test_formats_are_mixed_like_real_uploads(big_dataset: DemoDataset) -> None:
    formats = Counter(d.file_format for d in big_dataset.documents)
    total = sum(formats.values())
    assert 0.42 <= formats["txt"] / total <= 0.58
    assert 0.22 <= formats["pdf"] / total <= 0.38
    assert 0.13 <= formats["png"] / total <= 0.27
    assert all(d.kind != "discharge_summary" for d in big_dataset.documents if d.file_format == "png")


def test_display_names_read_like_a_users_files(dataset: DemoDataset) -> None:
    document: DemoDocument = dataset.documents[0]
    assert document.display_name == (
        f"{document.kind.replace('_', '-')}-{document.created_at.date().isoformat()}.{document.file_format}"
    )
