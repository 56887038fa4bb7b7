"""Tesseract (Debian's ``tesseract-ocr-eng`` and ``-fra`` models), run one way: in-process through tesserocr.

The default engine where installed. tesserocr's wheel bundles libtesseract 5.5; the page's raw grey pixels
go straight to the library and each language's model stays loaded between pages: 1.2-1.3 s of CPU a
degraded 200-DPI page against 1.9-2.0 s for Debian's 5.3 command line and 2.3 s through pytesseract, on the
same pages, with the same error rates (0.14 % English, 1.13 % French). Those two other ways (the command
line fed a PGM on stdin, and pytesseract for the language list and version) are gone: one way to run it, the
fastest, its page budget enforced by the library (``Recognize(timeout)``). Without tesserocr or the models,
the engine says what to install and RapidOCR reads the scans.

No image decoder runs inside Tesseract (the pixels were decoded by Pillow, under its decompression-bomb
limit), and each page uses one core (``OMP_THREAD_LIMIT=1``; 4x slower on 2 cores without it): pages of a
document run side by side instead (``concurrent``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from PIL import Image

from medspeak.errors import IngestFailed
from medspeak.i18n import N_
from medspeak.ingest.ocr.base import EngineStatus
from medspeak.ingest.types import Word

__all__ = ["TesseractEngine", "in_process_available", "parse_tsv"]

# The library's OpenMP runtime reads this when it loads: one core a page.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

# French alone reads French reports as well as French+English (CER 1.15 % / 1.13 % on 11 degraded
# 200-DPI pages) for 22 % less CPU: a second language runs a second recogniser on doubtful words.
_LANGS: Final = {"en": "eng", "fr": "fra", "auto": "eng+fra"}
_TSV_FIELDS: Final = 12  # level page block par line word left top width height conf text
_MAX_IDLE: Final = 4  # loaded models kept per language (10-20 MB each): one per page read at once
# Where Debian (5 and 4), other Linux distributions and Homebrew put the models (tesserocr's own default is
# elsewhere); TESSDATA_PREFIX first.
_MODEL_FOLDERS: Final = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
)
_INSTALL: Final = "apt-get install tesseract-ocr-eng tesseract-ocr-fra"


@lru_cache(maxsize=1)
def _tessdata() -> str | None:
    """The folder of the installed models (one with ``eng.traineddata``), or None."""
    for folder in (os.environ.get("TESSDATA_PREFIX", ""), *_MODEL_FOLDERS):
        if folder and (Path(folder) / "eng.traineddata").is_file():
            return folder
    return None


def _installed_languages() -> frozenset[str]:
    folder = _tessdata()
    return frozenset(p.stem for p in Path(folder).glob("*.traineddata")) if folder else frozenset()


@lru_cache(maxsize=1)
def _tesserocr() -> Any:
    """The tesserocr module, or None where it is not installed (or its library does not load)."""
    try:
        import tesserocr  # type: ignore[import-untyped,unused-ignore]  # no stubs; absent on some installs
    except ImportError:
        return None
    return tesserocr


def in_process_available() -> bool:
    """Whether pages can be read (tesserocr installed and the English model found)."""
    return _tesserocr() is not None and _tessdata() is not None


class _Models:
    """Loaded Tesseract instances by language; a page borrows one, so each is used by one thread at a time."""

    def __init__(self) -> None:
        self._idle: dict[str, list[Any]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def borrow(self, lang: str) -> Iterator[Any]:
        with self._lock:
            idle = self._idle.setdefault(lang, [])
            api = idle.pop() if idle else None
        if api is None:
            tesserocr = _tesserocr()
            try:
                api = tesserocr.PyTessBaseAPI(
                    path=_tessdata(), lang=lang, psm=tesserocr.PSM.AUTO, oem=tesserocr.OEM.LSTM_ONLY
                )
            except RuntimeError as exc:  # the models could not be loaded
                raise IngestFailed(N_("Tesseract could not load its {lang} model."), lang=lang) from exc
        try:
            yield api
        finally:
            api.Clear()  # drop the page's image and results, keep the model
            with self._lock:
                idle = self._idle[lang]
                if len(idle) < _MAX_IDLE:
                    idle.append(api)
                    api = None
            if api is not None:
                api.End()


def parse_tsv(tsv: str, width: int, height: int) -> list[Word]:
    """Words of Tesseract's TSV output, boxes as fractions of a ``width`` x ``height`` image.

    Lines are numbered in Tesseract's reading order (block, paragraph, line); the header, empty
    and non-word rows (confidence -1) are dropped.
    """
    lines: dict[tuple[str, str, str], int] = {}
    words: list[Word] = []
    for row in tsv.splitlines():
        fields = row.split("\t", _TSV_FIELDS - 1)
        if len(fields) < _TSV_FIELDS or not fields[0].isdigit() or not fields[11].strip():
            continue
        conf = float(fields[10])
        if conf < 0:
            continue
        line = lines.setdefault((fields[2], fields[3], fields[4]), len(lines))
        left, top, w, h = (int(v) for v in fields[6:10])
        words.append(
            Word(fields[11].strip(), left / width, top / height, (left + w) / width, (top + h) / height, conf, line)
        )
    return words


def _budget_exceeded(timeout_s: float) -> IngestFailed:
    return IngestFailed(N_("OCR took longer than the page budget ({timeout_s:g} s)."), timeout_s=timeout_s)


class TesseractEngine:
    """Its loaded models are pooled by language and kept by this engine (an application context keeps one
    engine: ``AppContext.models.ocr``)."""

    name = "tesseract"
    concurrent = True  # one core a page, thread-safe: pages of a document can run side by side

    def __init__(self) -> None:
        self._models = _Models()

    @staticmethod
    def status() -> EngineStatus:
        tesserocr = _tesserocr()
        if tesserocr is None:
            return EngineStatus("tesseract", False, "not installed: pip install tesserocr")
        if _tessdata() is None:
            return EngineStatus("tesseract", False, f"English model not installed: {_INSTALL}")
        version = tesserocr.tesseract_version().split()[1]
        missing = " (no French model)" if "fra" not in _installed_languages() else ""
        return EngineStatus("tesseract", True, f"{version} in-process (tesserocr){missing}")

    def recognize(self, image: Image.Image, *, language: str, timeout_s: float) -> list[Word]:
        if not in_process_available():
            raise IngestFailed(N_("Tesseract is not installed ({detail})."), detail=self.status().detail)
        lang = _LANGS.get(language, "eng+fra")
        if "fra" not in _installed_languages():
            lang = "eng"
        gray = image if image.mode == "L" else image.convert("L")
        pixels = gray.tobytes()  # kept alive until recognition ends: the library does not copy it
        with self._models.borrow(lang) as api:
            api.SetImageBytes(pixels, gray.width, gray.height, 1, gray.width)
            if not api.Recognize(timeout=max(1, round(timeout_s * 1000))):
                raise _budget_exceeded(timeout_s)
            tsv: str = api.GetTSVText(0)
        return parse_tsv(tsv, gray.width, gray.height)
