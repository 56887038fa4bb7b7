"""English medication rules of issue 14: brand suffixes, regimens, generic words, list items in prose."""

from __future__ import annotations

from medspeak.indexing import extract_facts
from medspeak.indexing.schema import Medication


def _names(text: str) -> list[str]:
    return [f.name for f in extract_facts(text, language="en").facts if isinstance(f, Medication)]


def test_a_capitalised_suffix_joined_by_a_hyphen_is_part_of_the_brand() -> None:
    assert _names("Plan: start Flonase-AQ one spray daily and Proventil-HFA two puffs as needed.") == [
        "Flonase-AQ",
        "Proventil-HFA",
    ]


def test_a_brand_with_hc_after_a_space_keeps_it() -> None:
    assert _names("Plan: we will try ProctoFoam HC for the hemorrhoids.") == ["ProctoFoam HC"]


def test_demerol_is_a_drug_name() -> None:
    assert _names("He was given Demerol 50 mg IM once.") == ["Demerol"]


def test_generic_preparation_words_are_not_medications() -> None:
    text = "MEDICATIONS: Lisinopril 10 mg daily, and vitamin.\nPlan: try Patanol eyedrops and saline nasal spray daily."
    assert _names(text) == ["Lisinopril", "Patanol"]


def test_a_header_naming_medications_for_a_purpose_opens_a_medication_list() -> None:
    text = "ALLERGIES: None.\nPRN MEDICATIONS FOR NAUSEA: Zofran helps her the most.\nSOCIAL HISTORY: Retired."
    assert _names(text) == ["Zofran"]


def _regimens(text: str) -> list[tuple[str, str]]:
    return [(f.name, f.status.value) for f in extract_facts(text, language="en").facts if isinstance(f, Medication)]


def test_a_chemotherapy_regimen_acronym_given_in_the_past_is_a_stopped_medication() -> None:
    text = "In 2004 she received four cycles of R-CHOP. Two years later she was treated with ABVD chemotherapy."
    assert _regimens(text) == [("R-CHOP", "stopped"), ("ABVD", "stopped")]


def test_a_regimen_acronym_needs_a_treatment_context_and_its_capitals() -> None:
    assert _regimens("CVP was 12 on arrival. He likes to chop wood.") == []
    assert _regimens("Plan: start FOLFOX next week.") == [("FOLFOX", "started")]


def test_a_regimen_in_a_french_sentence() -> None:
    text = "Elle a reçu six cures de R-CHOP en 2019 pour un lymphome."
    assert _regimens(text) == [("R-CHOP", "stopped")]


def test_a_second_drug_with_its_own_strength_in_a_list_item_is_its_own_medication() -> None:
    text = "MEDICATIONS: Keflex 500 mg q.i.d. alternating weekly with minocycline 50 mg b.i.d., Tylenol p.r.n."
    meds = [f for f in extract_facts(text, language="en").facts if isinstance(f, Medication)]
    assert [(m.name, m.strength, m.frequency) for m in meds] == [
        ("Keflex", "500 mg", "QID"),
        ("minocycline", "50 mg", "BID"),
        ("Tylenol", None, None),
    ]


def test_prose_after_a_medication_list_is_not_taken_for_unknown_drug_names() -> None:
    text = (
        "HISTORY: Knee pain.,MEDICATIONS: , Zorvex.,He was stable.  All medications, wound care instructions and"
        " follow-up visits were reviewed with him."
    )
    assert _names(text) == ["Zorvex"]


def test_a_list_item_that_starts_with_a_function_word_is_not_a_drug_name() -> None:
    assert _names("MEDICATIONS:,  In Chinese writing.  One is for sugar.,ALLERGIES: None.") == []


def test_a_vaccine_given_at_a_visit_is_a_medication() -> None:
    text = "PLAN: Immunizations reviewed and brought up to date with DTaP and hepatitis A today."
    assert _names(text) == ["DTaP", "hepatitis A"]
    assert _names("She was given the flu vaccine in clinic today.") == ["flu vaccine"]


def test_a_vaccine_name_without_an_immunization_context_is_not_a_medication() -> None:
    assert _names("History of hepatitis A as a child. She has not received the flu vaccine this year.") == []
    assert _names("IMMUNIZATIONS: Up to date, including tetanus.") == []


def test_a_drug_named_before_another_does_not_take_its_strength_or_frequency() -> None:
    meds = [
        f
        for f in extract_facts("We will try Pataday drops and Zyrtec 10 mg once a day.", language="en").facts
        if isinstance(f, Medication)
    ]
    assert [(m.name, m.strength, m.frequency) for m in meds] == [("Pataday", None, None), ("Zyrtec", "10 mg", "QD")]


def test_brand_suffixes_af_and_pm_and_bcg_instillation() -> None:
    assert _names("PRESCRIPTIONS: Lotrimin AF cream twice daily.") == ["Lotrimin AF"]
    assert _names("This was followed by intravesical instillation of BCG.") == ["BCG"]


