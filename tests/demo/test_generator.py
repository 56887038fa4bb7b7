"""The generated hospital: reproducible, and plausible where a clinician or a bed manager would look."""

from __future__ import annotations

import random
import re
import statistics
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest

from medspeak.demo.calibration import ACUITY_SHARE, LOS_DAYS, SOURCE_ED_SHARE
from medspeak.demo.census import past_stay_length
from medspeak.demo.dataset import DemoDataset, DemoEncounter
from medspeak.demo.generator import generate
from medspeak.demo.reasons import REASONS
from medspeak.demo.vitals import VITAL_KEYS


def _emergency(dataset: DemoDataset) -> list[DemoEncounter]:
    return [e for e in dataset.encounters if e.kind == "emergency"]


def test_same_seed_same_dataset_and_different_seed_different(dataset: DemoDataset) -> None:
    assert generate(dataset.seed, 60, dataset.now) == dataset
    other = generate(dataset.seed + 1, 60, dataset.now)
    assert [p.mrn for p in other.patients] != [p.mrn for p in dataset.patients]
    assert [d.text for d in other.documents] != [d.text for d in dataset.documents]


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        generate(1, 5, datetime(2026, 11, 28, 12))


def test_patients_are_adults_with_unique_mrns_and_a_french_minority(big_dataset: DemoDataset) -> None:
    patients = big_dataset.patients
    assert all(re.fullmatch(r"MS\d{6}", p.mrn) for p in patients)
    assert len({p.mrn for p in patients}) == len(patients)
    ages = [p.age_on(big_dataset.now.date()) for p in patients]
    assert min(ages) >= 18 and max(ages) <= 95
    assert 50 <= statistics.median(ages) <= 68  # skewed older, like an emergency department
    french = sum(p.language == "fr" for p in patients) / len(patients)
    assert 0.24 <= french <= 0.36
    assert {p.sex for p in patients} == {"female", "male"}


def test_every_timestamp_is_utc_and_nothing_happens_after_now(big_dataset: DemoDataset) -> None:
    now = big_dataset.now
    for encounter in big_dataset.encounters:
        assert encounter.started_at.utcoffset() == timedelta(0)
        assert encounter.started_at <= now
        if encounter.ended_at is not None:
            assert encounter.started_at < encounter.ended_at <= now
    assert all(d.created_at <= now for d in big_dataset.documents)


def test_emergency_visits_fall_in_the_last_month(big_dataset: DemoDataset) -> None:
    starts = [e.started_at for e in _emergency(big_dataset)]
    assert min(starts) >= big_dataset.now - timedelta(days=32)
    assert max(starts) >= big_dataset.now - timedelta(days=2)


def test_acuity_levels_follow_ktas(big_dataset: DemoDataset) -> None:
    levels = Counter(e.acuity for e in _emergency(big_dataset))
    total = sum(levels.values())
    assert set(levels) <= {1, 2, 3, 4, 5}
    for level, share in ACUITY_SHARE.items():
        # The census adds admitted (more urgent) visits on top of the KTAS mix: a loose band.
        assert abs(levels[level] / total - share) < 0.10, level


def test_vitals_have_the_agreed_keys_and_plausible_values(big_dataset: DemoDataset) -> None:
    missing = total = 0
    for encounter in _emergency(big_dataset):
        vitals = encounter.vitals
        assert vitals is not None and tuple(vitals) == VITAL_KEYS
        assert vitals["mental_status"] in {"alert", "verbal", "pain", "unresponsive"}
        checks = {
            "temperature_c": (float, 34.0, 41.5),
            "heart_rate": (int, 30, 190),
            "respiratory_rate": (int, 6, 45),
            "spo2": (float, 70.0, 100.0),
            "systolic_bp": (int, 55, 230),
            "diastolic_bp": (int, 30, 215),
            "pain": (int, 0, 10),
        }
        for key, (kind, low, high) in checks.items():
            total += 1
            if vitals[key] is None:
                missing += 1
                continue
            assert isinstance(vitals[key], kind) and low <= vitals[key] <= high, (key, vitals[key])
        if vitals["systolic_bp"] is not None and vitals["diastolic_bp"] is not None:
            assert vitals["diastolic_bp"] < vitals["systolic_bp"]
    assert 0.02 <= missing / total <= 0.09


def test_urgent_levels_have_more_abnormal_vitals(big_dataset: DemoDataset) -> None:
    urgent = [e.vitals for e in _emergency(big_dataset) if e.acuity in (1, 2) and e.vitals]
    minor = [e.vitals for e in _emergency(big_dataset) if e.acuity in (4, 5) and e.vitals]

    def mean(group: list[dict[str, Any]], key: str) -> float:
        return statistics.fmean(float(v[key]) for v in group if v[key] is not None)

    def not_alert(group: list[dict[str, Any]]) -> float:
        return sum(1 for v in group if v["mental_status"] != "alert") / len(group)

    assert mean(urgent, "spo2") < mean(minor, "spo2") - 1.0
    assert mean(urgent, "heart_rate") > mean(minor, "heart_rate") + 8
    assert not_alert(urgent) > not_alert(minor) + 0.10


