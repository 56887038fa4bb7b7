"""Indexing an archive on the task engine: documents and pages an hour with 1 and 2 ``medspeak worker``s.

Run: ``MEDSPEAK_TEST_POSTGRES_URL=$(bash scripts/start-postgres.sh) PYTHONPATH=. .venv/bin/python
bench/archive.py [--text 60] [--scans 8] [--json]``. Results are also written to ``bench/results/archive.json``.

For each kind (text-layer PDFs, scanned pages as PNG) and each worker count, a fresh PostgreSQL database is
made, every document uploaded and deferred as a backlog job (originals in the database, as at scale), then
N ``medspeak worker`` processes, each in its own folder, read the queue; the clock starts when every worker
has said it is reading the queue (imports excluded) and stops when the last job is done. The rules extractor
indexes (``MEDSPEAK_LLM_BACKEND=rules``): the LLM's cost is planned separately (docs/scale.md). Target
(issue 17): 2 workers >= 1.8x 1 worker on text documents. On a machine with 2 cores shared with other work,
the ratio measures the free cores as much as the workers: the table prints the load average beside it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text

from bench import save_results

ROOT = Path(__file__).resolve().parents[1]
_DRUGS = ("Metoprolol", "Amoxicillin", "Furosemide", "Lisinopril", "Atorvastatin", "Paracetamol")
_PROBLEMS = ("community acquired pneumonia", "heart failure", "type 2 diabetes", "atrial fibrillation")


def _note(n: int) -> str:
    drug, other = _DRUGS[n % len(_DRUGS)], _DRUGS[(n + 2) % len(_DRUGS)]
    return (
        f"DISCHARGE SUMMARY {n:05d}\n\nHistory: admitted with {_PROBLEMS[n % len(_PROBLEMS)]}. "
        f"No chest pain. Known {_PROBLEMS[(n + 1) % len(_PROBLEMS)]}.\n"
        f"Examination: temperature 38.{n % 10} C, heart rate {70 + n % 40} bpm, blood pressure 1{20 + n % 30}/80.\n"
        f"Medications on discharge:\n- {drug} {10 + n % 90} mg PO twice daily\n- {other} 40 mg PO once daily\n"
        f"Allergies: penicillin (rash).\nFollow up in clinic in {1 + n % 4} weeks.\n"
    )


def _documents(kind: str, count: int) -> list[tuple[str, bytes]]:
    from medspeak.demo.render import render_pdf, render_scan

    if kind == "text":
        return [(f"summary-{n:05d}.pdf", render_pdf(_note(n), f"Summary {n}")) for n in range(count)]
    return [(f"scan-{n:05d}.png", render_scan(_note(n), seed=n)) for n in range(count)]


def _env(home: Path, url: str) -> dict[str, str]:
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "TMPDIR": str(home / "tmp"),
        "MEDSPEAK_ENV": "test",
        "MEDSPEAK_COOKIE_KEY": "bench-only-cookie-key-" + "0123456789abcdef" * 2,
        "MEDSPEAK_HOME": str(home / "var"),
        "MEDSPEAK_SECRETS_FILE": str(home / "absent.toml"),
        "MEDSPEAK_SEED_DEMO": "false",
        "MEDSPEAK_BCRYPT_ROUNDS": "4",
        "MEDSPEAK_DATABASE_URL": url,
        "MEDSPEAK_QUEUE_URL": url,
        "MEDSPEAK_FILE_STORE": "database",
        "MEDSPEAK_LLM_BACKEND": "rules",
    }


def _enqueue(url: str, home: Path, docs: list[tuple[str, bytes]]) -> None:
    """Upload every document as a backlog job in a child process (settings come from its environment)."""
    folder = home / "archive"
    folder.mkdir(parents=True)
    for name, content in docs:
        (folder / name).write_bytes(content)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from medspeak.services.users import add_user\n"
        "from medspeak.services.archive import enqueue, read_archive\n"
        "from medspeak.services.reading_queue import ensure_schema, queue_app\n"
        "from medspeak.services.record import actor_for\n"
        "from medspeak.services.context import AppContext\n"
        "ctx = AppContext.open(migrate=True); store = ctx.store; ensure_schema(queue_app(store.url))\n"
        "with store.transaction() as db:\n"
        "    add_user(db, 'bench', 'Bench', 'clinician', 'bench-password-123456', rounds=ctx.settings.bcrypt_rounds)\n"
        "actor = actor_for(store, 'bench')\n"
        "for i, entry in enumerate(read_archive(Path(sys.argv[1]))):\n"
        "    assert enqueue(ctx, actor, i, entry, {}).state == 'queued', entry\n"
        "ctx.close()\n"
    )
    argv = [sys.executable, "-c", code, str(folder)]  # this interpreter, fixed code: no outside input
    subprocess.run(argv, cwd=home, env=_env(home, url), check=True)  # noqa: S603


def _measure(admin_url: str, kind: str, docs: list[tuple[str, bytes]], workers: int) -> dict[str, Any]:
    admin = make_url(admin_url)
    name = f"medspeak_bench_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.set(database=name).render_as_string(hide_password=False)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="medspeak-bench-") as tmp:
            _enqueue(url, Path(tmp) / "office", docs)
            logs = [Path(tmp) / f"worker{n}" / "log.txt" for n in range(workers)]
            for log in logs:
                log.parent.mkdir()
                with log.open("wb") as out:
                    procs.append(
                        subprocess.Popen(
                            [sys.executable, "-m", "medspeak", "worker"],
                            cwd=log.parent,
                            env=_env(log.parent, url),
                            stdout=out,
                            stderr=subprocess.STDOUT,
                        )
                    )
            while not all("Worker reading queue" in log.read_text(errors="replace") for log in logs):
                if any(p.poll() is not None for p in procs):
                    raise SystemExit(f"a worker stopped: {logs[0].read_text(errors='replace')[-2000:]}")
                time.sleep(0.05)
            start, load = time.perf_counter(), os.getloadavg()[0]
            db = create_engine(url)
            while True:
                with db.connect() as conn:
                    left = conn.scalar(text("SELECT count(*) FROM ingest_jobs WHERE status IN ('queued', 'running')"))
                    if not left:
                        elapsed = time.perf_counter() - start
                        done = conn.scalar(text("SELECT count(*) FROM ingest_jobs WHERE status = 'done'"))
                        pages = conn.scalar(text("SELECT coalesce(sum(pages_done), 0) FROM ingest_jobs"))
                        break
                time.sleep(0.1)
            db.dispose()
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
    return {
        "kind": kind,
        "workers": workers,
        "documents": len(docs),
        "done": int(done or 0),
        "pages": int(pages or 0),
        "seconds": round(elapsed, 2),
        "docs_per_hour": round(len(docs) / elapsed * 3600),
        "pages_per_hour": round(int(pages or 0) / elapsed * 3600),
        "seconds_per_doc": round(elapsed / len(docs), 4),
        "load_before": round(load, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", type=int, default=60, help="text-layer PDFs per run")
    parser.add_argument("--scans", type=int, default=8, help="scanned pages (PNG) per run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("MEDSPEAK_TEST_POSTGRES_URL")
    if not url:
        raise SystemExit("Set MEDSPEAK_TEST_POSTGRES_URL=$(bash scripts/start-postgres.sh): workers need PostgreSQL.")
    rows = []
    for kind, count in (("text", args.text), ("scanned", args.scans)):
        docs = _documents(kind, count)
        one, two = (_measure(url, kind, docs, workers) for workers in (1, 2))
        rows.append(
            {"kind": kind, "one": one, "two": two, "ratio": round(two["docs_per_hour"] / one["docs_per_hour"], 2)}
        )
    results = {"cores": os.cpu_count(), "rows": rows}
    if save_results("archive", results, print_json=args.json):
        return
    sys.stdout.write(_table(rows) + "\n")


def _table(rows: list[dict[str, Any]]) -> str:
    head = ("kind", "1 worker docs/h [load]", "2 workers docs/h [load]", "ratio", "1w pages/h", "2w pages/h")
    lines = [f"{os.cpu_count()} CPU cores; the load average before each run in brackets", " | ".join(head)]
    for row in rows:
        one, two = row["one"], row["two"]
        lines.append(
            f"{row['kind']} | {one['docs_per_hour']:,} [{one['load_before']:.1f}] | "
            f"{two['docs_per_hour']:,} [{two['load_before']:.1f}] | {row['ratio']:.2f} | "
            f"{one['pages_per_hour']:,} | {two['pages_per_hour']:,}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
