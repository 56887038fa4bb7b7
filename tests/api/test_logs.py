"""No secret and no patient data in the logs: every record at DEBUG and all of stderr during a full flow
(keys, login, a failed login, upload and reading, record, search, triage, errors) is searched."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.exc import OperationalError

from medspeak.api import create_app
from medspeak.api.logs import DropQueryString, log_config
from medspeak.auth.roles import Actor
from medspeak.services import apikeys, patients
from medspeak.store.db import Store
from tests.conftest import PASSWORD

_COOKIE_KEY = "log-test-cookie-key-" + "k3y" * 12
_GIVEN, _FAMILY = "Philomene", "Zarkowski"  # rare enough that any hit is this patient
_CLIENT_LOGGERS = ("httpx", "httpx2", "httpcore")  # the test's own HTTP client, not the server


def _server_records(caplog: pytest.LogCaptureFixture) -> str:
    lines = []
    for record in caplog.records:
        if record.name.split(".")[0] in _CLIENT_LOGGERS:
            continue
        lines.append(record.getMessage())
        if record.exc_text:
            lines.append(record.exc_text)
        elif record.exc_info:
            lines.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(lines)


def _raises(exc: Exception) -> Callable[..., object]:
    def fail(*args: object, **kwargs: object) -> object:
        raise exc

    return fail


def test_a_full_flow_logs_no_secret_and_no_patient_data(
    store: Store,
    actors: dict[str, Actor],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    patient = patients.register_patient(
        store, actors["clinician"], given_name=_GIVEN, family_name=_FAMILY, sex="female", birth_date=date(1948, 7, 1)
    )
    _, key = apikeys.create_key(store, actors["admin"], "bedmanager", "bed board")
    app = create_app(store.settings.model_copy(update={"cookie_key": SecretStr(_COOKIE_KEY)}))
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/token", data={"username": "clinician", "password": "wrong " + PASSWORD}).status_code == 401
        r = client.post("/token", data={"username": "clinician", "password": PASSWORD})
        token = r.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        note = f"Discharge summary for {_GIVEN} {_FAMILY}.\nMetoprolol 25 mg PO twice daily.\n".encode()
        up = client.post(
            "/documents", headers=headers, files={"file": (f"{_FAMILY}.txt", note)}, data={"patient_id": patient.id}
        )
        assert up.status_code == 202, up.text
        deadline = time.monotonic() + 30
        while not client.get(f"/jobs/{up.json()['job_id']}", headers=headers).json()["finished"]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        record = client.get(f"/patients/{patient.id}/record", headers=headers)
        assert record.status_code == 200 and _FAMILY in record.text  # the data is there, for the client only
        assert client.get("/patients", params={"q": _FAMILY}, headers={"X-API-Key": key}).status_code == 200
        triage = {"heart_rate": 128, "spo2": 89, "age": 76, "chief_complaint": f"fall at {_FAMILY}'s home"}
        assert client.post("/triage", headers=headers, json={**triage, "patient_id": patient.id}).status_code == 200
        assert client.post("/triage", headers=headers, json={"patient_id": 2**40}).status_code == 422
        assert client.get("/audit", headers={"X-API-Key": key}).status_code == 403
        # Failures whose messages quote the patient: a bug (500) and a driver error with its SQL parameters.
        with monkeypatch.context() as m:
            m.setattr(patients, "get_patient", _raises(ValueError(f"cannot parse the record of {_GIVEN} {_FAMILY}")))
            assert client.get(f"/patients/{patient.id}/record", headers=headers).status_code == 500
            sql_error = OperationalError("INSERT INTO patients VALUES (?)", (_FAMILY,), Exception("disk I/O error"))
            m.setattr(patients, "get_patient", _raises(sql_error))
            assert client.get(f"/patients/{patient.id}/record", headers=headers).status_code == 503
        assert client.post("/logout", headers=headers).status_code == 204
    logs = _server_records(caplog) + "\n" + capfd.readouterr().err
    assert "ValueError (message omitted)" in logs and "OperationalError (message omitted)" in logs, logs[-2000:]
    secrets = {
        "password": PASSWORD,
        "jwt": token,
        "jwt signature": token.rsplit(".", 1)[-1],
        "api key": key,
        "api key body": key[12:],
        "cookie key": _COOKIE_KEY,
        "given name": _GIVEN,
        "family name": _FAMILY,
        "mrn": patient.mrn,
    }
    leaked = [what for what, value in secrets.items() if value in logs]
    assert not leaked, f"found in the logs: {leaked}"


def test_the_servers_access_log_drops_query_strings() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/patients?q={_FAMILY}&limit=5", "1.1", 200),
        None,
    )
    assert DropQueryString().filter(record)
    line = record.getMessage()
    assert _FAMILY not in line and "GET /patients?[query omitted] HTTP/1.1" in line
    assert "drop_query" in log_config()["handlers"]["access"]["filters"]
