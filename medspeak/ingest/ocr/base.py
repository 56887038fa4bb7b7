"""The OCR interface every engine implements: an image in, words with boxes and confidences out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from PIL import Image

from medspeak.ingest.types import Word

__all__ = ["EngineStatus", "OcrEngine", "split_line"]


@dataclass(frozen=True)
class EngineStatus:
    name: str
    available: bool
    detail: str  # version when available, else what is missing and how to get it


class OcrEngine(Protocol):
    """An OCR engine. One may also set ``concurrent = True`` when its ``recognize`` is thread-safe
    and uses one core (Tesseract: one single-threaded process a page): the pipeline then reads
    several pages of a document at once. Without it, pages are read one at a time.
    """

    name: str

    def recognize(self, image: Image.Image, *, language: str, timeout_s: float) -> list[Word]:
        """Words of the image in reading order; boxes as fractions of the image size.

        Args:
            image: a page, RGB or grayscale.
            language: ``"en"``, ``"fr"`` or ``"auto"`` (English and French).
            timeout_s: the page's time budget; an engine that can stop early raises ``IngestFailed``.
        """
        ...


def split_line(text: str, box: tuple[float, float, float, float], conf: float, line: int) -> list[Word]:
    """Split a recognised line into words, sharing its width by character count (engines that box lines)."""
    x0, y0, x1, y1 = box
    tokens = text.split()
    total = sum(len(t) for t in tokens) + max(len(tokens) - 1, 0)
    if not tokens or total == 0:
        return []
    per_char = (x1 - x0) / total
    words, cursor = [], x0
    for token in tokens:
        end = cursor + per_char * len(token)
        words.append(Word(token, cursor, y0, end, y1, conf, line))
        cursor = end + per_char
    return words
