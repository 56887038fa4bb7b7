"""Image preparation before OCR: paper whitened on sparse pages only, pages turned upright, tilts levelled.

Pages come from the project's own typesetter (``evaluation.render_pages``) and the demo's scan
renderer, with made-up report text: no dataset, a few seconds in all.
"""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
from PIL import Image

from medspeak.demo.render import render_scan
from medspeak.ingest.evaluation import Report, error_rates, render_pages
from medspeak.ingest.ocr import get_engine
from medspeak.ingest.pipeline import words_to_text
from medspeak.ingest.prepare import estimate_layout, estimate_skew, prepare

REPORT = (
    "CHIEF COMPLAINT:, Dry cough for five days.,HISTORY:, A 54-year-old man with a dry cough, mild fever "
    "and no chest pain. Blood pressure 132/84 mmHg, pulse 88 per minute.,PLAN:,1.  Amoxicillin 500 mg "
    "three times a day for seven days.,2.  Review in one week. "
) * 3
needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed")
_TURNS = [(Image.Transpose.ROTATE_90, 3), (Image.Transpose.ROTATE_180, 2), (Image.Transpose.ROTATE_270, 1)]


def _page(*, degraded: bool = False, dpi: int = 150, text: str = REPORT, seed: int = 1) -> Image.Image:
    return render_pages([Report("made-up", text)], dpi=dpi, degraded=degraded, seed=seed)[0].image


def _tilted(degrees: float) -> Image.Image:
    return _page().rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=255)


def _speckled_prescription() -> Image.Image:
    """Two lines on grainy paper (the demo's scan): Otsu's threshold lands in the grain."""
    return Image.open(io.BytesIO(render_scan("Page 1\nFurosemide 40 mg PO daily", 1))).convert("L")


def _mismatch(a: Image.Image, b: Image.Image, *, reduce: int = 1) -> float:
    """Mean grey-level difference of two same-size pages, after averaging ``reduce`` x ``reduce`` blocks (noise)."""
    small_a, small_b = (np.asarray(x.reduce(reduce), dtype=np.int16) for x in (a, b))
    return float(np.abs(small_a - small_b).mean())


# --- whiten ------------------------------------------------------------------------------------


def test_the_grain_of_a_sparse_scan_is_whitened_and_its_ink_kept() -> None:
    page = _speckled_prescription()
    whitened = np.asarray(prepare(page, steps=("whiten",)))
    assert np.mean(np.asarray(page) == 255) < 0.01  # before: grey, grainy paper
    assert np.mean(whitened == 255) > 0.95  # after: white paper, grain included
    ink = np.asarray(page) < 80
    assert ink.any() and (whitened[ink] < 128).all()  # the strokes stay dark


def test_a_one_sentence_degraded_page_gets_white_paper() -> None:
    page = _page(degraded=True, dpi=200, text="Amoxicillin 500 mg PO three times daily.", seed=4)
    whitened = np.asarray(prepare(page, steps=("whiten",)))
    assert np.median(np.asarray(page)) < 250 and np.median(whitened) == 255


@pytest.mark.parametrize("degraded", [False, True])
def test_a_dense_page_is_left_byte_identical(degraded: bool) -> None:
    page = _page(degraded=degraded, dpi=200, seed=2)
    assert prepare(page, steps=("whiten",)).tobytes() == page.tobytes()


# --- orient ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("turn", "turns_back"), _TURNS)
def test_a_page_fed_sideways_or_upside_down_comes_back_upright(turn: Image.Transpose, turns_back: int) -> None:
    page = _page()
    turned = page.transpose(turn)
    assert estimate_layout(turned)[0] == turns_back
    assert prepare(turned).tobytes() == page.tobytes()  # exactly the upright page: no resampling either


@pytest.mark.parametrize(("turn", "turns_back"), _TURNS)
def test_a_turned_degraded_scan_is_righted(turn: Image.Transpose, turns_back: int) -> None:
    page = _page(degraded=True, seed=3)
    turned = page.transpose(turn)
    assert estimate_layout(turned)[0] == turns_back
    righted = prepare(turned)
    assert righted.size == page.size
    assert abs(estimate_skew(righted)) < 0.2
    upside_down = page.transpose(Image.Transpose.ROTATE_180)
    assert _mismatch(righted, prepare(page), reduce=4) < 0.25 * _mismatch(upside_down, page, reduce=4)


