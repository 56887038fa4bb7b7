"""Pixel budgets checked before anything is rendered or decoded.

A PDF page is a size in points, not pixels: a 598-byte file can declare a 3600 x 3600 pt page, which
renders at 200 DPI into 10000 x 10000 px (1.2 GB at peak, measured: bench/pdf_budgets.py). So the page
size is checked at upload, and every render asks :func:`render_scale` first.
"""

from __future__ import annotations

import math
from typing import Final

__all__ = ["MAX_RENDER_PIXELS", "RENDER_DPI", "fits_render_budget", "render_scale"]

RENDER_DPI: Final = 200  # enough for 10-pt text (Tesseract wants ~20 px capitals); 300 DPI costs 2x for no gain
# 36 megapixels: an A1 sheet (59 x 84 cm, 31 MP) at 200 DPI fits; its RGB render, the grey copy and OCR
# preparation peak under 1 GB. A clinical document larger than A1 is a poster or an attack.
MAX_RENDER_PIXELS: Final = 36_000_000
_POINTS_PER_INCH: Final = 72


def fits_render_budget(width_pt: float, height_pt: float, dpi: float = RENDER_DPI) -> bool:
    """Whether a page of this size, in points, renders within ``MAX_RENDER_PIXELS`` at ``dpi``."""
    scale = dpi / _POINTS_PER_INCH
    return abs(width_pt * scale) * abs(height_pt * scale) <= MAX_RENDER_PIXELS


def render_scale(width_pt: float, height_pt: float, dpi: float) -> float:
    """The pdfium scale for ``dpi``, lowered so that the page renders within ``MAX_RENDER_PIXELS``."""
    scale = dpi / _POINTS_PER_INCH
    area = abs(width_pt * height_pt)
    if area * scale * scale > MAX_RENDER_PIXELS:
        scale = math.sqrt(MAX_RENDER_PIXELS / area) * 0.999  # rounding up by pdfium stays within the budget
    return scale
