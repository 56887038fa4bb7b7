"""Demo documents as files: a PDF (fpdf2, core Helvetica) and a scanned-looking page (Pillow).

Both are reproducible: the same text (and seed) gives the same bytes, so the store keeps each
original once under its SHA-256.
"""

from __future__ import annotations

import io
import textwrap
import unicodedata
from datetime import UTC, datetime
from functools import lru_cache
from typing import Final

import numpy as np
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFilter, ImageFont

__all__ = ["SCAN_SIZE", "render_pdf", "render_photo", "render_scan", "to_latin1"]

SCAN_SIZE: Final = (1240, 1754)  # A4 at 150 DPI, in pixels
_PDF_DATE: Final = datetime(2026, 1, 1, tzinfo=UTC)  # fixed metadata date: identical text, identical bytes
# Core PDF fonts cover latin-1 only: French accents are in it, typographic punctuation is not.
_LATIN1_FALLBACKS: Final = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u0153": "oe",
        "\u0152": "OE",
        "\u2022": "-",
        "\u2212": "-",
        "\u2009": " ",
        "\u202f": " ",
        "\u20ac": "EUR",
    }
)
# Fonts with accented glyphs, searched in the system font folders; Pillow's own default has none.
_SCAN_FONTS: Final = ("DejaVuSans.ttf", "LiberationSans-Regular.ttf", "Arial.ttf", "FreeSans.ttf")
_SCAN_MARGIN: Final = 110  # pixels (about 19 mm)
_SCAN_FONT_SIZES: Final = (24, 22, 20, 18)  # largest that fits the page; 18 px is still ~8.6 pt
_MAX_TILT_DEGREES: Final = 2.0
_NOISE_SIGMA: Final = 6.0  # grey levels of sensor noise


def to_latin1(text: str) -> str:
    """``text`` with every character a core PDF font can draw (others become close ASCII, or ``?``)."""
    text = unicodedata.normalize("NFC", text).translate(_LATIN1_FALLBACKS)
    return text.encode("latin-1", errors="replace").decode("latin-1")


def render_pdf(text: str, title: str) -> bytes:
    """An A4 PDF of ``text`` (Helvetica 10 pt, wrapped, as many pages as it needs)."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_creation_date(_PDF_DATE)
    pdf.set_title(to_latin1(title))
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for line in to_latin1(text).splitlines():
        if line.strip():
            pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.ln(3)
    return bytes(pdf.output())


def render_scan(text: str, seed: int) -> bytes:
    """A one-page greyscale PNG that looks scanned: grey paper, a slight tilt, noise, blur, JPEG traces.

    Long text is set in a smaller font, then cut at the page's end. The ink stays dark and large
    enough (18-24 px at 150 DPI) for OCR.
    """
    rng = np.random.default_rng(seed)
    paper = int(rng.integers(218, 236))
    page = _typeset(text, paper=paper, ink=int(rng.integers(20, 60)))
    tilt = float(rng.uniform(-_MAX_TILT_DEGREES, _MAX_TILT_DEGREES))
    page = page.rotate(tilt, resample=Image.Resampling.BILINEAR, fillcolor=paper)
    noise = np.roll(_noise_field(), (int(rng.integers(SCAN_SIZE[1])), int(rng.integers(SCAN_SIZE[0]))), axis=(0, 1))
    pixels = np.clip(np.asarray(page, dtype=np.int16) + noise, 0, 255).astype(np.uint8)
    jpeg = io.BytesIO()
    Image.fromarray(pixels).filter(ImageFilter.SMOOTH).save(jpeg, format="JPEG", quality=int(rng.integers(60, 80)))
    # 16 grey levels: invisible to a reader and to OCR, and the PNG is a third of the size and fast to write.
    levels = np.asarray(Image.open(jpeg)) & 0xF0
    out = io.BytesIO()
    Image.fromarray(levels).save(out, format="PNG", compress_level=1)
    return out.getvalue()


@lru_cache(maxsize=1)
def _noise_field() -> np.ndarray[tuple[int, int], np.dtype[np.int16]]:
    """Sensor noise for a whole page, drawn once; each scan shifts it by a random offset (fast)."""
    field = np.random.default_rng(0).standard_normal((SCAN_SIZE[1], SCAN_SIZE[0]), dtype=np.float32)
    return (field * _NOISE_SIGMA).astype(np.int16)


def _typeset(text: str, *, paper: int, ink: int) -> Image.Image:
    page = Image.new("L", SCAN_SIZE, paper)
    draw = ImageDraw.Draw(page)
    width, height = SCAN_SIZE[0] - 2 * _SCAN_MARGIN, SCAN_SIZE[1] - 2 * _SCAN_MARGIN
    for size in _SCAN_FONT_SIZES:
        font, plain = _scan_font(size)
        lines = _wrap(text if not plain else _strip_accents(text), font, width)
        step = round(size * 1.4)
        if len(lines) * step <= height or size == _SCAN_FONT_SIZES[-1]:
            break
    for number, line in enumerate(lines[: height // step]):
        draw.text((_SCAN_MARGIN, _SCAN_MARGIN + number * step), line, font=font, fill=ink)
    return page


def _wrap(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int) -> list[str]:
    columns = max(20, int(width / font.getlength("abcdefghij ") * 11))
    lines: list[str] = []
    for paragraph in text.splitlines():
        lines.extend(textwrap.wrap(paragraph, columns, break_long_words=True) or [""])
    return lines


@lru_cache(maxsize=8)
def _scan_font(size: int) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, bool]:
    """(font, whether accents must be stripped because the font lacks them)."""
    for name in _SCAN_FONTS:
        try:
            return ImageFont.truetype(name, size), False
        except OSError:
            continue
    return ImageFont.load_default(size=size), True


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", to_latin1(text))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def render_photo(text: str, seed: int) -> bytes:
    """A phone photo of a short page: the scan's look, turned 4° and foreshortened (the top edge narrower).

    The tilt stays inside what ``ingest.prepare``'s deskew searches (±5°); the keystone is mild, as from
    a phone held a little off square above a desk.
    """
    rng = np.random.default_rng(seed)
    with Image.open(io.BytesIO(render_scan(text, seed))) as scan:
        page = scan.convert("L")
    paper = int(np.median(np.asarray(page)))
    width, height = page.size
    inset = int(width * _PHOTO_KEYSTONE)
    # Pillow's QUAD maps the page's four corners (upper-left, lower-left, lower-right, upper-right) to the output.
    quad = (-inset, 0, 0, height, width, height, width + inset, 0)
    page = page.transform(page.size, Image.Transform.QUAD, quad, resample=Image.Resampling.BICUBIC, fillcolor=paper)
    angle = _PHOTO_TILT_DEGREES * (1 if rng.random() < 0.5 else -1)
    page = page.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=paper)
    out = io.BytesIO()
    page.save(out, format="JPEG", quality=80)
    return out.getvalue()


_PHOTO_TILT_DEGREES: Final = 4.0
_PHOTO_KEYSTONE: Final = 0.04  # the top edge 8 % narrower than the bottom
