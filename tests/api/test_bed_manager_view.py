"""Issue 19, finding 9: a bed manager's view of a patient holds what a stay needs, no clinical data.

Before: ``GET /patients/{id}/record`` and the Patients page gave bed managers the chief complaint, the
acuity, full vitals and the insurance of every visit, though the role may read no clinical facts.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import update

from medspeak.store.db import Store
from medspeak.store.models import Encounter
from tests.support.api import Seeded

Login = Callable[[str], dict[str, str]]
_VITALS = {"heart_rate": 128, "spo2": 87, "systolic_bp": 92}


def _clinical_stay(store: Store, seeded: Seeded) -> None:
    with store.transaction() as db:
        db.execute(
            update(Encounter)
            .where(Encounter.id == seeded.stay_id)
            .values(
                acuity=2,
                vitals=_VITALS,
                arrival_mode="public ambulance",
                details={"admission_type": "emergency", "insurance": "Medicaid", "reason_code": "sepsis"},
            )
        )


def test_the_bed_manager_gets_the_stay_without_its_clinical_data(
    client: TestClient, store: Store, seeded: Seeded, login: Login
) -> None:
    _clinical_stay(store, seeded)
    r = client.get(f"/patients/{seeded.patient_id}/record", headers=login("bed_manager"))
    assert r.status_code == 200, r.text
    (stay,) = r.json()["encounters"]
    assert stay["ward"] and stay["started_at"] and stay["kind"] == "inpatient"  # what planning a bed needs
    assert stay["details"] == {"admission_type": "emergency"}
    for field in ("chief_complaint", "acuity", "vitals", "arrival_mode"):
        assert stay[field] is None, field
    assert "shortness of breath" not in r.text and "Medicaid" not in r.text and "sepsis" not in r.text


def test_the_clinician_still_gets_the_whole_stay(
    client: TestClient, store: Store, seeded: Seeded, login: Login
) -> None:
    _clinical_stay(store, seeded)
    (stay,) = client.get(f"/patients/{seeded.patient_id}/record", headers=login("clinician")).json()["encounters"]
    assert stay["chief_complaint"] == "shortness of breath" and stay["vitals"] == _VITALS
    assert stay["details"]["insurance"] == "Medicaid"
