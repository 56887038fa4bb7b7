"""Demographics, encounter (dates, department, chief complaint), procedures and follow-up, EN and FR.

Texts are ours, written in the layouts of the demo documents, Synthea notes and transcribed reports.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from medspeak.demo.generator import generate
from medspeak.indexing import extract_facts
from medspeak.indexing.rules.dates import parse_date
from medspeak.indexing.schema import Demographics, Encounter, Fact, FollowUp, Grounding, Problem, Procedure

_SUMMARY_EN = (
    "DISCHARGE SUMMARY\n\nPatient: Ann Lee\nDate of birth: 1974-09-20 (52 years, female)\nDate: 2026-10-25\n"
    "Admitted: 2026-10-23 20:46\nWard: Cardiology\n\nChief complaint\nPalpitations.\n\n"
    "History of present illness\n52-year-old woman presenting with palpitations and chest pain. "
    "Her mother is a 75-year-old woman with diabetes.\n\n"
    "Past surgical history\n- Appendectomy\n- Cholecystectomy\n\n"
    "Assessment and plan\nDiagnosis: atrial fibrillation. Status post cardioversion.\n\n"
    "Follow-up\nFollow up with cardiology in 2 weeks. Return to clinic in 3 months.\n\nDr. M. Okafor\n"
)
_SUMMARY_FR = (
    "COMPTE RENDU D'HOSPITALISATION\n\nPatient: Denis Girard\nDate de naissance: 13/11/1940 (85 ans, homme)\n"
    "Date: 06/11/2026\nEntrée: 22/10/2026 13:04\nService: Chirurgie\n\n"
    "Motif d'admission\nDouleur abdominale.\n\nHistoire de la maladie\nPatiente de 72 ans admise pour douleur "
    "abdominale. Pas de vomissements.\n\nAntécédents chirurgicaux\nAppendicectomie en 1990.\n\n"
    "Suivi\nMédecin de famille dans 1 à 2 semaines. Revoir dans 1 mois.\n\nDr. M. Okafor\n"
)
_SYNTHEA = (
    "2020-05-02\n\n# Chief Complaint\n- Hunger\n- Thirst\n\n\n# History of Present Illness\nJo1 Doe2\n"
    " is a 60 year-old nonhispanic white female. Patient has a history of prediabetes (finding).\n\n"
    "# Assessment and Plan\n\n\n## Plan\n\nThe following procedures were conducted:\n"
    "- renal dialysis (procedure)\n- medication reconciliation (procedure)\n"
)


def _of(facts: list[Fact], kind: type) -> list:  # type: ignore[type-arg]
    return [f for f in facts if isinstance(f, kind)]


def test_every_visit_fact_is_grounded_on_its_own_words() -> None:
    for text in (_SUMMARY_EN, _SUMMARY_FR, _SYNTHEA):
        output = extract_facts(text)
        visit = [f for f in output.facts if f.category in ("demographics", "encounter", "procedure", "follow_up")]
        assert visit and all(f.grounding is Grounding.EXACT and f.evidence for f in visit)
        assert all(text[f.evidence.start : f.evidence.end] == f.evidence.text for f in visit if f.evidence)


def test_the_chief_complaint_is_the_encounters_reason_and_not_a_problem() -> None:
    facts = extract_facts(_SUMMARY_EN).facts
    encounter = _of(facts, Encounter)
    assert [e.chief_complaint for e in encounter if e.chief_complaint] == ["Palpitations"]
    problems = _of(facts, Problem)
    # the same symptom written in the history is a problem from that mention, not from the complaint
    palpitations = [p for p in problems if p.text.lower() == "palpitations"]
    assert palpitations and all(p.section == "hpi" for p in palpitations)
    assert not any(p.section == "chief_complaint" for p in problems)
    synthea = extract_facts(_SYNTHEA).facts
    assert [e.chief_complaint for e in _of(synthea, Encounter) if e.chief_complaint] == ["Hunger", "Thirst"]
    assert not {"hunger", "thirst"} & {p.text.lower() for p in _of(synthea, Problem)}


def test_encounter_dates_and_department_as_written_and_parsed() -> None:
    en = {(e.date_kind, e.date_text, e.parsed_date) for e in _of(extract_facts(_SUMMARY_EN).facts, Encounter)}
    assert ("admission", "2026-10-23 20:46", date(2026, 10, 23)) in en
    assert ("visit", "2026-10-25", date(2026, 10, 25)) in en
    fr = _of(extract_facts(_SUMMARY_FR).facts, Encounter)
    assert ("admission", "22/10/2026 13:04", date(2026, 10, 22)) in {
        (e.date_kind, e.date_text, e.parsed_date) for e in fr
    }
    assert [e.department for e in fr if e.department] == ["Chirurgie"]
    assert [e.chief_complaint for e in fr if e.chief_complaint] == ["Douleur abdominale"]
    synthea = _of(extract_facts(_SYNTHEA).facts, Encounter)
    assert ("visit", date(2020, 5, 2)) in {(e.date_kind, e.parsed_date) for e in synthea}


@pytest.mark.parametrize(
    ("written", "language", "parsed"),
    [("2026-10-23 20:46", "en", date(2026, 10, 23)), ("03/04/2026", "fr", date(2026, 4, 3)),
     ("03/04/2026", "en", date(2026, 3, 4)), ("03/04/2026", "", None), ("25/04/2026", "", date(2026, 4, 25)),
     ("19 novembre 2026", "fr", date(2026, 11, 19)), ("November 19, 2026", "en", date(2026, 11, 19)),
     ("31/02/2026", "fr", None), ("03/04/26", "en", None)],
)  # fmt: skip
def test_dates_are_parsed_only_when_unambiguous(written: str, language: str, parsed: date | None) -> None:
    assert parse_date(written, language) == parsed


def test_demographics_from_headers_and_prose_but_not_from_relatives() -> None:
    en = [(d.age, d.sex, d.birth_date) for d in _of(extract_facts(_SUMMARY_EN).facts, Demographics)]
    assert en == [(52, "female", date(1974, 9, 20)), (52, "female", None)]  # the 75-year-old mother is not her
    fr = [(d.age, d.sex) for d in _of(extract_facts(_SUMMARY_FR).facts, Demographics)]
    assert fr == [(85, "male"), (72, "female")]  # "Patiente de 72 ans": a contradiction the record will flag
    prose = extract_facts("The patient is a 45-year-old gentleman with a cough for 5 years.", language="en").facts
    assert [(d.age, d.sex, d.evidence.text if d.evidence else "") for d in _of(prose, Demographics)] == [
        (45, "male", "45-year-old gentleman")
    ]
    generic = extract_facts("Patient de 60 ans admis pour douleur thoracique.", language="fr").facts
    assert [(d.age, d.sex) for d in _of(generic, Demographics)] == [(60, None)]  # "patient" states no sex


def test_procedures_done_and_past() -> None:
    en = {(p.text, p.assertion.value) for p in _of(extract_facts(_SUMMARY_EN).facts, Procedure)}
    assert {("Appendectomy", "historical"), ("Cholecystectomy", "historical"), ("cardioversion", "historical")} <= en
    synthea = [(p.text, p.assertion.value) for p in _of(extract_facts(_SYNTHEA).facts, Procedure)]
    assert synthea == [("renal dialysis", "present"), ("medication reconciliation", "present")]
    fr = [(p.text, p.assertion.value) for p in _of(extract_facts(_SUMMARY_FR).facts, Procedure)]
    assert fr == [("Appendicectomie", "historical")]  # "en 1990" is when, not what
    prose = extract_facts("PROCEDURE:, The test was performed in the laboratory.", language="en").facts
    assert not _of(prose, Procedure)  # a sentence about the procedure is not a procedure name


def test_operative_reports_name_the_procedure_they_describe() -> None:
    cataract = (
        "PREOPERATIVE DIAGNOSIS:,  Nuclear sclerotic cataract, right eye.,OPERATIVE PROCEDURES: , "
        "Phacoemulsification with posterior chamber intraocular lens implantation, right eye.,ANESTHESIA:,  "
        "Monitored anesthesia care."
    )
    assert [p.text for p in _of(extract_facts(cataract, language="en").facts, Procedure)] == [
        "Phacoemulsification with posterior chamber intraocular lens implantation, right eye"  # the side stays on
    ]
    knee = "PROCEDURE  PERFORMED:,  Left unicompartmental knee replacement.,COMPLICATIONS:,  None."
    assert [p.text for p in _of(extract_facts(knee, language="en").facts, Procedure)] == [
        "Left unicompartmental knee replacement"
    ]
    fr = "Intervention réalisée : cholécystectomie par cœlioscopie.\nSuites : simples."
    assert [p.text for p in _of(extract_facts(fr, language="fr").facts, Procedure)] == [
        "cholécystectomie par cœlioscopie"
    ]


def test_a_narrated_operation_gives_no_procedure_fragments() -> None:
    narrative = (
        "PROCEDURE:, The patient was brought to the operating room and placed supine on the table, "
        "prepped and draped in the usual fashion. At this point, a midline incision was made, and the fascia "
        "was opened. Subsequently, the wound was closed with staples.,PROCEDURE PERFORMED:, Anterior cervical "
        "discectomy with decompression, C5-C6.,ADDITIONAL PROCEDURES:, Also, cleared."
    )
    found = [p.text for p in _of(extract_facts(narrative, language="en").facts, Procedure)]
    assert found == ["Anterior cervical discectomy with decompression, C5-C6"]  # the level stays on, no prose


def test_follow_up_instructions_with_whom_and_when() -> None:
    en = [(f.with_whom, f.interval) for f in _of(extract_facts(_SUMMARY_EN).facts, FollowUp)]
    assert en == [("cardiology", "2 weeks"), ("clinic", "3 months")]  # the signature under it is no instruction
    fr = [(f.with_whom, f.interval) for f in _of(extract_facts(_SUMMARY_FR).facts, FollowUp)]
    assert fr == [("Médecin de famille", "1 à 2 semaines"), (None, "1 mois")]
    prose = extract_facts("Lost to follow-up in 2019. Plan: follow up with Dr. Smith in 6 weeks.", language="en")
    assert [(f.text, f.with_whom) for f in _of(prose.facts, FollowUp)] == [
        ("follow up with Dr. Smith in 6 weeks", "Dr. Smith")
    ]


def test_every_demo_discharge_summary_gives_its_encounter_and_follow_up() -> None:
    documents = generate(3, 40, datetime(2026, 11, 20, tzinfo=UTC)).documents
    summaries = [d for d in documents if d.kind == "discharge_summary"]
    assert {d.language for d in summaries} == {"en", "fr"}
    for document in summaries:
        facts = extract_facts(document.text).facts
        encounter = _of(facts, Encounter)
        assert any(e.chief_complaint for e in encounter) and any(e.department for e in encounter)
        assert any(e.date_kind == "admission" and e.parsed_date for e in encounter)
        assert len(_of(facts, FollowUp)) == 2
        assert any(d.birth_date and d.age and d.sex for d in _of(facts, Demographics))


def test_history_written_under_the_complaint_header_is_still_history() -> None:
    run_on = (
        "CHIEF COMPLAINT:,  Rule out sleep apnea.,The patient is a 61-year-old man with loud snoring and "
        "hypertension.,PAST MEDICAL HISTORY:,  Gout."
    )
    facts = extract_facts(run_on, language="en").facts
    assert [e.chief_complaint for e in _of(facts, Encounter) if e.chief_complaint] == ["Rule out sleep apnea"]
    problems = {p.text.lower(): p.section for p in _of(facts, Problem)}
    assert problems.get("hypertension") == "hpi" and "sleep apnea" not in problems
    told = "CHIEF COMPLAINT:, This 24 year-old female presents today complaining of an itchy rash on feet.,"
    facts = extract_facts(told, language="en").facts
    assert [e.chief_complaint for e in _of(facts, Encounter) if e.chief_complaint] == ["itchy rash on feet"]
