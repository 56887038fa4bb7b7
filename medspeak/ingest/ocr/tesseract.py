"""Tesseract (Debian ``tesseract-ocr`` with ``-eng`` and ``-fra``): in-process through tesserocr, else the CLI.

The default engine where installed. Two ways to run it, the same models (Debian's tessdata):

- in-process (``tesserocr``, whose wheel bundles libtesseract 5.5): the page's raw grey pixels go
  straight to the library, and each language's model stays loaded between pages. 1.2-1.3 s of CPU
  a degraded 200-DPI page against 1.9-2.0 s for Debian's 5.3 command line and 2.3 s through
  pytesseract, on the same pages, with the same error rates (0.14 % English, 1.13 % French);
- the command line (``tesseract stdin stdout ... tsv``), where tesserocr is not installed: the page
  goes as an uncompressed PGM on its standard input (pytesseract's PNG temp file cost ~0.4 s of CPU
  a degraded page: zlib on scanner noise), and a page over its budget is killed.

Either way no image decoder runs inside Tesseract (the pixels were decoded by Pillow, under its
decompression-bomb limit), and each page uses one core (``OMP_THREAD_LIMIT=1``; 4x slower on 2
cores without it): pages of a document run side by side instead (``concurrent``).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Final

import pytesseract
from PIL import Image

from medspeak.errors import IngestFailed
from medspeak.ingest.ocr.base import EngineStatus
from medspeak.ingest.types import Word

__all__ = ["TesseractEngine", "in_process_available", "parse_tsv"]

# Each tesseract process, and the library's OpenMP runtime, reads this at start: one core a page.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

# French alone reads French reports as well as French+English (CER 1.15 % / 1.13 % on 11 degraded
# 200-DPI pages) for 22 % less CPU: a second language runs a second recogniser on doubtful words.
_LANGS: Final = {"en": "eng", "fr": "fra", "auto": "eng+fra"}
_OPTIONS: Final = ("--oem", "1", "--psm", "3")  # LSTM only; automatic layout (columns, blocks) without OSD
_TSV_FIELDS: Final = 12  # level page block par line word left top width height conf text
_MAX_IDLE: Final = 4  # loaded models kept per language (10-20 MB each): one per page read at once
_DATAPATH: Final = re.compile(r'"(.+)"')  # `tesseract --list-langs`: List of ... languages in "DIR" (3):


@lru_cache(maxsize=1)
def _installed_languages() -> frozenset[str]:
    try:
        return frozenset(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractNotFoundError, OSError, RuntimeError):
        return frozenset()


@lru_cache(maxsize=1)
def _tessdata() -> str | None:
    """The folder of Debian's models, as the command line finds it (tesserocr's own default is elsewhere)."""
    if os.environ.get("TESSDATA_PREFIX"):
        return os.environ["TESSDATA_PREFIX"]
    try:
        listed = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [pytesseract.pytesseract.tesseract_cmd, "--list-langs"], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = _DATAPATH.search(listed.stdout.decode("utf-8", "replace"))
    return found.group(1) if found else None


@lru_cache(maxsize=1)
def _tesserocr() -> Any:
    """The tesserocr module, or None where it is not installed (or its library does not load)."""
    try:
        import tesserocr  # type: ignore[import-untyped,unused-ignore]  # no stubs; absent on some installs
    except ImportError:
        return None
    return tesserocr


def in_process_available() -> bool:
    """Whether pages can be read in-process (tesserocr installed and Debian's models found)."""
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
                raise IngestFailed(f"Tesseract could not load its {lang} model.") from exc
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


_models = _Models()


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
    return IngestFailed(f"OCR took longer than the page budget ({timeout_s:g} s).")


class TesseractEngine:
    name = "tesseract"
    concurrent = True  # one core a page, thread-safe: pages of a document can run side by side

    def __init__(self, *, in_process: bool | None = None) -> None:
        """``in_process``: through tesserocr (``None``: wherever it is available), else the command line."""
        self.in_process = in_process_available() if in_process is None else in_process

    @staticmethod
    def status() -> EngineStatus:
        if shutil.which("tesseract") is None:
            return EngineStatus(
                "tesseract", False, "not installed: apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-fra"
            )
        missing = {"eng", "fra"} - _installed_languages()
        if "eng" in missing:
            return EngineStatus("tesseract", False, "English data missing: apt-get install tesseract-ocr-eng")
        if in_process_available():
            version = _tesserocr().tesseract_version().split()[1] + " in-process (tesserocr)"
        else:
            version = str(pytesseract.get_tesseract_version()) + " (command line; pip install tesserocr: faster)"
        return EngineStatus("tesseract", True, version + (" (no French data)" if missing else ""))

    def recognize(self, image: Image.Image, *, language: str, timeout_s: float) -> list[Word]:
        lang = _LANGS.get(language, "eng+fra")
        if "fra" not in _installed_languages():
            lang = "eng"
        gray = image if image.mode == "L" else image.convert("L")
        tsv = self._in_process(gray, lang, timeout_s) if self.in_process else self._command_line(gray, lang, timeout_s)
        return parse_tsv(tsv, gray.width, gray.height)

    @staticmethod
    def _in_process(gray: Image.Image, lang: str, timeout_s: float) -> str:
        pixels = gray.tobytes()  # kept alive until recognition ends: the library does not copy it
        with _models.borrow(lang) as api:
            api.SetImageBytes(pixels, gray.width, gray.height, 1, gray.width)
            if not api.Recognize(timeout=max(1, round(timeout_s * 1000))):
                raise _budget_exceeded(timeout_s)
            tsv: str = api.GetTSVText(0)
        return tsv

    @staticmethod
    def _command_line(gray: Image.Image, lang: str, timeout_s: float) -> str:
        pgm = io.BytesIO()
        gray.save(pgm, format="PPM")  # binary PGM for a grayscale image: no compression to pay for
        command = [pytesseract.pytesseract.tesseract_cmd, "stdin", "stdout", "-l", lang, *_OPTIONS, "tsv"]
        try:
            done = subprocess.run(  # noqa: S603 - fixed arguments, no shell; the image goes on stdin
                command, input=pgm.getvalue(), capture_output=True, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired as exc:  # run() has killed the process
            raise _budget_exceeded(timeout_s) from exc
        except OSError as exc:
            raise IngestFailed(f"Tesseract could not be started ({type(exc).__name__}).") from exc
        if done.returncode != 0:
            raise IngestFailed(f"Tesseract could not read this page (exit status {done.returncode}).")
        return done.stdout.decode("utf-8", "replace")
