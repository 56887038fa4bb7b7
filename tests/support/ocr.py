"""A fake OCR engine that counts the pages it reads at once, and a multi-page TIFF whose pages it can tell apart."""

from __future__ import annotations

import io
import threading
import time

from PIL import Image

from medspeak.errors import IngestFailed
from medspeak.ingest.types import Word


class SlowEngine:
    """Thread-safe and one core a page, like Tesseract: takes ``seconds`` a page, counts pages read at once."""

    name = "slow"
    concurrent = True

    def __init__(self, seconds: float = 0.3, fail_on: str | None = None, slow_on: str | None = None) -> None:
        self.seconds, self.fail_on, self.slow_on = seconds, fail_on, slow_on
        self.calls = self.running = self.most_at_once = 0
        self._lock = threading.Lock()

    def recognize(self, image: Image.Image, *, language: str, timeout_s: float) -> list[Word]:
        with self._lock:
            self.calls += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        label = str(image.getpixel((0, 0)))  # each test page is marked by its first pixel
        try:
            time.sleep(1.0 if label == self.slow_on else self.seconds)
        finally:
            with self._lock:
                self.running -= 1
        if label == self.fail_on:
            raise IngestFailed("OCR took longer than the page budget (1 s).")
        return [Word(label, 0.1, 0.1, 0.2, 0.2, 95.0, 0)]


def marked_tiff(count: int, width: int = 300) -> bytes:
    """A multi-page TIFF whose page n has grey level n in its corner (the SlowEngine reads it back)."""
    frames = [Image.new("L", (width, 200), 255) for _ in range(count)]
    for number, frame in enumerate(frames, start=1):
        frame.putpixel((0, 0), number)
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:])
    return out.getvalue()
