"""The model registry of one application context: the triage model, the length-of-stay model, the OCR engines and
the extraction backends, each loaded on first use (its files checked where it has a manifest) and kept for the
context's life. Two contexts share none of them."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from medspeak.config import Settings
from medspeak.indexing.extract import Extractors
from medspeak.ingest.ocr import OcrEngine, get_engine
from medspeak.los.artifact import DEFAULT_DIR, load_committed, manifest_stamp

if TYPE_CHECKING:
    from medspeak.los.model import LosModel
    from medspeak.services.triage import TriageEngine

__all__ = ["Models"]


class Models:
    """The context's model registry: each model is loaded on first use, its files checked, and kept."""

    def __init__(self, settings: Settings) -> None:
        # one lock a kind: loading the triage model (~1 s) never holds up the OCR engine a document waits for
        self._ocr_lock, self._triage_lock, self._los_lock = threading.Lock(), threading.Lock(), threading.Lock()
        self._triage: TriageEngine | None = None
        self._los: dict[Path, tuple[float, LosModel]] = {}
        self._ocr: dict[str, OcrEngine] = {}
        self.extractors = Extractors(settings)

    def ocr(self, name: str = "auto") -> OcrEngine:
        """The OCR engine of that name (``auto``: the first available), kept with its loaded models.

        Raises:
            IngestFailed: unknown name, or the engine is unavailable here, with the reason.
        """
        with self._ocr_lock:
            if name not in self._ocr:
                self._ocr[name] = get_engine(name)
            return self._ocr[name]

    def triage(self) -> TriageEngine:
        """The committed triage model and its explainer (~1 s the first time).

        Raises:
            ModelUnavailable: the model is missing or altered.
        """
        with self._triage_lock:
            if self._triage is None:
                from medspeak.services.triage import TriageEngine  # xgboost and shap load here, not at start

                self._triage = TriageEngine.load()
            return self._triage

    def los(self, folder: Path = DEFAULT_DIR) -> LosModel:
        """The length-of-stay model of ``folder``, reloaded when its manifest is rewritten (a retrained model).

        Raises:
            ModelUnavailable: the model is missing or altered.
        """
        stamp = manifest_stamp(folder)
        with self._los_lock:
            kept = self._los.get(folder)
            if kept is None or kept[0] != stamp:
                kept = self._los[folder] = (stamp, load_committed(folder))
            return kept[1]

    def close(self) -> None:
        """Close the extractors' server connections (the loaded models are freed with the context)."""
        self.extractors.close()
