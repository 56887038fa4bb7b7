"""Benchmarks: each runs its baseline side by side and writes its figures to ``bench/results/``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def save_results(name: str, results: Any, *, print_json: bool) -> bool:
    """Write ``results`` to ``bench/results/<name>.json``; with ``print_json`` also print them on one line.

    Returns whether they were printed (the caller prints its table otherwise).
    """
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    if print_json:
        sys.stdout.write(json.dumps(results, ensure_ascii=False) + "\n")
    return print_json
