"""Tesseract (Debian ``tesseract-ocr`` with ``-eng`` and ``-fra``) through pytesseract.

The default engine where installed: ~1 s a 200-DPI page on 2 cores with ``OMP_THREAD_LIMIT=1``
(4x slower without it), 0.6 % CER on clean pages (stack notes).
"""

from __future__ import annotations

import os
import shutil
from functools import lru_cache

import pytesseract
from PIL import Image

from medspeak.errors import IngestFailed
from medspeak.ingest.ocr.base import EngineStatus
from medspeak.ingest.types import Word

__all__ = ["TesseractEngine"]

# Each tesseract process inherits this: without it OpenMP threads fight over 2 cores (4x slower).
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

_LANGS = {"en": "eng", "fr": "fra+eng", "auto": "eng+fra"}


@lru_cache(maxsize=1)
def _installed_languages() -> frozenset[str]:
    try:
        return frozenset(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractNotFoundError, OSError, RuntimeError):
        return frozenset()


class TesseractEngine:
    name = "tesseract"

    @staticmethod
    def status() -> EngineStatus:
        if shutil.which("tesseract") is None:
            return EngineStatus(
                "tesseract", False, "not installed: apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-fra"
            )
        missing = {"eng", "fra"} - _installed_languages()
        if "eng" in missing:
            return EngineStatus("tesseract", False, "English data missing: apt-get install tesseract-ocr-eng")
        version = str(pytesseract.get_tesseract_version())
        return EngineStatus("tesseract", True, version + (" (no French data)" if missing else ""))

    def recognize(self, image: Image.Image, *, language: str, timeout_s: float) -> list[Word]:
        lang = _LANGS.get(language, "eng+fra")
        if "fra" not in _installed_languages():
            lang = "eng"
        try:
            data = pytesseract.image_to_data(
                image, lang=lang, config="--oem 1 --psm 3", output_type=pytesseract.Output.DICT, timeout=timeout_s
            )
        except RuntimeError as exc:  # pytesseract raises RuntimeError when it kills a slow process
            raise IngestFailed(f"OCR took longer than the page budget ({timeout_s:.0f} s).") from exc
        except pytesseract.TesseractError as exc:
            raise IngestFailed(f"Tesseract could not read this page ({exc.status}).") from exc
        width, height = image.size
        lines: dict[tuple[int, int, int], int] = {}
        words = []
        for i, text in enumerate(data["text"]):
            conf = float(data["conf"][i])
            if not text.strip() or conf < 0:
                continue
            key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
            line = lines.setdefault(key, len(lines))
            left, top = data["left"][i], data["top"][i]
            words.append(
                Word(
                    text.strip(),
                    left / width,
                    top / height,
                    (left + data["width"][i]) / width,
                    (top + data["height"][i]) / height,
                    conf,
                    line,
                )
            )
        return words
