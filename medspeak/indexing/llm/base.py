"""What a language-model backend returns, how it says it cannot be used, and the chunk loop both share."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from medspeak.errors import LLMUnavailable
from medspeak.indexing.llm.answer import TruncatedAnswer, parse_answer
from medspeak.indexing.llm.chunks import chunk_document, split_chunk
from medspeak.indexing.llm.prompt import Chunk, to_facts
from medspeak.indexing.schema import Fact

__all__ = ["Generate", "LLMResult", "LLMUnavailable", "UNSCORED_CONFIDENCE", "run_chunks"]

UNSCORED_CONFIDENCE = 0.7  # a fact from a server that returned no token probabilities
_MAX_SPLITS = 2  # a truncated answer is retried on halves, then quarters; then the rules cover that text
_MIN_SPLIT_CHARS = 400  # shorter chunks are not split further: the budget, not the chunk, is too small

# One request: the answer text and each fact's confidence (None when the model gave no probabilities).
Generate = Callable[[Chunk], tuple[str, list[float] | None]]


@dataclass
class LLMResult:
    """Candidate facts (claimed evidence, not yet grounded) and notices for the user."""

    facts: list[Fact] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def run_chunks(
    generate: Generate, extractor: str, text: str, language: str, chunk_chars: int, *, concurrency: int = 1
) -> LLMResult:
    """Candidate facts of ``text``, asked chunk by section; a cut-off answer is retried on halves.

    With ``concurrency`` > 1 up to that many chunks are asked at once (a server batches them); facts and
    notices come back in the document's order whatever order the answers arrive in.

    Raises:
        LLMUnavailable: from ``generate`` (the model or server cannot answer at all).
    """
    chunks = chunk_document(text, language, chunk_chars)
    if concurrency <= 1 or len(chunks) <= 1:
        parts = [_ask(generate, extractor, chunk) for chunk in chunks]
    else:
        pool = ThreadPoolExecutor(max_workers=min(concurrency, len(chunks)), thread_name_prefix="medspeak-llm")
        try:
            futures = [pool.submit(_ask, generate, extractor, chunk) for chunk in chunks]
            parts = [future.result() for future in futures]
        finally:  # the server is down: do not send the chunks not yet asked
            pool.shutdown(wait=True, cancel_futures=True)
    result = LLMResult()
    for part in parts:
        result.facts.extend(part.facts)
        result.notices.extend(part.notices)
    return result


def _ask(generate: Generate, extractor: str, chunk: Chunk) -> LLMResult:
    """One chunk's facts; a cut-off answer is asked again on halves, then quarters (depth first)."""
    result = LLMResult()
    pending = [(chunk, 0)]
    while pending:
        chunk, depth = pending.pop(0)
        span = f"characters {chunk.start}-{chunk.start + len(chunk.text)}"
        try:
            answer_text, confidences = generate(chunk)
            answer = parse_answer(answer_text)
        except TruncatedAnswer:
            if depth < _MAX_SPLITS and len(chunk.text) >= _MIN_SPLIT_CHARS:
                pending[:0] = [(half, depth + 1) for half in split_chunk(chunk)]
            else:
                result.notices.append(f"The language model's answer for {span} was cut off; the rules cover it.")
            continue
        except ValueError as exc:
            result.notices.append(f"The language model's answer for {span} was unreadable ({exc}).")
            continue
        facts, dropped = to_facts(answer, chunk, extractor, confidences)
        if confidences is None:
            for fact in facts:
                fact.confidence = UNSCORED_CONFIDENCE
        result.facts.extend(facts)
        if dropped:
            result.notices.append(f"{dropped} item(s) of the language model's answer for {span} were malformed.")
    return result
