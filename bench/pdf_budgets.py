"""Peak memory of reading hostile and worst-case accepted PDFs and images (issue 19, finding 2).

Each case runs in a fresh interpreter; the figure is its peak resident memory (``ru_maxrss``), which
includes ~0.1-0.2 GB of imports. ``python -m bench.pdf_budgets [--json]``.

Cases: the 598-byte 3600 pt page rendered as before the fix (pdfium at 200 DPI, then PIL and grey),
the same file through today's upload check and reader, and the largest page and image accepted,
rendered and prepared for OCR (no OCR: Tesseract adds its own ~100 MB a page).
"""

from __future__ import annotations

import subprocess
import sys
import time

from bench import save_results

_CASES = {
    "3600pt page, rendered as before the fix": """
import pypdfium2 as pdfium
from tests.security.test_pdf_budgets import big_page_pdf
page = pdfium.PdfDocument(big_page_pdf(3600))[0]
image = page.render(scale=200 / 72).to_pil().convert("L")
""",
    "3600pt page, upload check + reader now": """
from medspeak.errors import UploadRejected
from medspeak.ingest.pipeline import extract
from medspeak.ingest.validate import validate_upload
from tests.security.test_pdf_budgets import _unchecked, big_page_pdf
try:
    validate_upload("x.pdf", big_page_pdf(3600), max_bytes=20 * 2**20, max_pages=50)
except UploadRejected:
    pass
else:
    raise SystemExit("accepted")
from medspeak.errors import IngestFailed
try:
    extract(_unchecked(big_page_pdf(3600)), lambda: None)  # the page fails alone, unrendered
except IngestFailed:
    pass
""",
    "largest accepted PDF page (2160pt square, 36 MP), render + prepare": """
from medspeak.ingest.pipeline import render_page
from medspeak.ingest.prepare import prepare
from medspeak.ingest.types import FileKind
from tests.security.test_pdf_budgets import big_page_pdf
prepare(render_page(FileKind.PDF, big_page_pdf(2159), 1, dpi=200))
""",
    "largest accepted image (64 MP PNG), load + prepare": """
import io
from PIL import Image
from medspeak.ingest.pipeline import _image_pages
from medspeak.ingest.prepare import prepare
out = io.BytesIO()
Image.new("RGB", (8000, 8000), "white").save(out, "PNG")
content = out.getvalue()
del out
for page in _image_pages(content):
    prepare(page.image)
""",
}
_PEAK = "\nimport resource, sys; sys.stdout.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))"


def main() -> None:
    rows = []
    for name, code in _CASES.items():
        start = time.perf_counter()
        out = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", code + _PEAK], capture_output=True, text=True, check=True
        ).stdout
        rows.append(
            {
                "case": name,
                "peak_mb": round(int(out.strip().splitlines()[-1]) / 1024),
                "seconds": round(time.perf_counter() - start, 2),
            }
        )
    if not save_results("pdf_budgets", rows, print_json="--json" in sys.argv):
        for row in rows:
            sys.stdout.write(f"{row['case']:<70} {row['peak_mb']:>6} MB {row['seconds']:>7} s\n")


if __name__ == "__main__":
    main()
