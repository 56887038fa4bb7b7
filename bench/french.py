"""French extraction (issue 14): each component's contribution, EDS-NLP's pipes side by side, and speed.

Run: ``PYTHONPATH=. .venv/bin/python bench/french.py [--fr-reports ../shared/data/mtsamples_fr/machine_translated]
[--en-reports ../shared/data/mtsamples/mtsamples.csv] [--previous DIR] [--json]``; results are also
written to ``bench/results/french.json``.

- **Ablation** (leave one out): the ``medspeak eval extraction`` scores on the French gold
  (``tests/indexing/gold/mtsamples_fr_gold.jsonl``, development and held-out parts) with everything on,
  then with one component off at a time. A data file "as before" is the file of the commit before issue 14
  (``--base``, read with ``git show``; the row is skipped without git).
- **EDS-NLP pipes** (edsnlp, AP-HP): ``eds.drugs`` as the drug finder in place of ours, and EDS-NLP's
  qualifiers (``eds.negation``, ``eds.hypothesis``, ``eds.family``, ``eds.history``) deciding the
  assertion of our own problem spans in place of our ConText.
- **Speed**: notes/s of the rules on every French report and on ``--n`` English reports, and of the
  rules before issue 14 when ``--previous`` names an export of that tree
  (``git archive <base> medspeak | tar -x -C DIR``), run in a subprocess.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import save_results

ROOT = Path(__file__).resolve().parents[1]
_GOLD = ROOT / "tests" / "indexing" / "gold" / "mtsamples_fr_gold.jsonl"
_SPLIT = ROOT / "tests" / "indexing" / "gold" / "split_fr.json"
_BASE = "2da7b48"  # the commit issue 14 started from
_KEYS = (
    "medication_f1",
    "frequency_accuracy",
    "problem_precision",
    "problem_recall",
    "problem_f1",
    "assertion_accuracy",
    "assertion_lenient_accuracy",
    "nkda_accuracy",
    "vital_f1",
)


def _clear_caches() -> None:
    from medspeak.indexing.rules import context, lexicon, measurements, medications, problems, sections

    for module in (lexicon, medications, problems, sections, context, measurements):
        for value in vars(module).values():
            if hasattr(value, "cache_clear"):
                value.cache_clear()


@contextmanager
def _patched(target: Any, name: str, value: Any) -> Iterator[None]:
    old = getattr(target, name)
    setattr(target, name, value)
    _clear_caches()
    try:
        yield
    finally:
        setattr(target, name, old)
        _clear_caches()


def _previous_data(language: str, name: str, base: str) -> dict[str, Any] | None:
    path = f"medspeak/indexing/rules/data/{language}/{name}.json"
    try:
        shown = subprocess.run(  # noqa: S603  # fixed arguments, no shell
            ["git", "show", f"{base}:{path}"],  # noqa: S607  # git from PATH, as a developer runs it
            cwd=ROOT,
            capture_output=True,
            check=True,
            text=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    data: dict[str, Any] = json.loads(shown.stdout)
    return data


@contextmanager
def _data_as_before(name: str, base: str, keep: tuple[str, ...] = ()) -> Iterator[None]:
    """The French data file ``name`` as it was at ``base`` (its ``keep`` keys as now), in every rules module
    that reads it."""
    from medspeak.indexing.rules import allergies, context, lexicon, measurements, medications, problems, sections

    previous = _previous_data("fr", name, base)
    if previous is None:
        raise LookupError(name)
    real = lexicon.load
    previous |= {key: real("fr", name)[key] for key in keep}

    def load(language: str, file: str) -> dict[str, Any]:
        return previous if (language, file) == ("fr", name) else real(language, file)

    modules = [lexicon, allergies, context, measurements, medications, problems, sections]
    for module in modules:
        module.load = load  # type: ignore[attr-defined]
    _clear_caches()
    try:
        yield
    finally:
        for module in modules:
            module.load = real  # type: ignore[attr-defined]
        _clear_caches()


def _ablations(base: str) -> dict[str, Callable[[], Any]]:
    """Name → a context manager that turns one component off."""
    from medspeak.indexing.rules import backend, lexicon, measurements, medications, problems

    never = re.compile(r"(?!x)x")
    old_split = re.compile(r"[\n;]|\.(?=\s+[A-Z]|\s*,)|,(?!\s*\d)|\s+and\s+(?=[A-Za-z])|(?<=[.,])\s*(?=\d{1,2}\.\s)")
    return {
        "French section titles as before": lambda: _data_as_before("sections", base),
        "no sections at all": lambda: _patched(backend, "find_sections", lambda text, language: []),
        "EDS-NLP drug terminology off": lambda: _patched(lexicon, "_eds_drugs", lambda: {}),
        "French cue words off (bare names in prose)": lambda: _patched(medications, "_french_cue", lambda: never),
        "French frequencies, as-needed, statuses as before": lambda: _data_as_before(
            "medication_patterns", base, keep=("cues",)
        ),
        "list items not split on et/avec": lambda: _patched(medications, "_INLINE_SPLIT", old_split),
        "French vital phrasing off": lambda: _patched(measurements, "_FILLER", measurements._SEPARATOR),
        "French problem lexicon as before (63 terms)": lambda: _data_as_before(
            "problems", base, keep=("heads", "bare_heads_not_problems")
        ),
        "head-term complements off": lambda: _patched(problems, "_heads", lambda: (frozenset(), frozenset())),
        "French ConText triggers as before": lambda: _data_as_before("context", base),
        "examination findings off": lambda: _patched(
            problems, "_skipped", lambda language: frozenset(problems._SKIP_SECTIONS)
        ),
    }


def _scores(reports: Path, ids: set[str]) -> dict[str, Any]:
    from medspeak.indexing.evaluation import evaluate_gold

    result = evaluate_gold(_GOLD, reports, backend="rules", ids=ids)
    return {k: result[k] for k in _KEYS}


def ablation(reports: Path, base: str) -> dict[str, Any]:
    split = json.loads(_SPLIT.read_text(encoding="utf-8"))
    parts = {part: set(split[part]) for part in ("development", "holdout")}
    rows: dict[str, Any] = {"all components": {p: _scores(reports, ids) for p, ids in parts.items()}}
    for name, off in _ablations(base).items():
        try:
            with off():
                rows[name] = {p: _scores(reports, ids) for p, ids in parts.items()}
        except LookupError:
            rows[name] = None  # the data file before issue 14 is not reachable (no git)
    return rows


class _Eds:
    """EDS-NLP pipes, built once (``eds.drugs`` takes ~6 s to build here)."""

    def __init__(self) -> None:
        import edsnlp
        import edsnlp.pipes as eds

        self.nlp = edsnlp.blank("eds")
        self.nlp.add_pipe(eds.sentences())
        self.nlp.add_pipe(eds.normalizer())
        self.nlp.add_pipe(eds.drugs(term_matcher="exact", attr="NORM"))
        self.qualifiers = edsnlp.blank("eds")
        self.qualifiers.add_pipe(eds.sentences())
        self.qualifiers.add_pipe(eds.normalizer())
        for pipe in (eds.negation(), eds.hypothesis(), eds.family(), eds.history()):
            self.qualifiers.add_pipe(pipe)

    def drugs(self, text: str) -> list[tuple[int, int, str]]:
        return [(e.start_char, e.end_char, e.kb_id_) for e in self.nlp(text).ents]

    def assertions(self, text: str, spans: list[tuple[int, int]]) -> list[str]:
        doc = self.qualifiers.make_doc(text)
        ents = [s for a, b in spans if (s := doc.char_span(a, b, label="problem", alignment_mode="expand"))]
        pipes = list(self.qualifiers.pipeline)
        for _name, pipe in pipes[:2]:  # sentences and normaliser first, then the targets, then the qualifiers
            doc = pipe(doc)
        doc.ents = _non_overlapping(ents)
        for _name, pipe in pipes[2:]:
            doc = pipe(doc)
        by_start = {e.start_char: e for e in doc.ents}
        found = []
        for a, _ in spans:
            e = by_start.get(a)
            if e is None:
                found.append("present")
            elif e._.negation:
                found.append("absent")
            elif e._.family:
                found.append("family")
            elif e._.hypothesis:
                found.append("possible")
            elif e._.history:
                found.append("historical")
            else:
                found.append("present")
        return found


def _non_overlapping(spans: list[Any]) -> list[Any]:
    kept: list[Any] = []
    for span in sorted(spans, key=lambda s: (s.start, -len(s))):
        if not kept or span.start >= kept[-1].end:
            kept.append(span)
    return kept


def eds_side_by_side(reports: Path) -> dict[str, Any]:
    from medspeak.indexing import extract_facts
    from medspeak.indexing.evaluation import _Counts, _report, _score_gold_medications, _score_gold_problems, read_gold
    from medspeak.indexing.extract import ExtractionOutput
    from medspeak.indexing.schema import Assertion, Evidence, Finding, Medication, Problem

    started = time.perf_counter()
    pipes = _Eds()
    build_s = time.perf_counter() - started
    split = json.loads(_SPLIT.read_text(encoding="utf-8"))
    out: dict[str, Any] = {"eds_build_s": round(build_s, 1)}
    for part in ("development", "holdout"):
        ours_m, eds_m, ours_p, eds_p = _Counts(), _Counts(), _Counts(), _Counts()
        seconds = 0.0
        records = read_gold(_GOLD, reports, set(split[part]))
        for record in records:
            text = record["text"]
            output = extract_facts(text, language="fr", backend="rules")
            _score_gold_medications(record["medications"], output, ours_m)
            _score_gold_problems(record["problems"], output, ours_p)
            t0 = time.perf_counter()
            drugs = pipes.drugs(text)
            seconds += time.perf_counter() - t0
            meds = [
                Medication(
                    label=text[a:b],
                    name=text[a:b],
                    normalized_name=code,
                    evidence=Evidence(start=a, end=b, text=text[a:b]),
                )
                for a, b, code in drugs
            ]
            _score_gold_medications(
                record["medications"], ExtractionOutput(facts=meds, backend="eds", language="fr"), eds_m
            )
            problems = [f for f in output.facts if isinstance(f, Problem | Finding) and f.evidence]
            said = pipes.assertions(text, [(f.evidence.start, f.evidence.end) for f in problems if f.evidence])
            requalified = [
                f.model_copy(update={"assertion": Assertion(a)}) for f, a in zip(problems, said, strict=True)
            ]
            _score_gold_problems(
                record["problems"], ExtractionOutput(facts=requalified, backend="eds", language="fr"), eds_p
            )
        n = len(records)
        ours, eds_drugs = _report(n, 1.0, ours_m, ours_p), _report(n, 1.0, eds_m, eds_p)
        out[part] = {
            "drugs": {
                "medspeak": {k: ours[k] for k in ("medication_precision", "medication_recall", "medication_f1")},
                "eds.drugs": {k: eds_drugs[k] for k in ("medication_precision", "medication_recall", "medication_f1")},
                "eds_ms_per_report": round(1000 * seconds / n, 1),
            },
            "assertion_on_our_spans": {
                "medspeak ConText": {k: ours[k] for k in ("assertion_accuracy", "assertion_lenient_accuracy")},
                "EDS-NLP qualifiers": {k: eds_drugs[k] for k in ("assertion_accuracy", "assertion_lenient_accuracy")},
            },
        }
    return out


_DUMP_SNIPPET = """
import json, sys
from pathlib import Path
from medspeak.indexing import extract_facts
texts = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
out = {key: extract_facts(text, backend="rules").model_dump_json() for key, text in texts.items()}
Path(sys.argv[2]).write_text(json.dumps(out), encoding="utf-8")
"""


def before_and_after(previous: Path, golds: dict[str, tuple[Path, Path, Path]]) -> dict[str, Any]:
    """Held-out scores of the extractor before issue 14 (run in its own process from ``previous``) and now,
    both scored by today's scorer on the same texts."""
    from medspeak.indexing import extract_facts
    from medspeak.indexing.evaluation import (
        _count_grounding,
        _Counts,
        _report,
        _score_gold_medications,
        _score_gold_problems,
        _score_gold_vitals,
        read_gold,
    )
    from medspeak.indexing.extract import ExtractionOutput
    from medspeak.indexing.schema import Allergy

    out: dict[str, Any] = {}
    for name, (gold, reports, split) in golds.items():
        records = read_gold(gold, reports, set(json.loads(split.read_text(encoding="utf-8"))["holdout"]))
        with tempfile.TemporaryDirectory() as tmp:  # report texts never go into the repository
            texts, dumped = Path(tmp) / "texts.json", Path(tmp) / "facts.json"
            texts.write_text(json.dumps({r["id"]: r["text"] for r in records}), encoding="utf-8")
            env = {**os.environ, "PYTHONPATH": str(previous), "MEDSPEAK_LLM_BACKEND": "rules"}
            subprocess.run(  # noqa: S603  # our own interpreter and snippet
                [sys.executable, "-c", _DUMP_SNIPPET, str(texts), str(dumped)],
                env=env,
                cwd=previous,  # "python -c" puts the working directory first on sys.path: the old tree's
                check=True,
                capture_output=True,
            )
            before = json.loads(dumped.read_text(encoding="utf-8"))
        rows = {}
        for label in ("before issue 14", "now"):
            meds, problems, vitals, nkda = _Counts(), _Counts(), _Counts(), 0
            for record in records:
                output = (
                    ExtractionOutput.model_validate_json(before[record["id"]])
                    if label == "before issue 14"
                    else extract_facts(record["text"], backend="rules")
                )
                _count_grounding(output, meds)
                _score_gold_medications(record["medications"], output, meds)
                _score_gold_problems(record["problems"], output, problems)
                _score_gold_vitals(record["vitals"], output, vitals)
                nkda += any(isinstance(f, Allergy) and f.nkda for f in output.facts) == record["nkda"]
            report = _report(len(records), 1.0, meds, problems, vitals, nkda)
            rows[label] = {k: v for k, v in report.items() if k != "notes_per_s"}
        out[name] = rows
    return out


