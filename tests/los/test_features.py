"""No leakage: a prediction sees only what is known at its moment."""

from __future__ import annotations

import gzip
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from medspeak.los.admissions import Admission, Report
from medspeak.los.features import CATEGORICAL, FORBIDDEN, NUMERIC, snapshot
from medspeak.los.training.mimic import load_mimic


def _admission() -> Admission:
    start = datetime(2150, 3, 2, 14, 0)
    return Admission(
        key="1",
        patient_key="p",
        admitted_at=start,
        discharged_at=start + timedelta(days=6),
        admission_type="emergency",
        admission_source="emergency department",
        ward="GMED",
        sex="female",
        insurance="public",
        age_years=71,
        ed_hours=5.0,
        reports=(
            Report(start + timedelta(hours=2), "furosemide IV"),
            Report(start + timedelta(days=2), "meropenem IV"),
        ),
    )


def test_no_feature_is_known_only_at_discharge() -> None:
    names = {*CATEGORICAL, *NUMERIC}
    assert not names & FORBIDDEN
    assert not [
        n
        for n in names
        if any(bad in n for bad in ("drg", "diagnos", "procedure", "death", "dischtime", "discharge_location"))
    ]
    adm = _admission()
    # The outcome itself never changes what the model sees.
    assert snapshot(adm, 0.5) == snapshot(replace(adm, discharged_at=adm.admitted_at + timedelta(days=40)), 0.5)


def test_reports_written_later_are_not_seen() -> None:
    adm = _admission()
    assert snapshot(adm, 0.0).text == ""
    assert snapshot(adm, 1.0).text == "furosemide IV"
    assert "meropenem" in snapshot(adm, 3.0).text
    assert snapshot(adm, 1.0).values["reports_so_far"] == 1.0


def _write(folder: Path, table: str, header: str, rows: list[str]) -> None:
    (folder / "hosp").mkdir(parents=True, exist_ok=True)
    with gzip.open(folder / "hosp" / f"{table}.csv.gz", "wt") as fh:
        fh.write("\n".join([header, *rows]) + "\n")


def test_mimic_loader_never_reads_discharge_codes(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "admissions",
        "subject_id,hadm_id,admittime,dischtime,deathtime,admission_type,admit_provider_id,admission_location,"
        "discharge_location,insurance,language,marital_status,race,edregtime,edouttime,hospital_expire_flag",
        [
            "1,11,2150-01-01 10:00:00,2150-01-05 10:00:00,,EW EMER.,P,EMERGENCY ROOM,HOME,Medicare,ENGLISH,,,"
            "2150-01-01 04:00:00,2150-01-01 10:00:00,0",
            "1,12,2150-03-01 10:00:00,2150-03-02 10:00:00,,EU OBSERVATION,P,EMERGENCY ROOM,HOME,Other,ENGLISH,,,,,0",
        ],
    )
    _write(tmp_path, "patients", "subject_id,gender,anchor_age,anchor_year,anchor_year_group,dod", ["1,F,70,2150,x,"])
    _write(
        tmp_path,
        "services",
        "subject_id,hadm_id,transfertime,prev_service,curr_service",
        ["1,11,2150-01-01 10:00:00,,CMED"],
    )
    _write(
        tmp_path,
        "transfers",
        "subject_id,hadm_id,transfer_id,eventtype,careunit,intime,outtime",
        ["1,12,1,admit,Medical Intensive Care Unit (MICU),2150-03-01 10:00:00,2150-03-02 10:00:00"],
    )
    _write(
        tmp_path,
        "prescriptions",
        "subject_id,hadm_id,pharmacy_id,starttime,drug,route",
        ["1,11,1,2150-01-01 12:00:00,Heparin,SC"],
    )
    # Discharge-time tables that would leak are absent: loading must not need them.
    first, second = load_mimic(tmp_path)
    assert (first.ward, first.admission_type, first.insurance, first.ed_hours) == ("CARD", "emergency", "public", 6.0)
    assert (second.ward, second.admission_type, second.insurance) == ("ICU", "observation", "private")
    assert second.prior_stays and snapshot(second).values["prior_admissions_1y"] == 1.0
    assert snapshot(first, 0.0).text == "" and "Heparin" in snapshot(first, 1.0).text
