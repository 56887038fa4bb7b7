"""Text templates of the demo documents, in English or French, each with the structured truth it states.

Four kinds: discharge summaries (finished stays), prescriptions, laboratory requisitions and imaging
requests. Everything stated comes from the patient's record and the visit's reason, so drugs match
problems and allergies, vitals match the triage, and negated findings never contradict the complaint.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from medspeak.demo.catalog import FAMILY_HISTORY, FINDINGS, PROBLEMS, Term
from medspeak.demo.clinical import discharge_drugs, safe_drugs
from medspeak.demo.dataset import DemoEncounter, DemoPatient
from medspeak.demo.labs import lab_results, requested_panels
from medspeak.demo.note import Note
from medspeak.demo.orders import IMAGING
from medspeak.demo.phrases import format_datetime, format_number, label
from medspeak.demo.reasons import Reason

__all__ = ["TITLES", "Draft", "Visit", "discharge_summary", "imaging_order", "lab_order", "prescription"]

TITLES: Final = {
    "discharge_summary": Term("Discharge summary", "Compte rendu d'hospitalisation"),
    "prescription": Term("Prescription", "Ordonnance"),
    "lab_order": Term("Laboratory requisition", "Demande d'examens de laboratoire"),
    "imaging_order": Term("Imaging request", "Demande d'imagerie"),
}
WARD_NAMES: Final = {
    "GMED": Term("General Medicine", "Médecine interne"),
    "CARD": Term("Cardiology", "Cardiologie"),
    "SURG": Term("Surgery", "Chirurgie"),
    "ORTH": Term("Orthopaedics", "Orthopédie"),
    "RESP": Term("Respiratory", "Pneumologie"),
    "ICU": Term("Intensive Care Unit", "Soins intensifs"),
}
_ARRIVAL: Final = {  # French agrees with the patient's sex: {e}
    "walk-in": Term("Arrived on foot.", "Arrivé{e} à pied."),
    "ambulance": Term("Arrived by ambulance.", "Arrivé{e} en ambulance."),
    "private vehicle": Term("Arrived by private vehicle.", "Arrivé{e} en véhicule personnel."),
    "police": Term("Brought in by police.", "Amené{e} par la police."),
    "transfer": Term("Transferred from another hospital.", "Transféré{e} d'un autre hôpital."),
}


@dataclass(frozen=True)
class Visit:
    """What a document is about: the patient, one encounter and the reason behind it."""

    patient: DemoPatient
    encounter: DemoEncounter
    reason: Reason
    when: datetime  # the document's date
    clinician: str
    triage: DemoEncounter | None = None  # the emergency visit that led to a stay


@dataclass(frozen=True)
class Draft:
    kind: str
    title: str
    text: str
    truth: dict[str, Any]


def discharge_summary(rng: random.Random, visit: Visit, admitted_at: datetime) -> Draft:
    """A discharge summary for a finished stay; ``admitted_at`` is the stay's start."""
    patient, lang = visit.patient, visit.patient.language
    note = _begin(visit, "discharge_summary")
    note.add(
        f"{label('admitted', lang)}: {format_datetime(admitted_at, lang)}",
        f"{label('ward', lang)}: {WARD_NAMES[visit.reason.ward].text(lang)}",
        f"{label('attending', lang)}: {visit.clinician}",
    )
    note.section("chief_complaint", _sentence(visit.reason.text.text(lang)))
    note.section("hpi", _history(rng, note, visit))
    _background(note, patient)
    note.section("vitals", note.vitals(visit.encounter.vitals or {}))
    results = lab_results(rng, visit.reason, lang)
    note.truth["labs"] = [{"name": name, "value": value, "unit": unit} for name, value, unit, _ in results]
    note.section("labs", *(f"- {line}" for *_, line in results))
    _assessment(note, visit)
    drugs = discharge_drugs(patient.home_drugs, visit.reason.drugs, patient.allergies)
    note.section("discharge_meds", *note.medications(drugs))
    note.section("follow_up", _follow_up(visit.reason, lang))
    note.add("", visit.clinician)
    return _finish(note, "discharge_summary")


