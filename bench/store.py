"""What the audit trail costs: an audited, permission-checked patient read against a plain read.

Run: ``PYTHONPATH=. .venv/bin/python bench/store.py [--reads 500] [--json]``. Each figure is measured
side by side in one run on a fresh SQLite store; the table reports the ratio to the plain baseline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bench import save_results


def _timed(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reads", type=int, default=500)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="medspeak-bench-")
    os.environ.update(
        {
            "MEDSPEAK_HOME": home,
            "MEDSPEAK_BCRYPT_ROUNDS": "4",
            "MEDSPEAK_ENV": "development",  # a throwaway install: the public key and cheap hashing are fine
            "MEDSPEAK_SEED_DEMO": "false",
            "MEDSPEAK_SECRETS_FILE": str(Path(home) / "none.toml"),
        }
    )
    from medspeak.auth.roles import Actor
    from medspeak.config import load_settings
    from medspeak.services import patients
    from medspeak.services.audit_log import verify_store
    from medspeak.services.users import add_user
    from medspeak.store.db import Store
    from medspeak.store.models import Patient

    store = Store(load_settings())
    store.migrate()
    with store.transaction() as db:
        user = add_user(db, "bench", "Bench", "clinician", "benchmark-password", rounds=store.settings.bcrypt_rounds)
        actor = Actor(user.id, user.username, user.role)
        for i in range(200):
            db.add(
                Patient(
                    mrn=f"B{i:05d}",
                    given_name="Given",
                    family_name=f"Family{i}",
                    sex="female",
                    birth_date=date(1960, 1, 1),
                )
            )

    def plain_read() -> None:
        with store.transaction() as db:
            db.scalar(select(Patient).options(selectinload(Patient.encounters)).where(Patient.id == 7))

    def audited_read() -> None:
        patients.get_patient(store, actor, 7)

    results = {}
    for name, fn in (("plain read (baseline)", plain_read), ("audited service read", audited_read)):
        fn()  # warm up
        samples = _timed(fn, args.reads)
        results[name] = {
            "p50_ms": 1000 * statistics.median(samples),
            "p95_ms": 1000 * statistics.quantiles(samples, n=20)[18],
            "per_s": len(samples) / sum(samples),
        }
    start = time.perf_counter()
    report = verify_store(store)
    verify_s = time.perf_counter() - start
    base = results["plain read (baseline)"]["p50_ms"]
    out = {
        "reads": args.reads,
        "results": results,
        "audited_over_plain_p50": results["audited service read"]["p50_ms"] / base,
        "audit_events": report.checked,
        "verify_events_per_s": report.checked / verify_s,
        "chain_ok": report.ok,
    }
    if save_results("store", out, print_json=args.json):
        return
    sys.stdout.write(f"{'':24} {'p50 ms':>8} {'p95 ms':>8} {'per s':>8} {'x baseline':>10}\n")
    for name, r in results.items():
        sys.stdout.write(
            f"{name:24} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} {r['per_s']:8.0f} {r['p50_ms'] / base:10.2f}\n"
        )
    sys.stdout.write(
        f"chain verification: {out['verify_events_per_s']:.0f} events/s over {report.checked} events (ok={report.ok})\n"
    )


if __name__ == "__main__":
    main()