def test_urgent_patients_come_by_ambulance_more_often(big_dataset: DemoDataset) -> None:
    def ambulance(levels: tuple[int, ...]) -> float:
        group = [e for e in _emergency(big_dataset) if e.acuity in levels]
        return sum(e.arrival_mode == "ambulance" for e in group) / len(group)

    assert ambulance((1, 2)) > ambulance((4, 5)) + 0.2
    modes = {e.arrival_mode for e in _emergency(big_dataset)}
    assert modes <= {"walk-in", "ambulance", "private vehicle", "police", "transfer"}


def test_complaints_match_the_level_and_the_patients_language(big_dataset: DemoDataset) -> None:
    language = {p.mrn: p.language for p in big_dataset.patients}
    for encounter in _emergency(big_dataset):
        reason = REASONS[encounter.reason]
        assert reason.level == encounter.acuity
        assert encounter.chief_complaint == reason.text.text(language[encounter.mrn])
    french = [e.chief_complaint for e in _emergency(big_dataset) if language[e.mrn] == "fr"]
    assert "douleur thoracique" in french or "douleur abdominale" in french


def test_admitted_visits_lead_to_a_stay_that_starts_when_the_visit_ends(big_dataset: DemoDataset) -> None:
    stays = {(e.mrn, e.started_at) for e in big_dataset.encounters if e.kind == "inpatient"}
    for visit in _emergency(big_dataset):
        assert visit.details["disposition"] in {
            "discharged",
            "admitted",
            "left against medical advice",
            "transferred",
            "died",
        }
        if visit.details["disposition"] == "admitted":
            assert (visit.mrn, visit.ended_at) in stays
    for stay in (e for e in big_dataset.encounters if e.kind == "inpatient"):
        assert stay.details["admission_type"] in {"emergency", "elective", "urgent"}
        assert stay.details["admission_source"] in {"emergency department", "referral", "transfer"}
        assert stay.details["insurance"]


def test_urgent_levels_are_admitted_more_often(big_dataset: DemoDataset) -> None:
    def admitted(levels: tuple[int, ...]) -> float:
        group = [e for e in _emergency(big_dataset) if e.acuity in levels]
        return sum(1 for e in group if e.details["disposition"] == "admitted") / len(group)

    assert admitted((1, 2)) > admitted((4, 5)) + 0.2


@pytest.mark.parametrize("n_patients", [40, 60, 150, 400])
def test_census_never_exceeds_beds_and_looks_real(n_patients: int, dataset: DemoDataset) -> None:
    data = generate(dataset.seed, n_patients, dataset.now)
    census = data.census()
    capacity = {w.code: w.capacity for w in data.wards}
    assert all(census[code] <= capacity[code] for code in capacity)
    assert 0.75 <= sum(census.values()) / sum(capacity.values()) <= 0.95
    assert capacity["ICU"] == min(capacity.values())


def test_wards_reach_their_real_size_for_a_large_demo(big_dataset: DemoDataset) -> None:
    capacity = {w.code: w.capacity for w in big_dataset.wards}
    assert capacity["ICU"] == 8
    assert all(16 <= beds <= 30 for code, beds in capacity.items() if code != "ICU")


def test_only_inpatient_stays_are_open(big_dataset: DemoDataset) -> None:
    open_encounters = [e for e in big_dataset.encounters if e.ended_at is None]
    assert open_encounters and all(e.kind == "inpatient" and e.ward_code for e in open_encounters)
    assert len({e.mrn for e in open_encounters}) == len(open_encounters)  # one bed a patient


@pytest.mark.parametrize("ward", sorted(LOS_DAYS))
def test_length_of_stay_median_matches_the_calibration(ward: str) -> None:
    rng = random.Random(1)  # noqa: S311 - a reproducible sample, nothing secret
    days = [past_stay_length(rng, ward) / timedelta(days=1) for _ in range(3000)]
    assert statistics.median(days) == pytest.approx(LOS_DAYS[ward][0], rel=0.12)


def test_about_half_the_patients_in_beds_came_through_the_emergency_department(big_dataset: DemoDataset) -> None:
    current = [e for e in big_dataset.encounters if e.kind == "inpatient" and e.ended_at is None]
    through_ed = sum(1 for e in current if e.details["admission_source"] == "emergency department") / len(current)
    assert through_ed == pytest.approx(SOURCE_ED_SHARE, abs=0.15)