def prescription(rng: random.Random, visit: Visit, drugs: tuple[str, ...]) -> Draft:
    """A prescription of ``drugs`` (already safe for the patient's allergies)."""
    lang = visit.patient.language
    note = _begin(visit, "prescription")
    note.add(f"{label('allergies', lang)}: {'; '.join(note.allergies(visit.patient.allergies))}")
    if visit.reason.diagnosis:
        diagnosis = PROBLEMS[visit.reason.diagnosis].text(lang)
        note.add(f"{label('indication', lang)}: {note.problem(diagnosis, 'present')}")
    note.add("", "Rx")
    for number, drug in enumerate(drugs, start=1):
        line = note.medications((drug,), bullet="")[0]
        days = 90 if drug in visit.patient.home_drugs else rng.choice((5, 7, 10))
        supply = f"pendant {days} jours" if lang == "fr" else f"for {days} days"
        note.add(f"{number}. {line} - {supply}")
    note.add(
        "",
        f"{label('prescriber', lang)}: {visit.clinician} (licence {rng.randint(10000, 99999)})",
        f"{label('signature', lang)}: ____________________",
    )
    return _finish(note, "prescription")


def lab_order(visit: Visit) -> Draft:
    """A laboratory requisition for the visit's tests."""
    lang = visit.patient.language
    note = _begin(visit, "lab_order", with_time=True)
    _request_context(note, visit)
    anticoagulants = tuple(d for d in visit.patient.home_drugs if d == "apixaban")
    if anticoagulants:
        note.add(
            f"{'Anticoagulant' if lang == 'en' else 'Anticoagulant en cours'}: "
            f"{note.medications(anticoagulants, bullet='')[0]}"
        )
    panels = requested_panels(visit.reason, lang)
    note.truth["orders"] = panels
    note.add("", "Tests requested:" if lang == "en" else "Examens demandés :", *(f"[x] {p}" for p in panels))
    note.add("", f"{label('requested_by', lang)}: {visit.clinician}")
    return _finish(note, "lab_order")


def imaging_order(rng: random.Random, visit: Visit) -> Draft:
    """An imaging request for the visit's study, with contrast safety where it applies."""
    lang, patient = visit.patient.language, visit.patient
    study = IMAGING[visit.reason.imaging or "cxr"]
    note = _begin(visit, "imaging_order", with_time=True)
    exam = study.name.text(lang)
    note.truth["orders"] = [exam]
    note.add(f"{'Examination' if lang == 'en' else 'Examen'}: {exam}")
    _request_context(note, visit)
    if patient.chronic_problems:
        history = ", ".join(note.problem(PROBLEMS[p].text(lang), "present") for p in patient.chronic_problems)
        note.add(f"{label('pmh', lang)}: {history}.")
    note.add(f"{label('allergies', lang)}: {'; '.join(note.allergies(patient.allergies))}")
    if study.contrast:
        note.add(_contrast_line(rng, patient, lang))
    note.add("", f"{label('requested_by', lang)}: {visit.clinician}")
    return _finish(note, "imaging_order")


def _begin(visit: Visit, kind: str, *, with_time: bool = False) -> Note:
    note = Note(visit.patient.language)
    note.header(TITLES[kind].text(note.language), visit.patient, visit.when, with_time=with_time)
    return note


def _finish(note: Note, kind: str) -> Draft:
    return Draft(kind, TITLES[kind].text(note.language), note.text(), note.truth)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _history(rng: random.Random, note: Note, visit: Visit) -> str:
    patient, lang, reason, triage = visit.patient, visit.patient.language, visit.reason, visit.triage
    age = patient.age_on(visit.encounter.started_at.date())
    e = "e" if patient.sex == "female" else ""
    complaint = reason.text.text(lang)
    if triage is None:
        opening = (
            f"Patient{e} de {age} ans admis{e} pour {complaint}."
            if lang == "fr"
            else f"{age}-year-old {'woman' if e else 'man'} admitted for {complaint}."
        )
        return " ".join([opening, *_negations(rng, note, reason)])
    onset = _onset(rng, triage.acuity or 5, lang)
    opening = (
        f"Patient{e} de {age} ans consultant pour {complaint}, début il y a {onset}."
        if lang == "fr"
        else f"{age}-year-old {'woman' if e else 'man'} presenting with {complaint}, onset {onset} ago."
    )
    arrival = _ARRIVAL[triage.arrival_mode or "walk-in"].text(lang).format(e=e)
    return " ".join([opening, arrival, *_negations(rng, note, reason)])


_ONSET_UNITS: Final = {"minute": "minute", "hour": "heure", "day": "jour"}


def _onset(rng: random.Random, level: int, language: str) -> str:
    """How long ago it began: minutes at level 1, hours at 2 (or 3), days for the least urgent."""
    if level == 1:
        unit, count = "minute", rng.randrange(10, 60, 5)
    elif level == 2 or (level == 3 and rng.random() < 0.5):
        unit, count = "hour", rng.randint(1, 8)
    else:
        unit, count = "day", rng.randint(1, 10 if level >= 4 else 3)
    word = _ONSET_UNITS[unit] if language == "fr" else unit
    return f"{count} {word}{'s' if count > 1 else ''}"


