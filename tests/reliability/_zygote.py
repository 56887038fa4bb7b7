"""Forks ingestion workers for the crash test: imports once, then each worker starts in milliseconds.

Protocol on stdin/stdout, one line each: ``run PHASES_FILE`` forks a worker and answers its pid;
``reap PID`` waits for that (killed) worker and answers ``reaped``; ``quit`` ends. The worker runs
the real ``JobRunner`` on the queued jobs, with a pause inside reading and inside indexing so that
a kill can land there, and appends each phase it enters to PHASES_FILE.
"""

from __future__ import annotations

import os
import sys
import time

from medspeak.config import load_settings
from medspeak.services import reading as jobs
from medspeak.store.db import Store

_PAUSE_S = 0.25  # inside each phase: a window for the kill, on top of the real work


def _worker(phases_file: str) -> None:
    def mark(phase: str) -> None:
        fd = os.open(phases_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.write(fd, f"{phase}\n".encode())
        os.close(fd)

    real_extract, real_index = jobs.extract, jobs._index

    def extract(*args, **kwargs):  # type: ignore[no-untyped-def]
        mark("extract")
        time.sleep(_PAUSE_S)
        return real_extract(*args, **kwargs)

    def index(*args, **kwargs):  # type: ignore[no-untyped-def]
        mark("index")
        time.sleep(_PAUSE_S)
        output = real_index(*args, **kwargs)
        mark("commit")  # next: the one transaction that writes pages, facts, status and audit
        return output

    jobs.extract, jobs._index = extract, index
    runner = jobs.JobRunner(Store(load_settings()))
    mark("ready")
    runner.resume_pending()
    time.sleep(60)  # killed long before; the test's final pass runs in its own process


def _answer(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> None:
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        if command == "run":
            pid = os.fork()
            if pid == 0:
                try:
                    _worker(arg)
                finally:
                    os._exit(0)
            _answer(str(pid))
        elif command == "reap":
            os.waitpid(int(arg), 0)
            _answer("reaped")
        else:
            return


if __name__ == "__main__":
    main()
