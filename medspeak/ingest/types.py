"""What ingestion produces: pages of words with boxes and confidences.

Boxes are fractions of the page (0-1, origin top-left), so they hold for any rendering size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["FileKind", "PageText", "ValidatedUpload", "Word"]


class FileKind(StrEnum):
    PDF = "pdf"
    PNG = "png"
    JPEG = "jpeg"
    TIFF = "tiff"
    TXT = "txt"
    DOCX = "docx"

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]

    @property
    def is_image(self) -> bool:
        return self in {FileKind.PNG, FileKind.JPEG, FileKind.TIFF}


_MEDIA_TYPES = {
    FileKind.PDF: "application/pdf",
    FileKind.PNG: "image/png",
    FileKind.JPEG: "image/jpeg",
    FileKind.TIFF: "image/tiff",
    FileKind.TXT: "text/plain",
    FileKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word; ``conf`` is 0-100 (100 for a PDF text layer or typed text)."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    conf: float
    line: int  # reading-order line number on the page, from 0

    def to_json(self) -> list[Any]:
        return [
            self.text,
            round(self.x0, 5),
            round(self.y0, 5),
            round(self.x1, 5),
            round(self.y1, 5),
            round(self.conf, 1),
            self.line,
        ]

    @classmethod
    def from_json(cls, row: list[Any]) -> Word:
        text, x0, y0, x1, y1, conf, line = row
        return cls(str(text), float(x0), float(y0), float(x1), float(y1), float(conf), int(line))


@dataclass(frozen=True)
class PageText:
    """A page's text in reading order, with its words; ``error`` set when this page alone failed."""

    number: int  # from 1
    source: str  # "text-layer", "ocr:tesseract", "ocr:rapidocr", "typed" (txt/docx)
    text: str
    words: list[Word] = field(default_factory=list)
    width: int = 0  # pixels of the image the boxes refer to (0 when there is no image)
    height: int = 0
    seconds: float = 0.0
    error: str | None = None

    @property
    def mean_confidence(self) -> float | None:
        return sum(w.conf for w in self.words) / len(self.words) if self.words else None


@dataclass(frozen=True)
class ValidatedUpload:
    """An upload that passed every check: safe to store and to extract."""

    content: bytes
    kind: FileKind
    extension: str  # the vetted extension used for the stored file
    display_name: str  # the client's filename, cleaned, for display only
    page_count: int
    sha256: str
    encoding: str | None = None  # detected text encoding (txt)
