"""Telling identical mentions apart, and cropping the page image around the framed words."""

from __future__ import annotations

from PIL import Image

from medspeak.indexing.grounding import Mention, mention_of
from medspeak.ingest.overlay import crop_around

_TEXT = "Plan:\nAspirin 81 mg daily.\nHome meds:\naspirin 81 mg daily.\n"


def test_two_identical_mentions_are_numbered_in_reading_order_with_their_line() -> None:
    first = _TEXT.index("Aspirin 81 mg daily")
    second = _TEXT.index("aspirin 81 mg daily")
    assert mention_of(_TEXT, first, first + 19) == Mention(line=2, number=1, count=2)
    assert mention_of(_TEXT, second, second + 19) == Mention(line=4, number=2, count=2)
    only = _TEXT.index("Plan")
    assert mention_of(_TEXT, only, only + 4) == Mention(line=1, number=1, count=1)


def test_the_crop_keeps_the_framed_words_with_a_margin_and_half_the_page_at_least() -> None:
    page = Image.new("RGB", (1000, 1400), "white")
    box = (0.40, 0.50, 0.50, 0.52)
    close = crop_around(page, box, 0.04)
    # half the page wide (±0.25 around the centre 0.45), the box's height plus 0.04 each side (±1 px rounding)
    assert close.size[0] == 500
    assert abs(close.size[1] - round((0.02 + 0.08) * 1400)) <= 1
    edge = crop_around(page, (0.0, 0.0, 0.1, 0.02), 0.12)  # at the corner: clamped to the page, box inside
    assert edge.size[0] <= 1000 and edge.size[1] <= 1400
    assert edge.size[0] >= 100 and edge.size[1] >= round(0.02 * 1400)
