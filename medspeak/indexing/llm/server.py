"""The server backend: one model served to many users by an OpenAI-compatible chat-completions server.

``MEDSPEAK_LLM_URL`` is the server's base (``http://gpu-host:8000`` or ``.../v1``) or its full
``.../chat/completions`` address: vLLM, llama.cpp's ``llama-server`` and TGI all speak it. The answer
is constrained by ``response_format`` (``json_schema``, strict) and token log-probabilities are asked
for to score each fact. Timeouts, connection errors, 429 and 5xx are retried with a short backoff (tenacity);
then ``LLMUnavailable`` is raised, the caller falls back to the rules with a notice, and the backend
stays down for ``_COOL_DOWN_S`` so a dead server does not cost every document its timeouts.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx2 as httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from medspeak.indexing.llm.answer import TruncatedAnswer, item_confidences
from medspeak.indexing.llm.base import LLMResult, LLMUnavailable, run_chunks
from medspeak.indexing.llm.chunks import DEFAULT_CHUNK_CHARS
from medspeak.indexing.llm.prompt import Chunk, chat_messages, output_schema
from medspeak.indexing.schema import Fact

__all__ = ["ServerBackend"]

_RETRY_STATUS = {429, 500, 502, 503, 504}
_BACKOFF_S = 0.5  # doubled at each retry: 0.5 s, 1 s
_COOL_DOWN_S = 30.0  # after a failure, documents go straight to the rules for this long
_PROBE_TIMEOUT_S = 3.0  # "does the server answer?" must not hold a page up
_PROBE_TTL_S = 30.0  # auto mode asks once per document: the answer is kept this long


_sleep = time.sleep


class _Retryable(Exception):
    """A timeout, a lost connection, 429 or 5xx: worth another try."""


class ServerBackend:
    """Extraction by an OpenAI-compatible chat-completions server.

    Args:
        url: ``MEDSPEAK_LLM_URL``.
        model: the served model's name; default: the first listed by ``GET /models``.
        timeout_s: the most seconds one request may take (``MEDSPEAK_LLM_TIMEOUT_S``).
        retries: further attempts after a timeout, connection error, 429 or 5xx.
        concurrency: the most requests in flight at once, over every document and thread using this backend
            (``MEDSPEAK_LLM_CONCURRENCY``): a vLLM or TGI server batches them; more wait for a slot.
        transport: an ``httpx`` transport (tests).
    """

    name = "openai"

    def __init__(
        self,
        url: str,
        *,
        model: str | None = None,
        timeout_s: float = 60.0,
        retries: int = 2,
        chunk_chars: int = DEFAULT_CHUNK_CHARS,
        max_facts: int = 40,
        max_tokens: int = 2048,
        concurrency: int = 1,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.url = url.rstrip("/")
        self.model = model
        self.timeout_s = timeout_s
        self.retries = retries
        self.chunk_chars = chunk_chars
        self.max_facts = max_facts
        self.max_tokens = max_tokens
        self.concurrency = concurrency
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            transport=transport,
        )
        self._slots = threading.BoundedSemaphore(concurrency)  # requests in flight, whoever sends them
        self._down_until = 0.0
        self._probe: tuple[float, str | None] | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    @property
    def base_url(self) -> str:
        """The API root (``.../v1``) that ``/models`` and ``/chat/completions`` hang from."""
        url = self.url.removesuffix("/chat/completions")
        return url if url.endswith("/v1") else f"{url}/v1"

    def unavailable_reason(self) -> str | None:
        """Why the server cannot be used now (not set, not answering), or ``None``; one quick request."""
        if not self.url:
            return "MEDSPEAK_LLM_URL is not set"
        now = time.monotonic()
        if now < self._down_until:
            return f"the server at {self.url} failed recently"
        if self._probe is not None and now - self._probe[0] < _PROBE_TTL_S:
            return self._probe[1]
        try:
            response = self._client.get(f"{self.base_url}/models", timeout=min(self.timeout_s, _PROBE_TIMEOUT_S))
            reason = (
                f"the server at {self.url} answers HTTP {response.status_code}" if response.is_server_error else None
            )
        except httpx.HTTPError as exc:
            reason = f"the server at {self.url} does not answer ({type(exc).__name__})"
        self._probe = (now, reason)
        return reason

    def available(self) -> bool:
        return self.unavailable_reason() is None

    def _model_name(self) -> str:
        if self.model is None:
            try:
                listed = self._client.get(f"{self.base_url}/models").json().get("data") or []
                self.model = str(listed[0]["id"]) if listed else "default"
            except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError):
                self.model = "default"
        return self.model

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        """One chat completion, retried (tenacity: exponential backoff) on timeouts, connection errors, 429, 5xx.

        After the last try the backend cools down: documents go to the rules for ``_COOL_DOWN_S``. The
        cool-down stays hand-written (one timestamp under a lock): a circuit-breaker package (pybreaker)
        would add a dependency and a state machine for those three lines.
        """
        retrying = Retrying(
            stop=stop_after_attempt(self.retries + 1),
            wait=wait_exponential(multiplier=_BACKOFF_S),  # 0.5 s, then 1 s
            retry=retry_if_exception_type(_Retryable),
            reraise=True,
            sleep=lambda seconds: _sleep(seconds),  # looked up at each wait: tests replace it
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._post_once(body)
        except _Retryable as exc:
            with self._lock:
                self._down_until = time.monotonic() + _COOL_DOWN_S
            raise LLMUnavailable(f"the server at {self.url} failed {self.retries + 1} time(s): {exc}") from None
        raise LLMUnavailable(f"the server at {self.url} was not asked")  # no attempt: retries < 0

    def _post_once(self, body: dict[str, Any]) -> dict[str, Any]:
        """One try. Raises ``_Retryable`` for what another try may mend, ``LLMUnavailable`` for the rest."""
        try:
            with self._slots:  # held for the request only, not the backoff: a waiting chunk takes the slot
                response = self._client.post(f"{self.base_url}/chat/completions", json=body)
        except httpx.TimeoutException:
            raise _Retryable(f"no answer within {self.timeout_s:g} s") from None
        except httpx.HTTPError as exc:
            raise _Retryable(f"connection failed ({type(exc).__name__})") from None
        if response.status_code in _RETRY_STATUS:
            raise _Retryable(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise LLMUnavailable(f"the server at {self.url} refused the request (HTTP {response.status_code})")
        try:
            payload: dict[str, Any] = response.json()
        except ValueError as exc:
            raise LLMUnavailable(f"the server at {self.url} answered something other than JSON") from exc
        return payload

    def _answer(self, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The text of the server's chat completion for ``body``, and its choice.

        Raises:
            TruncatedAnswer: the server stopped on its token budget (``finish_reason == "length"``).
            LLMUnavailable: the server is down, too slow, refuses the request or answers no completion.
        """
        payload = self._post(body)
        try:
            choice: dict[str, Any] = payload["choices"][0]
            text = str(choice["message"]["content"] or "")
        except (KeyError, IndexError, TypeError) as exc:
            raise LLMUnavailable(f"the server at {self.url} answered without a chat completion") from exc
        if choice.get("finish_reason") == "length":
            raise TruncatedAnswer(f"the server stopped at its {body['max_tokens']}-token budget")
        return text, choice

    def generate(self, chunk: Chunk) -> tuple[str, list[float] | None]:
        """The server's answer to one chunk and each fact's confidence (``None`` without log-probabilities).

        Raises:
            TruncatedAnswer: the server stopped on its token budget (``finish_reason == "length"``).
            LLMUnavailable: the server is down, too slow or refuses the request.
        """
        body = {
            "model": self._model_name(),
            "messages": chat_messages(chunk.text),
            "temperature": 0,
            "max_tokens": self.max_tokens,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "clinical_facts", "schema": output_schema(self.max_facts), "strict": True},
            },
            "logprobs": True,
        }
        text, choice = self._answer(body)
        return text, _confidences(text, choice.get("logprobs"))

    def answer_json(self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int) -> str:
        """A short answer to other ``messages`` (the triage rationale), in the JSON-schema response format.

        Raises:
            TruncatedAnswer: the server stopped on its token budget.
            LLMUnavailable: the server is down, too slow, refuses the request or failed recently.
        """
        if time.monotonic() < self._down_until:
            raise LLMUnavailable(f"the server at {self.url} failed less than {_COOL_DOWN_S:g} s ago")
        body = {
            "model": self._model_name(),
            "messages": messages,
            "temperature": 0,
            "max_tokens": max_tokens,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": schema, "strict": True},
            },
        }
        return self._answer(body)[0]

    def extract(self, text: str, language: str) -> list[Fact]:
        """Candidate facts (``Backend`` interface); notices are in ``run``."""
        return self.run(text, language).facts

    def run(self, text: str, language: str) -> LLMResult:
        """Candidate facts of the whole document, chunk by section.

        Raises:
            LLMUnavailable: the server failed (after retries) or failed recently.
        """
        if time.monotonic() < self._down_until:
            raise LLMUnavailable(f"the server at {self.url} failed less than {_COOL_DOWN_S:g} s ago")
        return run_chunks(self.generate, self.name, text, language, self.chunk_chars, concurrency=self.concurrency)


def _confidences(text: str, logprobs: Any) -> list[float] | None:
    """Per-fact confidences from the OpenAI ``logprobs.content`` list, when its tokens spell ``text``."""
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    if not content:
        return None
    try:
        pieces = [(str(t["token"]), float(t["logprob"])) for t in content]
    except (KeyError, TypeError, ValueError):
        return None
    if "".join(p for p, _ in pieces) != text:
        return None  # tokens that do not spell the answer cannot be placed on its facts
    ends, at = [], 0
    for piece, _ in pieces:
        at += len(piece)
        ends.append(at)
    return item_confidences(text, ends, [lp for _, lp in pieces])
