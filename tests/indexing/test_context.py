"""Assertion of problems (ConText): negated, family, historical, hypothetical, possible; EN and FR."""

from __future__ import annotations

import pytest

from medspeak.indexing import extract_facts
from medspeak.indexing.schema import Finding, Problem


def _assertions(text: str, language: str) -> dict[str, str]:
    facts = extract_facts(text, language=language).facts
    return {f.text.lower(): f.assertion.value for f in facts if isinstance(f, Problem)}


@pytest.mark.parametrize(
    ("text", "language", "problem", "assertion"),
    [
        ("Patient denies chest pain.", "en", "chest pain", "absent"),
        ("No fever, but cough for three days.", "en", "fever", "absent"),
        ("No fever, but cough for three days.", "en", "cough", "present"),
        ("Mother had myocardial infarction at 60.", "en", "myocardial infarction", "family"),
        ("History of pulmonary embolism in 2019.", "en", "pulmonary embolism", "historical"),
        ("Return to the ED if chest pain recurs.", "en", "chest pain", "hypothetical"),
        ("Possible pneumonia on the left base.", "en", "pneumonia", "possible"),
        ("Clinical question: rule out pulmonary embolism.", "en", "pulmonary embolism", "possible"),
        ("Diagnosis: atrial fibrillation.", "en", "atrial fibrillation", "present"),
        ("Pas de fièvre. Toux depuis 3 jours.", "fr", "fièvre", "absent"),
        ("Pas de fièvre. Toux depuis 3 jours.", "fr", "toux", "present"),
        ("Patient sans douleur thoracique.", "fr", "douleur thoracique", "absent"),
        ("Père : infarctus du myocarde.", "fr", "infarctus du myocarde", "family"),
        ("Antécédent de embolie pulmonaire.", "fr", "embolie pulmonaire", "historical"),
        ("Question clinique : éliminer hémorragie intracrânienne.", "fr", "hémorragie intracrânienne", "possible"),
    ],
)
def test_assertion(text: str, language: str, problem: str, assertion: str) -> None:
    assert _assertions(text, language)[problem] == assertion


def test_family_history_section_makes_its_problems_family() -> None:
    text = "Family history\nBrother: myocardial infarction.\n\nAssessment and plan\nDiagnosis: pneumonia.\n"
    found = _assertions(text, "en")
    assert found == {"myocardial infarction": "family", "pneumonia": "present"}


def test_section_title_is_not_a_history_statement() -> None:
    found = _assertions("History of present illness\nPresenting with abdominal pain.\n", "en")
    assert found == {"abdominal pain": "present"}


@pytest.mark.parametrize(
    ("text", "assertion"),
    [
        ("He presents with a 3-day history of cough.", "present"),
        ("A two-week history of fever.", "present"),
        ("She has a long history of asthma.", "present"),
        ("He has a history of stroke.", "historical"),
    ],
)
def test_a_history_with_a_duration_is_current(text: str, assertion: str) -> None:
    from medspeak.indexing import extract_facts
    from medspeak.indexing.schema import Problem

    (problem,) = [f for f in extract_facts(text, language="en", backend="rules").facts if isinstance(f, Problem)]
    assert problem.assertion.value == assertion


@pytest.mark.parametrize(
    ("text", "problem", "assertion"),
    [
        # the annotation conventions: a chronic condition written "history of" is still the patient's
        (
            "PAST MEDICAL HISTORY:,1.  History of congestive heart failure.,2.  Gout.",
            "congestive heart failure",
            "present",
        ),
        ("He does have a history of reactive airway disease, intermittently.", "reactive airway disease", "present"),
        # an episode is past however it is written
        ("PAST MEDICAL HISTORY:,1.  History of schwannoma resection.,2.  History of TIA.", "tia", "historical"),
        ("She has a history of pneumonia treated last year.", "pneumonia", "historical"),
        ("He had a previous hypertension diagnosis.", "hypertension", "historical"),
        # hedges of the dictating physician
        ("I believe she probably has hidradenitis suppurativa.", "hidradenitis suppurativa", "possible"),
        ("Leukocytosis, possibly secondary to a UTI.", "uti", "possible"),
        ("I suspect it is simple orthostasis.", "orthostasis", "possible"),
        (
            "IMPRESSION: , Sickle cell crisis.,DIFFERENTIAL DIAGNOSIS: , Veno-occlusive crisis, and diskitis.",
            "diskitis",
            "possible",
        ),
        (
            "IMPRESSION: , Sickle cell crisis.,DIFFERENTIAL DIAGNOSIS: , Veno-occlusive crisis, and diskitis.",
            "sickle cell crisis",
            "present",
        ),
        (
            "ASSESSMENT AND PLAN:,1.  Anemia.,2.  Deep vein thrombosis risk, prophylaxis as per surgeon.",
            "deep vein thrombosis",
            "hypothetical",
        ),
    ],
)
def test_english_assertions_follow_the_annotation_conventions(text: str, problem: str, assertion: str) -> None:
    facts = extract_facts(text, language="en", backend="rules").facts
    found = {f.text.lower(): f.assertion.value for f in facts if isinstance(f, Problem | Finding)}
    assert found[problem] == assertion, found


