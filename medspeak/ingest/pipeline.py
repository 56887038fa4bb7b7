"""From a validated upload to pages of words: text layer first, OCR where a page has none.

Each page runs under a time budget and fails alone, with its reason; progress is reported after
every page and a cancel request is honoured between pages.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pypdfium2 as pdfium
from PIL import Image

from medspeak.errors import IngestFailed, MedspeakError
from medspeak.ingest.ocr import OcrEngine
from medspeak.ingest.prepare import prepare
from medspeak.ingest.textlayer import docx_text, pdf_text_layer, typed_page
from medspeak.ingest.types import FileKind, PageText, ValidatedUpload, Word

__all__ = ["Cancelled", "ExtractionResult", "extract", "ocr_image", "render_page", "words_to_text"]

_RENDER_DPI = 200  # enough for 10-pt text (Tesseract wants ~20 px capitals); 300 DPI costs 2x for no gain
_MIN_TEXT_LAYER_CHARS = 20  # fewer letters than this on a PDF page: treat it as a scan

Progress = Callable[[int, int], None]  # (pages done, pages in all)


class Cancelled(MedspeakError):
    """The user cancelled the job; nothing of it is kept."""


@dataclass(frozen=True)
class ExtractionResult:
    pages: list[PageText]

    @property
    def text(self) -> str:
        return "\n\f\n".join(p.text for p in self.pages)  # form feed between pages, as pdftotext does

    @property
    def failed_pages(self) -> list[int]:
        return [p.number for p in self.pages if p.error]


def words_to_text(words: list[Word]) -> str:
    lines: dict[int, list[str]] = {}
    for word in words:
        lines.setdefault(word.line, []).append(word.text)
    return "\n".join(" ".join(tokens) for _, tokens in sorted(lines.items()))


def ocr_image(image: Image.Image, engine: OcrEngine, *, language: str, timeout_s: float, number: int = 1) -> PageText:
    """OCR one page image; a failure or an overrun becomes this page's ``error``."""
    start = time.perf_counter()
    prepared = prepare(image)
    try:
        words = engine.recognize(prepared, language=language, timeout_s=timeout_s)
    except IngestFailed as exc:
        return PageText(
            number, f"ocr:{engine.name}", "", [], prepared.width, prepared.height, time.perf_counter() - start, str(exc)
        )
    seconds = time.perf_counter() - start
    error = f"OCR took {seconds:.0f} s, over the page budget of {timeout_s:.0f} s." if seconds > timeout_s else None
    return PageText(
        number, f"ocr:{engine.name}", words_to_text(words), words, prepared.width, prepared.height, seconds, error
    )


def render_page(kind: FileKind, content: bytes, number: int, *, dpi: int = _RENDER_DPI) -> Image.Image:
    """Page ``number`` (from 1) as an image: a rendered PDF page or a frame of an image file."""
    if kind is FileKind.PDF:
        pdf = pdfium.PdfDocument(content)
        try:
            rendered: Image.Image = pdf[number - 1].render(scale=dpi / 72).to_pil()
            return rendered
        finally:
            pdf.close()
    if kind.is_image:
        with Image.open(io.BytesIO(content)) as image:
            image.seek(number - 1)
            return image.copy()
    raise IngestFailed("Typed documents have no page image.")


def _pdf_pages(content: bytes, engine: Callable[[], OcrEngine], language: str, budget: float) -> Iterator[PageText]:
    pdf = pdfium.PdfDocument(content)
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            layer = pdf_text_layer(page, index + 1)
            if sum(ch.isalnum() for ch in layer.text) >= _MIN_TEXT_LAYER_CHARS:
                yield layer
            else:  # a scanned page: render it and read it
                image = page.render(scale=_RENDER_DPI / 72).to_pil()
                yield ocr_image(image, engine(), language=language, timeout_s=budget, number=index + 1)
    finally:
        pdf.close()


def _image_pages(content: bytes, engine: Callable[[], OcrEngine], language: str, budget: float) -> Iterator[PageText]:
    with Image.open(io.BytesIO(content)) as image:
        for index in range(int(getattr(image, "n_frames", 1))):
            image.seek(index)
            yield ocr_image(image.copy(), engine(), language=language, timeout_s=budget, number=index + 1)


def extract(
    upload: ValidatedUpload,
    engine: Callable[[], OcrEngine],
    *,
    language: str = "auto",
    page_budget_s: float = 60.0,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> ExtractionResult:
    """All pages of an upload with their words; OCR only where there is no usable text layer.

    Args:
        upload: a validated upload.
        engine: returns the OCR engine; called only when a page needs OCR (so typed files need none).
        language: ``"en"``, ``"fr"`` or ``"auto"``.
        page_budget_s: a page taking longer fails alone with that reason.
        progress: called with (pages done, pages in all) after every page.
        cancel: set by the user; checked between pages.

    Raises:
        Cancelled: ``cancel`` was set.
        IngestFailed: no page at all could be read.
    """
    if upload.kind is FileKind.TXT:
        pages: Iterator[PageText] = iter([typed_page(upload.content.decode(upload.encoding or "utf-8", "replace"))])
    elif upload.kind is FileKind.DOCX:
        pages = iter([typed_page(docx_text(upload.content))])
    elif upload.kind is FileKind.PDF:
        pages = _pdf_pages(upload.content, engine, language, page_budget_s)
    else:
        pages = _image_pages(upload.content, engine, language, page_budget_s)
    done: list[PageText] = []
    for page in pages:  # each page is read lazily: cancel takes effect before the next one starts
        done.append(page)
        if progress is not None:
            progress(len(done), upload.page_count)
        if cancel is not None and cancel.is_set():
            raise Cancelled("Cancelled by the user.")
    if done and all(p.error for p in done):
        raise IngestFailed(f"No page could be read: {done[0].error}")
    return ExtractionResult(done)
