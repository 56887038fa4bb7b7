"""Text from documents and users, made inert before it reaches Streamlit's Markdown renderer.

Streamlit renders Markdown in ``st.markdown``, captions, alerts, headers, expander and widget labels and
progress texts. A filename or a document's words are data: escaped here they show as typed, never as a
link, an image fetched from a remote host, emphasis or a colour directive.
"""

from __future__ import annotations

__all__ = ["md"]

_SPECIAL = frozenset("\\`*_{}[]()#+-.!|:<>~$=")


def md(text: object) -> str:
    """``text`` as Markdown that renders exactly as the text (every Markdown character escaped)."""
    return "".join("\\" + ch if ch in _SPECIAL else ch for ch in str(text))
