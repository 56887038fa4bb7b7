"""Upload validation: every check happens here, in the core, before anything is stored.

Type comes from the content's magic bytes and must agree with the extension; the client's
filename is cleaned into display text and never used as a path. PDFs are parsed with pypdf's
stream limits, images under Pillow's decompression-bomb limit (as an error), DOCX archives
against zip bombs. Anything unreadable becomes an ``UploadRejected`` with a reason a clinician
can act on.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import warnings
import zipfile

from charset_normalizer import from_bytes
from PIL import Image
from pypdf import PageObject, PdfReader, apply_configuration
from pypdf.generic import DictionaryObject, IndirectObject

from medspeak.errors import UploadRejected
from medspeak.i18n import N_
from medspeak.ingest.budgets import MAX_RENDER_PIXELS, RENDER_DPI, fits_render_budget
from medspeak.ingest.types import FileKind, ValidatedUpload

__all__ = ["MAX_IMAGE_PIXELS", "MAX_TEXT_CHARS", "safe_display_name", "sniff", "validate_upload"]

# 64 megapixels: a 50 MP phone photo or an A4 page at 600 DPI (35 MP) pass, a bomb does not.
MAX_IMAGE_PIXELS = 64_000_000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS  # Pillow warns above this and raises above twice this
_MAX_DISPLAY_CHARS = 120
_MAX_DOCX_UNCOMPRESSED = 50 * 2**20  # a typed report is a few hundred KB of XML (images included here)
# 2 million characters of text (~1000 typed pages): read and indexed in ~20 s and ~0.55 GB on one core at
# worst (a fact every 28 characters; 4 M: 45 s, 0.95 GB). bench/reading_budgets.py. Longer: split it.
MAX_TEXT_CHARS = 2_000_000
# The document's XML (one paragraph: ~70 bytes of markup around its text); python-docx holds the whole tree:
# 49 MB of XML took 41 s and 1.4 GB, 150 KB zipped.
_MAX_DOCX_XML = 2 * MAX_TEXT_CHARS
_TOO_LONG = N_(
    "This document is too long to read safely (over {millions} million characters of text): "
    "split it into smaller files."
)
_MAX_STREAM_BYTES = 20 * 2**20  # one page's drawing commands; real pages use well under 1 MB
_PDF_LIMITS = {
    "zlib_maximum_output_length": _MAX_STREAM_BYTES, "lzw_maximum_output_length": _MAX_STREAM_BYTES,
    "run_length_maximum_output_length": _MAX_STREAM_BYTES, "maximum_declared_stream_length": _MAX_STREAM_BYTES,
    "array_based_stream_maximum_output_length": _MAX_STREAM_BYTES,
}  # fmt: skip
_MAX_PDF_RESOURCES = 10_000  # XObjects, patterns and appearance streams walked a document; real files use dozens
_EXTENSIONS = {
    "pdf": FileKind.PDF, "png": FileKind.PNG, "jpg": FileKind.JPEG, "jpeg": FileKind.JPEG, "tif": FileKind.TIFF,
    "tiff": FileKind.TIFF, "txt": FileKind.TXT, "text": FileKind.TXT, "docx": FileKind.DOCX,
}  # fmt: skip
_LABELS = {
    FileKind.PDF: "a PDF", FileKind.PNG: "a PNG image", FileKind.JPEG: "a JPEG image", FileKind.TIFF: "a TIFF image",
    FileKind.TXT: "plain text", FileKind.DOCX: "a Word document",
}  # fmt: skip
_SUPPORTED = "PDF, PNG, JPEG, TIFF, TXT or DOCX"


def safe_display_name(filename: str) -> str:
    """The client's filename as harmless display text: last path part, no control or bidi characters."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[\\/]", name)[-1]
    # Categories C* are control, format (RTL overrides, zero-width), surrogates and unassigned.
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = re.sub(r"\s+", " ", name).strip().strip(".")
    if len(name) > _MAX_DISPLAY_CHARS:
        stem, dot, ext = name.rpartition(".")
        keep = _MAX_DISPLAY_CHARS - len(ext) - 2
        name = f"{stem[:keep]}….{ext}" if dot and 0 < len(ext) <= 5 else name[:_MAX_DISPLAY_CHARS]
    return name or "document"


def sniff(content: bytes) -> FileKind | None:
    """The file type from its first bytes, or ``None`` (then it may be plain text)."""
    if b"%PDF-" in content[:1024]:
        return FileKind.PDF
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileKind.PNG
    if content.startswith(b"\xff\xd8\xff"):
        return FileKind.JPEG
    if content[:4] in (b"II*\x00", b"MM\x00*"):
        return FileKind.TIFF
    if content.startswith(b"PK\x03\x04"):
        return FileKind.DOCX  # confirmed (or refused) when the archive is opened
    return None


