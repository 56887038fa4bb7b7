"""``GET /patients/{id}/fhir``: the merged record as a validated FHIR R4 Bundle."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle

from medspeak.auth.roles import Actor
from medspeak.store.db import Store
from tests.services.record_seed import wait_for
from tests.support.api import Seeded, count_events


def test_a_clinician_downloads_the_patients_bundle(
    client: TestClient,
    store: Store,
    actors: dict[str, Actor],
    seeded: Seeded,
    login: Callable[[str], dict[str, str]],
) -> None:
    wait_for(store, actors["clinician"], seeded.job_id)
    r = client.get(f"/patients/{seeded.patient_id}/fhir", headers=login("clinician"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    assert "attachment" in r.headers["content-disposition"]
    bundle = Bundle.model_validate_json(r.text)
    kinds = [e.resource.get_resource_type() for e in bundle.entry or []]  # type: ignore[union-attr]
    assert kinds[0] == "Patient" and {"Encounter", "DocumentReference", "MedicationStatement", "Provenance"} <= set(
        kinds
    )
    (statement,) = [e["resource"] for e in r.json()["entry"] if e["resource"]["resourceType"] == "MedicationStatement"]
    assert statement["medicationCodeableConcept"]["text"] == "metoprolol"
    assert statement["status"] == "unknown"  # read by software, not reviewed: never "active" (issue 19)
    assert count_events(store, action="record.fhir_export", outcome="success") == 1


def test_unknown_patient_and_other_roles_are_refused(
    client: TestClient, store: Store, seeded: Seeded, login: Callable[[str], dict[str, str]]
) -> None:
    r = client.get("/patients/999999/fhir", headers=login("clinician"))
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = client.get(f"/patients/{seeded.patient_id}/fhir", headers=login("bed_manager"))
    assert r.status_code == 403
    assert count_events(store, action="record.fhir_export", outcome="denied") == 1


def test_the_route_is_documented(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    answer = spec["paths"]["/patients/{patient_id}/fhir"]["get"]["responses"]["200"]
    assert "application/fhir+json" in answer["content"]
