"""Issue 16 item 6 and issue 19 finding 5: one home for domain exceptions, each with its HTTP status;
anything unexpected is a 500 with a correlation id (body and log), logged without patient data, and audited."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

import medspeak
from medspeak import errors
from medspeak.errors import MedspeakError
from medspeak.fhir import ExportFailed
from medspeak.services import record as record_service
from medspeak.store.db import Store
from medspeak.store.models import AuditEvent
from tests.support.api import Seeded, count_events

_SECRET_TEXT = "Zarkowski chest pain since Tuesday"  # what a careless exception message could quote


def _all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_all_subclasses(sub)}
    return found


def _import_runtime_modules() -> None:
    for info in pkgutil.walk_packages(medspeak.__path__, "medspeak."):
        if ".migrations" in info.name or info.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(info.name)
        except ImportError:  # an optional stack (e.g. the LLM one) not installed: its module defines no error
            continue


def test_every_domain_exception_lives_in_errors_with_its_status() -> None:
    # Before: exceptions in ~6 modules, two different ModelUnavailable classes, statuses in a table in the API.
    _import_runtime_modules()
    domain = _all_subclasses(MedspeakError)
    assert {cls.__module__ for cls in domain} == {"medspeak.errors"}, sorted(
        f"{c.__module__}.{c.__qualname__}" for c in domain if c.__module__ != "medspeak.errors"
    )
    names = [cls.__name__ for cls in domain]
    assert len(names) == len(set(names)), names
    for cls in domain | {MedspeakError}:
        assert 400 <= cls.http_status <= 599 and cls.code, cls
    table = errors.http_statuses()
    assert table["ExportFailed"] == (500, "export_failed")  # a server fault, never a client's
    assert table["ModelUnavailable"] == (503, "model_unavailable")
    assert table["NotFound"] == (404, "not_found")


def _correlation_id(body: dict[str, dict[str, str]]) -> str:
    cid = body["error"].get("correlation_id", "")
    assert re.fullmatch(r"[0-9a-f]{32}", cid), body
    return cid


@pytest.fixture
def export_failing_with(
    client: TestClient, seeded: Seeded, login: object, monkeypatch: pytest.MonkeyPatch
) -> Callable[[Exception], httpx.Response]:
    """A clinician's FHIR export whose service raises the exception given; returns the API's answer."""

    def get(exc: Exception) -> httpx.Response:
        def fail(*args: object, **kwargs: object) -> object:
            raise exc

        monkeypatch.setattr(record_service, "fhir_export", fail)
        headers = login("clinician")  # type: ignore[operator]
        return client.get(f"/patients/{seeded.patient_id}/fhir", headers=headers)

    return get


def test_a_fhir_export_that_fails_validation_is_a_500_with_a_correlation_id(
    store: Store, export_failing_with: Callable[[Exception], httpx.Response], caplog: pytest.LogCaptureFixture
) -> None:
    # Before: 400 "refused", as if the clinician had asked for something wrong.
    caplog.set_level(logging.INFO)
    r = export_failing_with(ExportFailed("The record could not be written as valid FHIR; nothing was exported."))
    assert r.status_code == 500, r.text
    assert r.json()["error"]["code"] == "export_failed"
    cid = _correlation_id(r.json())
    assert r.headers["X-Correlation-Id"] == cid
    assert any(cid in rec.getMessage() for rec in caplog.records if rec.levelno >= logging.ERROR)
    assert count_events(store, username="clinician", outcome="error") == 1


def test_an_unexpected_error_is_a_500_logged_without_data_and_audited_for_its_actor(
    store: Store, export_failing_with: Callable[[Exception], httpx.Response], caplog: pytest.LogCaptureFixture
) -> None:
    # Before: a 500 with no correlation id, and no audit row: the admin could not tell who met it, when.
    caplog.set_level(logging.DEBUG)
    r = export_failing_with(RuntimeError(_SECRET_TEXT))
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "internal_error"
    cid = _correlation_id(r.json())
    assert _SECRET_TEXT not in r.text
    logged = "\n".join(
        rec.getMessage() + (logging.Formatter().formatException(rec.exc_info) if rec.exc_info else "")
        for rec in caplog.records
    )
    assert cid in logged and "RuntimeError" in logged
    assert "Zarkowski" not in logged
    with store.read() as db:
        rows = db.execute(
            select(AuditEvent.username, AuditEvent.action, AuditEvent.detail).where(AuditEvent.outcome == "error")
        ).all()
    assert len(rows) == 1, rows
    username, action, detail = rows[0]
    assert username == "clinician" and action == "api.error"
    assert cid in detail and "/patients/{patient_id}/fhir" in detail and "Zarkowski" not in detail


def test_an_anonymous_500_still_answers_with_a_correlation_id(
    client: TestClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from medspeak.auth import service as auth

    def crash(*args: object, **kwargs: object) -> object:
        raise RuntimeError(_SECRET_TEXT)

    monkeypatch.setattr(auth, "login", crash)
    before = count_events(store, outcome="error")
    r = client.post("/token", data={"username": "someone", "password": "whatever-it-is"})
    assert r.status_code == 500
    _correlation_id(r.json())
    assert count_events(store, outcome="error") == before  # no actor known: nothing to attribute
