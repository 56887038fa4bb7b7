"""Text that needs no OCR: a PDF's text layer (with word boxes), plain text and Word documents.

PDF text comes from PDFium (pypdfium2): character boxes grouped into words and lines in the
order the page's content stream draws them, which is the reading order of generated reports.
"""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from medspeak.ingest.types import PageText, Word

__all__ = ["docx_text", "pdf_text_layer", "typed_page"]


def typed_page(text: str) -> PageText:
    """A typed document as one page; lines keep their order, words have no boxes."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    words = [
        Word(token, 0.0, 0.0, 0.0, 0.0, 100.0, line)
        for line, row in enumerate(text.split("\n"))
        for token in row.split()
    ]
    return PageText(1, "typed", text, words)


def docx_text(content: bytes) -> str:
    """Paragraphs, then table rows (cells joined by tabs), of a .docx file."""
    from docx import Document

    document = Document(io.BytesIO(content))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append("\t".join(cell.text.strip() for cell in row.cells))
    return "\n".join(lines)


def pdf_text_layer(page: pdfium.PdfPage, number: int) -> PageText:
    """The words of a PDF page's text layer, boxes as fractions of the page (confidence 100)."""
    width, height = page.get_size()
    textpage = page.get_textpage()
    try:
        words: list[Word] = []
        current: list[tuple[str, tuple[float, float, float, float]]] = []
        line = 0

        def flush() -> None:
            if current:
                text = "".join(ch for ch, _ in current)
                x0 = min(b[0] for _, b in current)
                x1 = max(b[2] for _, b in current)
                top = max(b[3] for _, b in current)
                bottom = min(b[1] for _, b in current)
                words.append(Word(text, x0 / width, 1 - top / height, x1 / width, 1 - bottom / height, 100.0, line))
                current.clear()

        for index in range(textpage.count_chars()):
            ch = chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, index))
            if ch == "\n":  # PDFium ends generated lines with \r\n
                flush()
                line += 1
            elif ch.isspace() or ch == "\x00":
                flush()
            else:
                current.append((ch, textpage.get_charbox(index)))
        flush()
    finally:
        textpage.close()
    lines: dict[int, list[str]] = {}
    for word in words:
        lines.setdefault(word.line, []).append(word.text)
    text = "\n".join(" ".join(tokens) for _, tokens in sorted(lines.items()))
    return PageText(number, "text-layer", text, words, int(width), int(height))
