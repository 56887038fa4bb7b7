"""Align a fact's evidence to the source text, then attach page and box from the ingested words.

Exact first (the claimed span, then the claimed text anywhere, nearest the claim); else fuzzy over
token windows, accepted only when enough of the claim's tokens are found (coverage) and the window is
not padded with unrelated words (density). A fact that aligns nowhere is unsupported: it never enters
the record, whatever produced it (a rules pattern or a language model told to "list morphine").

Time is linear in the text: the words of each page are placed in the text once (``_WordIndex``) and a
fact's page and words are found by bisection; the text is tokenised once for every fuzzy alignment.
A :class:`~medspeak.work_budget.WorkBudget` is checked for every fact and inside the fuzzy scan.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from medspeak.indexing.schema import Evidence, Fact, Grounding
from medspeak.ingest.types import PageText, Word
from medspeak.work_budget import WorkBudget

__all__ = ["FUZZY_COVERAGE", "FUZZY_DENSITY", "Mention", "align", "ground_facts", "locate_pages", "mention_of"]

FUZZY_COVERAGE = 0.8  # share of the claim's tokens found in the window
FUZZY_DENSITY = 0.6  # share of the window's tokens that belong to the claim
_TOKEN_SIMILARITY = 0.85  # OCR slips ("Metoprol0l") still count as the same token
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_TOKEN = re.compile(r"\w+(?:[.,]\w+)*|[^\w\s]")
_CHECK_EVERY = 4096  # fuzzy windows between two budget checks


@dataclass(frozen=True)
class Alignment:
    start: int
    end: int
    grounding: Grounding


def align(
    claim: str,
    text: str,
    hint: int | None = None,
    *,
    tokens: list[re.Match[str]] | None = None,
    budget: WorkBudget | None = None,
) -> Alignment | None:
    """Where ``claim`` stands in ``text``: exact (nearest ``hint``), else fuzzy, else ``None``.

    ``tokens``: ``text`` already tokenised (``_TOKEN``), shared by the facts of one document.
    """
    claim = claim.strip()
    if not claim:
        return None
    exact = [m.start() for m in re.finditer(re.escape(claim), text)]
    if not exact:
        exact = [m.start() for m in re.finditer(re.escape(claim), text, re.IGNORECASE)]
    if exact:
        start = min(exact, key=lambda s: abs(s - hint)) if hint is not None else exact[0]
        return Alignment(start, start + len(claim), Grounding.EXACT)
    return _fuzzy(claim, list(_TOKEN.finditer(text)) if tokens is None else tokens, budget)


def _fuzzy(claim: str, tokens: list[re.Match[str]], budget: WorkBudget | None) -> Alignment | None:
    wanted = [t.lower() for t in _TOKEN.findall(claim)]
    best: tuple[float, int, int] | None = None
    size = len(wanted)
    numbers = {w for w in wanted if _NUMBER.fullmatch(w)}
    for width in range(max(1, size - 1), size + 3):
        for i in range(0, max(0, len(tokens) - width) + 1):
            if budget is not None and i % _CHECK_EVERY == 0:
                budget.check()
            window = tokens[i : i + width]
            present = {t.group(0).lower() for t in window}
            if not numbers <= present:
                continue  # a dose or value is never approximated: "26 mg" is not "25 mg"
            found = sum(any(_similar(w, t.group(0).lower()) for t in window) for w in wanted)
            coverage = found / size
            density = found / len(window)
            if coverage >= FUZZY_COVERAGE and density >= FUZZY_DENSITY:
                score = coverage + density
                if best is None or score > best[0]:
                    best = (score, window[0].start(), window[-1].end())
    return Alignment(best[1], best[2], Grounding.FUZZY) if best else None


def _similar(a: str, b: str) -> bool:
    return a == b or (len(a) > 3 and SequenceMatcher(None, a, b).ratio() >= _TOKEN_SIMILARITY)


def locate_pages(text: str, pages: list[PageText]) -> list[tuple[int, PageText]]:
    """(offset of the page's text in ``text``, page), found in order; pages not found are skipped."""
    located, cursor = [], 0
    for page in pages:
        offset = text.find(page.text, cursor) if page.text else -1
        if offset >= 0:
            located.append((offset, page))
            cursor = offset + len(page.text)
    return located


@dataclass
class _PageWords:
    """A page's words placed in the document text once: ``starts``/``ends`` ascending, as the words are."""

    offset: int
    page: PageText
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)