def validate_upload(filename: str, content: bytes, *, max_bytes: int, max_pages: int) -> ValidatedUpload:
    """Check an upload completely; return what may be stored, or raise ``UploadRejected``."""
    if not content:
        raise UploadRejected(N_("The file is empty."))
    if len(content) > max_bytes:
        raise UploadRejected(
            N_("The file is {value:.1f} MB; the limit is {value2} MB. Split large scans into several files."),
            value=len(content) / 2**20,
            value2=max_bytes // 2**20,
        )
    display = safe_display_name(filename)
    ext = display.rpartition(".")[2].lower() if "." in display else ""
    claimed = _EXTENSIONS.get(ext) if ext else None
    if ext and claimed is None:
        raise UploadRejected(
            N_("Files ending in .{value} are not supported: upload {SUPPORTED}."), value=ext[:10], SUPPORTED=_SUPPORTED
        )
    kind = sniff(content) or FileKind.TXT
    if claimed is not None and claimed != kind:
        raise UploadRejected(
            N_("The file is named .{ext} but its content is {value}: check the file."), ext=ext, value=_LABELS[kind]
        )
    pages, encoding = _CHECKS[kind](content, max_pages)
    return ValidatedUpload(
        content,
        kind,
        "jpg" if kind is FileKind.JPEG else kind.value,
        display,
        pages,
        hashlib.sha256(content).hexdigest(),
        encoding,
    )


def _check_pdf(content: bytes, max_pages: int) -> tuple[int, str | None]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(content), strict=False)
            if reader.is_encrypted:
                raise UploadRejected(N_("This PDF is password-protected: remove the protection and upload it again."))
            pages = len(reader.pages)
            _refuse_scripts(reader)
            if 0 < pages <= max_pages:
                with apply_configuration(None, **_PDF_LIMITS):
                    seen: set[int] = set()
                    for number, page in enumerate(reader.pages, start=1):
                        _check_pdf_page(page, number, seen)
    except UploadRejected:
        raise
    except Exception as exc:  # any parser failure on hostile input is a rejection
        raise UploadRejected(N_("This PDF is damaged or unreadable (or exceeds safe decoding limits).")) from exc
    return _page_count(pages, max_pages), None


_SCRIPTED = UploadRejected(
    N_(
        "This PDF contains scripts (JavaScript or automatic actions), which are not accepted: "
        "print it to a new PDF or scan it, then upload that."
    )
)


def _refuse_scripts(reader: PdfReader) -> None:
    """Refuse JavaScript and automatic actions: in the catalog, its name tree, and each page and annotation.

    The original is handed back on download: a script in it would run in the next reader's viewer.
    """
    catalog = _resolved(reader.trailer.get("/Root"))
    if not isinstance(catalog, DictionaryObject):
        return
    names = _resolved(catalog.get("/Names"))
    if isinstance(names, DictionaryObject) and "/JavaScript" in names:
        raise _SCRIPTED
    holders: list[object] = [catalog, _resolved(catalog.get("/OpenAction"))]
    for page in reader.pages:
        holders.append(page)
        annotations = _resolved(page.get("/Annots"))
        for annotation in annotations if isinstance(annotations, list) else []:
            annotation = _resolved(annotation)
            if isinstance(annotation, DictionaryObject):
                holders += [annotation, _resolved(annotation.get("/A"))]
    for holder in holders:
        if not isinstance(holder, DictionaryObject):
            continue
        if "/JS" in holder or holder.get("/S") in ("/JavaScript", "/Launch") or "/AA" in holder:
            raise _SCRIPTED
        if holder is not catalog and holder.get("/S") is not None and "/Next" in holder:
            raise _SCRIPTED  # chained actions: one could be a script


def _check_pdf_page(page: PageObject, number: int, seen: set[int]) -> None:
    """Refuse a page too large to render, or drawing an image too large to decode (nested ones included);
    decode its drawing commands under the stream limits."""
    box = page.mediabox
    unit = float(page.user_unit or 1)
    width, height = float(box.width) * unit, float(box.height) * unit
    if not fits_render_budget(width, height):
        raise UploadRejected(
            N_(
                "Page {number} is {value:.0f} x {value2:.0f} cm: too large to read safely (over {value3} "
                "megapixels at {RENDER_DPI} DPI). Export it at a paper size."
            ),
            number=number,
            value=abs(width) / 72 * 2.54,
            value2=abs(height) / 72 * 2.54,
            value3=MAX_RENDER_PIXELS // 10**6,
            RENDER_DPI=RENDER_DPI,
        )
    contents = page.get_contents()
    if contents is not None:
        contents.get_data()  # raises LimitReachedError on a decompression bomb
    _check_resources(page.get("/Resources"), seen)
    annotations = _resolved(page.get("/Annots"))
    for annotation in annotations if isinstance(annotations, list) else []:  # appearance streams draw too
        annotation = _resolved(annotation)
        appearance = _resolved(annotation.get("/AP")) if isinstance(annotation, DictionaryObject) else None
        for stream in appearance.values() if isinstance(appearance, DictionaryObject) else []:
            _check_xobject(stream, seen)


def _resolved(value: object) -> object:
    return value.get_object() if isinstance(value, IndirectObject) else value


