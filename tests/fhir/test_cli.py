"""``medspeak export fhir`` and ``medspeak export gold`` on the test store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle
from typer.testing import CliRunner

from medspeak.auth.roles import Actor
from medspeak.cli import app
from medspeak.services import record
from medspeak.services.context import AppContext
from medspeak.store.db import Store
from tests.services.record_seed import fact_id, seed_record

runner = CliRunner()


@pytest.fixture(params=["sqlite"])  # the CLI opens the configured store: one backend is enough here
def ctx(request: pytest.FixtureRequest, ctx: AppContext) -> AppContext:
    return ctx


def test_export_fhir_writes_a_valid_bundle(
    ctx: AppContext, store: Store, actors: dict[str, Actor], tmp_path: Path
) -> None:
    seeded = seed_record(ctx, actors["clinician"])
    out = tmp_path / "bundle.json"
    result = runner.invoke(app, ["export", "fhir", str(seeded.patient_id), "--user", "clinician", "--out", str(out)])
    assert result.exit_code == 0, result.output
    bundle = Bundle.model_validate_json(out.read_text())
    assert f"{len(bundle.entry or [])} resources written" in result.output
    to_stdout = runner.invoke(app, ["export", "fhir", str(seeded.patient_id), "--user", "clinician"])
    assert json.loads(to_stdout.stdout)["resourceType"] == "Bundle"


def test_export_refuses_a_role_without_clinical_access(ctx: AppContext, store: Store, actors: dict[str, Actor]) -> None:
    seeded = seed_record(ctx, actors["clinician"])
    result = runner.invoke(app, ["export", "fhir", str(seeded.patient_id), "--user", "bedmanager"])
    assert result.exit_code != 0 and isinstance(result.exception, Exception)
    assert "does not allow" in str(result.exception)


def test_export_gold_writes_reviewed_documents(
    ctx: AppContext, store: Store, actors: dict[str, Actor], tmp_path: Path
) -> None:
    seeded = seed_record(ctx, actors["clinician"])
    fid = fact_id(store, seeded.prescription_id, "medication", "metoprolol")
    record.review_fact(store, actors["clinician"], fid, "accepted")
    out = tmp_path / "gold.jsonl"
    result = runner.invoke(app, ["export", "gold", "--user", "clinician", "--out", str(out), "--partial"])
    assert result.exit_code == 0, result.output
    (line,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert [m["name"] for m in line["medications"]] == ["Metoprolol"]
