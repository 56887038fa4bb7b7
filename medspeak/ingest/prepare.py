"""Image preparation before OCR (draft: every candidate step, chosen by measurement)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
from PIL import Image, ImageFilter, ImageOps

__all__ = ["STEPS", "estimate_skew", "prepare"]

STEPS: Final = ("deskew", "upscale", "downscale", "denoise", "contrast", "background", "binarise", "sharpen")
DEFAULT_STEPS: Final = ("contrast",)

_ANALYSIS_WIDTH: Final = 1000
_MAX_SKEW: Final = 5.0
_COARSE_STEP: Final = 0.25
_FINE_STEP: Final = 0.05
_MIN_CORRECTION: Final = 0.1
_TARGET_LINE_PX: Final = 40
_MIN_LINE_PX: Final = 32
_MAX_LINE_PX: Final = 22.0
_ROTATE_RESAMPLE: Final = 3


def prepare(image: Image.Image, *, steps: Sequence[str] | None = None) -> Image.Image:
    chosen = DEFAULT_STEPS if steps is None else tuple(steps)
    upright = ImageOps.exif_transpose(image) or image
    gray = upright.convert("L")
    if "background" in chosen:
        gray = _flatten_background(gray)
    if "contrast" in chosen:
        gray = ImageOps.autocontrast(gray, cutoff=1)
    if "deskew" in chosen:
        angle = estimate_skew(gray)
        if abs(angle) >= _MIN_CORRECTION:
            gray = gray.rotate(angle, resample=Image.Resampling(_ROTATE_RESAMPLE), fillcolor=_paper(gray))
    if "upscale" in chosen:
        gray = _upscale(gray)
    if "downscale" in chosen:
        height = _line_height(gray)
        if height is not None and height > _MAX_LINE_PX:
            f = _MAX_LINE_PX / height
            gray = gray.resize((round(gray.width * f), round(gray.height * f)), Image.Resampling.LANCZOS)
    if "denoise" in chosen:
        gray = gray.filter(ImageFilter.MedianFilter(3))
    if "sharpen" in chosen:
        gray = gray.filter(ImageFilter.UnsharpMask(radius=1.5, percent=80, threshold=2))
    if "binarise" in chosen:
        threshold = _otsu(np.asarray(gray))
        gray = gray.point(lambda v: 255 if v > threshold else 0)
    return gray


def _paper(gray: Image.Image) -> int:
    return int(np.percentile(np.asarray(gray)[::8, ::8], 90))


def _otsu(pixels: np.ndarray) -> int:
    hist = np.bincount(pixels.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    cum = np.cumsum(hist)
    mean = np.cumsum(hist * np.arange(256))
    w0 = cum / total
    w1 = 1 - w0
    m0 = mean / np.maximum(cum, 1)
    m1 = (mean[-1] - mean) / np.maximum(total - cum, 1)
    between = w0 * w1 * (m0 - m1) ** 2
    return int(np.argmax(between))


def _ink(gray: Image.Image) -> tuple[np.ndarray, float]:
    scale = min(1.0, _ANALYSIS_WIDTH / gray.width)
    small = gray.resize((max(1, round(gray.width * scale)), max(1, round(gray.height * scale))), Image.Resampling.BOX)
    pixels = np.asarray(small)
    return pixels < _otsu(pixels), scale


def _profile_score(ys: np.ndarray, xs: np.ndarray, angle: float) -> float:
    shifted = ys - xs * np.tan(np.radians(angle))
    profile = np.bincount(np.round(shifted - shifted.min()).astype(np.int64))
    return float(np.sum(np.diff(profile.astype(np.float64)) ** 2))


def estimate_skew(gray: Image.Image) -> float:
    """Degrees to rotate counter-clockwise (PIL's convention) to level the text lines."""
    ink, _ = _ink(gray)
    ys, xs = np.nonzero(ink)
    if len(ys) < 100:
        return 0.0
    ys, xs = ys.astype(np.float64), xs.astype(np.float64)
    coarse = np.arange(-_MAX_SKEW, _MAX_SKEW + 1e-9, _COARSE_STEP)
    best = max(coarse, key=lambda a: _profile_score(ys, xs, a))
    fine = np.arange(best - _COARSE_STEP, best + _COARSE_STEP + 1e-9, _FINE_STEP)
    best = max(fine, key=lambda a: _profile_score(ys, xs, a))
    return float(best)


def _line_height(gray: Image.Image) -> float | None:
    ink, scale = _ink(gray)
    rows = ink.sum(axis=1) > max(2, ink.shape[1] // 200)
    runs: list[int] = []
    length = 0
    for on in rows:
        if on:
            length += 1
        elif length:
            runs.append(length)
            length = 0
    runs = [r for r in runs if r >= 3]
    if len(runs) < 5:
        return None
    return float(np.median(runs)) / scale


def _upscale(gray: Image.Image) -> Image.Image:
    height = _line_height(gray)
    if height is None or height >= _MIN_LINE_PX:
        return gray
    factor = min(2.0, _TARGET_LINE_PX / height)
    size = (round(gray.width * factor), round(gray.height * factor))
    return gray.resize(size, Image.Resampling.LANCZOS)


def _flatten_background(gray: Image.Image) -> Image.Image:
    small = gray.resize((max(1, gray.width // 16), max(1, gray.height // 16)), Image.Resampling.BOX)
    background = small.filter(ImageFilter.MaxFilter(5)).resize(gray.size, Image.Resampling.BILINEAR)
    pixels = np.asarray(gray, dtype=np.float32) / np.maximum(np.asarray(background, dtype=np.float32), 1)
    return Image.fromarray(np.clip(pixels * 255, 0, 255).astype(np.uint8))
