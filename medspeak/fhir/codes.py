"""Terminology for the FHIR export: LOINC for vitals and common labs, UCUM units, SNOMED CT routes.

A code is given only where the meaning is unambiguous; anything else is exported as text, never
with a guessed code (a lab's LOINC code depends on its unit, so labs are keyed on both).
References: LOINC vital-signs panel (FHIR R4 "Vital Signs" profile), UCUM (unitsofmeasure.org).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "LOINC",
    "SNOMED",
    "UCUM",
    "lab_loinc",
    "route_coding",
    "timing_code",
    "ucum_unit",
    "vital_loinc",
]

LOINC: Final = "http://loinc.org"
UCUM: Final = "http://unitsofmeasure.org"
SNOMED: Final = "http://snomed.info/sct"
_GTS: Final = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"

# vital type (as the extractors name it) -> (LOINC code, display, UCUM unit the code expects)
_VITALS: Final[dict[str, tuple[str, str, str]]] = {
    "heart_rate": ("8867-4", "Heart rate", "/min"),
    "respiratory_rate": ("9279-1", "Respiratory rate", "/min"),
    "temperature": ("8310-5", "Body temperature", "Cel"),
    "spo2": ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%"),
    "systolic_bp": ("8480-6", "Systolic blood pressure", "mm[Hg]"),
    "diastolic_bp": ("8462-4", "Diastolic blood pressure", "mm[Hg]"),
    "weight": ("29463-7", "Body weight", "kg"),
    "height": ("8302-2", "Body height", "cm"),
    "pain": ("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported", "{score}"),
}

# (lab name, UCUM unit) -> (LOINC code, display): serum/plasma tests as reported in discharge letters.
_LABS: Final[dict[tuple[str, str], tuple[str, str]]] = {
    ("hemoglobin", "g/dL"): ("718-7", "Hemoglobin [Mass/volume] in Blood"),
    ("white blood cells", "10*3/uL"): ("6690-2", "Leukocytes [#/volume] in Blood by Automated count"),
    ("platelets", "10*3/uL"): ("777-3", "Platelets [#/volume] in Blood by Automated count"),
    ("sodium", "mmol/L"): ("2951-2", "Sodium [Moles/volume] in Serum or Plasma"),
    ("sodium", "meq/L"): ("2951-2", "Sodium [Moles/volume] in Serum or Plasma"),
    ("potassium", "mmol/L"): ("2823-3", "Potassium [Moles/volume] in Serum or Plasma"),
    ("potassium", "meq/L"): ("2823-3", "Potassium [Moles/volume] in Serum or Plasma"),
    ("creatinine", "mg/dL"): ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma"),
    ("creatinine", "umol/L"): ("14682-9", "Creatinine [Moles/volume] in Serum or Plasma"),
    ("glucose", "mg/dL"): ("2345-7", "Glucose [Mass/volume] in Serum or Plasma"),
    ("glucose", "mmol/L"): ("14749-6", "Glucose [Moles/volume] in Serum or Plasma"),
    ("crp", "mg/L"): ("1988-5", "C reactive protein [Mass/volume] in Serum or Plasma"),
    ("inr", "{INR}"): ("6301-6", "INR in Platelet poor plasma by Coagulation assay"),
    ("hba1c", "%"): ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"),
    ("bilirubin", "mg/dL"): ("1975-2", "Bilirubin.total [Mass/volume] in Serum or Plasma"),
    ("alt", "U/L"): ("1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma"),
    ("ast", "U/L"): ("1920-8", "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma"),
    ("tsh", "m[IU]/L"): ("3016-3", "Thyrotropin [Units/volume] in Serum or Plasma"),
}

_UCUM_CODES: Final = frozenset(
    "mm[Hg] /min Cel [degF] % kg g cm m [lb_av] [in_i] g/dL g/L mg/dL mg/L mmol/L umol/L meq/L U/L [IU]/L "
    "m[IU]/L ng/mL ng/L pg/mL 10*3/uL 10*9/L {INR} {score} 1".split()
)
# Units as written in reports -> UCUM code.
_UNIT_ALIASES: Final = {
    "mmhg": "mm[Hg]",
    "bpm": "/min",
    "/mn": "/min",
    "c": "Cel",
    "°c": "Cel",
    "f": "[degF]",
    "°f": "[degF]",
    "lb": "[lb_av]",
    "lbs": "[lb_av]",
    "meq/l": "meq/L",
    "µmol/l": "umol/L",
    "iu/l": "[IU]/L",
    "ui/l": "[IU]/L",
    "miu/l": "m[IU]/L",
    "mui/l": "m[IU]/L",
    "mu/l": "m[IU]/L",
    "k/ul": "10*3/uL",
    "x10^3/ul": "10*3/uL",
    "10^3/ul": "10*3/uL",
    "x10^9/l": "10*9/L",
    "10^9/l": "10*9/L",
    "g/dl": "g/dL",
    "mg/dl": "mg/dL",
    "mmol/l": "mmol/L",
    "umol/l": "umol/L",
    "u/l": "U/L",
    "mg/l": "mg/L",
    "g/l": "g/L",
    "ng/ml": "ng/mL",
    "ng/l": "ng/L",
    "pg/ml": "pg/mL",
}
# Route codes of the rules extractor -> SNOMED CT route of administration.
_ROUTES: Final[dict[str, tuple[str, str]]] = {
    "PO": ("26643006", "Oral route"),
    "IV": ("47625008", "Intravenous route"),
    "SC": ("34206005", "Subcutaneous route"),
    "IM": ("78421000", "Intramuscular route"),
    "SL": ("37839007", "Sublingual route"),
    "INH": ("447694001", "Respiratory tract route"),
    "TOP": ("6064005", "Topical route"),
    "PR": ("37161004", "Rectal route"),
    "TD": ("45890007", "Transdermal route"),
}
# Frequency codes of the extractor that are also HL7 GTS abbreviations.
_GTS_CODES: Final = frozenset({"QD", "BID", "TID", "QID", "QOD", "AM", "PM", "Q4H", "Q6H", "Q8H", "Q12H"})


def ucum_unit(unit: str | None) -> str | None:
    """The UCUM code of a unit as written, or None when it has no certain UCUM form."""
    if not unit:
        return None
    if unit in _UCUM_CODES:
        return unit
    return _UNIT_ALIASES.get(unit.strip().lower())


def vital_loinc(kind: str) -> tuple[str, str, str] | None:
    """(LOINC code, display, expected UCUM unit) of a vital type, when known."""
    return _VITALS.get(kind)


def lab_loinc(name: str, unit: str | None) -> tuple[str, str] | None:
    """(LOINC code, display) of a lab whose name and unit leave no doubt about the test."""
    ucum = ucum_unit(unit) or ("{INR}" if name.lower() == "inr" and not unit else None)
    return _LABS.get((name.lower(), ucum)) if ucum else None


def route_coding(route: str | None) -> dict[str, object] | None:
    """A CodeableConcept for the route: SNOMED CT when the code is known, text otherwise."""
    if not route:
        return None
    known = _ROUTES.get(route.upper())
    if known is None:
        return {"text": route}
    return {"coding": [{"system": SNOMED, "code": known[0], "display": known[1]}], "text": route}


def timing_code(frequency: str | None) -> dict[str, object] | None:
    """A Timing.code CodeableConcept: the HL7 GTS abbreviation when it is one, text otherwise."""
    if not frequency:
        return None
    if frequency.upper() in _GTS_CODES:
        return {"coding": [{"system": _GTS, "code": frequency.upper()}], "text": frequency}
    return {"text": frequency}