_SPEED_SNIPPET = """
import json, sys, time
from pathlib import Path
from medspeak.indexing import extract_facts
texts = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
extract_facts("Warm-up: aspirin 81 mg daily.", backend="rules")
out = {}
for lang, batch in texts.items():
    started = time.perf_counter()
    for text in batch:
        extract_facts(text, backend="rules")
    out[lang] = round(len(batch) / (time.perf_counter() - started), 1)
print(json.dumps(out))
"""


def speed(fr_reports: Path, en_reports: Path, n: int, previous: Path | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:  # report texts never go into the repository
        return _speed(fr_reports, en_reports, n, previous, Path(tmp))


def _speed(fr_reports: Path, en_reports: Path, n: int, previous: Path | None, tmp: Path) -> dict[str, Any]:
    french = [p.read_text(encoding="utf-8") for p in sorted(fr_reports.glob("*.txt")) if p.stat().st_size < 20_000]
    with en_reports.open(encoding="utf-8", newline="") as handle:
        english = sorted({row["transcription"] for row in csv.DictReader(handle) if row["transcription"].strip()})
    english = random.Random(0).sample(english, n)  # noqa: S311  # a reproducible draw
    batch = tmp / "speed_texts.json"
    batch.write_text(json.dumps({"fr": french, "en": english}), encoding="utf-8")
    trees = {"now": ROOT} | ({"before issue 14": previous} if previous else {})
    out: dict[str, Any] = {"reports": {"fr": len(french), "en": len(english)}}
    for label, tree in trees.items():
        env = {**os.environ, "PYTHONPATH": str(tree), "MEDSPEAK_LLM_BACKEND": "rules"}
        done = subprocess.run(  # noqa: S603  # our own interpreter and snippet
            [sys.executable, "-c", _SPEED_SNIPPET, str(batch)],
            env=env,
            cwd=tree,  # "python -c" puts the working directory first on sys.path
            capture_output=True,
            text=True,
            check=True,
        )
        out[label] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared = ROOT.parent / "shared" / "data"
    parser.add_argument("--fr-reports", type=Path, default=shared / "mtsamples_fr" / "machine_translated")
    parser.add_argument("--en-reports", type=Path, default=shared / "mtsamples" / "mtsamples.csv")
    parser.add_argument("--previous", type=Path, help="an export of the tree before issue 14, for speed")
    parser.add_argument("--base", default=_BASE, help="commit whose data files are 'as before'")
    parser.add_argument("--n", type=int, default=100, help="English reports for the speed run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    golds = {
        "French": (_GOLD, args.fr_reports, _SPLIT),
        "English (conventions)": (
            _GOLD.with_name("mtsamples_en_gold.jsonl"),
            args.en_reports,
            _SPLIT.with_name("split_en.json"),
        ),
    }
    results = {
        "before_and_after": before_and_after(args.previous, golds) if args.previous else None,
        "ablation": ablation(args.fr_reports, args.base),
        "eds_nlp": eds_side_by_side(args.fr_reports),
        "speed_notes_per_s": speed(args.fr_reports, args.en_reports, args.n, args.previous),
    }
    if save_results("french", results, print_json=args.json):
        return
    print(f"{'component off':45s} " + " ".join(f"{k[:10]:>10s}" for k in _KEYS))  # noqa: T201
    for name, row in results["ablation"].items():
        if row is None:
            print(f"{name:45s} (git needed)")  # noqa: T201
            continue
        for part, scores in row.items():
            cells = " ".join(f"{scores[k]:10.3f}" if scores[k] is not None else f"{'-':>10s}" for k in _KEYS)
            print(f"{name[:36]:36s} {part[:8]:8s} {cells}")  # noqa: T201
    print(json.dumps(results["eds_nlp"], indent=1))  # noqa: T201
    print(json.dumps(results["speed_notes_per_s"]))  # noqa: T201


if __name__ == "__main__":
    main()
