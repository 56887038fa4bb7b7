"""Rendered originals: PDFs a parser reads back, scans of the right size that OCR can still read."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from PIL import Image
from pypdf import PdfReader

from medspeak.demo.dataset import DemoDataset, DemoDocument
from medspeak.demo.render import SCAN_SIZE, render_pdf, render_scan, to_latin1


def _first(dataset: DemoDataset, language: str, kind: str | None = None) -> DemoDocument:
    return next(d for d in dataset.documents if d.language == language and kind in (None, d.kind))


@pytest.mark.parametrize("language", ["en", "fr"])
def test_pdf_parses_and_contains_the_mrn(dataset: DemoDataset, language: str) -> None:
    document = _first(dataset, language, "discharge_summary")
    reader = PdfReader(io.BytesIO(render_pdf(document.text, document.title)))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert document.mrn in text
    assert ("Hôpital Saint-Aldric" if language == "fr" else "St. Aldric General Hospital") in text
    assert reader.metadata is not None and reader.metadata.title == document.title


def test_long_text_wraps_over_several_pages() -> None:
    text = "\n".join(f"Line {i}: " + "a fairly long sentence about nothing " * 6 for i in range(120))
    reader = PdfReader(io.BytesIO(render_pdf(text, "Long")))
    assert len(reader.pages) >= 3
    assert "Line 119" in reader.pages[-1].extract_text()


def test_pdf_is_reproducible_and_tolerates_characters_outside_latin1() -> None:
    text = "L’œdème – stable… “ok” 😀"
    assert render_pdf(text, "Note – 1") == render_pdf(text, "Note – 1")
    assert to_latin1(text) == 'L\'oedème - stable... "ok" ?'


def test_scan_is_an_a4_page_at_150_dpi_and_reproducible(dataset: DemoDataset) -> None:
    document = _first(dataset, "fr", "prescription")
    content = render_scan(document.text, seed=3)
    image = Image.open(io.BytesIO(content))
    assert image.format == "PNG" and image.size == SCAN_SIZE and image.mode == "L"
    assert render_scan(document.text, seed=3) == content
    assert render_scan(document.text, seed=4) != content


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")
def test_scan_stays_legible_for_ocr(dataset: DemoDataset) -> None:
    document = _first(dataset, "en", "prescription")
    image = render_scan(document.text, seed=11)
    tesseract = shutil.which("tesseract") or "tesseract"
    result = subprocess.run(  # noqa: S603 - fixed arguments, our own image on stdin
        [tesseract, "stdin", "stdout", "--psm", "6"], input=image, capture_output=True, check=True, timeout=60
    )
    recognised = result.stdout.decode("utf-8", errors="replace")
    assert document.mrn in recognised
    assert "St. Aldric General Hospital" in recognised