class _WordIndex:
    """Every located page's words by position in the text: a fact's page and words by bisection."""

    def __init__(self, located: list[tuple[int, PageText]]) -> None:
        self._pages: list[_PageWords] = []
        for offset, page in located:
            placed, cursor = _PageWords(offset, page), 0
            for word in page.words:  # the one walk over the page's words
                at = page.text.find(word.text, cursor)
                if at < 0:
                    continue
                cursor = at + len(word.text)
                placed.starts.append(offset + at)
                placed.ends.append(offset + cursor)
                placed.words.append(word)
            self._pages.append(placed)
        self._offsets = [p.offset for p in self._pages]

    def page_and_box(self, start: int, end: int) -> tuple[int | None, tuple[float, float, float, float] | None]:
        """The page holding ``start`` and the box around the words overlapping ``[start, end)``."""
        at = bisect_right(self._offsets, start) - 1
        if at < 0:
            return None, None
        placed = self._pages[at]
        if not start < placed.offset + len(placed.page.text):
            return None, None
        first = bisect_right(placed.ends, start)  # words ending after start...
        last = bisect_left(placed.starts, end)  # ...and starting before end
        boxes = placed.words[first:last]
        if not boxes:
            return placed.page.number, None
        box = (min(w.x0 for w in boxes), min(w.y0 for w in boxes), max(w.x1 for w in boxes), max(w.y1 for w in boxes))
        return placed.page.number, box


def ground_facts(
    facts: Sequence[Fact], text: str, pages: list[PageText] | None = None, *, budget: WorkBudget | None = None
) -> tuple[list[Fact], list[Fact]]:
    """(grounded, unsupported): each fact's evidence re-aligned to ``text`` and given page and box.

    A fact's claimed evidence text (else its label) is what is aligned; the claimed span is only a hint.

    Raises:
        BudgetExceeded, Cancelled: from ``budget``, checked for every fact and inside the fuzzy scan.
    """
    index = _WordIndex(locate_pages(text, pages or []))
    tokens: list[re.Match[str]] | None = None  # tokenised on the first fuzzy alignment, then shared
    grounded: list[Fact] = []
    unsupported: list[Fact] = []
    for fact in facts:
        if budget is not None:
            budget.check()
        claim = fact.evidence.text if fact.evidence else fact.label
        hint = fact.evidence.start if fact.evidence else None
        if fact.evidence and text[fact.evidence.start : fact.evidence.end] == fact.evidence.text and claim.strip():
            where: Alignment | None = Alignment(fact.evidence.start, fact.evidence.end, Grounding.EXACT)
        else:
            if tokens is None:
                tokens = list(_TOKEN.finditer(text))
            where = align(claim, text, hint, tokens=tokens, budget=budget)
        if where is None:
            unsupported.append(fact.model_copy(update={"grounding": Grounding.NONE}))
            continue
        page, box = index.page_and_box(where.start, where.end)
        evidence = Evidence(start=where.start, end=where.end, text=text[where.start : where.end], page=page, bbox=box)
        confidence = fact.confidence if where.grounding is Grounding.EXACT else fact.confidence * 0.8
        grounded.append(
            fact.model_copy(update={"evidence": evidence, "grounding": where.grounding, "confidence": confidence})
        )
    return grounded, unsupported


@dataclass(frozen=True)
class Mention:
    """Which of a document's identical mentions an evidence span is: ``number`` of ``count``, on ``line``."""

    line: int  # from 1, in the document's text
    number: int  # from 1, in reading order
    count: int


def mention_of(text: str, start: int, end: int) -> Mention:
    """The span's line and its place among the spans of the same words (case aside) in ``text``."""
    words = text[start:end].lower()
    starts = [m.start() for m in re.finditer(re.escape(words), text.lower())] if words else []
    number = sum(1 for i in starts if i < start) + 1
    return Mention(text.count("\n", 0, start) + 1, number, max(len(starts), number))
