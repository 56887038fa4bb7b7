"""The floor plan holds: entry points > services > domain packages > store, config, errors, with no cycle,
training, evaluation and the demo generator out of the runtime, and no streamlit in medspeak.

The contracts are import-linter's, in pyproject.toml ([tool.importlinter]); these tests run them on the
repository and on a copy with each edge the renovation of issue 16 removed put back, so a contract that
stopped catching one fails here too. The pages are scripts, not a package import-linter can read: their
imports are checked with ``ast``.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What only the CLI may reach: training, model cards, back-tests, evaluations and the demo generator.
NOT_RUNTIME = (
    "medspeak.triage.training",
    "medspeak.los.training",
    "medspeak.indexing.evaluation",
    "medspeak.ingest.evaluation",
    "medspeak.demo",
)


def _lint(root: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the packages under ``root`` with its pyproject.toml (all contracts, or ``contracts``)."""
    code = (
        "import sys; from importlinter.cli import lint_imports; "
        f"sys.exit(lint_imports(limit_to_contracts={contracts!r}, no_cache=True, no_logo=True))"
    )
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(  # noqa: S603 - our own interpreter, a fixed program
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_import_graph_keeps_every_contract() -> None:
    run = _lint(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "6 kept, 0 broken" in run.stdout


# Each edge the re-layout removed (or one of its kind), the file it came from, and the contract that refuses it.
OLD_EDGES = [
    ("medspeak/ingest/pipeline.py", "from medspeak.indexing import extract", "ingest-knows-no-indexing"),
    ("medspeak/ingest/pipeline.py", "from medspeak.indexing import extract", "layers"),  # the ingest <-> indexing cycle
    ("medspeak/auth/passwords.py", "from medspeak.services import users", "auth-knows-no-services"),
    ("medspeak/triage/model.py", "from medspeak.services import patients", "domain-below-services"),
    ("medspeak/los/features.py", "from medspeak.services import audited", "domain-below-services"),
    ("medspeak/los/features.py", "from medspeak.auth import roles", "domain-below-services"),
    ("medspeak/triage/explain.py", "from medspeak.indexing import extract", "layers"),
    ("medspeak/los/sources.py", "from medspeak.demo import dataset", "runtime-without-training"),
    ("medspeak/services/stays.py", "from medspeak.los.training import backtest", "runtime-without-training"),
    ("medspeak/api/app.py", "from medspeak.triage.training import card", "runtime-without-training"),
    ("components/beds_view.py", "from medspeak.indexing import evaluation", "runtime-without-training"),
    ("medspeak/store/db.py", "import streamlit", "no-streamlit-in-core"),
]


@pytest.mark.parametrize(("path", "line", "contract"), OLD_EDGES)
def test_an_old_edge_put_back_breaks_the_check(tmp_path: Path, path: str, line: str, contract: str) -> None:
    for package in ("medspeak", "components"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "data"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    assert _lint(tmp_path, contract).returncode == 0  # the copy is as clean as the repository
    with (tmp_path / path).open("a") as module:
        module.write(f"\n{line}  # put back\n")
    run = _lint(tmp_path, contract)
    assert run.returncode == 1 and "BROKEN" in run.stdout, run.stdout + run.stderr


def _imported(script: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.update([node.module, *(f"{node.module}.{alias.name}" for alias in node.names)])
    return names


@pytest.mark.parametrize("script", [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))], ids=lambda p: p.name)
def test_a_page_imports_no_training_evaluation_or_demo_code(script: Path) -> None:
    reached = {n for n in _imported(script) if any(n == m or n.startswith(f"{m}.") for m in NOT_RUNTIME)}
    assert not reached


def test_the_page_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    page = tmp_path / "page.py"
    page.write_text("import streamlit as st\nfrom medspeak.los.training import cli\nfrom medspeak import demo\n")
    assert _imported(page) >= {"medspeak.los.training", "medspeak.los.training.cli", "medspeak.demo"}
