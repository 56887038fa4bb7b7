"""Transcribed reports run their sections inline ("...no fever.,MEDICATIONS: , Atenolol, Zestril.,ALLERGIES: ,
None."): sections, medication lists, allergies and assertions must still come out right. Texts are ours."""

from __future__ import annotations

from medspeak.indexing import extract_facts
from medspeak.indexing.rules.sections import find_sections
from medspeak.indexing.schema import Allergy, Demographics, Encounter, Medication, Problem

_REPORT = (
    "CHIEF COMPLAINT:,  Chest pain.,HISTORY OF PRESENT ILLNESS: , The patient is a 60-year-old man with no previous "
    "history of heart disease.  He denies any shortness of breath, nausea, or palpitations.,PAST MEDICAL HISTORY:,1.  "
    "Hypertension.,2.  History of gout.,MEDICATIONS: , Atenolol 50 mg daily, Zestril, and Vicodin p.r.n.,"
    "ALLERGIES:,  PENICILLIN AND BIAXIN.,FAMILY HISTORY: , His father had a stroke.,PHYSICAL EXAMINATION:,"
    "LUNGS:  Wheezing.,IMPRESSION: , Possible unstable angina, hyperlipidemia.,PLAN: , Increase atenolol to 100 mg "
    "daily.  Risks including but not limited to bleeding and infection were discussed."
)


def _facts(text: str) -> list[object]:
    return list(extract_facts(text, language="en").facts)


def test_inline_headers_make_sections_and_subheadings_stay_in_theirs() -> None:
    names = [s.name for s in find_sections(_REPORT, "en")]
    assert names[:5] == ["chief_complaint", "hpi", "past_history", "medications", "allergies"]
    assert names[names.index("exam") + 1] == "exam"  # "LUNGS:" continues the examination
    assert names[-2:] == ["assessment", "plan"]


def test_inline_medication_list_gives_one_fact_a_drug_with_brand_to_generic() -> None:
    meds = [f for f in _facts(_REPORT) if isinstance(f, Medication)]
    assert [(m.normalized_name, m.strength) for m in meds] == [
        ("atenolol", "50 mg"),
        ("lisinopril", None),
        ("hydrocodone/acetaminophen", None),
        ("atenolol", "100 mg"),
    ]
    assert meds[0].frequency == "QD" and meds[2].as_needed and meds[3].status.value == "changed"
    assert all(m.evidence and _REPORT[m.evidence.start : m.evidence.end] == m.evidence.text for m in meds)


def test_problems_outside_examination_with_their_assertions() -> None:
    facts = _facts(_REPORT)
    found = {p.text.lower(): p.assertion.value for p in facts if isinstance(p, Problem)}
    # the chief complaint is the encounter's reason, not a problem-list entry
    assert "chest pain" not in found
    assert [e.chief_complaint for e in facts if isinstance(e, Encounter)] == ["Chest pain"]
    assert [(d.age, d.sex) for d in facts if isinstance(d, Demographics)] == [(60, "male")]
    assert found["heart disease"] == "absent"  # "no previous history of": the negation wins
    assert found["shortness of breath"] == found["nausea"] == found["palpitations"] == "absent"
    # "History of gout": a chronic condition stays present (the annotation conventions), an episode is past
    assert found["hypertension"] == "present" and found["gout"] == "present"
    assert found["stroke"] == "family"
    assert found["unstable angina"] == "possible" and found["hyperlipidemia"] == "present"  # item-bound "possible"
    assert found["bleeding"] == found["infection"] == "hypothetical"  # "but not limited to" is no negation
    assert "wheezing" not in found  # examination findings are out of scope


def test_inline_allergy_section_lists_each_substance_or_says_none() -> None:
    allergies = [f for f in _facts(_REPORT) if isinstance(f, Allergy)]
    assert [a.substance for a in allergies] == ["PENICILLIN", "BIAXIN"]
    none = [f for f in _facts("HPI: Cough.,ALLERGIES:,  None.,MEDICATIONS: , Aspirin.") if isinstance(f, Allergy)]
    assert [(a.nkda, a.evidence.text if a.evidence else None) for a in none] == [(True, "None")]
    prose = _facts("ALLERGIES: , He is not allergic to any medication.,SOCIAL HISTORY: , Smokes.")
    assert [a.nkda for a in prose if isinstance(a, Allergy)] == [True]


def test_a_status_word_changes_only_its_own_list_item() -> None:
    text = (
        "DISCHARGE MEDICATIONS: , Resume home medications, but increase Lasix to 80 mg every morning, "
        "Lovenox 30 mg subcu daily."
    )
    meds = {m.normalized_name: m for m in _facts(text) if isinstance(m, Medication)}
    assert meds["furosemide"].status.value == "changed" and meds["furosemide"].frequency == "QAM"
    assert meds["enoxaparin"].status.value == "active" and meds["enoxaparin"].route == "SC"


def test_prescribed_section_starts_its_medications() -> None:
    text = "PLAN: , Take metronidazole first.,MEDICATIONS PRESCRIBED: ,Metronidazole 500 mg #14 1 BID for 7 days."
    (med,) = [m for m in _facts(text) if isinstance(m, Medication) and m.strength]
    assert (med.status.value, med.frequency, med.duration) == ("started", "BID", "for 7 days")


def test_drug_classes_recreational_drugs_and_numbers_are_not_medications() -> None:
    text = (
        "HISTORY: , He was treated with antibiotics and nasal CPAP at 10 cm H2O.  He used cocaine in the past.,"
        "PLAN: , Continue IV antibiotics."
    )
    assert [f for f in _facts(text) if isinstance(f, Medication)] == []


def test_semicolon_list_keeps_commas_inside_a_product_name() -> None:
    text = "# Medications\nlisinopril 10 mg oral tablet; insulin isophane, human 70 unt/ml injectable suspension\n"
    meds = [f for f in _facts(text) if isinstance(f, Medication)]
    assert [m.name for m in meds] == ["lisinopril", "insulin isophane, human"]