def test_a_negated_examination_list_negates_every_finding() -> None:
    text = (
        "PHYSICAL EXAMINATION:,CARDIOVASCULAR:  Regular rate and rhythm without murmurs, rubs, heaves or gallops."
        ",ABDOMEN:  Soft, nontender, nondistended without hepatosplenomegaly.,NECK:  No JVD, no thyromegaly."
        ",LUNGS:  Bibasilar crackles with decreased breath sounds."
    )
    facts = extract_facts(text, language="en", backend="rules").facts
    found = {f.text.lower(): f.assertion.value for f in facts if isinstance(f, Finding)}
    for finding in ("murmurs", "rubs", "heaves", "gallops", "hepatosplenomegaly", "jvd", "thyromegaly"):
        assert found.get(finding) == "absent", (finding, found)
    assert found.get("bibasilar crackles") == "present" and found.get("decreased breath sounds") == "present", found


@pytest.mark.parametrize(
    "text",
    [
        "ASSESSMENT AND PLAN:,1.  Hypertension, under control.  Continue current home medications."
        ",2.  Gastrointestinal prophylaxis.",
        "PAST MEDICAL HISTORY:,  Reviewed, very healthy.,ASSESSMENT:,  Well child check.",
        "PAST MEDICAL HISTORY:,1.  Aortic valve replacement in 1991, St. Jude mechanical valve #23."
        ",2.  Congestive heart failure, EF 40%.",
        "IMPRESSION:,1.  End-stage renal disease, plan for dialysis today.,2.  Hypertension, blood pressure stable.",
    ],
)
def test_prose_and_plans_are_not_problems(text: str) -> None:
    facts = extract_facts(text, language="en", backend="rules").facts
    problems = {f.text.lower() for f in facts if isinstance(f, Problem)}
    wanted = {"hypertension", "congestive heart failure", "end-stage renal disease"}
    assert problems <= wanted, problems


def _all_assertions(text: str) -> dict[str, str]:
    facts = extract_facts(text, language="en").facts
    return {f.text.lower(): f.assertion.value for f in facts if isinstance(f, Problem | Finding)}


def test_a_problem_dated_by_a_past_year_is_historical() -> None:
    found = _all_assertions("IMPRESSION:\n1. Heart failure.\n2. Colon cancer in 2004.\n3. Gout.")
    assert found["colon cancer"] == "historical" and found["heart failure"] == found["gout"] == "present"


def test_a_recurrent_or_chronic_condition_after_history_of_is_present() -> None:
    found = _all_assertions("She has a history of asthma, recurrent urinary tract infections and pneumonia.")
    assert found["recurrent urinary tract infections"] == "present" and found["pneumonia"] == "historical"


def test_cannot_see_and_unaware_of_any_negate() -> None:
    found = _all_assertions("NECK: I cannot see JVD. He is unaware of any kidney disease.")
    assert found["jvd"] == "absent" and found["kidney disease"] == "absent"


def test_suggestive_of_and_an_alternative_after_a_comma_are_hedged() -> None:
    found = _all_assertions("The scan showed a fixed defect suggestive of scar.")
    assert found["scar"] == "possible"
    found = _all_assertions("ASSESSMENT:\n1. Weakness, may be anemia, or hypothyroidism.\n2. Gout.")
    assert found["anemia"] == found["hypothyroidism"] == "possible" and found["gout"] == "present"


def test_admitted_with_ends_the_scope_of_status_post() -> None:
    found = _all_assertions("He has diabetes, status post amputation, admitted with chest pain last night.")
    assert [a for t, a in found.items() if t.startswith("chest pain")] == ["present"]