def test_a_skin_antiseptic_used_to_prepare_the_field_is_not_a_medication() -> None:
    assert _names("The wound was prepped with Betadine and draped in the usual sterile fashion.") == []


def test_drugs_coordinated_with_a_medication_statement_share_its_cue() -> None:
    text = "She was prescribed Zofran for the nausea and the vomiting of the last three days, Protonix, and Carafate."
    assert _names(text) == ["Zofran", "Protonix", "Carafate"]


def test_restart_begin_and_discontinuing_are_medication_cues() -> None:
    text = "We will restart metoprolol tomorrow. Begin Keflex today. Her rash improved after discontinuing the Septra."
    assert _names(text) == ["metoprolol", "Keflex", "Septra"]
    assert _regimens(text)[-1] == ("Septra", "stopped")


def test_common_us_brands_missing_from_the_packaged_lexicon_are_known() -> None:
    text = "He takes Imdur 30 mg daily, Soma 350 mg at night, Lomotil 2.5 mg p.r.n. and Darvocet-N 100 p.r.n."
    meds = [f for f in extract_facts(text, language="en").facts if isinstance(f, Medication)]
    assert [m.normalized_name for m in meds] == [
        "isosorbide mononitrate",
        "carisoprodol",
        "diphenoxylate/atropine",
        "propoxyphene/acetaminophen",
    ]


def test_drug_classes_fluids_and_blood_glucose_are_not_medications() -> None:
    text = (
        "He was given 1 L of normal saline and narcotics for pain. Her blood glucose control improved on diet."
        " We will treat with an antihistamine and antiplatelet agents. Not relieved by nitrates."
    )
    assert _names(text) == []


def test_list_item_fragments_are_not_drug_names() -> None:
    text = (
        "MEDICATIONS:,1.  Diltiazem, which is changed to 120 mg daily.,2.  Warfarin, adjusted dose."
        ",3.  Baclofen 10-mg tablet, one-half tablet daily and 5 mg at bedtime.,4.  Prednisone, she was on 5 mg daily."
    )
    assert _names(text) == ["Diltiazem", "Warfarin", "Baclofen", "Prednisone"]
    text = "MEDICATIONS: Prilosec 20 mg daily; prednisone, she was taking 5 mg daily, but stopped it."
    assert _names(text) == ["Prilosec", "prednisone"]


def test_a_generic_word_after_a_drug_does_not_cut_its_attributes() -> None:
    meds = [
        f
        for f in extract_facts("MEDICATIONS: Xalatan 0.005% solution b.i.d.", language="en").facts
        if isinstance(f, Medication)
    ]
    assert [(m.name, m.frequency) for m in meds] == [("Xalatan", "BID")]


def test_a_toxicity_named_after_a_drug_and_a_declined_drug_are_not_medications() -> None:
    text = (
        "ASSESSMENT: Confusion with lithium toxicity. She does not want to take the Eliquis."
        " She received platelet transfusion yesterday."
    )
    assert _names(text) == []


def test_an_unknown_list_item_stops_at_its_status_word() -> None:
    assert _names("MEDICATIONS: Zorvatex started on Monday, Lisinopril 10 mg daily.") == ["Zorvatex", "Lisinopril"]


def _orders(text: str) -> list[tuple[str, str | None, str | None, str]]:
    meds = [f for f in extract_facts(text, language="en").facts if isinstance(f, Medication)]
    return [(m.name, m.strength, m.frequency, m.status.value) for m in meds]


def test_spelled_out_units_and_more_frequency_spellings() -> None:
    text = "MEDICATIONS: Aspirin 81 milligrams QDay, Zocor 20 mg at h.s., NPH insulin 30 units in the a.m."
    assert _orders(text) == [
        ("Aspirin", "81 milligrams", "QD", "active"),
        ("Zocor", "20 mg", "QHS", "active"),
        ("NPH insulin", "30 units", "QAM", "active"),
    ]


def test_one_and_a_half_tablets_do_not_split_an_inline_list_item() -> None:
    text = "MEDICATIONS: diltiazem CD 120 mg one and a half tablets daily, Zetia 10 mg daily."
    assert _orders(text) == [("diltiazem CD", "120 mg", "QD", "active"), ("Zetia", "10 mg", "QD", "active")]


def test_a_number_without_unit_before_a_frequency_is_the_listed_strength() -> None:
    text = "MEDICATIONS: Norvasc 5 daily, Vicodin 5/500 q.6h. p.r.n., Tylenol 2 tablets at bedtime."
    assert _orders(text) == [
        ("Norvasc", "5", "QD", "active"),
        ("Vicodin", "5/500", "Q6H", "active"),
        ("Tylenol", None, "QHS", "active"),  # a count of tablets is not a strength
    ]


def test_a_brand_written_with_a_number_sign_or_no_dot() -> None:
    text = "At discharge he was given Tylenol No. 3, one tablet every six hours p.r.n. for pain."
    assert _orders(text) == [("Tylenol No. 3", None, "Q6H", "active")]


