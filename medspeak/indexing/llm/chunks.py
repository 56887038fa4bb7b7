"""Long documents are sent by section: a request never cuts a section in two unless it alone is too long.

Sections come from the rules' header detection; consecutive sections are packed up to ``max_chars``
(OpenHermes 2.5 Mistral reads 8k tokens: ~6,000 characters of note plus the prompt and the answer fit).
A section longer than that is cut at line ends, then at any space.
"""

from __future__ import annotations

from medspeak.indexing.llm.prompt import Chunk
from medspeak.indexing.rules.sections import find_sections

__all__ = ["DEFAULT_CHUNK_CHARS", "chunk_document", "split_chunk"]

DEFAULT_CHUNK_CHARS = 6_000  # ~1,500 tokens of note: room for 2 few-shot turns and a 2,048-token answer


def _pieces(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """``[start, end)`` cut into spans of at most ``max_chars``, at a line end or a space when there is one."""
    spans = []
    while end - start > max_chars:
        cut = text.rfind("\n", start + 1, start + max_chars)
        if cut <= start:
            cut = text.rfind(" ", start + 1, start + max_chars)
        cut = cut + 1 if cut > start else start + max_chars
        spans.append((start, cut))
        start = cut
    spans.append((start, end))
    return spans


def chunk_document(text: str, language: str, max_chars: int = DEFAULT_CHUNK_CHARS) -> list[Chunk]:
    """``text`` as chunks of whole sections (text before the first header is a section of its own)."""
    bounds = sorted({0, *(s.start for s in find_sections(text, language)), len(text)})
    sections = [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if text[a:b].strip()]
    spans: list[tuple[int, int]] = []
    for start, end in sections:
        for piece in _pieces(text, start, end, max_chars):
            if spans and piece[1] - spans[-1][0] <= max_chars:
                spans[-1] = (spans[-1][0], piece[1])  # pack small neighbouring sections together
            else:
                spans.append(piece)
    return [Chunk(a, text[a:b]) for a, b in spans]


def split_chunk(chunk: Chunk) -> list[Chunk]:
    """A chunk cut in two at the line end (else the space) nearest its middle: the retry for a cut-off answer."""
    text, middle = chunk.text, len(chunk.text) // 2
    for separator in ("\n", " "):
        before, after = text.rfind(separator, 0, middle), text.find(separator, middle)
        candidates = [i + 1 for i in (before, after) if 0 <= i < len(text) - 1]
        if candidates:
            cut = min(candidates, key=lambda i: abs(i - middle))
            break
    else:
        cut = middle
    return [Chunk(chunk.start + a, text[a:b]) for a, b in ((0, cut), (cut, len(text))) if text[a:b].strip()]
