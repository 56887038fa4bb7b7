"""OCR evaluation on real report text: render pages, degrade them like scans, read them, score them.

Reports in the MTSamples format (a CSV with ``note_id`` and ``transcription``) or a folder of
``N.txt`` reports are typeset on A4 pages (10.5 pt, 20 mm margins, headings in bold, at most two
pages a report), once clean and once degraded like a real scan: a tilt of up to 3°, optical blur,
sensor noise and JPEG artefacts, seeded so that the same seed gives the same pixels. Every page is
read through :func:`medspeak.ingest.pipeline.ocr_image`, so image preparation is part of what is
measured, and scored by character and word error rate: the Levenshtein distance between the
normalised page text and the normalised OCR text, over the length of the page text (summed over
pages, so long pages weigh more). Normalisation is NFKC, typographic quotes and dashes as ASCII,
and whitespace collapsed: the line breaks chosen by the typesetter are not the engine's to guess.
MTSamples keeps a report on one line with ``LABEL:,`` section marks; sections are typeset as a
bold heading line and a paragraph, and the ground truth is exactly the text typeset on the page.

References: Levenshtein distance from rapidfuzz (the bit-parallel algorithm of Myers, J. ACM 46(3), 1999);
the OCR error rates follow the ISRI / ocreval definitions.
"""

from __future__ import annotations

import io
import json
import re
import resource
import time
import unicodedata
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd  # type: ignore[import-untyped,unused-ignore]  # stubs are not installed everywhere
import typer
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from rapidfuzz.distance import Levenshtein

from medspeak.errors import MedspeakError
from medspeak.ingest.ocr import OcrEngine, get_engine
from medspeak.ingest.pipeline import PageImage, default_workers, ocr_image, read_pages

__all__ = [
    "ConditionResult",
    "RenderedPage",
    "Report",
    "degrade",
    "error_rates",
    "eval_ocr_command",
    "evaluate_ocr",
    "levenshtein",
    "measure",
    "normalise",
    "read_reports_csv",
    "read_reports_folder",
    "render_pages",
    "render_report",
    "warm_up",
]

_A4_INCHES: Final = (8.27, 11.69)
_MARGIN_INCHES: Final = 0.79  # 20 mm, a usual letterhead margin
_FONT_POINTS: Final = 10.5  # body text of a typed clinical report
_LINE_PITCH: Final = 1.3  # line spacing as a multiple of the font size
_MAX_PAGES_PER_REPORT: Final = 2  # bounds the run time on long operative notes
# (regular, bold) pairs, alternated between reports: a serif and a sans face, both with French accents.
_FONT_FAMILIES: Final = (
    ("LiberationSerif-Regular.ttf", "LiberationSerif-Bold.ttf"),
    ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
)
_MAX_TILT_DEGREES: Final = 3.0  # a page fed by hand into a sheet-fed scanner
_PAGE_TIMEOUT_S: Final = 120.0  # generous: the benchmark measures speed, it should not cut pages short
# Typographic variants an engine may return for the same glyph: not a reading error.
_TYPOGRAPHY: Final = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00ab": '"', "\u00bb": '"'}
    | {"\u2013": "-", "\u2014": "-", "\u2212": "-"}
)
# An all-capitals label followed by a colon starts a section ("HISTORY OF PRESENT ILLNESS:", "PLAN :").
_HEADING: Final = re.compile(r"(?<![\w'])([A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ0-9 /&()'’-]*[A-ZÀ-ÖØ-Þ)])\s*:\s*,?\s*")
_LIST_ITEM: Final = re.compile(r",\s*(\d{1,2}\.)\s+")  # MTSamples flattens "1. ..." items to ",1.  ..."


@dataclass(frozen=True)
class Report:
    note_id: str
    text: str


@dataclass(frozen=True)
class RenderedPage:
    """One page image and the exact text typeset on it (the ground truth)."""

    note_id: str
    number: int  # page of the report, from 1
    dpi: int
    degraded: bool
    image: Image.Image
    truth: str


