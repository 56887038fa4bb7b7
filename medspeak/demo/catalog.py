"""Clinical vocabulary of the demo hospital: wards, drugs, problems, allergies, findings.

Written for this project (typed Python rather than data files so that mypy checks every entry).
Strengths, routes and frequencies are usual adult doses; the hospital and its wards are fictional.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from medspeak.i18n import N_

__all__ = [
    "ALLERGIES",
    "CHRONIC_CONDITIONS",
    "DRUGS",
    "FAMILY_HISTORY",
    "FINDINGS",
    "FREQUENCIES",
    "PENICILLINS",
    "PROBLEMS",
    "ROUTES",
    "WARDS",
    "Chronic",
    "Drug",
    "Term",
    "WardSpec",
]


@dataclass(frozen=True)
class Term:
    """A phrase in English and French."""

    en: str
    fr: str

    def text(self, language: str) -> str:
        return self.fr if language == "fr" else self.en


@dataclass(frozen=True)
class WardSpec:
    code: str
    name: str
    full_capacity: int  # beds when the demo is large enough to fill a real-sized ward


@dataclass(frozen=True)
class Drug:
    name: Term
    strength: str  # English notation; French uses a decimal comma and µg
    route: str  # key of ROUTES
    frequency: str  # key of FREQUENCIES


@dataclass(frozen=True)
class Chronic:
    problem: str  # key of PROBLEMS
    drugs: tuple[str, ...]  # keys of DRUGS
    weight: float  # relative prevalence among adults seen in hospital
    sex: str | None = None  # only this sex has it


WARDS: Final = (
    WardSpec("GMED", N_("General Medicine"), 30),
    WardSpec("CARD", N_("Cardiology"), 20),
    WardSpec("SURG", N_("Surgery"), 24),
    WardSpec("ORTH", N_("Orthopaedics"), 16),
    WardSpec("RESP", N_("Respiratory"), 18),
    WardSpec("ICU", N_("Intensive Care Unit"), 8),
)

ROUTES: Final = {
    "PO": Term("PO", "per os"),
    "IV": Term("IV", "IV"),
    "SC": Term("SC", "SC"),
    "inhaled": Term("inhaled", "inhalé"),
}

FREQUENCIES: Final = {
    "od": Term("once daily", "une fois par jour"),
    "bid": Term("twice daily", "deux fois par jour"),
    "tid": Term("three times daily", "trois fois par jour"),
    "qid": Term("four times daily", "quatre fois par jour"),
    "q8h": Term("every 8 hours", "toutes les 8 heures"),
    "q6h_prn": Term("every 6 hours as needed", "toutes les 6 heures si besoin"),
    "q4h_prn": Term("every 4 hours as needed", "toutes les 4 heures si besoin"),
    "q8h_prn": Term("every 8 hours as needed", "toutes les 8 heures si besoin"),
    "hs": Term("at bedtime", "au coucher"),
    "weekly": Term("once weekly", "une fois par semaine"),
    "onset": Term("at onset of migraine", "au début de la crise"),
}

DRUGS: Final = {
    "metoprolol": Drug(Term("Metoprolol", "Métoprolol"), "25 mg", "PO", "bid"),
    "amlodipine": Drug(Term("Amlodipine", "Amlodipine"), "5 mg", "PO", "od"),
    "lisinopril": Drug(Term("Lisinopril", "Lisinopril"), "10 mg", "PO", "od"),
    "atorvastatin": Drug(Term("Atorvastatin", "Atorvastatine"), "40 mg", "PO", "hs"),
    "metformin": Drug(Term("Metformin", "Metformine"), "500 mg", "PO", "bid"),
    "insulin_glargine": Drug(Term("Insulin glargine", "Insuline glargine"), "10 units", "SC", "hs"),
    "apixaban": Drug(Term("Apixaban", "Apixaban"), "5 mg", "PO", "bid"),
    "aspirin": Drug(Term("Aspirin", "Acide acétylsalicylique"), "81 mg", "PO", "od"),
    "clopidogrel": Drug(Term("Clopidogrel", "Clopidogrel"), "75 mg", "PO", "od"),
    "furosemide": Drug(Term("Furosemide", "Furosémide"), "40 mg", "PO", "od"),
    "bisoprolol": Drug(Term("Bisoprolol", "Bisoprolol"), "5 mg", "PO", "od"),
    "levothyroxine": Drug(Term("Levothyroxine", "Lévothyroxine"), "75 mcg", "PO", "od"),
    "pantoprazole": Drug(Term("Pantoprazole", "Pantoprazole"), "40 mg", "PO", "od"),
    "pantoprazole_iv": Drug(Term("Pantoprazole", "Pantoprazole"), "40 mg", "IV", "bid"),
    "sertraline": Drug(Term("Sertraline", "Sertraline"), "50 mg", "PO", "od"),
    "salbutamol": Drug(Term("Salbutamol", "Salbutamol"), "100 mcg", "inhaled", "q6h_prn"),
    "tiotropium": Drug(Term("Tiotropium", "Tiotropium"), "18 mcg", "inhaled", "od"),
    "paracetamol": Drug(Term("Paracetamol", "Paracétamol"), "1 g", "PO", "q6h_prn"),
    "ibuprofen": Drug(Term("Ibuprofen", "Ibuprofène"), "400 mg", "PO", "tid"),
    "amoxicillin_clavulanate": Drug(
        Term("Amoxicillin-clavulanate", "Amoxicilline-acide clavulanique"), "875 mg", "PO", "bid"
    ),
    "doxycycline": Drug(Term("Doxycycline", "Doxycycline"), "100 mg", "PO", "bid"),
    "piperacillin_tazobactam": Drug(Term("Piperacillin-tazobactam", "Pipéracilline-tazobactam"), "4.5 g", "IV", "q8h"),
    "meropenem": Drug(Term("Meropenem", "Méropénem"), "1 g", "IV", "q8h"),
    "nitrofurantoin": Drug(Term("Nitrofurantoin", "Nitrofurantoïne"), "100 mg", "PO", "bid"),
    "enoxaparin": Drug(Term("Enoxaparin", "Énoxaparine"), "40 mg", "SC", "od"),
    "morphine": Drug(Term("Morphine", "Morphine"), "5 mg", "PO", "q4h_prn"),
    "ondansetron": Drug(Term("Ondansetron", "Ondansétron"), "4 mg", "PO", "q8h_prn"),
    "sumatriptan": Drug(Term("Sumatriptan", "Sumatriptan"), "50 mg", "PO", "onset"),
    "allopurinol": Drug(Term("Allopurinol", "Allopurinol"), "100 mg", "PO", "od"),
    "tamsulosin": Drug(Term("Tamsulosin", "Tamsulosine"), "0.4 mg", "PO", "hs"),
    "levetiracetam": Drug(Term("Levetiracetam", "Lévétiracétam"), "500 mg", "PO", "bid"),
    "prednisone": Drug(Term("Prednisone", "Prednisone"), "40 mg", "PO", "od"),
    "alendronate": Drug(Term("Alendronate", "Alendronate"), "70 mg", "PO", "weekly"),
    "cetirizine": Drug(Term("Cetirizine", "Cétirizine"), "10 mg", "PO", "od"),
    "cefalexin": Drug(Term("Cefalexin", "Céfalexine"), "500 mg", "PO", "qid"),
    "ferrous_sulfate": Drug(Term("Ferrous sulfate", "Sulfate ferreux"), "300 mg", "PO", "od"),
}

PENICILLINS: Final = frozenset({"amoxicillin_clavulanate", "piperacillin_tazobactam"})

PROBLEMS: Final = {
    # chronic
    "hypertension": Term("hypertension", "hypertension artérielle"),
    "type2_diabetes": Term("type 2 diabetes mellitus", "diabète de type 2"),
    "hyperlipidaemia": Term("hyperlipidaemia", "dyslipidémie"),
    "atrial_fibrillation": Term("atrial fibrillation", "fibrillation auriculaire"),
    "copd": Term("chronic obstructive pulmonary disease", "bronchopneumopathie chronique obstructive"),
    "asthma": Term("asthma", "asthme"),
    "hypothyroidism": Term("hypothyroidism", "hypothyroïdie"),
    "gerd": Term("gastro-oesophageal reflux disease", "reflux gastro-oesophagien"),
    "depression": Term("depression", "dépression"),
    "heart_failure": Term("heart failure", "insuffisance cardiaque"),
    "coronary_disease": Term("coronary artery disease", "maladie coronarienne"),
    "ckd": Term("chronic kidney disease", "insuffisance rénale chronique"),
    "osteoarthritis": Term("osteoarthritis", "arthrose"),
    "gout": Term("gout", "goutte"),
    "bph": Term("benign prostatic hyperplasia", "hypertrophie bénigne de la prostate"),
    "epilepsy": Term("epilepsy", "épilepsie"),
    "osteoporosis": Term("osteoporosis", "ostéoporose"),
    # acute, as working diagnoses of the visit reasons (medspeak.demo.reasons)
    "cardiac_arrest": Term("out-of-hospital cardiac arrest", "arrêt cardiaque extrahospitalier"),
    "intracranial_haemorrhage": Term("intracranial haemorrhage", "hémorragie intracrânienne"),
    "respiratory_failure": Term("acute hypoxaemic respiratory failure", "insuffisance respiratoire aiguë"),
    "multiple_trauma": Term("multiple trauma", "polytraumatisme"),
    "nstemi": Term("non-ST-elevation myocardial infarction", "infarctus du myocarde sans sus-décalage ST"),
    "ischaemic_stroke": Term("ischaemic stroke", "accident vasculaire cérébral ischémique"),
    "urosepsis": Term("sepsis of urinary origin", "sepsis d'origine urinaire"),
    "upper_gi_bleed": Term("upper gastrointestinal bleeding", "hémorragie digestive haute"),
    "copd_exacerbation": Term("COPD exacerbation", "exacerbation de BPCO"),
    "appendicitis": Term("acute appendicitis", "appendicite aiguë"),
    "pneumonia": Term("community-acquired pneumonia", "pneumonie communautaire"),
    "hip_fracture": Term("hip fracture", "fracture de la hanche"),
    "af_rvr": Term("atrial fibrillation with rapid ventricular response", "fibrillation auriculaire rapide"),
    "gastroenteritis": Term("acute gastroenteritis", "gastro-entérite aiguë"),
    "migraine": Term("migraine", "migraine"),
    "ankle_sprain": Term("lateral ankle sprain", "entorse latérale de la cheville"),
    "laceration": Term("forearm laceration", "plaie de l'avant-bras"),
    "uti": Term("urinary tract infection", "infection urinaire"),
    "back_pain": Term("mechanical low back pain", "lombalgie commune"),
    "pharyngitis": Term("viral pharyngitis", "pharyngite virale"),
    "dermatitis": Term("contact dermatitis", "dermatite de contact"),
    "wound_infection": Term("surgical wound infection", "infection de plaie opératoire"),
    "gallstones": Term("symptomatic gallstones", "lithiase biliaire symptomatique"),
    "hip_osteoarthritis": Term("osteoarthritis of the hip", "coxarthrose"),
    "stable_angina": Term("stable angina", "angor stable"),
    "anaemia": Term("iron deficiency anaemia", "anémie ferriprive"),
    "pleural_effusion": Term("pleural effusion", "épanchement pleural"),
    "aortic_aneurysm": Term("abdominal aortic aneurysm", "anévrisme de l'aorte abdominale"),
}

CHRONIC_CONDITIONS: Final = (
    Chronic("hypertension", ("amlodipine",), 3.0),
    Chronic("hypertension", ("lisinopril",), 2.0),
    Chronic("type2_diabetes", ("metformin",), 2.0),
    Chronic("type2_diabetes", ("metformin", "insulin_glargine"), 0.6),
    Chronic("hyperlipidaemia", ("atorvastatin",), 2.5),
    Chronic("atrial_fibrillation", ("apixaban", "metoprolol"), 1.0),
    Chronic("copd", ("tiotropium", "salbutamol"), 1.0),
    Chronic("asthma", ("salbutamol",), 0.8),
    Chronic("hypothyroidism", ("levothyroxine",), 1.0),
    Chronic("gerd", ("pantoprazole",), 1.2),
    Chronic("depression", ("sertraline",), 1.0),
    Chronic("heart_failure", ("furosemide", "bisoprolol"), 0.7),
    Chronic("coronary_disease", ("aspirin", "atorvastatin"), 1.0),
    Chronic("ckd", (), 0.6),
    Chronic("osteoarthritis", ("paracetamol",), 1.2),
    Chronic("gout", ("allopurinol",), 0.5),
    Chronic("bph", ("tamsulosin",), 0.8, sex="male"),
    Chronic("epilepsy", ("levetiracetam",), 0.3),
    Chronic("osteoporosis", ("alendronate",), 0.7, sex="female"),
)

# (substance, reaction); the drugs each allergy forbids are handled in medspeak.demo.clinical.
ALLERGIES: Final = {
    "penicillin": (Term("Penicillin", "Pénicilline"), Term("rash", "éruption cutanée")),
    "sulfonamides": (Term("Sulfonamides", "Sulfamides"), Term("hives", "urticaire")),
    "codeine": (Term("Codeine", "Codéine"), Term("nausea", "nausées")),
    "contrast": (Term("Iodinated contrast", "Produit de contraste iodé"), Term("hives", "urticaire")),
    "ibuprofen": (Term("Ibuprofen", "Ibuprofène"), Term("bronchospasm", "bronchospasme")),
    "latex": (Term("Latex", "Latex"), Term("contact dermatitis", "dermatite de contact")),
}

# Symptoms a note may state as absent ("No chest pain", "Denies fever").
FINDINGS: Final = {
    "chest_pain": Term("chest pain", "douleur thoracique"),
    "fever": Term("fever", "fièvre"),
    "dyspnoea": Term("shortness of breath", "dyspnée"),
    "nausea": Term("nausea", "nausées"),
    "vomiting": Term("vomiting", "vomissements"),
    "headache": Term("headache", "céphalées"),
    "abdominal_pain": Term("abdominal pain", "douleur abdominale"),
    "syncope": Term("loss of consciousness", "perte de connaissance"),
    "cough": Term("cough", "toux"),
    "leg_swelling": Term("leg swelling", "gonflement des jambes"),
    "dysuria": Term("dysuria", "brûlures mictionnelles"),
    "weakness": Term("focal weakness", "déficit moteur"),
    "palpitations": Term("palpitations", "palpitations"),
    "melaena": Term("melaena", "méléna"),
}

FAMILY_HISTORY: Final = {
    "mi": Term("myocardial infarction", "infarctus du myocarde"),
    "diabetes": Term("type 2 diabetes mellitus", "diabète de type 2"),
    "colon_cancer": Term("colon cancer", "cancer du côlon"),
    "breast_cancer": Term("breast cancer", "cancer du sein"),
    "stroke": Term("stroke", "accident vasculaire cérébral"),
}
