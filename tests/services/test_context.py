"""Issue 16, item 3: one application context in place of the process-wide registries.

The app, the API and the CLI each build an ``AppContext``; two contexts in one process share no store, runner or
model, and closing one stops its readers. A static check keeps new module-level registries out of the core.
"""

from __future__ import annotations

import ast
import threading
from datetime import date
from pathlib import Path

import pytest

from medspeak.auth.roles import Actor
from medspeak.config import load_settings
from medspeak.services import documents, patients
from medspeak.services.context import AppContext
from medspeak.store.db import Store
from tests.support.jobs import wait_for_job

_CORE = Path(__file__).resolve().parents[2] / "medspeak"
# What a registry holds: a resource with state (connections, threads, a loaded model), not constant data.
_RESOURCES = ("Store", "Runner", "JobRunner", "Backend", "LLMBackend", "Model", "Engine", "Settings", "Extractors")


def _reader_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("medspeak-ingest")}


def test_two_contexts_in_one_process_share_no_store_runner_or_model(tmp_path: Path, env: Path) -> None:
    first = AppContext(load_settings().model_copy(update={"database_url": f"sqlite:///{tmp_path / 'a.db'}"}))
    second = AppContext(load_settings().model_copy(update={"database_url": f"sqlite:///{tmp_path / 'b.db'}"}))
    try:
        first.store.migrate()
        second.store.migrate()
        assert first.store is not second.store and first.store.url != second.store.url
        assert first.runner is not second.runner
        assert first.models.triage() is not second.models.triage()  # each context loads (and verifies) its own
        assert first.models.triage() is first.models.triage()  # and keeps it
        assert first.models.extractors is not second.models.extractors
    finally:
        first.close()
        second.close()


def test_closing_a_context_finishes_its_documents_and_stops_its_readers(
    env: Path, actors: dict[str, Actor], store: Store
) -> None:
    before = _reader_threads()
    with AppContext(load_settings()) as ctx:
        clinician = actors["clinician"]
        patient = patients.register_patient(
            ctx.store, clinician, given_name="Ana", family_name="Silva", sex="female", birth_date=date(1961, 2, 3)
        )
        outcome = documents.upload(
            ctx, clinician, filename="note.txt", content=b"Metoprolol 25 mg daily.\n", patient_id=patient.id
        )
        assert _reader_threads() > before  # the context started its own readers on the first upload
        assert wait_for_job(ctx.store, clinician, outcome.job_id or 0).status == "done"
    assert _reader_threads() == before


def test_a_context_refuses_a_second_runner_once_reading_has_started(ctx: AppContext) -> None:
    _ = ctx.runner
    with pytest.raises(RuntimeError, match="runner has started"):
        ctx.use_runner(ctx.runner)


def _registries(path: Path) -> list[str]:
    """Module-level containers, caches or lazily set globals in ``path`` that hold a stateful resource."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # a class with a lock guards state that changes: a module-level instance of it is a registry
    stateful = {n.name for n in tree.body if isinstance(n, ast.ClassDef) and "Lock()" in ast.unparse(n)}
    found = []
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Dict | ast.List | ast.Set | ast.Call):
            annotation = ast.unparse(node.annotation)
            empty = isinstance(node.value, ast.Dict | ast.List | ast.Set) and not ast.unparse(node.value)[1:-1]
            resource = any(r in annotation for r in _RESOURCES) and "type[" not in annotation
            if resource or (empty and "Any" in annotation):  # filled later, with things of any type
                found.append(f"{path.name}:{node.lineno} {ast.unparse(node.target)}")
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            called = node.value.func
            if isinstance(called, ast.Name) and called.id in stateful:
                found.append(f"{path.name}:{node.lineno} {ast.unparse(node.targets[0])}")
        if isinstance(node, ast.FunctionDef):
            if any(isinstance(inner, ast.Global) for inner in ast.walk(node)):  # a lazily created singleton
                found.append(f"{path.name}:{node.lineno} {node.name}() sets a global")
            cached = any("cache" in ast.unparse(d) for d in node.decorator_list)
            if cached and node.returns is not None and any(r in ast.unparse(node.returns) for r in _RESOURCES):
                found.append(f"{path.name}:{node.lineno} {node.name}()")
    return found


def test_the_core_keeps_no_process_wide_registry_of_stores_runners_models_or_settings() -> None:
    found = [r for path in sorted(_CORE.rglob("*.py")) for r in _registries(path)]
    assert found == [], f"hold these in the AppContext (medspeak/services/context.py): {found}"


def test_the_registry_check_would_see_one(tmp_path: Path) -> None:
    """The check above must be able to fail: each kind of registry it replaced is caught."""
    module = tmp_path / "registry.py"
    module.write_text(
        "from functools import lru_cache\n"
        "_stores: dict[str, Store] = {}\n"  # was medspeak/store/db.py
        "_readers: dict[str, Any] = {}\n"  # was medspeak/ingest/ocr/easy.py
        "@lru_cache(maxsize=1)\n"
        "def engine() -> tuple[TriageModel, Explainer]:\n"  # was medspeak/services/triage.py
        "    ...\n"
        "class _Models:\n"
        "    def __init__(self):\n"
        "        self._lock = threading.Lock()\n"
        "_models = _Models()\n"  # was medspeak/ingest/ocr/tesseract.py
        "_session = None\n"
        "def _load():\n"
        "    global _session\n",  # was medspeak/ingest/ocr/rapid.py
        encoding="utf-8",
    )
    assert len(_registries(module)) == 5
