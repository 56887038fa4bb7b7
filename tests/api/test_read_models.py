"""The API answers the services' read models as they are: one definition of each answer, for the pages and
the API (issue 16), and the answers a page and an API client read are the same."""

from __future__ import annotations

import importlib
import pkgutil
import typing
from collections.abc import Callable

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel

from medspeak.api import routes as api_routes
from medspeak.auth.roles import Actor
from medspeak.i18n import Said, translations
from medspeak.services import audit_log, patients, triage
from medspeak.services.context import AppContext
from medspeak.services.read_models import ReadModel
from medspeak.store.db import Store
from medspeak.triage.inputs import TriageInputs
from tests.support.api import Seeded

Login = Callable[[str], dict[str, str]]

# Answers that belong to the HTTP layer itself, with no service behind them and nothing a page shows.
_TRANSPORT_ONLY = {
    "medspeak.api.routes.auth.TokenOut": "the OAuth2 token issued to an API client",
    "medspeak.api.routes.health.Health": "the server's liveness probe",
}


def _models(annotation: object) -> list[type[BaseModel]]:
    """The pydantic classes inside a response annotation (``list[X]``, ``X | None`` included)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models(arg)]


def test_every_answer_is_a_services_read_model() -> None:
    modules = [
        importlib.import_module(f"{api_routes.__name__}.{m.name}") for m in pkgutil.iter_modules(api_routes.__path__)
    ]
    answered = [
        (route.path, model)
        for module in modules
        for route in module.router.routes
        if isinstance(route, APIRoute) and route.response_model is not None
        for model in _models(route.response_model)
    ]
    assert len(answered) >= 10  # the check reads the routes (a change in FastAPI would make it vacuous)
    for path, model in answered:
        name = f"{model.__module__}.{model.__qualname__}"
        if name in _TRANSPORT_ONLY:
            continue
        assert issubclass(model, ReadModel) and model.__module__.startswith("medspeak.services."), (
            f"{path} answers {name}: return the service's read model instead of a copy of it"
        )


def test_the_api_record_is_the_services_view_field_for_field(
    client: TestClient, store: Store, seeded: Seeded, login: Login, actors: dict[str, Actor]
) -> None:
    answered = client.get(f"/patients/{seeded.patient_id}/record", headers=login("clinician")).json()
    view = patients.get_patient(store, actors["clinician"], seeded.patient_id)
    expected = view.model_dump(mode="json")
    # The seeded document may still be being read between the two calls (its status and page count move).
    answered_docs, expected_docs = answered.pop("documents"), expected.pop("documents")
    assert answered == expected
    assert [(d["id"], sorted(d)) for d in answered_docs] == [(d["id"], sorted(d)) for d in expected_docs]
    with_text = view.model_copy(update={"document_texts": {seeded.document_id: "Metoprolol 50 mg"}})
    assert "document_texts" not in with_text.model_dump()  # the page's search text is not answered
    stay = next(e for e in answered["encounters"] if e["id"] == seeded.stay_id)
    assert stay["length_of_stay_days"] is None or stay["length_of_stay_days"] >= 0  # a computed field is answered


def test_a_triage_answer_keeps_the_level_as_a_number_with_its_name_and_wait(
    client: TestClient, seeded: Seeded, login: Login
) -> None:
    body = {"heart_rate": 135, "spo2": 86, "respiratory_rate": 30, "age": 70, "chief_complaint": "dyspnoea"}
    out = client.post("/triage", headers=login("clinician"), json=body).json()
    assert isinstance(out["level"], int) and out["level_name"] and isinstance(out["max_wait_minutes"], int)
    assert out["inputs"]["heart_rate"] == 135 and out["inputs"]["chief_complaint"] == "dyspnoea"  # never hidden
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    triage_schema = next(v for k, v in schema.items() if k.startswith("TriageResult"))
    assert triage_schema["properties"]["level"]["type"] == "integer"
    assert "P(level 1-2)" in triage_schema["properties"]["points"]["description"]


def test_the_sentences_a_page_translates_stay_translatable_inside_a_read_model(
    ctx: AppContext, actors: dict[str, Actor]
) -> None:
    shock = TriageInputs(
        spo2=85, heart_rate=130, respiratory_rate=28, systolic_bp=85, diastolic_bp=50, temperature_c=39.2, age=70,
        chief_complaint="shortness of breath",
    )  # fmt: skip
    result = triage.assess(ctx, actors["clinician"], shock, nurse_level=3)
    assert result.alert.raised and result.second_reading is not None
    reasons = [*result.alert.reasons, *result.second_reading.reasons]
    assert reasons and all(isinstance(r, Said) for r in reasons)  # a plain str field would copy them bare
    french = translations("fr").gettext
    assert any(r.translated(french) != str(r) for r in reasons)


def test_the_audit_trail_pages_until_has_more_is_false_and_says_how_many(
    client: TestClient, store: Store, login: Login, actors: dict[str, Actor]
) -> None:
    headers, limit = login("admin"), 2
    total = audit_log.page_events(store, actors["admin"], audit_log.AuditFilter(), limit=1).total
    seen, offset = [], 0
    while True:
        page = client.get("/audit", params={"limit": limit, "offset": offset}, headers=headers).json()
        seen += [e["id"] for e in page["items"]]
        offset += limit
        if not page["has_more"]:
            break
    assert len(seen) >= total and page["total"] >= total  # each read is audited too: the trail grows as it is read
    beyond = client.get("/audit", params={"limit": limit, "offset": page["total"] + 50}, headers=headers).json()
    assert beyond["items"] == [] and not beyond["has_more"]  # past the end: empty, never the last page again
