"""Image preparation before OCR: only the steps that measurably help (``bench/ocr.py --ablation``).

Measured with Tesseract 5.3 through the pipeline on MTSamples reports typeset on A4 and degraded
like scans (tilt up to 3°, blur, noise, JPEG), 8 reports a language (10 English pages, 11 French),
``PYTHONPATH=. .venv/bin/python bench/ocr.py --n 8 --ablation``; CER in %, same pages side by side:

==============================  ======  ======  ======  ======  =====================================
preparation                     EN 200  EN 150  FR 200  FR 150  CPU s a page at 200 DPI, other cost
==============================  ======  ======  ======  ======  =====================================
grayscale only                    0.13   19.77   10.09    7.75
**kept: whiten+orient+deskew**    0.14    0.03    1.12    0.73  +0.21 s (whiten 0.01, orient 0.03-0.09)
without deskew                    0.13   19.77   10.09    7.75
with contrast (autocontrast 1%)   0.08    0.03    2.76    1.74  sparse pages read as nothing
with denoise (median 3x3)         0.10    0.16    1.74    0.79  +0.3 s
with upscale (to 40-px lines)     0.06    0.04    1.14    1.21  Tesseract +20 to +100 %
with binarise (global Otsu)       0.29    0.12    1.29    0.91
==============================  ======  ======  ======  ======  =====================================

- ``deskew`` (kept): the tilt that makes the row profile of a downscaled, binarised copy sharpest
  (projection-profile search, 0.5° then 0.05° steps, ±5°). Tesseract's layout analysis loses
  whole blocks of some pages tilted by 2-3° (1 to 3 pages in 15, at 150 and at 200 DPI): that is
  most of the error without it. Pages tilted by less than 0.2° are not resampled.
- ``orient`` (kept): quarter turns, for pages fed sideways or upside down. Text lines make the
  row profile peaky in one direction only, and Latin script has more ink above its x-height band
  (capitals, ascenders, accents) than below it (descenders). The 200-DPI pages turned by 90°, 180°
  and 270°: 57-63 % CER without it, the same as upright pages with it (0.08 % EN, 1.12 % FR).
  Of 101 upright pages (English and French, clean and degraded, 150 and 200 DPI) it turned none;
  of their 303 turned copies it righted 294 and left 9 as they came (one-line pages: too little
  evidence to turn them).
- ``whiten`` (kept): on a page with little ink (a prescription, a short last page) Otsu's
  threshold, Tesseract's and the layout's, falls inside the paper's grain and the page reads as
  specks or as nothing. Such pages get their paper mapped to white; every full page of the bench
  is left byte-identical (hence the same CER above). One-sentence pages (16 English reports):
  28.5 % CER without it (7 pages in 16 read as nothing), 1.3 % with it at 200 DPI; 15.3 % and
  1.0 % at 150 DPI; the demo's speckled scans of a two-line prescription: 12 read in 18 without,
  18 in 18 with.
- Dropped: ``contrast`` (the old default: on a sparse page it stretches the grain into a grey
  field), ``denoise``, ``upscale`` (a few hundredths of a point on English for up to twice the
  time; worse on French at 150 DPI), ``binarise`` (Tesseract binarises anyway, and a global
  threshold fails on shaded photos). Their differences on single pages come mostly from
  Tesseract's dropped lines, which move with any change of the pixels.

The table was measured with Debian's Tesseract 5.3 command line; the in-process Tesseract 5.5
(tesserocr) now used reads the same degraded 200-DPI pages with the same error rates (English
0.14 %, French 1.13 % on 11 pages). Preparation costs ~0.2 s of CPU a degraded 200-DPI page
(rotation 0.13, layout estimate 0.07, whitening 0.01), a sixth of a page's CPU time.

The remaining errors: Tesseract still drops a whole line on a few pages (the same line clean or
degraded: most of the French CER), and misreads accented capitals (É as E). Grayscale output suits
every engine; photos are first turned upright from their EXIF orientation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter, ImageOps

__all__ = ["DEFAULT_STEPS", "STEPS", "estimate_layout", "estimate_skew", "prepare"]

STEPS: Final = ("whiten", "orient", "deskew", "contrast", "denoise", "upscale", "binarise")
DEFAULT_STEPS: Final = ("whiten", "orient", "deskew")

_ANALYSIS_WIDTH: Final = 1000  # px of the copy the layout is measured on: 0.05° moves its far end by ~1 px
_MAX_SKEW: Final = 5.0  # degrees searched either way; a worse tilt is a photo, not a scan
_COARSE_STEP: Final = 0.5  # degrees; then refined around the best in _FINE_STEP steps
_FINE_STEP: Final = 0.05
_MIN_CORRECTION: Final = 0.2  # degrees: below this a 17-cm line drifts < 0.6 mm, a fifth of a text line
_MIN_INK_PIXELS: Final = 200  # fewer inked pixels on the analysis copy: a blank page, leave it alone
_SIDEWAYS_MARGIN: Final = 1.5  # the turned profile must be this much sharper before the page is turned
_FLIP_BELOW: Final = 0.85  # ink above / below the x-height band; upright pages measured 1.3-3.4, flipped 0.3-0.8
_MIN_LINES_TO_FLIP: Final = 3  # one or two lines (a stamp, "CBC.") are too little evidence to turn a page
_WHITEN_SPREADS: Final = 1.6  # paper-to-decile distances (~2 sigma of Gaussian grain) mapped to white
_MIN_SPREAD: Final = 4.0  # grey levels: a clean page still gets a little headroom
_MIN_WHITE: Final = 96  # below this grey the "paper" is no paper (a photo, a dark scan)
_MAX_GRAIN: Final = 48  # grey levels below the paper; a wider "grain" is ink and stroke edges (a dense page)
_GRAIN_FACTOR: Final = 3.0  # Otsu calls "ink" this many times the surely dark pixels (+ slack): it is grain
_GRAIN_SLACK: Final = 0.01
_TARGET_LINE_PX: Final = 40  # "upscale": Tesseract reads best with ~30-40 px text lines
_MIN_LINE_PX: Final = 32

Ink = NDArray[np.bool_]
Coordinates = tuple[NDArray[np.float64], NDArray[np.float64]]  # (rows, columns) of the inked pixels


def prepare(image: Image.Image, *, steps: Sequence[str] | None = None) -> Image.Image:
    """A page image ready for OCR: grayscale, upright, level.

    Args:
        image: a page (any mode); EXIF orientation is applied first.
        steps: the preparation steps to run, for measurement; ``None`` runs ``DEFAULT_STEPS``.
    """
    chosen = DEFAULT_STEPS if steps is None else tuple(steps)
    upright = ImageOps.exif_transpose(image) or image
    gray = upright.convert("L")
    if "whiten" in chosen:
        gray = _whiten(gray)
    if "orient" in chosen or "deskew" in chosen:
        turns, skew = estimate_layout(gray, orient="orient" in chosen)
        if turns:
            gray = gray.transpose(_TURNS[turns])
        if "deskew" in chosen and abs(skew) >= _MIN_CORRECTION:
            gray = gray.rotate(skew, resample=Image.Resampling.BICUBIC, fillcolor=_paper(gray))
    if "contrast" in chosen:
        gray = ImageOps.autocontrast(gray, cutoff=1)
    if "denoise" in chosen:
        gray = gray.filter(ImageFilter.MedianFilter(3))
    if "upscale" in chosen:
        gray = _upscale(gray)
    if "binarise" in chosen:
        threshold = _otsu(np.asarray(gray))
        gray = gray.point(lambda v: 255 if v > threshold else 0)
    return gray


_TURNS: Final = {1: Image.Transpose.ROTATE_90, 2: Image.Transpose.ROTATE_180, 3: Image.Transpose.ROTATE_270}


def estimate_layout(gray: Image.Image, *, orient: bool = True) -> tuple[int, float]:
    """(quarter turns counter-clockwise, then degrees counter-clockwise) that make the text upright and level."""
    ink = _ink(gray)
    if int(ink.sum()) < _MIN_INK_PIXELS:
        return 0, 0.0
    points = _coordinates(ink)
    skew, score = _best_skew(points)
    if not orient:
        return 0, skew
    turned = _coordinates(np.rot90(ink))
    turned_skew, turned_score = _best_skew(turned)
    sideways = turned_score > _SIDEWAYS_MARGIN * score
    if sideways:
        points, skew = turned, turned_skew
    upside_down = _looks_upside_down(points, skew)
    if upside_down is None:  # too few lines to tell up from down: leave the page as it came
        return 0, 0.0 if sideways else skew
    return (1 if sideways else 0) + (2 if upside_down else 0), skew


def estimate_skew(gray: Image.Image) -> float:
    """Degrees to rotate counter-clockwise (Pillow's convention) to level the page's text lines."""
    return estimate_layout(gray, orient=False)[1]


def _ink(gray: Image.Image) -> Ink:
    """A binarised copy about _ANALYSIS_WIDTH wide: True where there is ink."""
    scale = min(1.0, _ANALYSIS_WIDTH / gray.width)
    small = gray.resize((max(1, round(gray.width * scale)), max(1, round(gray.height * scale))), Image.Resampling.BOX)
    pixels = np.asarray(small)
    ink: Ink = pixels < _otsu(pixels)
    return ink


def _coordinates(ink: Ink) -> Coordinates:
    ys, xs = np.nonzero(ink)
    return ys.astype(np.float64), xs.astype(np.float64)


def _row_profile(ink: Coordinates, degrees: float) -> NDArray[np.float64]:
    """Ink per row after shearing the page by ``degrees`` (a rotation, to first order, at a fraction of the cost)."""
    ys, xs = ink
    rows = ys - xs * np.tan(np.radians(degrees))
    return np.bincount(np.round(rows - rows.min()).astype(np.int64)).astype(np.float64)


def _sharpness(profile: NDArray[np.float64]) -> float:
    return float(np.sum(np.diff(profile) ** 2))  # Postl's criterion: level lines give tall, narrow peaks


def _best_skew(ink: Coordinates) -> tuple[float, float]:
    """(correction in degrees, profile sharpness at it), coarse then fine search."""
    coarse = np.arange(-_MAX_SKEW, _MAX_SKEW + 1e-9, _COARSE_STEP)
    best = max(coarse, key=lambda a: _sharpness(_row_profile(ink, a)))
    fine = np.arange(best - _COARSE_STEP, best + _COARSE_STEP + 1e-9, _FINE_STEP)
    scored = [(_sharpness(_row_profile(ink, a)), float(a)) for a in fine]
    score, angle = max(scored)
    return angle, score  # the profile's tilt is minus the page's: this is the counter-clockwise correction


def _looks_upside_down(ink: Coordinates, skew: float) -> bool | None:
    """More ink below the x-height band of the text lines than above it: Latin script turned by 180°.

    None when there are too few text lines to tell.
    """
    profile = _row_profile(ink, skew)
    inked = profile > max(2.0, 0.02 * profile.max())
    above = below = 0.0
    lines = 0
    edges = np.flatnonzero(np.diff(np.concatenate(([0], inked.astype(np.int8), [0]))))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        line = profile[start:stop]
        if len(line) < 4:  # specks and underlines carry no ascenders
            continue
        core = np.flatnonzero(line >= 0.5 * line.max())  # the x-height band: the densest rows
        above += float(line[: core[0]].sum())
        below += float(line[core[-1] + 1 :].sum())
        lines += 1
    if lines < _MIN_LINES_TO_FLIP:
        return None
    return above < _FLIP_BELOW * below


def _whiten(gray: Image.Image) -> Image.Image:
    """Paper to white, ink kept, on pages where Otsu's threshold would cut into the paper's noise.

    With little ink (a prescription, a short last page) Otsu's threshold, Tesseract's and ours for
    the layout, falls inside the paper's grain and the page reads as specks or as nothing. The
    paper is the median grey (text covers far less than half a page), its grain the distance to the
    first decile; grey levels are scaled so that the grain lies above 255. Pages with enough ink
    already split cleanly and are left untouched: whitening them clips the soft edges of strokes.
    """
    sample = np.asarray(gray)[::4, ::4]  # a sixteenth of the pixels gives the same percentiles
    paper, decile = (float(v) for v in np.percentile(sample, [50, 10]))
    called_ink = float(np.mean(sample <= _otsu(sample)))
    dark = float(np.mean(sample < paper / 2))  # surely ink, whatever the threshold
    if called_ink <= _GRAIN_FACTOR * dark + _GRAIN_SLACK:  # Otsu's ink is ink: leave the page as it is
        return gray
    grain = _WHITEN_SPREADS * max(paper - decile, _MIN_SPREAD)
    if grain > _MAX_GRAIN or paper - grain < _MIN_WHITE:  # the decile is ink (a dense page) or no paper at all
        return gray
    white = paper - grain
    return gray.point([min(255, round(v * 255 / white)) for v in range(256)])


def _paper(gray: Image.Image) -> int:
    """The paper's grey level (corners uncovered by the rotation are filled with it, not with black)."""
    return int(np.percentile(np.asarray(gray)[::8, ::8], 90))


def _otsu(pixels: NDArray[np.uint8]) -> int:
    """The grey level that best separates ink from paper (Otsu, 1979)."""
    hist = np.bincount(pixels.ravel(), minlength=256).astype(np.float64)
    below = np.cumsum(hist)
    mass = np.cumsum(hist * np.arange(256))
    total = below[-1]
    mean_below = mass / np.maximum(below, 1)
    mean_above = (mass[-1] - mass) / np.maximum(total - below, 1)
    between = below * (total - below) * (mean_below - mean_above) ** 2
    return int(np.argmax(between))


def _line_height(gray: Image.Image) -> float | None:
    """Median height of the text lines, in pixels of ``gray`` (None when there are too few)."""
    ink = _ink(gray)
    inked = ink.sum(axis=1) > max(2, ink.shape[1] // 200)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], inked.astype(np.int8), [0]))))
    heights = [int(b - a) for a, b in zip(edges[::2], edges[1::2], strict=True) if b - a >= 3]
    if len(heights) < 5:
        return None
    return float(np.median(heights)) * gray.width / int(ink.shape[1])


def _upscale(gray: Image.Image) -> Image.Image:
    height = _line_height(gray)
    if height is None or height >= _MIN_LINE_PX:
        return gray
    factor = min(2.0, _TARGET_LINE_PX / height)
    return gray.resize((round(gray.width * factor), round(gray.height * factor)), Image.Resampling.LANCZOS)
