"""What each role reads through the API: the same views as the pages, nothing more."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fastapi import FastAPI
from fastapi.testclient import TestClient

from medspeak.auth.roles import Actor
from medspeak.services import patients
from medspeak.store.db import Store
from tests.support.api import Seeded, count_events

Login = Callable[[str], dict[str, str]]


def test_bed_manager_reads_stays_but_no_documents(client: TestClient, seeded: Seeded, login: Login) -> None:
    record = client.get(f"/patients/{seeded.patient_id}/record", headers=login("bed_manager")).json()
    assert [e["id"] for e in record["encounters"]] == [seeded.stay_id]
    assert record["documents"] is None and record["assessments"] is None
    assert "Metoprolol" not in str(record)
    clinical = client.get(f"/patients/{seeded.patient_id}/record", headers=login("clinician")).json()
    assert [d["id"] for d in clinical["documents"]] == [seeded.document_id]


def test_record_reads_are_audited_with_the_patient(
    client: TestClient, store: Store, seeded: Seeded, login: Login
) -> None:
    before = count_events(store, action="patient.read", username="bedmanager", outcome="success")
    client.get(f"/patients/{seeded.patient_id}/record", headers=login("bed_manager"))
    assert count_events(store, action="patient.read", username="bedmanager", outcome="success") == before + 1
    missing = client.get("/patients/424242/record", headers=login("clinician"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_patients_are_paginated(client: TestClient, store: Store, actors: dict[str, Actor], login: Login) -> None:
    for n in range(7):
        patients.register_patient(
            store,
            actors["clinician"],
            given_name="Ann",
            family_name=f"Page{n}",
            sex="female",
            birth_date=date(1980, 1, 1),
        )
    headers = login("clinician")
    first = client.get("/patients", params={"limit": 3}, headers=headers).json()
    third = client.get("/patients", params={"limit": 3, "offset": 6}, headers=headers).json()
    assert [p["name"] for p in first["items"]] == ["PAGE0, Ann", "PAGE1, Ann", "PAGE2, Ann"] and first["has_more"]
    assert [p["name"] for p in third["items"]] == ["PAGE6, Ann"] and not third["has_more"]
    too_far = client.get("/patients", params={"limit": 100, "offset": 150}, headers=headers)
    assert too_far.status_code == 422 and "200" in too_far.json()["error"]["message"]
    bad = client.get("/patients", params={"limit": 0}, headers=headers)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_failed"


def test_triage_is_stored_in_the_record_and_implausible_values_refused(
    client: TestClient, seeded: Seeded, login: Login
) -> None:
    headers = login("clinician")
    body = {"heart_rate": 135, "spo2": 86, "respiratory_rate": 30, "age": 70, "chief_complaint": "dyspnoea"}
    r = client.post("/triage", headers=headers, json={**body, "patient_id": seeded.patient_id})
    assert r.status_code == 200, r.text
    result = r.json()
    assert 1 <= result["level"] <= 5 and result["assessment_id"] and result["level_name"]
    record = client.get(f"/patients/{seeded.patient_id}/record", headers=headers).json()
    assert [a["id"] for a in record["assessments"]] == [result["assessment_id"]]
    implausible = client.post("/triage", headers=headers, json={"heart_rate": 900})
    assert implausible.status_code == 422 and "Heart rate" in implausible.json()["error"]["message"]
    unknown = client.post("/triage", headers=headers, json={"mental_status": "asleep"})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "validation_failed"


def test_stay_prediction_and_forecast(client: TestClient, seeded: Seeded, login: Login) -> None:
    stay = client.post("/los", headers=login("bed_manager"), json={"encounter_id": seeded.stay_id}).json()
    low, mid, high = stay["total_days"]
    assert stay["encounter_id"] == seeded.stay_id and low <= mid <= high and stay["elapsed_days"] >= 1.9
    forecast = client.get("/occupancy", params={"horizon_days": 2}, headers=login("admin")).json()
    assert [w["code"] for w in forecast["wards"]] == ["MED"] and forecast["likely_discharges"] is None
    assert len(forecast["wards"][0]["days"]) == 2


def test_healthz_and_openapi_need_no_credentials(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/token", "/documents", "/jobs/{job_id}", "/patients", "/triage", "/los", "/audit"} <= paths.keys()


def test_cors_stays_closed(client: TestClient) -> None:
    r = client.options("/patients", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in r.headers
    r = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def test_an_unexpected_error_is_a_500_with_the_error_body_and_no_detail(app: FastAPI) -> None:
    def broken() -> None:
        raise RuntimeError("patient Jeanne Moreau, MRN MS000001")

    app.add_api_route("/broken", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/broken")
    assert r.status_code == 500
    error = r.json()["error"]
    assert error["code"] == "internal_error" and "Moreau" not in r.text
    assert error["message"] == f"Internal error; it was logged. Reference: {error['correlation_id']}."


def test_triage_carries_the_level_the_alert_and_the_nurses_flag_and_records_her_decision(
    client: TestClient, seeded: Seeded, login: Login
) -> None:
    headers = login("clinician")
    shock = {
        "spo2": 85,
        "heart_rate": 130,
        "respiratory_rate": 28,
        "systolic_bp": 85,
        "diastolic_bp": 50,
        "temperature_c": 39.2,
        "age": 70,
        "chief_complaint": "shortness of breath",
        "nurse_level": 3,
    }
    r = client.post("/triage", headers=headers, json={**shock, "patient_id": seeded.patient_id})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["level"] == 1 and "shock" in [rule["id"] for rule in out["rules_fired"]]
    assert out["alert"]["raised"] and 0.0 <= out["alert"]["probability"] <= 1.0
    reading = out["second_reading"]
    assert reading["nurse_level"] == 3 and reading["flagged"] and reading["suggested_level"] == 1
    assert any("Shock" in reason for reason in reading["reasons"])
    assert out["points"]["drivers"] and out["encounter_id"]
    kept = client.post(f"/triage/{out['assessment_id']}/decision", headers=headers, json={"level": 3})
    assert kept.status_code == 422 and "reason" in kept.json()["error"]["message"]
    changed = client.post(f"/triage/{out['assessment_id']}/decision", headers=headers, json={"level": 1})
    assert changed.status_code == 200, changed.text
    decision = changed.json()
    assert {k: decision[k] for k in ("level", "model_level", "nurse_level", "flagged", "decision")} == {
        "level": 1,
        "model_level": 1,
        "nurse_level": 3,
        "flagged": True,
        "decision": "changed",
    }
    assert decision["username"] == "clinician" and decision["at"]  # who decided, and when
    blank = client.post("/triage", headers=headers, json={"age": 40})
    assert blank.status_code == 422 and "chief complaint" in blank.json()["error"]["message"]
    wrong = client.post("/triage", headers=headers, json={**shock, "nurse_level": 6})
    assert wrong.status_code == 422
