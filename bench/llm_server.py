"""The OpenAI-compatible backend at scale: documents an hour with 1 request in flight and with N, side by side.

Run: ``PYTHONPATH=. .venv/bin/python bench/llm_server.py [--reports ../shared/data/mtsamples/mtsamples.csv]
[--concurrency 8] [--json]``. Results are also written to ``bench/results/llm_server.json``.

The server is a local stand-in for vLLM/TGI with continuous batching (no GPU here): a request costs a
prefill (prompt tokens / ``--prefill-tok-s``) then ``--output-tokens`` decode steps, and each step takes
``--step-ms`` times (1 + ``--batch-slowdown`` per other sequence decoding at the same moment) — what a
7B model in bf16 on one A100-class GPU shows (about 50 tokens/s alone, a step ~25 % slower at 8 at once).
Documents go through ``extract_facts(backend="openai")``, as an ingest job sends them, in two shapes:

- ``records``: one ingest worker, multi-section stay records (four MTSamples reports joined, 2-4 chunks
  of 6,000 characters): concurrency helps within a document;
- ``reports``: four ingest workers (``MEDSPEAK_INGEST_WORKERS=4``), one report each (one chunk): the
  backend's bound is shared by the workers.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench import save_results
from medspeak.config import load_settings
from medspeak.indexing import extract_facts
from medspeak.indexing.extract import Extractors

_ROOT = Path(__file__).resolve().parents[1]
_REPORTS = _ROOT.parent / "shared" / "data" / "mtsamples" / "mtsamples.csv"


@dataclass
class ServerModel:
    """Latency of the stand-in server."""

    step_ms: float
    batch_slowdown: float
    output_tokens: int
    prefill_tok_s: float
    active: int = 0
    most: int = 0
    requests: int = 0

    def __post_init__(self) -> None:
        self.lock = threading.Lock()

    def serve(self, prompt_chars: int) -> None:
        with self.lock:
            self.active += 1
            self.requests += 1
            self.most = max(self.most, self.active)
        try:
            time.sleep(prompt_chars / 4 / self.prefill_tok_s)  # ~4 characters a token
            for _ in range(self.output_tokens):
                with self.lock:
                    others = self.active - 1
                time.sleep(self.step_ms / 1000 * (1 + self.batch_slowdown * others))
        finally:
            with self.lock:
                self.active -= 1


@contextmanager
def stand_in(model: ServerModel) -> Iterator[str]:
    """An OpenAI-compatible server on 127.0.0.1 answering ``{"facts": []}`` after the model's latency."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._send({"object": "list", "data": [{"id": "stand-in-7b", "object": "model"}]})

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            model.serve(sum(len(m["content"]) for m in request["messages"]))
            content = json.dumps({"facts": []})
            message = {"role": "assistant", "content": content}
            self._send({"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _reports(path: Path, n: int, seed: int) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        texts = [r["transcription"] for r in csv.DictReader(handle) if len(r["transcription"] or "") >= 1500]
    return random.Random(seed).sample(sorted(texts), n)  # noqa: S311 - a reproducible sample, not a secret


def _run(url: str, documents: list[str], concurrency: int, workers: int, model: ServerModel) -> dict[str, Any]:
    os.environ.update(MEDSPEAK_LLM_URL=url, MEDSPEAK_LLM_CONCURRENCY=str(concurrency), MEDSPEAK_LLM_TIMEOUT_S="600")
    extractors = Extractors(load_settings())  # what a context's runner reads with
    model.most = model.requests = 0
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:  # the ingest workers, one document each
        outputs = list(pool.map(lambda text: extract_facts(text, backend="openai", extractors=extractors), documents))
    seconds = time.perf_counter() - start
    extractors.close()
    assert all(o.backend == "openai" for o in outputs), [o.notices for o in outputs]  # noqa: S101
    return {
        "concurrency": concurrency,
        "documents": len(documents),
        "requests": model.requests,
        "most_in_flight": model.most,
        "seconds": round(seconds, 2),
        "documents_per_hour": round(len(documents) / seconds * 3600),
        "requests_per_s": round(model.requests / seconds, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=Path, default=_REPORTS)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--records", type=int, default=6, help="multi-section records, one ingest worker")
    parser.add_argument("--single", type=int, default=16, help="single reports, four ingest workers")
    parser.add_argument("--step-ms", type=float, default=20.0)
    parser.add_argument("--batch-slowdown", type=float, default=0.03)
    parser.add_argument("--output-tokens", type=int, default=150)
    parser.add_argument("--prefill-tok-s", type=float, default=5000.0)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    model = ServerModel(args.step_ms, args.batch_slowdown, args.output_tokens, args.prefill_tok_s)
    texts = _reports(args.reports, args.records * 4 + args.single, args.seed)
    records = ["\n\n".join(texts[i : i + 4]) for i in range(0, args.records * 4, 4)]
    singles = texts[args.records * 4 :]
    shapes = [("records", records, 1), ("reports", singles, 4)]
    rows = []
    extract_facts(singles[0], backend="rules")  # load the lexicons once, outside the timed runs
    with stand_in(model) as url:
        for shape, documents, workers in shapes:
            for concurrency in (1, args.concurrency):
                row = {"shape": shape, "ingest_workers": workers, **_run(url, documents, concurrency, workers, model)}
                rows.append(row)
    results = {
        "server": {k: getattr(args, k) for k in ("step_ms", "batch_slowdown", "output_tokens", "prefill_tok_s")},
        "runs": rows,
        "speedup": {
            shape: round(rows[2 * i + 1]["documents_per_hour"] / rows[2 * i]["documents_per_hour"], 2)
            for i, (shape, _, _) in enumerate(shapes)
        },
    }
    if not save_results("llm_server", results, print_json=args.json):
        header = f"{'shape':<8} {'workers':>7} {'conc.':>5} {'docs':>5} {'reqs':>5} {'max':>4} {'s':>7} {'docs/h':>8}"
        sys.stdout.write(header + "\n")
        for r in rows:
            sys.stdout.write(
                f"{r['shape']:<8} {r['ingest_workers']:>7} {r['concurrency']:>5} {r['documents']:>5} "
                f"{r['requests']:>5} {r['most_in_flight']:>4} {r['seconds']:>7} {r['documents_per_hour']:>8}\n"
            )
        sys.stdout.write(f"speed-up at concurrency {args.concurrency}: {results['speedup']}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
