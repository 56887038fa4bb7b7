"""Orders: ticked items of a requisition (``[x] Complete blood count``) and ``Examination: ...`` lines."""

from __future__ import annotations

import re

from medspeak.indexing.rules.sections import Section, section_at
from medspeak.indexing.schema import Evidence, Order

__all__ = ["find_orders"]

_TICKED = re.compile(r"^[ \t]*\[[xX✓]\][ \t]*(?P<item>[^\n]+?)[ \t]*$", re.MULTILINE)
_IMAGING = re.compile(
    r"^[ \t]*(?:Examination|Examen|Imaging|Imagerie)[ \t]*:[ \t]*(?P<item>[^\n]+?)[ \t]*$", re.M | re.I
)


def find_orders(text: str, sections: list[Section]) -> list[Order]:
    """Lab orders from ticked requisition lines, imaging orders from the examination line."""
    facts = []
    for pattern, default in ((_TICKED, "other"), (_IMAGING, "imaging")):
        for m in pattern.finditer(text):
            section = section_at(sections, m.start())
            kind = "lab" if section and section.name == "lab_orders" else default
            start, end = m.start("item"), m.end("item")
            facts.append(
                Order(
                    label=text[start:end],
                    kind=kind,
                    text=text[start:end],
                    evidence=Evidence(start=start, end=end, text=text[start:end]),
                )
            )
    return facts