@dataclass(frozen=True)
class ConditionResult:
    """What one engine achieved on one set of pages."""

    engine: str
    pages: int
    cer: float  # fraction of characters wrong (edits / characters of the truth)
    wer: float  # fraction of words wrong
    seconds: float  # wall clock from the first page's start to the last page's end (pages read `workers` at once)
    failed: int  # pages that came back with an error (counted as empty text)
    cpu_seconds: float = 0.0  # CPU time of this process and its engine subprocesses over the same reads
    workers: int = 1  # pages read at once

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0


def read_reports_csv(path: Path, n: int) -> list[Report]:
    """The first ``n`` non-empty reports of a CSV in the MTSamples format (``note_id``, ``transcription``)."""
    try:
        frame = pd.read_csv(path, usecols=["note_id", "transcription"], dtype={"note_id": str, "transcription": str})
    except (OSError, ValueError) as exc:  # missing file, or not the MTSamples columns
        raise MedspeakError(f"Cannot read reports from {path.name}: a CSV with note_id and transcription.") from exc
    frame = frame[frame["transcription"].fillna("").str.strip().str.len() > 0]
    return [Report(str(row.note_id), str(row.transcription)) for row in frame.head(n).itertuples()]


def read_reports_folder(folder: Path, n: int) -> list[Report]:
    """The first ``n`` non-empty ``N.txt`` reports of a folder, in numeric order (``mtsamples_fr`` layout)."""
    files = sorted(folder.glob("*.txt"), key=lambda p: (not p.stem.isdigit(), int(p.stem) if p.stem.isdigit() else 0))
    reports = [Report(p.stem, p.read_text(encoding="utf-8")) for p in files]
    return [r for r in reports if r.text.strip()][:n]


# --- typesetting -------------------------------------------------------------------------------


def _paragraphs(text: str) -> list[tuple[str, bool]]:
    """(paragraph, is heading) in order: MTSamples keeps a report on one line, sections marked by ``LABEL:,``."""
    text = " ".join(text.split())
    pieces: list[tuple[str, bool]] = []
    cursor = 0
    for match in _HEADING.finditer(text):
        if not any(ch.isalpha() for ch in match.group(1)):
            continue
        pieces.extend(_body(text[cursor : match.start()]))
        pieces.append((match.group(1).strip() + ":", True))
        cursor = match.end()
    pieces.extend(_body(text[cursor:]))
    return pieces


def _body(text: str) -> list[tuple[str, bool]]:
    text = text.strip().strip(",").strip()
    return [(item.strip(), False) for item in _LIST_ITEM.sub(r"\n\1 ", text).split("\n") if item.strip()]


@lru_cache(maxsize=16)
def _font(name: str, pixels: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(name, pixels)
    except OSError:  # no such system font: Pillow's own (it lacks accents, still a fair test)
        return ImageFont.load_default(size=pixels)


def _wrap(paragraph: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in paragraph.split():
        candidate = f"{line} {word}" if line else word
        if line and font.getlength(candidate) > width:
            lines.append(line)
            line = word
        else:
            line = candidate  # a single word wider than the line overflows the margin, as it would in print
    return [*lines, line] if line else lines


def render_report(text: str, *, dpi: int, family: int = 0) -> list[tuple[Image.Image, str]]:
    """A report typeset on white A4 pages at ``dpi``: (page image, the text on it), at most two pages."""
    size = round(_FONT_POINTS * dpi / 72)
    regular_name, bold_name = _FONT_FAMILIES[family % len(_FONT_FAMILIES)]
    regular, bold = _font(regular_name, size), _font(bold_name, size)
    width, height = round(_A4_INCHES[0] * dpi), round(_A4_INCHES[1] * dpi)
    margin, pitch = round(_MARGIN_INCHES * dpi), round(size * _LINE_PITCH)
    pages: list[tuple[Image.Image, str]] = []
    lines: list[str] = []
    page, y = Image.new("L", (width, height), 255), margin
    for paragraph, heading in _paragraphs(text):
        font = bold if heading else regular
        for line in _wrap(paragraph, font, width - 2 * margin):
            if y + pitch > height - margin:
                pages.append((page, "\n".join(lines)))
                if len(pages) == _MAX_PAGES_PER_REPORT:
                    return pages
                page, lines, y = Image.new("L", (width, height), 255), [], margin
            ImageDraw.Draw(page).text((margin, y), line, font=font, fill=0)
            lines.append(line)
            y += pitch
        y += pitch // 3  # a little air between paragraphs
    if lines:
        pages.append((page, "\n".join(lines)))
    return pages


def degrade(image: Image.Image, rng: np.random.Generator, *, dpi: int) -> Image.Image:
    """``image`` as a sheet-fed scanner returns it: grey paper, tilted, blurred, noisy, JPEG-compressed."""
    paper, ink = int(rng.integers(226, 246)), int(rng.integers(15, 50))
    # Map white/black to paper/ink before tilting, so the corners fill with paper, not white.
    toned = image.point(lambda v: ink + (paper - ink) * v // 255)
    tilted = toned.rotate(
        float(rng.uniform(-_MAX_TILT_DEGREES, _MAX_TILT_DEGREES)), resample=Image.Resampling.BICUBIC, fillcolor=paper
    )
    # Optical blur of about a pixel at 200 DPI, less in pixels at lower resolution (same blur on paper).
    blurred = tilted.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.6, 1.1)) * dpi / 200))
    noise = rng.normal(0.0, float(rng.uniform(5.0, 10.0)), size=(blurred.height, blurred.width))
    noisy = Image.fromarray(np.clip(np.asarray(blurred, dtype=np.float32) + noise, 0, 255).astype(np.uint8))
    jpeg = io.BytesIO()
    noisy.save(jpeg, format="JPEG", quality=int(rng.integers(50, 76)))
    jpeg.seek(0)
    with Image.open(jpeg) as scanned:
        return scanned.convert("L")


