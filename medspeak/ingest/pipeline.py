"""From a validated upload to pages of words: text layer first, OCR where a page has none.

Each page runs under a time budget and fails alone, with its reason; progress is reported after
every page, in page order, and a cancel request is honoured between pages. Pages are rendered
one at a time on the caller's thread (pdfium is not thread-safe) and, with an engine
that keeps a page to one core (Tesseract), OCR'd ``workers`` at a time on a thread pool: the
engine releases the GIL, so 2 workers use 2 cores. At most ``workers + 1`` page images are held
at once, and once a cancel is seen no new page starts.
"""

from __future__ import annotations

import io
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from functools import partial
from typing import Final

import pypdfium2 as pdfium
from PIL import Image

from medspeak.errors import Cancelled, IngestFailed
from medspeak.i18n import N_
from medspeak.ingest.budgets import MAX_RENDER_PIXELS, RENDER_DPI, fits_render_budget, render_scale
from medspeak.ingest.ocr import OcrEngine
from medspeak.ingest.prepare import prepare
from medspeak.ingest.textlayer import docx_text, pdf_text_layer, typed_page
from medspeak.ingest.types import FileKind, PageText, ValidatedUpload, Word

__all__ = [
    "MAX_RENDER_PIXELS",
    "Cancelled",
    "ExtractionResult",
    "PageImage",
    "default_workers",
    "extract",
    "ocr_image",
    "read_pages",
    "render_page",
    "words_to_text",
]

_RENDER_DPI: Final = RENDER_DPI
_MIN_TEXT_LAYER_CHARS: Final = 20  # fewer letters than this on a PDF page: treat it as a scan
_MAX_DEFAULT_WORKERS: Final = 4  # pages at once when not configured: one a core, leaving a big server some room

_TOO_LARGE: Final = (
    f"This page is too large to read safely (over {MAX_RENDER_PIXELS // 10**6} megapixels at {RENDER_DPI} DPI)."
)

Progress = Callable[[int, int], None]  # (pages done, pages in all)


@dataclass(frozen=True)
class ExtractionResult:
    pages: list[PageText]

    @property
    def text(self) -> str:
        return "\n\f\n".join(p.text for p in self.pages)  # form feed between pages, as pdftotext does

    @property
    def failed_pages(self) -> list[int]:
        return [p.number for p in self.pages if p.error]


@dataclass(frozen=True)
class PageImage:
    """A page with no usable text: its image, to be OCR'd."""

    number: int  # from 1
    image: Image.Image


