"""Fact extraction on real reports: the rules extractor against a plain medspaCy pipeline, side by side.

Run: ``PYTHONPATH=. .venv/bin/python bench/indexing.py [--reports ../shared/data/mtsamples/mtsamples.csv]
[--n 200] [--json]``. Results are also written to ``bench/results/indexing.json``.

On ``--n`` MTSamples reports (drawn with ``--seed``) each extractor's facts per report and throughput
(wall and CPU time: on a shared, loaded machine wall time mostly measures the other processes); on the
hand-annotated gold (``tests/indexing/gold``) the ``medspeak eval extraction`` scores of both, on the
development and held-out parts. The medspaCy baseline is ``medspacy.load()`` (PyRuSH sentences, target
matcher, ConText) with target rules from the same lexicons (problem terms, curated drug names): what it
adds is only its ConText, with no section, list or attribute rules. medspaCy is optional
(``pip install --no-deps -r bench/requirements-bench.txt``); without it the bench runs the rules alone
and says so. Target (issue 4): >= 50 notes/s for the rules.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import save_results

ROOT = Path(__file__).resolve().parents[1]
_GOLD = ROOT / "tests" / "indexing" / "gold"
_ASSERTION_OF = (  # medspaCy ConText attributes, in the order the schema's single assertion takes them
    ("is_family", "family"),
    ("is_negated", "absent"),
    ("is_uncertain", "possible"),
    ("is_hypothetical", "hypothetical"),
    ("is_historical", "historical"),
)


def _reports(path: Path, n: int, seed: int) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        texts = sorted({row["transcription"] for row in csv.DictReader(handle) if row["transcription"].strip()})
    return random.Random(seed).sample(texts, min(n, len(texts)))  # noqa: S311  # a reproducible draw, not a secret


class MedspacyBaseline:
    """``medspacy.load()`` with target rules from our lexicons; facts shaped like ours to be scored alike."""

    name = "medspacy"

    def __init__(self) -> None:
        import medspacy
        from loguru import logger
        from medspacy.target_matcher import TargetRule

        from medspeak.indexing.rules.lexicon import drug_names, load

        logger.remove()  # PyRuSH logs every sentence at DEBUG otherwise
        self.nlp = medspacy.load()
        rules = [TargetRule(term, "PROBLEM") for term in load("en", "problems")["terms"]]
        rules += [TargetRule(name, "MEDICATION") for name in drug_names()]
        self.nlp.get_pipe("medspacy_target_matcher").add(rules)
        self.version = medspacy.__version__

    def extract(self, text: str) -> Any:
        from medspeak.indexing.extract import ExtractionOutput
        from medspeak.indexing.rules.lexicon import drug_names
        from medspeak.indexing.schema import Assertion, Evidence, Grounding, Medication, Problem

        facts: list[Any] = []
        for ent in self.nlp(text).ents:
            evidence = Evidence(start=ent.start_char, end=ent.end_char, text=ent.text)
            if ent.label_ == "MEDICATION":
                generic = drug_names().get(ent.text.lower(), ent.text.lower())
                facts.append(
                    Medication(
                        label=ent.text,
                        name=ent.text,
                        normalized_name=generic,
                        evidence=evidence,
                        extractor=self.name,
                        grounding=Grounding.EXACT,
                    )
                )
                continue
            assertion = next((a for attr, a in _ASSERTION_OF if getattr(ent._, attr, False)), "present")
            facts.append(
                Problem(
                    label=ent.text,
                    text=ent.text,
                    evidence=evidence,
                    extractor=self.name,
                    grounding=Grounding.EXACT,
                    assertion=Assertion(assertion),
                )
            )
        return ExtractionOutput(facts=facts, backend=self.name, language="en")


class RulesExtractor:
    name = "rules"

    def extract(self, text: str) -> Any:
        from medspeak.indexing import extract_facts

        return extract_facts(text, language="en", backend="rules")


def _run(extractor: Any, texts: list[str]) -> dict[str, Any]:
    extractor.extract("Warm-up: aspirin 81 mg daily, no chest pain.")  # lexicons load before the clock starts
    counts: Counter[str] = Counter()
    negated = 0
    wall = cpu = 0.0
    for text in texts:
        w0, c0 = time.perf_counter(), time.process_time()
        output = extractor.extract(text)
        wall += time.perf_counter() - w0
        cpu += time.process_time() - c0
        counts.update(f.category for f in output.facts)
        negated += sum(1 for f in output.facts if f.category == "problem" and f.assertion.value == "absent")
    n = len(texts)
    return {
        "reports": n,
        "facts_per_report": {k: round(v / n, 2) for k, v in sorted(counts.items())},
        "negated_problems_per_report": round(negated / n, 2),
        "notes_per_s_wall": round(n / wall, 1),
        "notes_per_s_cpu": round(n / cpu, 1) if cpu else None,
    }


def _gold_scores(extractor: Any, reports: Path) -> dict[str, Any]:
    """``medspeak eval extraction --gold`` scores of ``extractor`` on each part of the gold split."""
    from medspeak.indexing.evaluation import (
        _count_grounding,
        _Counts,
        _report,
        _score_gold_medications,
        _score_gold_problems,
        read_gold,
    )

    split = json.loads((_GOLD / "split.json").read_text(encoding="utf-8"))
    scores = {}
    for part in ("development", "holdout"):
        meds, problems = _Counts(), _Counts()
        seconds = 0.0
        records = read_gold(_GOLD / "mtsamples_gold.jsonl", reports, set(split[part]))
        for record in records:
            started = time.perf_counter()
            output = extractor.extract(record["text"])
            seconds += time.perf_counter() - started
            _count_grounding(output, meds)
            _score_gold_medications(record["medications"], output, meds)
            _score_gold_problems(record["problems"], output, problems, findings=False)  # gold without findings
        scores[part] = _report(len(records), seconds, meds, problems)
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=Path, default=ROOT.parent / "shared" / "data" / "mtsamples" / "mtsamples.csv")
    parser.add_argument("--n", type=int, default=200, help="MTSamples reports to extract")
    parser.add_argument("--seed", type=int, default=0, help="draws the reports")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args()
    if not args.reports.is_file():
        sys.exit(f"No MTSamples CSV at {args.reports}: pass --reports.")

    texts = _reports(args.reports, args.n, args.seed)
    extractors: list[Any] = [RulesExtractor()]
    notes = []
    try:
        extractors.append(MedspacyBaseline())
    except ImportError as exc:
        notes.append(
            f"medspaCy skipped: not importable ({exc}); install it with "
            "`pip install --no-deps -r bench/requirements-bench.txt`."
        )
    load_before = os.getloadavg()[0]
    results = {e.name: {**_run(e, texts), "gold": _gold_scores(e, args.reports)} for e in extractors}
    if "medspacy" in results:
        results["medspacy"]["version"] = extractors[1].version
    rules = results["rules"]
    out = {
        "reports": len(texts),
        "seed": args.seed,
        "machine": {
            "cpus": os.cpu_count(),
            "load_avg_1min_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        },
        "results": results,
        "targets": {
            "notes_per_s": 50,
            "medication_f1": 0.85,
            "medication_attr_accuracy": 0.85,
            "problem_f1": 0.70,
            "assertion_accuracy": 0.90,
            "grounded_rate": 1.0,
        },
        "meets_targets_holdout": _meets(rules["gold"]["holdout"], rules["notes_per_s_cpu"]),
        "notes": notes,
    }
    if save_results("indexing", out, print_json=args.json):
        return
    sys.stdout.write(_table(out) + "\n")


def _meets(scores: dict[str, Any], cpu_rate: float | None) -> bool:
    return bool(
        (scores["medication_f1"] or 0) >= 0.85
        and (scores["medication_attr_accuracy"] or 0) >= 0.85
        and (scores["problem_f1"] or 0) >= 0.70
        and (scores["assertion_accuracy"] or 0) >= 0.90
        and scores["grounded_rate"] == 1.0
        and (cpu_rate or 0) >= 50
    )


def _table(out: dict[str, Any]) -> str:
    lines = [f"{out['reports']} MTSamples reports (seed {out['seed']}), machine {out['machine']}"]
    head = f"{'':10} {'notes/s':>8} {'cpu n/s':>8}  facts per report"
    lines.append(head)
    for name, r in out["results"].items():
        facts = ", ".join(f"{k} {v}" for k, v in r["facts_per_report"].items())
        lines.append(f"{name:10} {r['notes_per_s_wall']:8.1f} {r['notes_per_s_cpu'] or 0:8.1f}  {facts}")
    lines.append("")
    from medspeak.indexing.evaluation import METRIC_KEYS

    # The evaluation's scores, less counts, speed and the medication P/R that F1 already sums up.
    keys = [k for k in METRIC_KEYS if k not in ("notes", "notes_per_s", "medication_precision", "medication_recall")]
    lines.append(
        f"{'gold':22} " + " ".join(f"{k.replace('medication_', 'med_').replace('problem_', 'prob_'):>13}" for k in keys)
    )
    for name, r in out["results"].items():
        for part, scores in r["gold"].items():
            cells = " ".join(f"{scores[k] if scores[k] is not None else '-':>13}" for k in keys)
            lines.append(f"{name + ' ' + part:22} {cells}")
    lines.append(f"targets met on the held-out part (rules): {out['meets_targets_holdout']}")
    lines += out["notes"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
