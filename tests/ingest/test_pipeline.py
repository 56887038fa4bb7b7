"""From an upload to pages of words: text layer first, OCR for scans, each page failing alone."""

from __future__ import annotations

import io
import threading

import pytest
from fpdf import FPDF
from PIL import Image

from medspeak.demo.render import render_scan
from medspeak.errors import IngestFailed
from medspeak.ingest.ocr import get_engine
from medspeak.ingest.ocr.tesseract import TesseractEngine, in_process_available, parse_tsv
from medspeak.ingest.pipeline import Cancelled, extract, words_to_text
from medspeak.ingest.types import Word
from medspeak.ingest.validate import validate_upload
from tests.ingest import corpus
from tests.support.ocr import SlowEngine, marked_tiff

needs_tesseract = pytest.mark.skipif(not in_process_available(), reason="tesserocr or the models are not installed")
PRESCRIPTION = "Prescription\nAmoxicillin 500 mg PO three times daily for 7 days\nParacetamol 1 g PO every 6 hours"


def _upload(name: str, content: bytes):  # type: ignore[no-untyped-def]
    return validate_upload(name, content, max_bytes=20 * 2**20, max_pages=50)


def _no_ocr():  # type: ignore[no-untyped-def]
    raise AssertionError("OCR must not run on a page with a text layer")


def _scanned_pdf(pages: list[str]) -> bytes:
    doc = FPDF(unit="pt", format="A4")
    for index, text in enumerate(pages):
        doc.add_page()
        buffer = io.BytesIO(render_scan(text, index))
        doc.image(buffer, x=0, y=0, w=doc.w, h=doc.h)
    return bytes(doc.output())


def test_born_digital_pdf_uses_its_text_layer_with_word_boxes() -> None:
    result = extract(_upload("r.pdf", corpus.pdf("Metoprolol 25 mg PO twice daily", pages=2)), _no_ocr)
    assert [p.source for p in result.pages] == ["text-layer", "text-layer"]
    words = result.pages[0].words
    assert [w.text for w in words[:3]] == ["Metoprolol", "25", "mg"]
    assert all(0 <= w.x0 < w.x1 <= 1 and 0 <= w.y0 < w.y1 <= 1 for w in words)
    assert words[0].x1 <= words[1].x0  # left to right


@needs_tesseract
def test_a_scanned_pdf_is_rendered_and_read() -> None:
    result = extract(_upload("scan.pdf", _scanned_pdf([PRESCRIPTION])), lambda: get_engine("tesseract"))
    page = result.pages[0]
    assert page.source == "ocr:tesseract" and page.error is None
    assert "Amoxicillin 500 mg" in page.text
    assert page.mean_confidence is not None and page.mean_confidence > 80


@needs_tesseract
def test_a_short_prescription_scan_is_read() -> None:
    # Sparse pages (little ink) once lost all their text to contrast stretching: keep them readable.
    result = extract(
        _upload("rx.png", render_scan("Amoxicillin 500 mg PO three times daily", 4)), lambda: get_engine("tesseract")
    )
    assert "Amoxicillin 500 mg" in result.text


@needs_tesseract
def test_every_page_of_a_multipage_tiff_is_read_with_progress() -> None:
    frames = [Image.open(io.BytesIO(render_scan(f"Page {n}\nFurosemide 40 mg PO daily", n))) for n in (1, 2)]
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:])
    seen: list[tuple[int, int]] = []
    result = extract(
        _upload("fax.tif", out.getvalue()),
        lambda: get_engine("tesseract"),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(1, 2), (2, 2)]
    assert all("Furosemide 40 mg" in p.text for p in result.pages)


class _FlakyEngine:
    """Fails on one page, reads the others."""

    name = "flaky"

    def __init__(self, fail_on: int) -> None:
        self.calls, self.fail_on = 0, fail_on

    def recognize(self, image: Image.Image, *, language: str, timeout_s: float) -> list[Word]:
        self.calls += 1
        if self.calls == self.fail_on:
            raise IngestFailed("OCR took longer than the page budget (1 s).")
        return [Word("ok", 0.1, 0.1, 0.2, 0.2, 95.0, 0)]


def test_a_failed_page_fails_alone_with_its_reason() -> None:
    engine = _FlakyEngine(fail_on=2)
    result = extract(_upload("s.pdf", _scanned_pdf(["a", "b", "c"])), lambda: engine)
    assert [p.error is None for p in result.pages] == [True, False, True]
    assert "page budget" in (result.pages[1].error or "")
    assert result.failed_pages == [2]


def test_a_document_whose_every_page_fails_is_an_error() -> None:
    engine = _FlakyEngine(fail_on=1)
    with pytest.raises(IngestFailed, match="No page could be read"):
        extract(_upload("s.png", corpus.png(200, 200)), lambda: engine)


def test_cancel_stops_before_the_next_page() -> None:
    cancel = threading.Event()
    engine = _FlakyEngine(fail_on=99)
    with pytest.raises(Cancelled):
        extract(
            _upload("s.pdf", _scanned_pdf(["a", "b", "c"])),
            lambda: engine,
            progress=lambda done, total: cancel.set(),
            cancel=cancel,
        )
    assert engine.calls == 1


def test_typed_files_need_no_ocr() -> None:
    assert "Amoxicillin 500 mg" in extract(_upload("a.docx", corpus.docx()), _no_ocr).text
    text = extract(_upload("a.txt", "Paracétamol 1 g".encode("cp1252")), _no_ocr).text
    assert text == "Paracétamol 1 g"


