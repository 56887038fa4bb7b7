"""OCR evaluation: error rates a reader can trust, scan-like pages that stay legible, the same pages every run.

The reports here are made up for the tests (never MTSamples text).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from medspeak.errors import MedspeakError
from medspeak.ingest import evaluation
from medspeak.ingest.evaluation import (
    error_rates,
    eval_ocr_command,
    evaluate_ocr,
    levenshtein,
    normalise,
    read_reports_csv,
    read_reports_folder,
    render_pages,
)
from medspeak.ingest.ocr import get_engine
from medspeak.ingest.ocr.tesseract import in_process_available
from medspeak.ingest.pipeline import ocr_image
from medspeak.ingest.types import Word

REPORTS = [
    "CHIEF COMPLAINT:, Dry cough for five days.,HISTORY:, A 54-year-old man with a dry cough, mild fever "
    "and no chest pain. Blood pressure 132/84 mmHg, pulse 88 per minute.,PLAN:,1.  Amoxicillin 500 mg "
    "three times a day for seven days.,2.  Review in one week.",
    "REASON FOR VISIT:, Follow-up of type 2 diabetes.,ASSESSMENT:, HbA1c 7.2 %, down from 8.1 %. Feet "
    "examined: no ulcer. Metformin 1000 mg twice daily, unchanged.",
]
_TESSERACT = in_process_available()
_EXPECTED_KEYS = {"engine", "pages", "cer_clean", "cer_degraded", "wer_degraded", "pages_per_s"}


@pytest.fixture
def reports_csv(tmp_path: Path) -> Path:
    path = tmp_path / "reports.csv"
    rows = ["note_id,description,transcription", *[f'{i},made up,"{text}"' for i, text in enumerate(REPORTS, 1)]]
    path.write_text("\n".join([*rows, "3,an empty report,"]) + "\n", encoding="utf-8")
    return path


class _EchoEngine:
    """Stands in for an OCR engine: reads every page as the same two words, instantly."""

    name = "echo"

    def recognize(self, image: Image.Image, *, language: str, timeout_s: float) -> list[Word]:
        return [Word("Dry", 0.1, 0.1, 0.2, 0.12, 90.0, 0), Word("cough", 0.21, 0.1, 0.3, 0.12, 90.0, 0)]


def _naive_levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abc d", max_size=80), st.text(alphabet="abcd e", max_size=80))
def test_levenshtein_agrees_with_the_textbook_dp(a: str, b: str) -> None:
    assert levenshtein(a, b) == _naive_levenshtein(a, b)


def test_identical_text_has_no_error_whatever_the_line_breaks() -> None:
    assert error_rates(["Blood pressure 132/84\nmmHg."], ["Blood  pressure 132/84 mmHg. "]) == (0.0, 0.0)


def test_known_edits_give_the_expected_fractions() -> None:
    cer, wer = error_rates(["the cat sat"], ["the bat sat"])  # one character of 11, one word of 3
    assert cer == pytest.approx(1 / 11)
    assert wer == pytest.approx(1 / 3)
    cer, wer = error_rates(["aspirin 75 mg", "daily"], ["aspirin 75mg", ""])  # pooled over pages
    assert cer == pytest.approx((1 + 5) / (13 + 5))
    assert wer == pytest.approx((2 + 1) / (3 + 1))  # "75 mg" -> "75mg": one substitution, one deletion
    assert levenshtein("Troponin I".split(), "Troponin |".split()) == 1


def test_typography_and_compatibility_forms_do_not_count_as_errors() -> None:
    assert normalise("l\u2019\u00e9chographie \ufb01brose\u00a0\u2013 ok") == "l'échographie fibrose - ok"


def test_reports_are_read_skipping_empty_ones(reports_csv: Path, tmp_path: Path) -> None:
    assert [r.note_id for r in read_reports_csv(reports_csv, 10)] == ["1", "2"]
    folder = tmp_path / "fr"
    folder.mkdir()
    for name, text in (("10", "Toux sèche."), ("9", "Fièvre."), ("11", "  ")):
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    assert [(r.note_id, r.text) for r in read_reports_folder(folder, 5)] == [("9", "Fièvre."), ("10", "Toux sèche.")]


def test_a_csv_without_reports_is_refused_clearly(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    with pytest.raises(MedspeakError, match="note_id and transcription"):
        evaluate_ocr(missing, n=2)
    (tmp_path / "empty.csv").write_text("note_id,transcription\n1,\n", encoding="utf-8")
    with pytest.raises(MedspeakError, match="No report"):
        evaluate_ocr(tmp_path / "empty.csv", n=2)


def test_pages_are_a4_with_sections_on_their_own_lines(reports_csv: Path) -> None:
    page = render_pages(read_reports_csv(reports_csv, 1), dpi=200, degraded=False)[0]
    assert page.image.size == (1654, 2338)
    assert page.truth.splitlines()[:3] == ["CHIEF COMPLAINT:", "Dry cough for five days.", "HISTORY:"]
    assert "1. Amoxicillin 500 mg three times a day for seven days." in page.truth.splitlines()


def test_long_reports_are_cut_at_two_pages() -> None:
    report = evaluation.Report("long", " ".join(f"Line {i} of a very long operative note." for i in range(2000)))
    pages = render_pages([report], dpi=150, degraded=False)
    assert [p.number for p in pages] == [1, 2]


def test_same_seed_same_pages_other_seed_other_pages(reports_csv: Path) -> None:
    reports = read_reports_csv(reports_csv, 2)
    first = render_pages(reports, dpi=150, degraded=True, seed=7)
    again = render_pages(reports, dpi=150, degraded=True, seed=7)
    other = render_pages(reports, dpi=150, degraded=True, seed=8)
    assert [p.image.tobytes() for p in first] == [p.image.tobytes() for p in again]
    assert first[0].image.tobytes() != other[0].image.tobytes()


def test_degraded_pages_differ_from_clean_ones(reports_csv: Path) -> None:
    reports = read_reports_csv(reports_csv, 1)
    clean = np.asarray(render_pages(reports, dpi=200, degraded=False)[0].image, dtype=np.int16)
    scan = np.asarray(render_pages(reports, dpi=200, degraded=True)[0].image, dtype=np.int16)
    assert clean.shape == scan.shape
    assert np.abs(clean - scan).mean() > 5  # grey paper, noise, tilt: not the same picture
    assert scan.std() > 3  # but not blank either


@pytest.mark.skipif(not _TESSERACT, reason="tesseract is not installed")
@pytest.mark.parametrize("dpi", [150, 200])
def test_degraded_pages_stay_readable(reports_csv: Path, dpi: int) -> None:
    pages = render_pages(read_reports_csv(reports_csv, 2), dpi=dpi, degraded=True, seed=3)
    engine = get_engine("tesseract")
    readings = [ocr_image(p.image, engine, language="en", timeout_s=60).text for p in pages]
    cer, _ = error_rates([p.truth for p in pages], readings)
    assert cer < 0.03


def test_evaluate_returns_exactly_the_documented_keys(reports_csv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluation, "get_engine", lambda name: _EchoEngine())
    result = evaluate_ocr(reports_csv, n=2, engine="echo", seed=0)
    assert set(result) == _EXPECTED_KEYS
    assert result["engine"] == "echo"
    assert result["pages"] == 2
    assert 0.0 < result["cer_clean"] <= 1.0  # two words out of a report: mostly deletions
    assert result["pages_per_s"] > 0


def test_eval_command_prints_one_json_line(
    reports_csv: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(evaluation, "get_engine", lambda name: _EchoEngine())
    eval_ocr_command(reports_csv, 2, "echo", json_out=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert set(json.loads(lines[0])) == _EXPECTED_KEYS
    eval_ocr_command(reports_csv, 2, "echo", json_out=False)
    assert "pages/s" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.skipif(not _TESSERACT, reason="tesseract is not installed")
def test_tesseract_reads_made_up_reports_well(reports_csv: Path) -> None:
    result = evaluate_ocr(reports_csv, n=2, engine="tesseract", seed=0)
    assert set(result) == _EXPECTED_KEYS
    assert result["engine"] == "tesseract"
    assert result["cer_clean"] < 0.02
    assert result["cer_degraded"] < 0.03


class _SleepyEngine:
    """One core a page, thread-safe (like Tesseract): 0.25 s a page, whatever the page."""

    name = "sleepy"
    concurrent = True

    def recognize(self, image: Image.Image, *, language: str, timeout_s: float) -> list[Word]:
        time.sleep(0.25)
        return [Word("Dry", 0.1, 0.1, 0.2, 0.12, 90.0, 0)]


def test_speed_is_measured_as_the_product_reads_pages_side_by_side() -> None:
    pages = [evaluation.RenderedPage("x", n, 50, False, Image.new("L", (200, 280), 255), "Dry") for n in (1, 2, 3, 4)]
    serial = evaluation.measure(pages, _SleepyEngine(), workers=1)
    parallel = evaluation.measure(pages, _SleepyEngine(), workers=2)
    assert (serial.workers, parallel.workers) == (1, 2)
    assert serial.seconds >= 4 * 0.25  # wall clock over the whole run, not a sum of page times
    assert parallel.pages_per_s > 1.5 * serial.pages_per_s
    assert parallel.cer == serial.cer == 0.0
