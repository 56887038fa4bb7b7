"""The lock files `make` installs from agree with the ranges in requirements*.txt, and with each other.

A range edited without `make lock` would otherwise install the old pin silently (or fail on a fresh machine).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def _pins(lock: str) -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (ROOT / lock).read_text().splitlines():
        if m := _PIN.match(line):
            pins[canonicalize_name(m.group(1))] = Version(m.group(2))
    return pins


def _requirements(path: Path) -> list[Requirement]:
    found: list[Requirement] = []
    for raw in path.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-r "):
            found += _requirements(path.parent / line[3:].strip())
        else:
            found.append(Requirement(line))
    return found


@pytest.mark.parametrize(
    ("source", "lock"),
    [
        ("requirements.txt", "requirements.lock"),
        ("requirements-llm.txt", "requirements-llm.lock"),
        ("requirements-dev.txt", "requirements-dev.lock"),
    ],
)
def test_every_requirement_is_locked_inside_its_range(source: str, lock: str) -> None:
    pins = _pins(lock)
    for req in _requirements(ROOT / source):
        if req.marker is not None and not req.marker.evaluate():
            continue
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is required by {source} but not in {lock}: run `make lock`"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{lock} pins {req.name}=={pins[name]}, outside {source}'s {req.specifier}: run `make lock`"
        )


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-llm.lock"])
def test_the_runtime_locks_are_the_dev_locks_runtime(lock: str) -> None:
    runtime, dev = _pins(lock), _pins("requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime  # `make test` tests what `make run` runs


def test_the_llm_group_is_in_its_own_lock_only() -> None:
    runtime, llm = _pins("requirements.lock"), _pins("requirements-llm.lock")
    group = {canonicalize_name(r.name) for r in _requirements(ROOT / "requirements-llm.txt")}
    assert group == {"torch", "transformers", "accelerate", "bitsandbytes", "llguidance"}
    assert not group & set(runtime), "`make run` would install the optional LLM group"
    assert group <= set(llm) and set(runtime) <= set(llm)


def test_torch_is_the_cpu_build() -> None:
    assert str(_pins("requirements-llm.lock")["torch"]).endswith("+cpu")  # PyPI's 2.13.0 is a CUDA build of GBs
