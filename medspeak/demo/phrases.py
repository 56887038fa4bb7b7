"""Localised pieces of the demo documents: labels, dates, numbers, medication, allergy and vitals lines.

Each line builder returns the text and the structured truth it states, so the two cannot drift apart.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final

from medspeak.demo.catalog import ALLERGIES, DRUGS, FREQUENCIES, ROUTES, Term

__all__ = [
    "ADDRESS",
    "HOSPITAL",
    "LABELS",
    "allergy_lines",
    "format_date",
    "format_datetime",
    "format_number",
    "label",
    "medication_line",
    "vitals_line",
]

HOSPITAL: Final = Term("St. Aldric General Hospital", "Hôpital Saint-Aldric")
ADDRESS: Final = Term("1200 Aldric Avenue, Port Aldric", "1200, avenue Aldric, Port-Aldric")

LABELS: Final = {
    "patient": Term("Patient", "Patient"),
    "mrn": Term("MRN", "N° de dossier"),
    "dob": Term("Date of birth", "Date de naissance"),
    "date": Term("Date", "Date"),
    "sex.female": Term("female", "femme"),
    "sex.male": Term("male", "homme"),
    "years": Term("years", "ans"),
    "admitted": Term("Admitted", "Entrée"),
    "discharged": Term("Discharged", "Sortie"),
    "ward": Term("Ward", "Service"),
    "emergency": Term("Emergency Department", "Urgences"),
    "attending": Term("Attending physician", "Médecin responsable"),
    "chief_complaint": Term("Chief complaint", "Motif d'admission"),
    "hpi": Term("History of present illness", "Histoire de la maladie"),
    "pmh": Term("Past medical history", "Antécédents médicaux"),
    "home_meds": Term("Medications on admission", "Traitement à l'entrée"),
    "allergies": Term("Allergies", "Allergies"),
    "nkda": Term("NKDA", "Aucune allergie médicamenteuse connue"),
    "family": Term("Family history", "Antécédents familiaux"),
    "vitals": Term("Vitals on arrival", "Constantes à l'arrivée"),
    "labs": Term("Labs", "Biologie"),
    "imaging": Term("Imaging", "Imagerie"),
    "course": Term("Assessment and plan", "Conclusion et plan"),
    "discharge_meds": Term("Discharge medications", "Traitement de sortie"),
    "follow_up": Term("Follow-up", "Suivi"),
    "none": Term("None", "Aucun"),
    "non_contributory": Term("Non-contributory", "Sans particularité"),
    "priority": Term("Priority", "Priorité"),
    "requested_by": Term("Requested by", "Demandé par"),
    "indication": Term("Indication", "Indication"),
    "prescriber": Term("Prescriber", "Prescripteur"),
    "signature": Term("Signature", "Signature"),
    "clinical_info": Term("Clinical information", "Renseignements cliniques"),
    "clinical_question": Term("Clinical question: rule out", "Question clinique : éliminer"),
    "known_diagnosis": Term("Known diagnosis", "Diagnostic connu"),
    "location": Term("Location", "Provenance"),
    "relative.father": Term("father", "père"),
    "relative.mother": Term("mother", "mère"),
    "relative.brother": Term("brother", "frère"),
}

_AVPU: Final = {
    "alert": Term("alert", "alerte"),
    "verbal": Term("responds to voice", "répond à la voix"),
    "pain": Term("responds to pain", "répond à la douleur"),
    "unresponsive": Term("unresponsive", "aucune réponse"),
}


def label(key: str, language: str) -> str:
    return LABELS[key].text(language)


def format_date(day: date, language: str) -> str:
    """``2026-11-20`` in English, ``20/11/2026`` in French (a datetime shows its date)."""
    return day.strftime("%d/%m/%Y") if language == "fr" else day.strftime("%Y-%m-%d")


def format_datetime(moment: datetime, language: str) -> str:
    return f"{format_date(moment, language)} {moment.strftime('%H:%M')}"


def format_number(value: float, decimals: int, language: str) -> str:
    text = f"{value:.{decimals}f}"
    return text.replace(".", ",") if language == "fr" else text


def _strength(strength: str, language: str) -> str:
    return strength.replace(".", ",").replace("mcg", "µg").replace("units", "unités") if language == "fr" else strength


def medication_line(drug_key: str, language: str) -> tuple[str, dict[str, str]]:
    """``Metoprolol 25 mg PO twice daily`` and its truth {name, strength, route, frequency}."""
    drug = DRUGS[drug_key]
    truth = {
        "name": drug.name.text(language),
        "strength": _strength(drug.strength, language),
        "route": ROUTES[drug.route].text(language),
        "frequency": FREQUENCIES[drug.frequency].text(language),
    }
    return " ".join(truth.values()), truth


def allergy_lines(allergies: tuple[str, ...], language: str) -> tuple[list[str], list[dict[str, str]]]:
    """``Penicillin (rash)`` lines (or the no-known-allergy wording) and their truth."""
    if not allergies:
        return [label("nkda", language)], []
    truth = [
        {"substance": ALLERGIES[a][0].text(language), "reaction": ALLERGIES[a][1].text(language)} for a in allergies
    ]
    return [f"{t['substance']} ({t['reaction']})" for t in truth], truth


def vitals_line(vitals: dict[str, Any], language: str) -> tuple[str, dict[str, Any]]:
    """``BP 142/88, HR 96, RR 18, T 37.8 °C, SpO2 94%, pain 6/10, AVPU alert``, leaving out missing values.

    Returns the line and the vitals it shows (a blood pressure with one number missing is left out).
    """
    shown = {key: value for key, value in vitals.items() if value is not None}
    if "systolic_bp" not in shown or "diastolic_bp" not in shown:
        shown.pop("systolic_bp", None)
        shown.pop("diastolic_bp", None)
    parts = [_vital_text(key, shown, language) for key in _VITAL_ORDER if key in shown]
    return ", ".join(parts), shown


_VITAL_ORDER: Final = (
    "systolic_bp",
    "heart_rate",
    "respiratory_rate",
    "temperature_c",
    "spo2",
    "pain",
    "mental_status",
)


def _vital_text(key: str, vitals: dict[str, Any], language: str) -> str:
    fr, value = language == "fr", vitals[key]
    match key:
        case "systolic_bp":
            return f"{'TA' if fr else 'BP'} {value}/{vitals['diastolic_bp']}"
        case "heart_rate":
            return f"{'FC' if fr else 'HR'} {value}"
        case "respiratory_rate":
            return f"{'FR' if fr else 'RR'} {value}"
        case "temperature_c":
            return f"T {format_number(value, 1, language)} °C"
        case "spo2":
            return f"SpO2 {value:.0f}{' %' if fr else '%'}"
        case "pain":
            return f"{'douleur' if fr else 'pain'} {value}/10"
        case _:
            return f"AVPU {_AVPU[value].text(language)}"