@pytest.mark.parametrize("turn", [Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180])
def test_a_one_line_page_is_left_as_it_came(turn: Image.Transpose) -> None:
    turned = _page(text="CBC.").transpose(turn)  # too little text to tell up from down
    assert estimate_layout(turned)[0] == 0
    assert prepare(turned).size == turned.size


def test_a_blank_page_is_left_alone() -> None:
    blank = Image.new("L", (1240, 1754), 240)
    assert estimate_layout(blank) == (0, 0.0)
    assert prepare(blank).tobytes() == blank.tobytes()


# --- deskew ------------------------------------------------------------------------------------


@pytest.mark.parametrize("degrees", [-3.0, -2.0, 2.5, 3.0])
def test_a_tilt_of_two_to_three_degrees_is_measured_and_levelled(degrees: float) -> None:
    tilted = _tilted(degrees)
    assert estimate_skew(tilted) == pytest.approx(-degrees, abs=0.15)
    levelled = prepare(tilted)
    assert levelled.mode == "L" and levelled.size == tilted.size
    assert abs(estimate_skew(levelled)) < 0.15


def test_a_tilted_degraded_scan_is_levelled() -> None:
    scan = _page(degraded=True, seed=5).rotate(2.5, resample=Image.Resampling.BICUBIC, fillcolor=235)
    assert abs(estimate_skew(scan)) > 1.0
    assert abs(estimate_skew(prepare(scan))) < 0.2


@pytest.mark.parametrize("degrees", [0.0, 0.1])
def test_a_straight_page_is_not_resampled(degrees: float) -> None:
    page = _tilted(degrees) if degrees else _page()
    assert prepare(page).tobytes() == page.tobytes()


def test_deskew_without_orient_does_not_turn() -> None:
    turned = _tilted(2.0).transpose(Image.Transpose.ROTATE_180)
    assert prepare(turned, steps=("deskew",)).size == turned.size
    assert abs(estimate_skew(prepare(turned, steps=("deskew",)))) < 0.15
    assert abs(estimate_skew(prepare(turned, steps=("orient",)))) > 1.5  # orient alone turns, does not level


# --- photos ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("orientation", "stored_as"),
    [(3, Image.Transpose.ROTATE_180), (6, Image.Transpose.ROTATE_90), (8, Image.Transpose.ROTATE_270)],
)
def test_a_photo_is_turned_upright_from_its_exif_orientation(orientation: int, stored_as: Image.Transpose) -> None:
    upright = _page(text="Furosemide 40 mg PO daily. " * 4)
    stored = upright.transpose(stored_as)  # as the camera wrote the pixels
    exif = Image.Exif()
    exif[0x0112] = orientation  # how to turn them for display
    buffer = io.BytesIO()
    stored.convert("RGB").save(buffer, format="JPEG", quality=92, exif=exif)
    with Image.open(buffer) as photo:
        prepared = prepare(photo)
    assert prepared.size == upright.size
    assert _mismatch(prepared, upright) < 2.0  # the same page, up to JPEG's error


# --- what OCR makes of it ------------------------------------------------------------------------


@needs_tesseract
def test_a_sparse_speckled_page_is_read() -> None:
    words = get_engine("tesseract").recognize(prepare(_speckled_prescription()), language="en", timeout_s=60)
    assert "Furosemide 40 mg PO daily" in words_to_text(words)


@needs_tesseract
def test_a_levelled_scan_reads_well() -> None:
    """Levelling resamples the page: the text must survive it (the gain itself shows on full pages, in the bench)."""
    page = render_pages([Report("made-up", REPORT)], dpi=150, degraded=True, seed=3)[0]
    scan = page.image.rotate(2.5, resample=Image.Resampling.BICUBIC, fillcolor=235)
    words = get_engine("tesseract").recognize(prepare(scan), language="en", timeout_s=60)
    assert error_rates([page.truth], [words_to_text(words)])[0] < 0.02