def render_pages(reports: Sequence[Report], *, dpi: int, degraded: bool, seed: int = 0) -> list[RenderedPage]:
    """Every report's pages at ``dpi``; degraded ones draw their defects from ``(seed, report, page, dpi)``."""
    pages: list[RenderedPage] = []
    for index, report in enumerate(reports):
        for number, (image, truth) in enumerate(render_report(report.text, dpi=dpi, family=index), start=1):
            if degraded:
                image = degrade(image, np.random.default_rng([seed, index, number, dpi]), dpi=dpi)
            pages.append(RenderedPage(report.note_id, number, dpi, degraded, image, truth))
    return pages


# --- scoring -----------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Text as compared: NFKC, typographic quotes and dashes as ASCII, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHY)
    return " ".join(text.split())


def levenshtein(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Edit distance (insertions, deletions, substitutions) between two sequences of characters or words.

    rapidfuzz's (C++, bit-parallel): 0.37 ms for a page's characters and words, against 6.0 ms for the
    pure-Python Myers/Hyyrö this replaced and ~100x that for the cell-by-cell DP (3,281-character page, CPU
    time, one core; tests/ingest/test_evaluation.py holds it to the textbook DP).
    """
    return int(Levenshtein.distance(a, b))


def error_rates(truths: Iterable[str], readings: Iterable[str]) -> tuple[float, float]:
    """(character error rate, word error rate) of ``readings`` against ``truths``, pooled over pages."""
    char_edits = chars = word_edits = words = 0
    for truth, reading in zip(truths, readings, strict=True):
        ref, hyp = normalise(truth), normalise(reading)
        char_edits += levenshtein(ref, hyp)
        chars += len(ref)
        word_edits += levenshtein(ref.split(), hyp.split())
        words += len(ref.split())
    return char_edits / max(chars, 1), word_edits / max(words, 1)


# --- running engines ---------------------------------------------------------------------------


def measure(
    pages: Sequence[RenderedPage],
    engine: OcrEngine,
    *,
    language: str = "en",
    prepare_steps: Sequence[str] | None = None,
    workers: int | None = None,
) -> ConditionResult:
    """Read every page as the product does and score it; a failed page scores as empty.

    Pages go through :func:`medspeak.ingest.pipeline.read_pages`, ``workers`` at a time (``None``:
    the product's default, one a core) when the engine allows it; the time is the wall clock
    from the first page's start to the last page's end, so pages per second is what a user waits.

    Args:
        pages: rendered pages with their truth.
        engine: the engine to read them with.
        language: ``"en"``, ``"fr"`` or ``"auto"``.
        prepare_steps: preparation steps (``bench/ocr.py --ablation``); ``None``: the defaults.
        workers: pages read at once.
    """
    count = default_workers() if workers is None else workers
    images = (PageImage(number, page.image) for number, page in enumerate(pages, start=1))
    cpu_start, start = _cpu_seconds(), time.perf_counter()
    read = list(
        read_pages(
            images,
            lambda: engine,
            language=language,
            page_budget_s=_PAGE_TIMEOUT_S,
            workers=count,
            steps=prepare_steps,
        )
    )
    seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu_start
    readings = [page.text if page.error is None else "" for page in read]
    failed = sum(page.error is not None for page in read)
    cer, wer = error_rates([p.truth for p in pages], readings)  # scored after the clock: scoring is not OCR
    used = count if getattr(engine, "concurrent", False) else 1
    return ConditionResult(engine.name, len(pages), cer, wer, seconds, failed, cpu, used)


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (Tesseract runs as a subprocess)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def warm_up(engine: OcrEngine, language: str = "en") -> None:
    """Load the engine's models once, outside the timings (RapidOCR builds its ONNX sessions lazily)."""
    page = render_pages([Report("warm-up", "Warm up.")], dpi=100, degraded=False)[0]
    ocr_image(page.image, engine, language=language, timeout_s=_PAGE_TIMEOUT_S)


def evaluate_ocr(
    reports_csv: Path,
    *,
    n: int = 20,
    engine: str = "auto",
    seed: int = 0,
    language: str = "en",
    workers: int | None = None,
) -> dict[str, Any]:
    """Error rates and speed of one OCR engine on ``n`` reports of a CSV in the MTSamples format.

    Args:
        reports_csv: CSV with ``note_id`` and ``transcription`` columns; empty reports are skipped.
        n: reports to render (each gives one or two A4 pages).
        engine: ``auto``, ``tesseract``, ``rapidocr`` or ``easyocr``.
        seed: seeds the scan defects; the same seed gives the same pages.
        language: the reports' language, passed to the engine (``en``, ``fr`` or ``auto``).
        workers: pages read at once, as in the product; ``None``: one a core (at most 4).

    Returns:
        ``{"engine", "pages", "cer_clean", "cer_degraded", "wer_degraded", "pages_per_s"}``: error
        rates as fractions (0.008 is 0.8 %), degraded figures on 200-DPI scans, and the pages read
        per second on those scans: all of them over the wall-clock time from the first page's
        preparation to the last page's words, pages read ``workers`` at a time as the product does.

    Raises:
        IngestFailed: the engine is unknown or not available here.
        MedspeakError: the CSV cannot be read or holds no report.
    """
    reports = read_reports_csv(reports_csv, n)
    if not reports:
        raise MedspeakError(f"No report with text in {reports_csv.name}.")
    ocr = get_engine(engine)
    warm_up(ocr, language)
    clean = measure(render_pages(reports, dpi=200, degraded=False, seed=seed), ocr, language=language, workers=workers)
    scanned = measure(render_pages(reports, dpi=200, degraded=True, seed=seed), ocr, language=language, workers=workers)
    return {
        "engine": ocr.name,
        "pages": scanned.pages,
        "cer_clean": round(clean.cer, 5),
        "cer_degraded": round(scanned.cer, 5),
        "wer_degraded": round(scanned.wer, 5),
        "pages_per_s": round(scanned.pages_per_s, 3),
    }


def eval_ocr_command(reports: Path, n: int, engine: str, json_out: bool) -> None:
    """``medspeak eval ocr``: one JSON line with ``--json``, else a sentence a person reads."""
    result = evaluate_ocr(reports, n=n, engine=engine)
    if json_out:
        typer.echo(json.dumps(result))
        return
    typer.echo(
        f"{result['engine']}: {result['pages']} pages, CER {100 * result['cer_clean']:.2f} % clean, "
        f"{100 * result['cer_degraded']:.2f} % on 200-DPI scans (WER {100 * result['wer_degraded']:.2f} %), "
        f"{result['pages_per_s']:.2f} pages/s"
    )