def test_unavailable_engines_say_why() -> None:
    with pytest.raises(IngestFailed, match="easyocr is not available: .*requirements-gpu"):
        get_engine("easyocr")
    with pytest.raises(IngestFailed, match="Unknown OCR engine"):
        get_engine("abbyy")


@pytest.mark.slow
def test_rapidocr_reads_a_scan_when_installed() -> None:
    pytest.importorskip("rapidocr")
    result = extract(_upload("rx.png", render_scan(PRESCRIPTION, 2)), lambda: get_engine("rapidocr"))
    assert result.pages[0].source == "ocr:rapidocr"
    assert "Amoxicillin" in result.text


def test_pages_are_read_side_by_side_and_reported_in_order() -> None:
    engine = SlowEngine(0.3)
    seen: list[tuple[int, int]] = []
    result = extract(
        _upload("fax.tif", marked_tiff(6)),
        lambda: engine,
        workers=2,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert [p.text for p in result.pages] == ["1", "2", "3", "4", "5", "6"]
    assert [p.number for p in result.pages] == [1, 2, 3, 4, 5, 6]
    assert seen == [(n, 6) for n in range(1, 7)]
    assert engine.most_at_once == 2


def test_engines_that_use_every_core_read_one_page_at_a_time() -> None:
    engine = SlowEngine(0.05)
    engine.concurrent = False  # as RapidOCR: its runtime already spreads one page over the cores
    extract(_upload("fax.tif", marked_tiff(3)), lambda: engine, workers=2)
    assert engine.most_at_once == 1


def test_a_failed_page_fails_alone_when_pages_run_side_by_side() -> None:
    result = extract(_upload("fax.tif", marked_tiff(4)), lambda: SlowEngine(0.05, fail_on="2"), workers=2)
    assert result.failed_pages == [2]
    assert "page budget" in (result.pages[1].error or "")
    assert [p.text for p in result.pages] == ["1", "", "3", "4"]


def test_cancel_starts_no_new_page_when_pages_run_side_by_side() -> None:
    cancel = threading.Event()
    engine = SlowEngine(0.2)
    with pytest.raises(Cancelled):
        extract(
            _upload("fax.tif", marked_tiff(10)),
            lambda: engine,
            workers=2,
            progress=lambda done, total: cancel.set(),
            cancel=cancel,
        )
    assert engine.calls <= 3  # the first page, the one beside it, at most one that was already queued
    assert engine.running == 0  # nothing left reading once extract has returned


def test_a_page_over_its_budget_fails_alone_with_the_reason() -> None:
    # The engine cannot be interrupted (as RapidOCR): the overrun is found when it returns.
    engine = SlowEngine(0.01, slow_on="2")
    result = extract(_upload("fax.tif", marked_tiff(3)), lambda: engine, workers=2, page_budget_s=0.5)
    assert [p.text for p in result.pages] == ["1", "2", "3"]  # the words are kept for the record...
    assert result.failed_pages == [2]  # ...but the page is flagged, alone
    assert "over the page budget of 0.5 s" in (result.pages[1].error or "")


@needs_tesseract
def test_tesseract_reads_a_scan_with_boxes() -> None:
    image = Image.open(io.BytesIO(render_scan(PRESCRIPTION, 2)))
    words = TesseractEngine().recognize(image, language="en", timeout_s=60)
    text = words_to_text(words)
    assert "Amoxicillin 500 mg PO three times daily" in text and "Paracetamol 1 g" in text
    assert all(0 <= w.x0 < w.x1 <= 1 and 0 <= w.y0 < w.y1 <= 1 and 0 <= w.conf <= 100 for w in words)
    assert len({w.line for w in words}) >= 3  # the heading and the two orders, on their own lines


@needs_tesseract
def test_tesseract_stops_at_the_page_budget() -> None:
    image = Image.open(io.BytesIO(render_scan(PRESCRIPTION * 8, 3)))
    with pytest.raises(IngestFailed, match="longer than the page budget"):
        TesseractEngine().recognize(image, language="en", timeout_s=0.05)
    assert TesseractEngine().recognize(image, language="en", timeout_s=60)  # and recovers


def test_tesseract_without_its_models_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from medspeak.ingest.ocr import tesseract

    monkeypatch.setattr(tesseract, "_tessdata", lambda: None)
    status = TesseractEngine.status()
    assert not status.available and "apt-get install tesseract-ocr-eng" in status.detail
    with pytest.raises(IngestFailed, match="Tesseract is not installed"):
        TesseractEngine().recognize(Image.new("L", (10, 10), 255), language="en", timeout_s=1)


def test_tesseract_tsv_becomes_words_with_boxes_and_lines() -> None:
    tsv = (
        "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
        "1\t1\t0\t0\t0\t0\t0\t0\t1000\t500\t-1\t\n"
        "5\t1\t1\t1\t1\t1\t100\t50\t200\t40\t96.5\tFurosemide\n"
        "5\t1\t1\t1\t1\t2\t320\t50\t60\t40\t91\t40\n"
        "5\t1\t1\t1\t2\t1\t100\t100\t80\t40\t12\t  \n"
        "5\t1\t2\t1\t1\t1\t100\t300\t90\t40\t88\tdaily\n"
    )
    words = parse_tsv(tsv, 1000, 500)
    assert parse_tsv(tsv.split("\n", 1)[1], 1000, 500) == words  # the library's TSV has no header
    assert [(w.text, w.line) for w in words] == [("Furosemide", 0), ("40", 0), ("daily", 1)]
    first = words[0]
    assert (first.x0, first.y0, first.x1, first.y1, first.conf) == (0.1, 0.1, 0.3, 0.18, 96.5)
