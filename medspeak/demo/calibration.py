"""Aggregate figures the demo generator is calibrated to: computed once, offline, and written here.

No source file is read at run time and no source row is copied; only the aggregates below.

KTAS (triage): Moon SH et al., "Triage accuracy and causes of mistriage using the Korean Triage and
Acuity Scale", PLOS ONE 2019, doi:10.1371/journal.pone.0216972 (CC BY 4.0). Computed on the 1,014
rows of ``ktas_train.csv`` (an 80 % stratified part of the 1,267 records), grouped by the expert
level ``KTAS_expert``. Arrival modes: 1 walking, 2 and 4 ambulance, 3 private vehicle, 5-7 other.
Admitted = dispositions 2 (ward), 3 (ICU) and 7 (surgery). Vitals are medians with IQR / 1.35 as
the spread, ``??`` values left out.

MIMIC-IV (length of stay): Johnson A. et al., MIMIC-IV Clinical Database Demo v2.2, PhysioNet
(ODbL 1.0). Computed on the 210 admissions of ``hosp/admissions.csv.gz`` (LOS = dischtime -
admittime, in days), grouped by the first service of ``hosp/services.csv.gz``; the ICU figure is
``icu/icustays.csv.gz`` ``los`` (106 ICU stays). Dispersion is the standard deviation of ln(LOS).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ACUITY_SHARE",
    "ADMISSION_SHARE",
    "ARRIVAL_SHARE",
    "LOS_DAYS",
    "MENTAL_STATUS_SHARE",
    "NON_ADMITTED_DISPOSITION_SHARE",
    "SOURCE_ED_SHARE",
    "VITALS_LEVEL_1",
    "VITALS_LEVELS_2_TO_5",
]

# Expert KTAS level counts 21, 176, 390, 367, 60 of 1,014.
ACUITY_SHARE: Final = {1: 0.0207, 2: 0.1736, 3: 0.3846, 4: 0.3619, 5: 0.0592}

# How patients arrive, per level: walking, ambulance (public or private), private vehicle, other.
ARRIVAL_SHARE: Final = {
    1: (0.000, 0.810, 0.190, 0.000),
    2: (0.034, 0.597, 0.364, 0.006),
    3: (0.064, 0.351, 0.564, 0.021),
    4: (0.060, 0.185, 0.749, 0.005),
    5: (0.133, 0.100, 0.750, 0.017),
}

# Share admitted (ward, ICU or operating room), per level.
ADMISSION_SHARE: Final = {1: 0.429, 2: 0.540, 3: 0.369, 4: 0.174, 5: 0.033}

# Among the patients not admitted: discharged, left against advice, transferred, died (per level).
NON_ADMITTED_DISPOSITION_SHARE: Final = {
    1: {"discharged": 0.08, "left against medical advice": 0.08, "transferred": 0.34, "died": 0.50},
    2: {"discharged": 0.77, "left against medical advice": 0.09, "transferred": 0.13, "died": 0.01},
    3: {"discharged": 0.95, "left against medical advice": 0.03, "transferred": 0.02, "died": 0.005},
    4: {"discharged": 0.96, "left against medical advice": 0.015, "transferred": 0.025},
    5: {"discharged": 0.98, "left against medical advice": 0.02},
}

# AVPU at triage: alert, verbal, pain, unresponsive (per level).
MENTAL_STATUS_SHARE: Final = {
    1: (0.238, 0.048, 0.238, 0.476),
    2: (0.847, 0.085, 0.068, 0.0),
    3: (0.974, 0.018, 0.008, 0.0),
    4: (0.981, 0.014, 0.005, 0.0),
    5: (0.950, 0.050, 0.0, 0.0),
}

# (median, spread) of triage vitals. Levels 2-5 barely differ in KTAS (the level follows the
# complaint more than the numbers), so they share one profile; the generator adds each complaint's
# own deviations (fever in sepsis, low SpO2 in respiratory distress) on top.
VITALS_LEVEL_1: Final = {
    "systolic_bp": (89.5, 58.3),
    "diastolic_bp": (67.5, 31.5),
    "heart_rate": (98.0, 18.5),
    "respiratory_rate": (24.0, 5.9),
    "temperature_c": (36.0, 0.3),
    "spo2": (92.0, 8.5),
}
VITALS_LEVELS_2_TO_5: Final = {
    "systolic_bp": (130.0, 25.0),
    "diastolic_bp": (80.0, 15.0),
    "heart_rate": (81.0, 17.0),
    "respiratory_rate": (20.0, 1.5),
    "temperature_c": (36.5, 0.4),
    "spo2": (98.0, 1.2),
}

# Length of stay in days: (median, sd of ln LOS, n admissions) per ward.
LOS_DAYS: Final = {
    "GMED": (3.18, 1.30, 95),  # service MED
    "CARD": (3.94, 1.05, 25),  # service CMED
    "SURG": (5.27, 0.75, 59),  # services SURG, CSURG, NSURG, VSURG, TSURG, GYN
    "ORTH": (6.50, 0.70, 6),  # services ORTHO, TRAUM (few admissions: a rough figure)
    "RESP": (4.52, 1.11, 210),  # no pulmonary service in the demo: all admissions
    "ICU": (1.85, 1.00, 106),  # icustays.los
}

# Admissions coming from the emergency room (101 of 210); the rest are referrals or transfers.
SOURCE_ED_SHARE: Final = 0.48
