"""The English gold's draws (issue 14): which MTSamples reports ``tests/indexing/gold/split_en.json`` names.

Run: ``PYTHONPATH=. .venv/bin/python bench/draw_en_gold.py [--reports ../shared/data/mtsamples/mtsamples.csv]``.
It prints note ids only, never report text.

The filter (``tests/indexing/gold/README.md``): specialties Discharge Summary, Consult - History and Phy.,
General Medicine, Emergency Room Reports, SOAP / Chart / Progress Notes and Office Notes; transcriptions
de-duplicated (the first row of a text in file order kept); text containing "MEDICATION" (upper case) and
"allerg" (any case); 1,200-3,000 characters (152 reports).

- The 30 of the second English draw (checked, not chosen here): the filtered reports not in
  ``mtsamples_gold.jsonl`` nor among the first 10 English reports (121), ``random.Random(20261205)``, 30.
- The 15 more development reports (issue 14, third draw, declared before any of them was read): the filtered
  reports in none of ``mtsamples_gold.jsonl``, ``split.json`` and the 40 English reports of the first two
  draws (``mtsamples_en_gold.jsonl`` and ``split_en.json`` before this draw) (91),
  ``random.Random(20261206).sample(sorted(int note_ids), 15)``.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from pathlib import Path

GOLD = Path(__file__).resolve().parent.parent / "tests" / "indexing" / "gold"
SPECIALTIES = frozenset(
    {
        "Discharge Summary",
        "Consult - History and Phy.",
        "General Medicine",
        "Emergency Room Reports",
        "SOAP / Chart / Progress Notes",
        "Office Notes",
    }
)


def filtered_note_ids(reports: Path) -> list[int]:
    """The note ids of the reports the English gold is drawn from, in note_id order."""
    csv.field_size_limit(10**9)
    seen: set[str] = set()
    ids: list[int] = []
    with reports.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            text = row["transcription"]
            if row["medical_specialty"].strip() not in SPECIALTIES or text in seen:
                continue
            seen.add(text)
            if "MEDICATION" in text and "allerg" in text.lower() and 1200 <= len(text) <= 3000:
                ids.append(int(row["note_id"]))
    return sorted(ids)


def _gold_ids(name: str) -> list[str]:
    with (GOLD / name).open(encoding="utf-8") as handle:
        return [json.loads(line)["id"] for line in handle if line.strip()]


def _split_ids(name: str) -> set[str]:
    split = json.loads((GOLD / name).read_text(encoding="utf-8"))
    return set(split.get("development", [])) | set(split.get("holdout", []))


def draws(reports: Path) -> dict[str, list[str]]:
    ids = filtered_note_ids(reports)
    first = set(_gold_ids("mtsamples_gold.jsonl"))
    english = _gold_ids("mtsamples_en_gold.jsonl")
    first_ten = set(english[:10])
    pool_30 = [i for i in ids if f"mtsamples-{i}" not in first | first_ten]
    drawn_30 = random.Random(20261205).sample(pool_30, 30)  # noqa: S311  # a reproducible draw
    # What the first two draws and the first gold used (the 15 are themselves in split_en.json afterwards).
    used = first | _split_ids("split.json") | first_ten | {f"mtsamples-{i}" for i in drawn_30}
    pool_15 = [i for i in ids if f"mtsamples-{i}" not in used]
    drawn_15 = random.Random(20261206).sample(pool_15, 15)  # noqa: S311  # a reproducible draw
    return {
        "filtered": [str(len(ids))],
        "second_draw_30": [f"mtsamples-{i}" for i in sorted(drawn_30)],
        "third_draw_pool": [str(len(pool_15))],
        "third_draw_15": [f"mtsamples-{i}" for i in sorted(drawn_15)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=Path, default=Path("../shared/data/mtsamples/mtsamples.csv"))
    out = draws(parser.parse_args().reports)
    sys.stdout.write(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
