"""Recognised words drawn over their page, so a reader can check what the machine read.

Words below the confidence threshold are filled in amber: they are the ones to check by eye.
"""

from __future__ import annotations

from PIL import Image, ImageDraw

from medspeak.ingest.types import Word

__all__ = ["LOW_CONFIDENCE", "crop_around", "draw_words"]

LOW_CONFIDENCE = 60.0  # Tesseract's word confidence (0-100) under which misreads become common
_OK = (31, 111, 235, 60)  # translucent blue outline fill
_LOW = (255, 170, 0, 110)  # translucent amber


def draw_words(
    page: Image.Image,
    words: list[Word],
    *,
    threshold: float = LOW_CONFIDENCE,
    highlight: tuple[float, float, float, float] | None = None,
) -> Image.Image:
    """A copy of ``page`` with a box on every word; low-confidence words filled in amber.

    ``highlight`` (fractions of the page) frames the evidence of a selected fact in red.
    """
    base = page.convert("RGBA")
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    pen = ImageDraw.Draw(layer)
    width, height = base.size
    for word in words:
        if word.x1 <= word.x0 or word.y1 <= word.y0:
            continue  # typed text has no geometry
        box = (word.x0 * width, word.y0 * height, word.x1 * width, word.y1 * height)
        if word.conf < threshold:
            pen.rectangle(box, fill=_LOW, outline=(200, 110, 0, 255), width=2)
        else:
            pen.rectangle(box, outline=_OK[:3] + (200,), width=1)
    if highlight is not None:
        x0, y0, x1, y1 = highlight
        pad = 4
        pen.rectangle(
            (x0 * width - pad, y0 * height - pad, x1 * width + pad, y1 * height + pad),
            fill=(220, 30, 30, 40),
            outline=(220, 30, 30, 255),
            width=3,
        )
    return Image.alpha_composite(base, layer).convert("RGB")


def crop_around(page: Image.Image, box: tuple[float, float, float, float], margin: float) -> Image.Image:
    """The part of ``page`` around ``box`` (fractions of the page), ``margin`` (a fraction of the page) on
    each side and never narrower than half the page, so the words read at a legible size with their
    surroundings; the box is always inside the crop."""
    width, height = page.size
    x0, y0, x1, y1 = box
    half_width = max((x1 - x0) / 2 + margin, 0.25)
    half_height = max((y1 - y0) / 2 + margin, margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left, right = max(0.0, cx - half_width), min(1.0, cx + half_width)
    top, bottom = max(0.0, cy - half_height), min(1.0, cy + half_height)
    return page.crop((int(left * width), int(top * height), round(right * width), round(bottom * height)))
