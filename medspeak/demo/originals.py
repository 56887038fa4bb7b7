"""A demo document as the file a user would upload: plain text, a PDF or a scanned page."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Final

from pypdf import PdfReader

from medspeak.demo.dataset import DemoDocument
from medspeak.demo.render import render_pdf, render_scan

__all__ = ["MEDIA_TYPES", "Original", "make_original"]

MEDIA_TYPES: Final = {"txt": "text/plain", "pdf": "application/pdf", "png": "image/png"}


@dataclass(frozen=True)
class Original:
    content: bytes
    extension: str  # "txt" | "pdf" | "png"
    media_type: str
    page_count: int | None  # None for plain text


def make_original(document: DemoDocument, file_format: str | None = None) -> Original:
    """The file for ``document``, in its own format unless ``file_format`` overrides it."""
    extension = file_format or document.file_format
    if extension == "txt":
        return Original(document.text.encode("utf-8"), "txt", MEDIA_TYPES["txt"], None)
    if extension == "pdf":
        content = render_pdf(document.text, document.title)
        return Original(content, "pdf", MEDIA_TYPES["pdf"], len(PdfReader(io.BytesIO(content)).pages))
    if extension == "png":
        return Original(render_scan(document.text, document.render_seed), "png", MEDIA_TYPES["png"], 1)
    raise ValueError(f"unknown demo file format {extension!r}")
