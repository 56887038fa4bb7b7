"""Why patients come: emergency complaints by triage level, and planned admissions by ward.

Each reason carries what stays consistent with it across the record: the ward that admits it, the
working diagnosis, the drugs started, the tests and imaging ordered, the symptoms that are present
(never written as negated) and how the vitals deviate from the level's profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from medspeak.demo.catalog import Term

__all__ = ["COMPLAINTS", "PLANNED", "REASONS", "Reason"]


@dataclass(frozen=True)
class Reason:
    code: str
    text: Term
    ward: str  # ward code that admits it
    diagnosis: str | None  # key of PROBLEMS; None when the visit is about the chronic problems
    level: int | None  # triage level; None for a planned admission
    drugs: tuple[str, ...] = ()
    labs: tuple[str, ...] = ()  # beyond the basic panel
    imaging: str | None = None  # key of IMAGING
    findings: frozenset[str] = frozenset()  # keys of FINDINGS that are present
    shifts: tuple[tuple[str, float], ...] = ()  # vital sign deviations from the level profile
    lab_values: tuple[tuple[str, float, float], ...] = ()  # (lab, mean, sd) replacing the normal value
    pain: tuple[int, int] = (0, 2)
    mental: str | None = None  # forces the AVPU status (cardiac arrest: unresponsive)
    admits: bool = True  # False: always sent home, whatever the level's admission share (a sprain, a cut)


def _f(*codes: str) -> frozenset[str]:
    return frozenset(codes)


# The tables below keep one reason to a few lines: a formatter's one-argument-a-line layout hides them.
# fmt: off
_LEVEL_1 = (
    Reason("cardiac_arrest", Term("cardiac arrest", "arrêt cardiaque"), "ICU", "cardiac_arrest", 1,
           ("enoxaparin",), ("troponin", "lactate"), "cxr", _f("syncope"),
           (("systolic_bp", -15), ("spo2", -6)), (("lactate", 6.5, 2.0),), (0, 0), "unresponsive"),
    Reason("unresponsive", Term("found unresponsive", "retrouvé inconscient"), "ICU", "intracranial_haemorrhage", 1,
           (), ("inr",), "ct_head", _f("syncope", "headache"), (("systolic_bp", 60), ("heart_rate", -30)),
           (), (0, 0), "pain"),
    Reason("respiratory_distress", Term("severe respiratory distress", "détresse respiratoire sévère"), "ICU",
           "respiratory_failure", 1, ("piperacillin_tazobactam",), ("lactate", "crp"), "cxr", _f("dyspnoea", "cough"),
           (("spo2", -6), ("respiratory_rate", 8), ("heart_rate", 20)), (("crp", 150.0, 40.0),), (2, 5)),
    Reason("major_trauma", Term("major trauma (road collision)", "polytraumatisme (accident de la route)"), "ICU",
           "multiple_trauma", 1, ("morphine", "enoxaparin"), ("inr", "lactate"), "ct_trauma", _f("abdominal_pain"),
           (("heart_rate", 25),), (("hemoglobin", 95.0, 12.0),), (7, 10)),
)

_LEVEL_2 = (
    Reason("chest_pain", Term("chest pain", "douleur thoracique"), "CARD", "nstemi", 2,
           ("aspirin", "clopidogrel", "atorvastatin"), ("troponin",), "cxr", _f("chest_pain"),
           (("heart_rate", 12), ("systolic_bp", 15)), (("troponin", 240.0, 120.0),), (5, 9)),
    Reason("stroke", Term("stroke symptoms (right-sided weakness)", "symptômes d'AVC (faiblesse du côté droit)"),
           "GMED", "ischaemic_stroke", 2, ("aspirin", "atorvastatin"), ("inr",), "ct_head", _f("weakness"),
           (("systolic_bp", 35),), (), (0, 3)),
    Reason("sepsis", Term("fever and confusion", "fièvre et confusion"), "GMED", "urosepsis", 2,
           ("piperacillin_tazobactam",), ("lactate", "crp"), None, _f("fever", "dysuria"),
           (("temperature_c", 2.2), ("heart_rate", 32), ("systolic_bp", -32), ("respiratory_rate", 6)),
           (("wbc", 18.0, 4.0), ("lactate", 3.4, 0.8), ("crp", 190.0, 50.0)), (2, 5), "verbal"),
    Reason("gi_bleed", Term("vomiting blood", "vomissements de sang"), "GMED", "upper_gi_bleed", 2,
           ("pantoprazole_iv",), ("inr",), None, _f("vomiting", "melaena", "nausea"),
           (("heart_rate", 26), ("systolic_bp", -22)), (("hemoglobin", 84.0, 12.0),), (1, 4)),
    Reason("dyspnoea", Term("shortness of breath", "essoufflement"), "RESP", "copd_exacerbation", 2,
           ("prednisone", "salbutamol"), ("crp",), "cxr", _f("dyspnoea", "cough"),
           (("spo2", -6), ("respiratory_rate", 7), ("heart_rate", 14)), (), (0, 3)),
)

_LEVEL_3 = (
    Reason("abdominal_pain", Term("abdominal pain", "douleur abdominale"), "SURG", "appendicitis", 3,
           ("morphine",), ("crp", "lipase"), "ct_abdomen", _f("abdominal_pain", "nausea"),
           (("temperature_c", 0.7), ("heart_rate", 12)), (("wbc", 13.5, 2.5), ("crp", 60.0, 25.0)), (5, 8)),
    Reason("fever_cough", Term("fever with cough", "fièvre et toux"), "RESP", "pneumonia", 3,
           ("amoxicillin_clavulanate",), ("crp",), "cxr", _f("fever", "cough", "dyspnoea"),
           (("temperature_c", 1.6), ("heart_rate", 16), ("spo2", -3), ("respiratory_rate", 3)),
           (("wbc", 14.0, 3.0), ("crp", 110.0, 40.0)), (1, 4)),
    Reason("hip_fall", Term("fall with hip pain", "chute avec douleur de hanche"), "ORTH", "hip_fracture", 3,
           ("morphine", "enoxaparin"), ("inr",), "xr_hip", _f(), (("heart_rate", 10),), (), (6, 9)),
    Reason("palpitations", Term("palpitations", "palpitations"), "CARD", "af_rvr", 3,
           ("metoprolol", "apixaban"), ("troponin",), "echo", _f("palpitations"), (("heart_rate", 48),), (), (0, 2)),
    Reason("vomiting", Term("vomiting and diarrhoea", "vomissements et diarrhée"), "GMED", "gastroenteritis", 3,
           ("ondansetron",), (), None, _f("vomiting", "nausea", "abdominal_pain"), (("heart_rate", 14),),
           (("potassium", 3.2, 0.3),), (2, 5)),
    Reason("headache", Term("severe headache", "céphalée intense"), "GMED", "migraine", 3,
           ("sumatriptan",), (), "ct_head", _f("headache", "nausea"), (("systolic_bp", 10),), (), (6, 9)),
)

_LEVEL_4 = (
    Reason("ankle_sprain", Term("ankle sprain", "entorse de la cheville"), "ORTH", "ankle_sprain", 4,
           ("ibuprofen", "paracetamol"), (), "xr_ankle", _f(), (), (), (3, 7), admits=False),
    Reason("laceration", Term("forearm laceration", "plaie de l'avant-bras"), "SURG", "laceration", 4,
           ("paracetamol",), (), None, _f(), (), (), (2, 6), admits=False),
    Reason("urinary", Term("painful urination", "brûlures urinaires"), "GMED", "uti", 4,
           ("nitrofurantoin",), ("crp",), None, _f("dysuria"), (("temperature_c", 0.4),), (), (1, 4)),
    Reason("back_pain", Term("low back pain", "mal de dos"), "ORTH", "back_pain", 4,
           ("ibuprofen",), (), None, _f(), (), (), (4, 8)),
)

_LEVEL_5 = (
    Reason("refill", Term("prescription refill", "renouvellement d'ordonnance"), "GMED", None, 5, admits=False),
    Reason("sore_throat", Term("mild sore throat", "mal de gorge léger"), "GMED", "pharyngitis", 5,
           ("paracetamol",), (), None, _f(), (("temperature_c", 0.3),), (), (1, 3), admits=False),
    Reason("rash", Term("itchy rash", "éruption qui démange"), "GMED", "dermatitis", 5, ("cetirizine",),
           admits=False),
    Reason("wound_check", Term("wound check", "contrôle de plaie"), "SURG", "wound_infection", 5,
           ("cefalexin",), ("crp",), None, _f(), (("temperature_c", 0.4),), (), (1, 4)),
)

COMPLAINTS: Final = {1: _LEVEL_1, 2: _LEVEL_2, 3: _LEVEL_3, 4: _LEVEL_4, 5: _LEVEL_5}

# Planned admissions (referrals and transfers), one a ward.
PLANNED: Final = (
    Reason("cholecystectomy", Term("planned laparoscopic cholecystectomy", "cholécystectomie programmée"), "SURG",
           "gallstones", None, ("paracetamol", "enoxaparin"), (), "us_abdomen", _f("abdominal_pain"), pain=(2, 5)),
    Reason("hip_replacement", Term("planned total hip replacement", "prothèse totale de hanche programmée"), "ORTH",
           "hip_osteoarthritis", None, ("enoxaparin", "paracetamol"), (), "xr_hip", _f(), pain=(3, 6)),
    Reason("angiography", Term("planned coronary angiography", "coronarographie programmée"), "CARD",
           "stable_angina", None, ("aspirin", "atorvastatin"), ("troponin",), "echo", _f("chest_pain")),
    Reason("anaemia", Term("referral for anaemia work-up", "bilan d'anémie"), "GMED", "anaemia", None,
           ("ferrous_sulfate",), (), None, _f(), (("heart_rate", 10),), (("hemoglobin", 88.0, 8.0),)),
    Reason("effusion", Term("referral for pleural effusion", "épanchement pleural adressé"), "RESP",
           "pleural_effusion", None, (), ("crp",), "cxr", _f("dyspnoea"), (("spo2", -2),)),
    Reason("post_op", Term("monitoring after aortic surgery", "surveillance après chirurgie aortique"), "ICU",
           "aortic_aneurysm", None, ("enoxaparin", "morphine"), ("lactate",), None, _f(), pain=(3, 6)),
)
# fmt: on

REASONS: Final = {r.code: r for r in (*(r for level in COMPLAINTS.values() for r in level), *PLANNED)}
