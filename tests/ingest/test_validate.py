"""Every upload either passes every check or is refused with a reason a clinician can act on."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medspeak.errors import UploadRejected
from medspeak.ingest.types import FileKind
from medspeak.ingest.validate import safe_display_name, validate_upload
from tests.ingest import corpus

_MB = 2**20


def check(name: str, content: bytes, max_pages: int = 50):  # type: ignore[no-untyped-def]
    return validate_upload(name, content, max_bytes=20 * _MB, max_pages=max_pages)


@pytest.mark.parametrize(
    ("name", "content", "kind", "pages"),
    [
        ("report.pdf", corpus.pdf(pages=3), FileKind.PDF, 3),
        ("scan.PNG", corpus.png(), FileKind.PNG, 1),
        ("fax.tiff", corpus.tiff(4), FileKind.TIFF, 4),
        ("letter.docx", corpus.docx(), FileKind.DOCX, 1),
        ("note.txt", "Paracétamol 1 g PO toutes les 6 heures".encode("cp1252"), FileKind.TXT, 1),
        ("note.txt", "Furosémide 40 mg".encode("utf-16"), FileKind.TXT, 1),
        ("no-extension", corpus.pdf(), FileKind.PDF, 1),
    ],
)
def test_supported_files_pass(name: str, content: bytes, kind: FileKind, pages: int) -> None:
    checked = check(name, content)
    assert (checked.kind, checked.page_count) == (kind, pages)
    assert len(checked.sha256) == 64


def test_text_in_a_legacy_encoding_is_detected() -> None:
    checked = check("note.txt", "Patiente âgée, hémoglobine à 9,8 g/dl, traitement arrêté".encode("cp1252"))
    assert checked.encoding is not None
    assert "hémoglobine" in corpus_decode(checked.content, checked.encoding)


def corpus_decode(content: bytes, encoding: str) -> str:
    return content.decode(encoding)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.pdf", b"", "empty"),
        ("huge.txt", b"a" * (21 * _MB), "limit is 20 MB"),
        ("truncated.pdf", corpus.pdf()[:300], "damaged"),
        ("garbage.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 40, "damaged"),
        ("locked.pdf", corpus.encrypted_pdf(), "password-protected"),
        ("bomb.pdf", corpus.flate_bomb_pdf(), "damaged or unreadable"),
        ("bomb.png", corpus.png_claiming(30000, 30000), "too large"),
        ("truncated.png", corpus.png(400, 400)[:120], "damaged or truncated"),
        ("image.pdf", corpus.png(), "named .pdf but its content is a PNG image"),
        ("report.exe", b"MZ\x90\x00", "not supported"),
        ("archive.docx", corpus.zip_not_docx(), "not a Word document"),
        ("binary.txt", bytes(range(256)) * 10, "not readable text"),
        ("blank.txt", b"   \n\t  ", "no text"),
        ("long.pdf", corpus.pdf(pages=51), "51 pages; the limit is 50"),
        ("fax.tif", corpus.tiff(51), "51 pages; the limit is 50"),
    ],
)
def test_bad_input_is_refused_with_a_clear_reason(name: str, content: bytes, reason: str) -> None:
    with pytest.raises(UploadRejected, match=reason):
        check(name, content)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\dr\\scan.pdf", "scan.pdf"),
        ("a\x00.pdf", "a.pdf"),
        ("CON.pdf", "CON.pdf"),  # display text only: never a path, so reserved names are harmless
        ("rapport\u202egnp.pdf", "rapportgnp.pdf"),  # right-to-left override removed
        ("...hidden.pdf.", "hidden.pdf"),
        ("", "document"),
    ],
)
def test_filenames_become_harmless_display_text(raw: str, shown: str) -> None:
    assert safe_display_name(raw) == shown


def test_very_long_names_are_shortened_and_keep_their_extension() -> None:
    shown = safe_display_name("x" * 300 + ".pdf")
    assert len(shown) <= 120 and shown.endswith(".pdf")


@settings(max_examples=150, deadline=None)
@given(name=st.text(max_size=300), content=st.binary(max_size=4096))
def test_random_bytes_only_ever_raise_the_domain_rejection(name: str, content: bytes) -> None:
    try:
        checked = check(name, content)
    except UploadRejected:
        return
    assert checked.content == content
    assert "/" not in checked.display_name and "\x00" not in checked.display_name


@settings(max_examples=60, deadline=None)
@given(
    prefix=st.sampled_from([b"%PDF-1.4\n", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"PK\x03\x04"]),
    tail=st.binary(max_size=2048),
)
def test_corrupt_files_behind_real_magic_bytes_are_rejected_cleanly(prefix: bytes, tail: bytes) -> None:
    try:
        check("file", prefix + tail)
    except UploadRejected:
        pass
