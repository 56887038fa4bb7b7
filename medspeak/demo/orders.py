"""Laboratory tests and imaging studies the demo hospital orders, with SI units and adult reference values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from medspeak.demo.catalog import Term

__all__ = ["BASIC_PANEL", "IMAGING", "LABS", "Imaging", "LabTest"]


@dataclass(frozen=True)
class LabTest:
    name: Term
    unit: str
    mean: float  # typical value in a well adult
    sd: float
    decimals: int


@dataclass(frozen=True)
class Imaging:
    name: Term
    contrast: bool  # iodinated contrast: relevant to a contrast allergy


LABS: Final = {
    "hemoglobin": LabTest(Term("Hemoglobin", "Hémoglobine"), "g/L", 138.0, 12.0, 0),
    "wbc": LabTest(Term("White blood cells", "Leucocytes"), "x10^9/L", 7.5, 1.8, 1),
    "platelets": LabTest(Term("Platelets", "Plaquettes"), "x10^9/L", 250.0, 50.0, 0),
    "sodium": LabTest(Term("Sodium", "Sodium"), "mmol/L", 139.0, 2.5, 0),
    "potassium": LabTest(Term("Potassium", "Potassium"), "mmol/L", 4.2, 0.3, 1),
    "creatinine": LabTest(Term("Creatinine", "Créatinine"), "µmol/L", 85.0, 15.0, 0),
    "glucose": LabTest(Term("Glucose", "Glucose"), "mmol/L", 5.8, 0.8, 1),
    "crp": LabTest(Term("C-reactive protein", "Protéine C réactive"), "mg/L", 4.0, 2.0, 0),
    "troponin": LabTest(Term("High-sensitivity troponin T", "Troponine T hypersensible"), "ng/L", 8.0, 4.0, 0),
    "lactate": LabTest(Term("Lactate", "Lactate"), "mmol/L", 1.2, 0.3, 1),
    "lipase": LabTest(Term("Lipase", "Lipase"), "U/L", 35.0, 10.0, 0),
    "inr": LabTest(Term("INR", "INR"), "", 1.0, 0.08, 1),
}

BASIC_PANEL: Final = ("hemoglobin", "wbc", "platelets", "sodium", "potassium", "creatinine", "glucose")

IMAGING: Final = {
    "cxr": Imaging(Term("Chest X-ray", "Radiographie pulmonaire"), contrast=False),
    "ct_head": Imaging(Term("CT head without contrast", "Scanner cérébral sans injection"), contrast=False),
    "ct_abdomen": Imaging(
        Term("CT abdomen and pelvis with contrast", "Scanner abdomino-pelvien avec injection"), contrast=True
    ),
    "ct_trauma": Imaging(Term("CT trauma scan with contrast", "Scanner corps entier avec injection"), contrast=True),
    "us_abdomen": Imaging(Term("Abdominal ultrasound", "Échographie abdominale"), contrast=False),
    "xr_ankle": Imaging(Term("X-ray of the ankle", "Radiographie de la cheville"), contrast=False),
    "xr_hip": Imaging(Term("X-ray of the hip and pelvis", "Radiographie du bassin et de la hanche"), contrast=False),
    "echo": Imaging(Term("Transthoracic echocardiogram", "Échocardiographie transthoracique"), contrast=False),
}
