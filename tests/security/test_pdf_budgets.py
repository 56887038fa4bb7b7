"""Issue 19, finding 2: a PDF's page size and its images, nested ones included, are checked before rendering.

A 598-byte PDF with one 3600 x 3600 pt page was rendered at 10000 x 10000 px (1.2 GB at peak); an image
too large to decode, drawn from inside a form XObject, was never looked at. Budgets are asserted here,
not wall-clock or memory: bench/pdf_budgets.py measures the peaks.
"""

from __future__ import annotations

import hashlib
import io

import pypdfium2 as pdfium
import pytest

from medspeak.errors import UploadRejected
from medspeak.ingest.pipeline import MAX_RENDER_PIXELS, extract, render_page
from medspeak.ingest.types import FileKind, ValidatedUpload
from medspeak.ingest.validate import validate_upload
from tests.ingest.corpus import raw_pdf


def big_page_pdf(side_pt: int = 3600, user_unit: float | None = None) -> bytes:
    unit = b" /UserUnit %g" % user_unit if user_unit else b""
    return raw_pdf(
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d]%s /Contents 4 0 R >>" % (side_pt, side_pt, unit),
        b"<< /Length 0 >>\nstream\n\nendstream",
    )


def nested_image_pdf(width: int = 20_000, height: int = 20_000) -> bytes:
    """A letter page drawing a form XObject that draws an image of ``width`` x ``height`` pixels."""
    draw = b"q 100 0 0 100 0 0 cm /Im0 Do Q"
    return raw_pdf(
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Fm0 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length 8 >>\nstream\n/Fm0 Do\n\nendstream",
        b"<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /XObject << /Im0 6 0 R >> >> "
        b"/Length %d >>\nstream\n%s\nendstream" % (len(draw), draw),
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 "
        b"/Length 3 >>\nstream\nabc\nendstream" % (width, height),
    )


def _unchecked(content: bytes) -> ValidatedUpload:
    """An upload that skipped validation (a file stored before this check, or a bug upstream)."""
    return ValidatedUpload(content, FileKind.PDF, "pdf", "x.pdf", 1, hashlib.sha256(content).hexdigest(), None)


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[tuple[float, float]]:
    """Every PDF page render as the pixels it would produce; nothing is rendered."""
    seen: list[tuple[float, float]] = []

    def spy(self: pdfium.PdfPage, scale: float = 1, **_: object) -> object:
        width, height = self.get_size()
        seen.append((width * scale, height * scale))
        raise MemoryError("rendering was attempted")

    monkeypatch.setattr(pdfium.PdfPage, "render", spy)
    return seen


def test_the_598_byte_page_of_3600_points_is_refused_at_upload() -> None:
    content = big_page_pdf(3600)
    assert len(content) < 700
    with pytest.raises(UploadRejected, match="too large to read safely"):
        validate_upload("scan.pdf", content, max_bytes=20 * 2**20, max_pages=50)


def test_a_page_enlarged_by_user_unit_is_refused_at_upload() -> None:
    with pytest.raises(UploadRejected, match="too large to read safely"):
        validate_upload("scan.pdf", big_page_pdf(1000, user_unit=10), max_bytes=20 * 2**20, max_pages=50)


def test_an_ordinary_a4_page_passes() -> None:
    upload = validate_upload("scan.pdf", big_page_pdf(842), max_bytes=20 * 2**20, max_pages=50)
    assert upload.page_count == 1


def test_an_image_nested_in_a_form_xobject_is_refused_at_upload() -> None:
    with pytest.raises(UploadRejected, match="image"):
        validate_upload("scan.pdf", nested_image_pdf(), max_bytes=20 * 2**20, max_pages=50)


def test_reading_never_renders_a_page_beyond_the_pixel_budget(renders: list[tuple[float, float]]) -> None:
    with pytest.raises(Exception):  # noqa: B017 - refused or failed: either way, within budget
        extract(_unchecked(big_page_pdf(3600)), lambda: pytest.fail("no OCR engine for a refused page"))
    assert all(w * h <= MAX_RENDER_PIXELS for w, h in renders), renders


def test_the_page_viewer_never_renders_beyond_the_pixel_budget(renders: list[tuple[float, float]]) -> None:
    with pytest.raises(Exception):  # noqa: B017
        render_page(FileKind.PDF, big_page_pdf(3600), 1, dpi=200)
    assert all(w * h <= MAX_RENDER_PIXELS for w, h in renders), renders


def test_an_image_larger_than_the_render_budget_is_read_scaled_down() -> None:
    from PIL import Image

    from medspeak.ingest.pipeline import _image_pages

    out = io.BytesIO()
    Image.new("L", (6100, 6000), "white").save(out, "PNG")  # 36.6 MP: accepted (under 64 MP), over the budget
    (page,) = list(_image_pages(out.getvalue()))
    assert page.image.width * page.image.height <= MAX_RENDER_PIXELS
    assert page.image.width / page.image.height == pytest.approx(6100 / 6000, rel=1e-3)
