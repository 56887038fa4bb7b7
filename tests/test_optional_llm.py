"""The LLM stack (torch, transformers, accelerate, bitsandbytes, llguidance) is an optional install group:
the app starts, the API builds and a document is indexed by the rules without it.

Run in a subprocess whose imports of those packages fail as if they were not installed (a ``sys.meta_path``
finder that refuses them), so that the test process's own imports do not hide an import of them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support.processes import run_python

BLOCKED = ("torch", "transformers", "accelerate", "bitsandbytes", "llguidance", "huggingface_hub")

_SCRIPT = """
import importlib, importlib.abc, json, os, pkgutil, sys

BLOCKED = set(os.environ["BLOCKED_PACKAGES"].split(","))


class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (the LLM group is not installed)", name=name)
        return None


sys.meta_path.insert(0, NotInstalled())

import medspeak

failed = []
for module in pkgutil.walk_packages(medspeak.__path__, "medspeak."):
    if ".migrations" in module.name or module.name.endswith("__main__"):
        continue
    try:
        importlib.import_module(module.name)
    except ImportError as exc:
        failed.append(f"{module.name}: {exc}")


from medspeak.services.context import AppContext

AppContext.open(migrate=True).close()
from streamlit.testing.v1 import AppTest

app = AppTest.from_file("app.py", default_timeout=60).run()

from medspeak.api import create_app

create_app()

from medspeak.indexing.extract import extract_facts

out = extract_facts("Discharge summary.\\nAmoxicillin 500 mg three times daily for 7 days.\\n", language="en")
print(json.dumps({
    "import_failures": failed,
    "app_exceptions": [str(e.value) for e in app.exception],
    "login_shown": any(t.key == "auth.username" for t in app.text_input),
    "backend": out.backend,
    "facts": [f.label for f in out.facts],
    "notices": out.notices,
    "loaded": sorted(m for m in sys.modules if m.partition(".")[0] in BLOCKED),
}))
"""


@pytest.mark.slow
def test_the_app_api_and_rules_indexing_run_without_the_llm_packages(env: Path) -> None:
    model = env / "a-local-model"  # a model is configured: the automatic choice must not need torch to pass it
    model.mkdir()
    (model / "config.json").write_text("{}")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MEDSPEAK_LLM")}
    environment.update(MEDSPEAK_LLM_MODEL=str(model), MEDSPEAK_LLM_BACKEND="auto", BLOCKED_PACKAGES=",".join(BLOCKED))
    result = json.loads(run_python(_SCRIPT, env=environment, timeout_s=240).strip().splitlines()[-1])
    assert result["import_failures"] == []
    assert result["app_exceptions"] == [] and result["login_shown"]
    assert result["backend"] == "rules"
    assert any("amoxicillin" in label.lower() for label in result["facts"])
    assert any("optional LLM packages" in notice for notice in result["notices"])
    assert result["loaded"] == []
