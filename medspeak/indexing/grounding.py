"""Align a fact's evidence to the source text, then attach page and box from the ingested words.

Exact first (the claimed span, then the claimed text anywhere, nearest the claim); else fuzzy over
token windows, accepted only when enough of the claim's tokens are found (coverage) and the window is
not padded with unrelated words (density). A fact that aligns nowhere is unsupported: it never enters
the record, whatever produced it (a rules pattern or a language model told to "list morphine").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from medspeak.indexing.schema import Evidence, Fact, Grounding
from medspeak.ingest.types import PageText

__all__ = ["FUZZY_COVERAGE", "FUZZY_DENSITY", "align", "ground_facts", "locate_pages"]

FUZZY_COVERAGE = 0.8  # share of the claim's tokens found in the window
FUZZY_DENSITY = 0.6  # share of the window's tokens that belong to the claim
_TOKEN_SIMILARITY = 0.85  # OCR slips ("Metoprol0l") still count as the same token
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_TOKEN = re.compile(r"\w+(?:[.,]\w+)*|[^\w\s]")


@dataclass(frozen=True)
class Alignment:
    start: int
    end: int
    grounding: Grounding


def align(claim: str, text: str, hint: int | None = None) -> Alignment | None:
    """Where ``claim`` stands in ``text``: exact (nearest ``hint``), else fuzzy, else ``None``."""
    claim = claim.strip()
    if not claim:
        return None
    exact = [m.start() for m in re.finditer(re.escape(claim), text)]
    if not exact:
        exact = [m.start() for m in re.finditer(re.escape(claim), text, re.IGNORECASE)]
    if exact:
        start = min(exact, key=lambda s: abs(s - hint)) if hint is not None else exact[0]
        return Alignment(start, start + len(claim), Grounding.EXACT)
    return _fuzzy(claim, text)


def _fuzzy(claim: str, text: str) -> Alignment | None:
    wanted = [t.lower() for t in _TOKEN.findall(claim)]
    tokens = list(_TOKEN.finditer(text))
    best: tuple[float, int, int] | None = None
    size = len(wanted)
    numbers = {w for w in wanted if _NUMBER.fullmatch(w)}
    for width in range(max(1, size - 1), size + 3):
        for i in range(0, max(0, len(tokens) - width) + 1):
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


def _page_and_box(
    start: int, end: int, located: list[tuple[int, PageText]]
) -> tuple[int | None, tuple[float, float, float, float] | None]:
    for offset, page in located:
        if not offset <= start < offset + len(page.text):
            continue
        boxes, cursor = [], 0
        for word in page.words:
            at = page.text.find(word.text, cursor)
            if at < 0:
                continue
            cursor = at + len(word.text)
            if offset + at < end and offset + cursor > start:
                boxes.append(word)
        if not boxes:
            return page.number, None
        box = (min(w.x0 for w in boxes), min(w.y0 for w in boxes), max(w.x1 for w in boxes), max(w.y1 for w in boxes))
        return page.number, box
    return None, None


def ground_facts(
    facts: Sequence[Fact], text: str, pages: list[PageText] | None = None
) -> tuple[list[Fact], list[Fact]]:
    """(grounded, unsupported): each fact's evidence re-aligned to ``text`` and given page and box.

    A fact's claimed evidence text (else its label) is what is aligned; the claimed span is only a hint.
    """
    located = locate_pages(text, pages or [])
    grounded: list[Fact] = []
    unsupported: list[Fact] = []
    for fact in facts:
        claim = fact.evidence.text if fact.evidence else fact.label
        hint = fact.evidence.start if fact.evidence else None
        if fact.evidence and text[fact.evidence.start : fact.evidence.end] == fact.evidence.text and claim.strip():
            where: Alignment | None = Alignment(fact.evidence.start, fact.evidence.end, Grounding.EXACT)
        else:
            where = align(claim, text, hint)
        if where is None:
            unsupported.append(fact.model_copy(update={"grounding": Grounding.NONE}))
            continue
        page, box = _page_and_box(where.start, where.end, located)
        evidence = Evidence(start=where.start, end=where.end, text=text[where.start : where.end], page=page, bbox=box)
        confidence = fact.confidence if where.grounding is Grounding.EXACT else fact.confidence * 0.8
        grounded.append(
            fact.model_copy(update={"evidence": evidence, "grounding": where.grounding, "confidence": confidence})
        )
    return grounded, unsupported
