"""Reading time and peak memory of the largest texts accepted (issue 19, finding 3).

Each case runs in a fresh interpreter: validate the upload, read it (``extract``) and extract its
facts with the rules (``extract_facts``, under the job's budget), as a job does. The text is the
worst found for the rules: a clinical line every ~34 characters, a fact every ~28. Peak resident
memory includes ~0.3 GB of imports and lexicons. ``python -m bench.reading_budgets [--json]``.

Before the fix (same machine, same text): 137 KB took 70 s (66 s in ``_page_and_box``), 1 MB 31.6 s
with linear grounding but quadratic rules; the issue measured 200 KB at 57 s and 1 MB over 5 minutes.
"""

from __future__ import annotations

import subprocess
import sys
import time

from bench import save_results

_CASE = """
import random, resource, sys, time
from medspeak.indexing.extract import extract_facts
from medspeak.ingest.pipeline import extract
from medspeak.ingest.validate import MAX_TEXT_CHARS, validate_upload
from medspeak.work_budget import WorkBudget
kind, chars = sys.argv[1], int(sys.argv[2])
lines = ["Discharge summary", "Metoprolol 25 mg PO twice daily.", "Allergies: penicillin (rash).",
         "BP 128/82, HR 88, SpO2 97%.", "Amoxicillin 500 mg three times daily for 7 days.",
         "History of type 2 diabetes and hypertension.", "Follow-up in two weeks with cardiology.",
         "Patient denies chest pain.", "Lisinopril 10 mg daily.", "The weather was pleasant and the family visited."]
random.seed(1)
out, size = [], 0
while size < chars:
    out.append(random.choice(lines)); size += len(out[-1]) + 1
text = "\\n".join(out)[:chars]
if kind == "docx":
    import io
    from docx import Document
    doc = Document()
    for line in text.split("\\n"):
        doc.add_paragraph(line)
    buf = io.BytesIO(); doc.save(buf); content, name = buf.getvalue(), "n.docx"
else:
    content, name = text.encode(), "n.txt"
start = time.perf_counter()
upload = validate_upload(name, content, max_bytes=20 * 2**20, max_pages=50)
result = extract(upload, lambda: None)
facts = extract_facts(result.text, pages=result.pages, backend="rules", budget=WorkBudget(45.0))
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
sys.stdout.write(f"{len(content)} {len(facts.facts)} {seconds:.2f} {peak}\\n")
"""
_CASES = [("txt", 200_000), ("txt", 1_000_000), ("txt", 2_000_000), ("docx", 1_900_000)]


def main() -> None:
    rows = []
    for kind, chars in _CASES:
        start = time.perf_counter()
        out = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", _CASE, kind, str(chars)], capture_output=True, text=True, check=True
        ).stdout.split()
        size, facts, seconds, peak = int(out[0]), int(out[1]), float(out[2]), int(out[3])
        rows.append(
            {"kind": kind, "chars": chars, "bytes": size, "facts": facts, "reading_s": seconds, "peak_mb": peak,
             "process_s": round(time.perf_counter() - start, 2)}
        )  # fmt: skip
    if not save_results("reading_budgets", rows, print_json="--json" in sys.argv):
        sys.stdout.write(f"{'kind':<5} {'chars':>10} {'bytes':>10} {'facts':>7} {'reading s':>10} {'peak MB':>8}\n")
        for r in rows:
            line = f"{r['kind']:<5} {r['chars']:>10} {r['bytes']:>10} {r['facts']:>7}"
            sys.stdout.write(f"{line} {r['reading_s']:>10} {r['peak_mb']:>8}\n")


if __name__ == "__main__":
    main()