def test_a_taper_word_is_not_part_of_the_name() -> None:
    text = "DISCHARGE MEDICATIONS:\n1. Medrol taper 24 mg p.o. daily for two days, then 16 mg p.o. daily."
    assert [name for name, *_ in _orders(text)] == ["Medrol"]


def test_a_drug_the_patient_refused_is_not_a_medication() -> None:
    text = "He was offered Toradol 30 mg IM for the headache, but he declined it. He was then given Zofran 4 mg IV."
    assert [name for name, *_ in _orders(text)] == ["Zofran"]


def test_drug_classes_are_not_medications() -> None:
    text = "Plan: continue bronchodilators. Unclear whether she is on any antihypertensive agents."
    assert _orders(text) == []


def test_a_cued_sentence_after_a_list_item_adds_its_drugs() -> None:
    text = "MEDICATIONS: Lisinopril 10 mg daily; and metformin 500 mg b.i.d.  He also takes calcium, zinc and fish oil."
    assert [name for name, *_ in _orders(text)] == ["Lisinopril", "metformin", "calcium", "zinc", "fish oil"]


def test_a_drug_taken_before_or_that_the_patient_was_told_not_to_take_is_stopped() -> None:
    assert _orders("MEDICATIONS: She was previously on Paxil.\nALLERGIES: None.") == [("Paxil", None, None, "stopped")]
    text = "Her doctor told her not to take Sudafed, which she used for colds."
    assert _orders(text) == [("Sudafed", None, None, "stopped")]


def test_a_plan_item_that_is_only_a_drug_name_is_an_order() -> None:
    text = "ASSESSMENT:\n1. Migraine.\nPLAN:\n1. MRI of the brain.\n2. Imitrex.\n3. Discussed Topamax, she will think."
    assert [name for name, *_ in _orders(text)] == ["Imitrex"]


def test_a_listed_drug_that_the_plan_stops_is_stopped() -> None:
    text = "MEDICATIONS: Keflex 500 mg q.i.d., Zyrtec 10 mg daily.\nPLAN: He will stop the Keflex after Sunday's dose."
    orders = _orders(text)
    assert orders[0] == ("Keflex", "500 mg", "QID", "stopped") and orders[1] == ("Zyrtec", "10 mg", "QD", "active")


def _regimen(text: str) -> list[tuple[str, str | None, str | None]]:
    """(name, strength, frequency code) of each medication; "PRN" for a drug taken only as needed."""
    return [
        (f.name, f.strength, f.frequency or ("PRN" if f.as_needed else None))
        for f in extract_facts(text, language="en").facts
        if isinstance(f, Medication)
    ]


def test_dictated_frequencies_at_hs_qday_and_in_am_are_read() -> None:
    text = "MEDICATIONS: Tamsulosin 0.4 mg at h.s., Zocor 20 mg QDay.  Lantus 30 units in a.m.  Ativan 1 mg p.r.n."
    assert _regimen(text) == [
        ("Tamsulosin", "0.4 mg", "QHS"),
        ("Zocor", "20 mg", "QD"),
        ("Lantus", "30 units", "QAM"),
        ("Ativan", "1 mg", "PRN"),
    ]


def test_a_strength_in_milligrams_written_out_is_a_strength() -> None:
    assert _regimen("MEDICATIONS: Plavix 75 milligrams daily.") == [("Plavix", "75 milligrams", "QD")]


def test_a_drug_the_patient_refused_later_in_the_sentence_is_not_a_medication() -> None:
    text = "He was offered morphine 4 mg IV for the pain, but he declined.  He was given Zofran 4 mg IV."
    assert _names(text) == ["Zofran"]


def test_a_numbered_product_keeps_its_number() -> None:
    assert _names("She went home with Tylenol #3 for the pain.") == ["Tylenol #3"]
    assert _names("He is given Tylenol No. 3 to take at home.") == ["Tylenol No. 3"]


def test_a_taper_is_not_part_of_the_drug_name() -> None:
    text = "DISCHARGE MEDICATIONS:\n1. Medrol tapering dose 24 mg p.o. daily, then 16 mg.\n2. Keflex 500 mg q.i.d."
    assert [name for name, _, _ in _regimen(text)] == ["Medrol", "Keflex"]


def test_bronchodilators_and_antihypertensive_agents_are_classes_not_medications() -> None:
    text = "She was treated with bronchodilators; she is not sure of her antihypertensive agents.  She takes Norvasc."
    assert _names(text) == ["Norvasc"]


def test_a_drug_alone_on_a_numbered_plan_line_is_ordered() -> None:
    text = "ASSESSMENT:\n1. Acne.\nPLAN:\n1. Doxycycline 100 mg daily.\n2. Retin-A.\n3. Return in 6 weeks."
    assert _names(text) == ["Doxycycline", "Retin-A"]
    assert _names("PAST MEDICAL HISTORY:\n1. Coumadin toxicity.\n2. Hypertension.") == []