def _negations(rng: random.Random, note: Note, reason: Reason) -> list[str]:
    """Two or three pertinent negatives, never one of the complaint's own symptoms."""
    lang = note.language
    candidates = sorted(set(FINDINGS) - reason.findings)
    sentences = []
    for index, key in enumerate(rng.sample(candidates, rng.randint(2, 3))):
        finding = note.problem(FINDINGS[key].text(lang), "absent")
        if lang == "fr":
            sentences.append(f"{'Pas de' if index % 2 == 0 else 'Absence de'} {finding}.")
        else:
            sentences.append(f"No {finding}." if index % 2 == 0 else f"Denies {finding}.")
    return sentences


def _background(note: Note, patient: DemoPatient) -> None:
    lang = note.language
    problems = [note.problem(PROBLEMS[p].text(lang), "present") for p in patient.chronic_problems]
    note.section("pmh", *([f"- {p}" for p in problems] or [label("none", lang) + "."]))
    note.section("home_meds", *note.medications(patient.home_drugs))
    note.section("allergies", *note.allergies(patient.allergies))
    family = [
        f"{label('relative.' + who, lang).capitalize()}{' :' if lang == 'fr' else ':'} "
        f"{note.problem(FAMILY_HISTORY[key].text(lang), 'family')}."
        for who, key in patient.family_history
    ]
    note.section("family", *(family or [label("non_contributory", lang) + "."]))


def _assessment(note: Note, visit: Visit) -> None:
    lang, reason = note.language, visit.reason
    lines = []
    if reason.diagnosis:
        diagnosis = note.problem(PROBLEMS[reason.diagnosis].text(lang), "present")
        lines.append(f"{'Diagnostic' if lang == 'fr' else 'Diagnosis'}: {diagnosis}.")
    treated = safe_drugs(reason.drugs, visit.patient.allergies)
    if treated:
        names = ", ".join(note.medications(treated, bullet=""))
        lines.append(f"{'Traitement reçu' if lang == 'fr' else 'Treated with'}: {names}.")
    if reason.ward == "ICU":
        lines.append(
            "Transfert en médecine après stabilisation."
            if lang == "fr"
            else "Stepped down to the medical ward once stable."
        )
    lines.append("Évolution favorable, retour à domicile." if lang == "fr" else "Improved; discharged home.")
    note.section("course", *lines)


def _follow_up(reason: Reason, language: str) -> str:
    ward = WARD_NAMES["GMED" if reason.ward == "ICU" else reason.ward].text(language)
    if language == "fr":
        return f"Médecin de famille dans 1 à 2 semaines. Consultation en {ward.lower()} dans 4 semaines."
    return f"Family physician in 1-2 weeks. {ward} clinic in 4 weeks."


def _request_context(note: Note, visit: Visit) -> None:
    lang, encounter = note.language, visit.encounter
    where = label("emergency", lang) if encounter.kind == "emergency" else WARD_NAMES[visit.reason.ward].text(lang)
    level = encounter.acuity or 4
    priority = "STAT" if level <= 2 else "Urgent" if level == 3 else "Routine"
    note.add(
        f"{label('location', lang)}: {where}",
        f"{label('priority', lang)}: {priority}",
        f"{label('clinical_info', lang)}: {_sentence(visit.reason.text.text(lang))}",
    )
    if visit.reason.diagnosis and visit.reason.level is None:  # a planned admission: the diagnosis is known
        known = note.problem(PROBLEMS[visit.reason.diagnosis].text(lang), "present")
        note.add(f"{label('known_diagnosis', lang)}: {known}.")
    elif visit.reason.diagnosis:
        suspected = note.problem(PROBLEMS[visit.reason.diagnosis].text(lang), "possible")
        note.add(f"{label('clinical_question', lang)} {suspected}.")


def _contrast_line(rng: random.Random, patient: DemoPatient, language: str) -> str:
    creatinine = format_number(rng.gauss(85, 15), 0, language)
    if "contrast" in patient.allergies:
        return (
            f"Allergie au produit de contraste : prémédication requise. Créatinine {creatinine} µmol/L."
            if language == "fr"
            else f"Contrast allergy: premedication protocol required. Creatinine {creatinine} µmol/L."
        )
    return (
        f"Injection de produit de contraste iodé. Créatinine {creatinine} µmol/L."
        if language == "fr"
        else f"Iodinated contrast planned. Creatinine {creatinine} µmol/L."
    )
