"""RapidOCR (PaddleOCR models in ONNX, inside the ``rapidocr`` wheel): the fallback without Tesseract.

Its default ``max_side_len`` (2000 px) shrinks a 200-DPI page until whole lines come out as
garbage (stack notes), so pages are given room up to 3000 px. It boxes lines, not words: words get
a share of the line's box by character count.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from typing import Any

import numpy as np
from PIL import Image

from medspeak.ingest.ocr.base import EngineStatus, split_line
from medspeak.ingest.types import Word

__all__ = ["RapidOcrEngine"]

_MAX_SIDE_PX = 3000


class RapidOcrEngine:
    """One ONNX session, created on the first page and kept by this engine (an application context keeps one
    engine: ``AppContext.models.ocr``)."""

    name = "rapidocr"
    concurrent = False  # one ONNX session already spreads a page over every core

    def __init__(self) -> None:
        self._session: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._session is None:
                from rapidocr import RapidOCR

                self._session = RapidOCR(params={"Global.max_side_len": _MAX_SIDE_PX, "Global.log_level": "error"})
                logging.getLogger("RapidOCR").setLevel(logging.ERROR)
            return self._session

    @staticmethod
    def status() -> EngineStatus:
        if importlib.util.find_spec("rapidocr") is None or importlib.util.find_spec("onnxruntime") is None:
            return EngineStatus("rapidocr", False, "not installed: pip install rapidocr onnxruntime")
        from importlib.metadata import version

        return EngineStatus("rapidocr", True, version("rapidocr"))

    def recognize(self, image: Image.Image, *, language: str, timeout_s: float) -> list[Word]:
        # The ONNX run cannot be interrupted: the pipeline checks the page's budget after it returns.
        result = self._load()(np.asarray(image.convert("RGB")))
        if result.boxes is None or result.txts is None:
            return []
        width, height = image.size
        lines = sorted(
            zip(result.boxes, result.txts, result.scores, strict=True),
            key=lambda item: (float(np.min(item[0][:, 1])), float(np.min(item[0][:, 0]))),
        )
        words: list[Word] = []
        for line, (box, text, score) in enumerate(lines):
            xs, ys = box[:, 0], box[:, 1]
            frame = (
                float(xs.min()) / width,
                float(ys.min()) / height,
                float(xs.max()) / width,
                float(ys.max()) / height,
            )
            words.extend(split_line(str(text), frame, 100.0 * float(score), line))
        return words