def default_workers() -> int:
    """Pages OCR'd at once when not configured: one a core this process may use, at most 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, _MAX_DEFAULT_WORKERS))


def words_to_text(words: list[Word]) -> str:
    lines: dict[int, list[str]] = {}
    for word in words:
        lines.setdefault(word.line, []).append(word.text)
    return "\n".join(" ".join(tokens) for _, tokens in sorted(lines.items()))


def ocr_image(
    image: Image.Image,
    engine: OcrEngine,
    *,
    language: str,
    timeout_s: float,
    number: int = 1,
    steps: Sequence[str] | None = None,
) -> PageText:
    """OCR one page image; a failure or an overrun becomes this page's ``error``.

    Args:
        image: the page, any mode.
        engine: the OCR engine.
        language: ``"en"``, ``"fr"`` or ``"auto"``.
        timeout_s: the page's budget, counted from when its preparation starts.
        number: the page's number in its document, from 1.
        steps: preparation steps, for measurement (``bench/ocr.py --ablation``); ``None``: the defaults.
    """
    start = time.perf_counter()
    prepared = prepare(image, steps=steps)
    try:
        words = engine.recognize(prepared, language=language, timeout_s=timeout_s)
    except IngestFailed as exc:
        return PageText(
            number, f"ocr:{engine.name}", "", [], prepared.width, prepared.height, time.perf_counter() - start, str(exc)
        )
    seconds = time.perf_counter() - start
    error = f"OCR took {seconds:.3g} s, over the page budget of {timeout_s:g} s." if seconds > timeout_s else None
    return PageText(
        number, f"ocr:{engine.name}", words_to_text(words), words, prepared.width, prepared.height, seconds, error
    )


def render_page(kind: FileKind, content: bytes, number: int, *, dpi: int = _RENDER_DPI) -> Image.Image:
    """Page ``number`` (from 1) as an image: a rendered PDF page or a frame of an image file."""
    if kind is FileKind.PDF:
        pdf = pdfium.PdfDocument(content)
        try:
            page = pdf[number - 1]
            # A page too large for the budget is shown at a lower resolution, never rendered beyond it.
            width, height = page.get_size()
            rendered: Image.Image = page.render(scale=render_scale(width, height, dpi)).to_pil()
            return rendered
        finally:
            pdf.close()
    if kind.is_image:
        with Image.open(io.BytesIO(content)) as image:
            image.seek(number - 1)
            return _within_budget(image)
    raise IngestFailed(N_("Typed documents have no page image."))


def _pdf_pages(content: bytes) -> Iterator[PageText | PageImage]:
    pdf = pdfium.PdfDocument(content)
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            layer = pdf_text_layer(page, index + 1)
            if sum(ch.isalnum() for ch in layer.text) >= _MIN_TEXT_LAYER_CHARS:
                yield layer
            elif not fits_render_budget(*page.get_size()[:2]):  # checked at upload too; a stored file may predate it
                yield PageText(index + 1, "ocr", "", error=_TOO_LARGE)
            else:  # a scanned page: render it and read it (pdfium's grey rendering costs more than RGB + convert)
                yield PageImage(index + 1, page.render(scale=_RENDER_DPI / 72).to_pil())
    finally:
        pdf.close()


def _within_budget(frame: Image.Image) -> Image.Image:
    """The current frame, scaled down to ``MAX_RENDER_PIXELS`` when larger (a 64 MP photo: 1.03 GB at peak
    through OCR preparation at full size, ~0.6 GB scaled; bench/pdf_budgets.py). 36 MP is still 300 DPI on A3."""
    pixels = frame.width * frame.height
    if pixels <= MAX_RENDER_PIXELS:
        return frame.copy()
    scale = (MAX_RENDER_PIXELS / pixels) ** 0.5
    size = (max(1, int(frame.width * scale)), max(1, int(frame.height * scale)))
    return frame.resize(size, Image.Resampling.BOX)


def _image_pages(content: bytes) -> Iterator[PageImage]:
    with Image.open(io.BytesIO(content)) as image:
        for index in range(int(getattr(image, "n_frames", 1))):
            image.seek(index)
            yield PageImage(index + 1, _within_budget(image))


def _done(page: PageText) -> Future[PageText]:
    future: Future[PageText] = Future()
    future.set_result(page)
    return future


def read_pages(
    pages: Iterable[PageText | PageImage],
    engine: Callable[[], OcrEngine],
    *,
    language: str,
    page_budget_s: float,
    workers: int = 1,
    steps: Sequence[str] | None = None,
) -> Generator[PageText, None, None]:
    """Every page read, in order: OCR for page images, up to ``workers`` at once when the engine allows it.

    ``pages`` is consumed lazily, at most ``workers + 1`` ahead of the page last yielded; closing
    the iterator (a cancel) drops the pages not started and waits for those being read.

    Args:
        pages: pages already read (a text layer) and page images, in document order.
        engine: returns the OCR engine; called only when a page needs OCR.
        language: ``"en"``, ``"fr"`` or ``"auto"``.
        page_budget_s: a page taking longer fails alone with that reason.
        workers: pages OCR'd at once; only engines marked ``concurrent`` (thread-safe, one core a
            page: Tesseract) use more than one, the others already use every core for one page.
        steps: preparation steps, for measurement; ``None``: the defaults.
    """
    pool: ThreadPoolExecutor | None = None
    window: deque[Future[PageText]] = deque()
    try:
        for page in pages:
            if isinstance(page, PageText):
                window.append(_done(page))
            else:
                ocr = engine()
                if pool is None and workers > 1 and getattr(ocr, "concurrent", False):
                    pool = ThreadPoolExecutor(workers, thread_name_prefix="medspeak-ocr")
                read = partial(ocr_image, page.image, ocr, language=language, timeout_s=page_budget_s, steps=steps)
                window.append(
                    _done(read(number=page.number)) if pool is None else pool.submit(read, number=page.number)
                )
            limit = workers + 1 if pool is not None else 1  # one page ready to start when a worker frees up
            while window and (len(window) >= limit or window[0].done()):
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        if isinstance(pages, Generator):
            pages.close()  # a PDF's pages: release the document now, not when collected


def extract(
    upload: ValidatedUpload,
    engine: Callable[[], OcrEngine],
    *,
    language: str = "auto",
    page_budget_s: float = 60.0,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    workers: int | None = None,
) -> ExtractionResult:
    """All pages of an upload with their words; OCR only where there is no usable text layer.

    Args:
        upload: a validated upload.
        engine: returns the OCR engine; called only when a page needs OCR (so typed files need none).
        language: ``"en"``, ``"fr"`` or ``"auto"``.
        page_budget_s: a page taking longer fails alone with that reason.
        progress: called with (pages done, pages in all) after every page, in page order.
        cancel: set by the user; checked between pages: no page starts after it is seen.
        workers: pages OCR'd at once; ``None``: one a core (``default_workers``).

    Raises:
        Cancelled: ``cancel`` was set.
        IngestFailed: no page at all could be read.
    """
    sources: Iterable[PageText | PageImage]
    if upload.kind is FileKind.TXT:
        sources = [typed_page(upload.content.decode(upload.encoding or "utf-8", "replace"))]
    elif upload.kind is FileKind.DOCX:
        sources = [typed_page(docx_text(upload.content))]
    elif upload.kind is FileKind.PDF:
        sources = _pdf_pages(upload.content)
    else:
        sources = _image_pages(upload.content)
    count = default_workers() if workers is None else workers
    done: list[PageText] = []
    with closing(read_pages(sources, engine, language=language, page_budget_s=page_budget_s, workers=count)) as pages:
        for page in pages:  # pages are read lazily: cancel takes effect before the next one starts
            done.append(page)
            if progress is not None:
                progress(len(done), upload.page_count)
            if cancel is not None and cancel.is_set():
                raise Cancelled(N_("Cancelled by the user."))
    if done and all(p.error for p in done):
        raise IngestFailed(N_("No page could be read: {error}"), error=done[0].error)
    return ExtractionResult(done)