def _check_resources(resources: object, seen: set[int]) -> None:
    """Every image an XObject or pattern of ``resources`` draws, however deeply nested, within the pixel limit."""
    resources = _resolved(resources)
    if not isinstance(resources, DictionaryObject):
        return
    for category in ("/XObject", "/Pattern"):
        entries = _resolved(resources.get(category))
        for ref in entries.values() if isinstance(entries, DictionaryObject) else []:
            _check_xobject(ref, seen)


def _check_xobject(ref: object, seen: set[int]) -> None:
    if isinstance(ref, IndirectObject):
        if ref.idnum in seen:  # shared or cyclic: checked once
            return
        seen.add(ref.idnum)
        if len(seen) > _MAX_PDF_RESOURCES:
            raise UploadRejected(N_("This PDF has too many embedded objects to check safely."))
    obj = _resolved(ref)
    if not isinstance(obj, DictionaryObject):
        if isinstance(obj, dict):  # an appearance dictionary of states: each a stream
            for value in obj.values():
                _check_xobject(value, seen)
        return
    if obj.get("/Subtype") == "/Image":
        pixels = int(_resolved(obj.get("/Width", 0))) * int(_resolved(obj.get("/Height", 0)))  # type: ignore[call-overload]
        if pixels > MAX_IMAGE_PIXELS:
            raise UploadRejected(N_("This PDF embeds an image too large to process safely."))
        if "/SMask" in obj:
            _check_xobject(obj["/SMask"], seen)
        return
    _check_resources(obj.get("/Resources"), seen)  # a form XObject or a tiling pattern: what it draws


def _check_image(content: bytes, max_pages: int) -> tuple[int, str | None]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as image:
                frames = int(getattr(image, "n_frames", 1))
                _page_count(frames, max_pages)
                for index in range(frames):
                    image.seek(index)
                    if image.width * image.height > MAX_IMAGE_PIXELS:
                        raise Image.DecompressionBombError("too many pixels")
                    image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UploadRejected(
            N_("The image is too large to process safely (over {value} megapixels)."), value=MAX_IMAGE_PIXELS // 10**6
        ) from exc
    except UploadRejected:
        raise
    except Exception as exc:  # truncated or corrupt image data
        raise UploadRejected(N_("This image is damaged or truncated: scan or export it again.")) from exc
    return frames, None


def _check_docx(content: bytes, max_pages: int) -> tuple[int, str | None]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = archive.infolist()
            names = {i.filename for i in infos}
            if "word/document.xml" not in names:
                raise UploadRejected(N_("This archive is not a Word document (.docx)."))
            if sum(i.file_size for i in infos) > _MAX_DOCX_UNCOMPRESSED:
                raise UploadRejected(N_("This Word document expands to an unsafe size."))
            if archive.getinfo("word/document.xml").file_size > _MAX_DOCX_XML:
                raise UploadRejected(_TOO_LONG, millions=MAX_TEXT_CHARS // 10**6)
            if archive.testzip() is not None:
                raise UploadRejected(N_("This Word document is damaged or unreadable."))
        from docx import Document  # parses every part the reader will: a damaged one is refused here, not later

        Document(io.BytesIO(content))
    except UploadRejected:
        raise
    except Exception as exc:  # corrupt archive
        raise UploadRejected(N_("This Word document is damaged or unreadable.")) from exc
    return 1, None


def _check_text(content: bytes, max_pages: int) -> tuple[int, str | None]:
    if len(content) > 4 * MAX_TEXT_CHARS:  # more characters than the limit in any encoding: no need to decode
        raise UploadRejected(_TOO_LONG, millions=MAX_TEXT_CHARS // 10**6)
    decoded = decode_text(content)
    if decoded is None:
        raise UploadRejected(
            N_("This file is not readable text nor a supported document: upload {SUPPORTED}."), SUPPORTED=_SUPPORTED
        )
    text, encoding = decoded
    if not text.strip():
        raise UploadRejected(N_("The file contains no text."))
    if len(text) > MAX_TEXT_CHARS:
        raise UploadRejected(_TOO_LONG, millions=MAX_TEXT_CHARS // 10**6)
    return 1, encoding


def decode_text(content: bytes) -> tuple[str, str] | None:
    """Decode text in any common encoding (BOMs, UTF-8, then detection); ``None`` for binary data."""
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if content.startswith(bom):
            try:
                return content.decode(codec), codec
            except UnicodeDecodeError:
                return None
    if b"\x00" in content:
        return None
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(content[:200_000]).best()
    if best is None:
        return None
    text = content.decode(best.encoding, errors="replace")
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\r\n\t\f")
    return None if controls > len(text) / 100 else (text, best.encoding)


def _page_count(pages: int, max_pages: int) -> int:
    if pages <= 0:
        raise UploadRejected(N_("The document has no pages."))
    if pages > max_pages:
        raise UploadRejected(
            N_("The document has {pages} pages; the limit is {max_pages}. Split it into parts."),
            pages=pages,
            max_pages=max_pages,
        )
    return pages


_CHECKS = {
    FileKind.PDF: _check_pdf, FileKind.PNG: _check_image, FileKind.JPEG: _check_image, FileKind.TIFF: _check_image,
    FileKind.DOCX: _check_docx, FileKind.TXT: _check_text,
}  # fmt: skip
