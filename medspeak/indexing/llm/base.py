"""What a language-model backend returns, how it says it cannot be used, and the chunk loop both share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from medspeak.errors import MedspeakError
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


class LLMUnavailable(MedspeakError):
    """The language model cannot answer now (no model, server down or too slow); the rules take over."""


@dataclass
class LLMResult:
    """Candidate facts (claimed evidence, not yet grounded) and notices for the user."""

    facts: list[Fact] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def run_chunks(generate: Generate, extractor: str, text: str, language: str, chunk_chars: int) -> LLMResult:
    """Candidate facts of ``text``, asked chunk by section; a cut-off answer is retried on halves.

    Raises:
        LLMUnavailable: from ``generate`` (the model or server cannot answer at all).
    """
    result = LLMResult()
    pending = [(chunk, 0) for chunk in chunk_document(text, language, chunk_chars)]
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
