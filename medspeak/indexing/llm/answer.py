"""Reading a model's answer: the JSON object, where each fact's object lies, and its confidence.

Confidence is the geometric mean of the probabilities the model gave the tokens of a fact's JSON
object (``exp`` of the mean log-probability): a fact the model wavered over scores low whatever its
grounding. Grounding then lowers fuzzy matches further (``medspeak.indexing.grounding``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

__all__ = ["TruncatedAnswer", "item_confidences", "item_spans", "parse_answer"]


class TruncatedAnswer(ValueError):
    """The answer stopped before its JSON closed (token budget reached): retry on a shorter chunk."""


def parse_answer(text: str) -> dict[str, Any]:
    """The answer's JSON object; ``TruncatedAnswer`` when it is cut short, ``ValueError`` when not JSON."""
    try:
        answer = json.loads(text)
    except json.JSONDecodeError as exc:
        if _unclosed(text):  # the text ended inside the object: cut, not malformed
            raise TruncatedAnswer("the answer was cut before its end") from exc
        raise ValueError(f"the answer is not JSON: {exc.msg}") from exc
    if not isinstance(answer, dict) or not isinstance(answer.get("facts"), list):
        raise ValueError('the answer is not an object with a "facts" list')
    return answer


def _unclosed(text: str) -> bool:
    """Whether ``text`` stops inside a string, object or array without a mismatched bracket before."""
    closing = {"}": "{", "]": "["}
    stack: list[str] = []
    in_string = escaped = False
    for char in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "{[":
            stack.append(char)
        elif char in closing:
            if not stack or stack.pop() != closing[char]:
                return False
    return in_string or bool(stack)


def item_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the objects of the answer's ``facts`` array, in order."""
    decoder = json.JSONDecoder()
    key = text.find('"facts"')
    at = text.find("[", key) + 1 if key >= 0 else 0
    spans: list[tuple[int, int]] = []
    while 0 < at < len(text):
        while at < len(text) and text[at] in " \t\r\n,":
            at += 1
        if at >= len(text) or text[at] == "]":
            break
        try:
            _, end = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            break
        spans.append((at, end))
        at = end
    return spans


def item_confidences(text: str, token_ends: Sequence[int], token_logprobs: Sequence[float]) -> list[float]:
    """Per fact object of ``text``: the geometric mean probability of the tokens overlapping it.

    Args:
        text: the answer text.
        token_ends: character offset in ``text`` where each generated token ends.
        token_logprobs: natural log-probability of each generated token.
    """
    confidences = []
    for start, end in item_spans(text):
        picked = [
            lp
            for i, lp in enumerate(token_logprobs)
            if token_ends[i] > start and (token_ends[i - 1] if i else 0) < end and math.isfinite(lp)
        ]
        mean = sum(picked) / len(picked) if picked else math.log(0.5)
        confidences.append(round(min(1.0, max(0.0, math.exp(mean))), 4))
    return confidences
