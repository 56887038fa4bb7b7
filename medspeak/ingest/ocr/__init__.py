"""OCR engines behind one interface, chosen by ``MEDSPEAK_OCR_ENGINE=auto|tesseract|rapidocr|easyocr``."""

from __future__ import annotations

from medspeak.errors import IngestFailed
from medspeak.i18n import N_
from medspeak.ingest.ocr.base import EngineStatus, OcrEngine
from medspeak.ingest.ocr.easy import EasyOcrEngine
from medspeak.ingest.ocr.rapid import RapidOcrEngine
from medspeak.ingest.ocr.tesseract import TesseractEngine

__all__ = ["ENGINES", "EngineStatus", "OcrEngine", "engine_statuses", "get_engine"]

# Preference order for "auto": the most accurate engine that runs well on a CPU first.
ENGINES: dict[str, type[TesseractEngine] | type[RapidOcrEngine] | type[EasyOcrEngine]] = {
    "tesseract": TesseractEngine,
    "rapidocr": RapidOcrEngine,
    "easyocr": EasyOcrEngine,
}


def engine_statuses() -> list[EngineStatus]:
    """Every engine, whether it can run here, and why not."""
    return [cls.status() for cls in ENGINES.values()]


def get_engine(name: str = "auto") -> OcrEngine:
    """The named engine, or the first available for ``"auto"``.

    Raises:
        IngestFailed: unknown name, or the engine (or every engine) is unavailable, with the reason.
    """
    if name == "auto":
        for cls in ENGINES.values():
            if cls.status().available:
                return cls()
        details = "; ".join(f"{s.name}: {s.detail}" for s in engine_statuses())
        raise IngestFailed(N_("No OCR engine is available ({details})."), details=details)
    if name not in ENGINES:
        raise IngestFailed(
            N_("Unknown OCR engine {name!r}: choose auto, {value}."), name=name, value=", ".join(ENGINES)
        )
    status = ENGINES[name].status()
    if not status.available:
        raise IngestFailed(N_("The OCR engine {name} is not available: {detail}."), name=name, detail=status.detail)
    return ENGINES[name]()
