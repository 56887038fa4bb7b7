"""The local language-model backend: a causal LM from a local folder, 4-bit on CUDA, JSON-constrained.

Loading never downloads (``local_files_only=True``): ``MEDSPEAK_LLM_MODEL`` is a folder holding
``config.json`` and weights, or a model id already in the Hugging Face cache; anything else makes the
backend report itself unavailable with the reason. On CUDA the model is loaded in 4 bits with
bitsandbytes (NF4, double quantisation, bf16 compute: Dettmers et al., QLoRA, 2023), ~4.5 GB for
OpenHermes 2.5 Mistral 7B.

Constrained decoding uses llguidance (the engine behind vLLM's, SGLang's and llama.cpp's structured
output): measured on this stack (transformers 5.24, torch 2.13 CPU, 2026-11-28) it was the only
candidate that imports and works with transformers 5 and keeps every token step cheap:
lm-format-enforcer 0.11.3's transformers integration fails to import (``transformers.tokenization_utils``
is gone in v5); outlines 1.3.3 worked but took 10 s to import and 49 s to build its index for a
345-token vocabulary; xgrammar 0.2.9 pulls triton (a CUDA compiler) into a CPU install; llguidance
1.9.1 is one Rust wheel with no dependencies, builds the JSON-schema grammar in ~4 ms and computes
each token mask in microseconds. Its ``llguidance.torch`` helper is not used because it calls
``torch.compile``, which needs a C++ toolchain on CPU; the mask is applied by a small logits processor.
"""

from __future__ import annotations

import importlib.util
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medspeak.indexing.llm.answer import TruncatedAnswer, item_confidences
from medspeak.indexing.llm.base import LLMResult, LLMUnavailable, run_chunks
from medspeak.indexing.llm.chunks import DEFAULT_CHUNK_CHARS
from medspeak.indexing.llm.prompt import Chunk, chat_messages, output_schema, render_chatml
from medspeak.indexing.schema import Fact

__all__ = ["DEFAULT_MODEL", "LLM_PACKAGES", "LocalLLMBackend", "llm_packages_installed", "resolve_model"]

DEFAULT_MODEL = "teknium/OpenHermes-2.5-Mistral-7B"


# The optional install group (requirements-llm.txt, `pip install .[llm]`, `make install-llm`): ~1 GB that
# only the local language model needs; the app, the API and the rules extractor run without it.
LLM_PACKAGES = ("torch", "transformers", "accelerate", "bitsandbytes", "llguidance")


def llm_packages_installed(names: tuple[str, ...] = ("torch", "transformers", "llguidance")) -> bool:
    """Whether the packages the local model needs can be imported (checked without importing them)."""
    return not _missing(names)


def _missing(names: tuple[str, ...] | list[str]) -> list[str]:
    missing = []
    for name in names:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # an import hook refuses it, or a half-removed install
            found = False
        if not found:
            missing.append(name)
    return missing


def resolve_model(name: str) -> Path | None:
    """The local folder of model ``name`` (a folder, or a model id already cached), else ``None``.

    Never touches the network: a model id is only looked up in the local Hugging Face cache (whose reader
    comes with the optional LLM packages: without them, only a folder is found).
    """
    path = Path(name).expanduser()
    if path.is_dir():
        return path if (path / "config.json").is_file() else None
    if re.fullmatch(r"[\w.-]+/[\w.-]+", name) and llm_packages_installed():
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(name, "config.json")
        if isinstance(found, str):
            return Path(found).parent
    return None


@dataclass
class _Loaded:
    model: Any
    tokenizer: Any
    ll_tokenizer: Any
    grammar: str
    device: str


class LocalLLMBackend:
    """Extraction by a local causal language model, its answer constrained to ``output_schema()``.

    Args:
        model: a local folder or a cached model id (``MEDSPEAK_LLM_MODEL``).
        quantize: load in 4 bits with bitsandbytes; default: when CUDA is available.
        device: ``cuda`` or ``cpu``; default: CUDA when available.
        max_new_tokens: answer budget per chunk; a longer answer is truncated and retried on halves.
        chunk_chars: the most characters of document sent at once.
        max_facts: the most facts one answer may hold (the schema's ``maxItems``).
    """

    name = "transformers"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        quantize: bool | None = None,
        device: str | None = None,
        max_new_tokens: int = 2048,
        chunk_chars: int = DEFAULT_CHUNK_CHARS,
        max_facts: int = 40,
    ) -> None:
        self.model = model
        self.quantize = quantize
        self.device = device
        self.max_new_tokens = max_new_tokens
        self.chunk_chars = chunk_chars
        self.max_facts = max_facts
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()
        self._generating = threading.Lock()

    def unavailable_reason(self) -> str | None:
        """Why this backend cannot run here (no model folder, a missing package), or ``None``."""
        if resolve_model(self.model) is None:
            return (
                f"no language model at {self.model!r}: MEDSPEAK_LLM_MODEL must name a local folder with "
                "config.json and weights, or a model already in the Hugging Face cache (nothing is downloaded)"
            )
        needed = ["torch", "transformers", "llguidance"]
        if self.quantize:
            needed += ["bitsandbytes", "accelerate"]
        if missing := _missing(needed):
            return f"missing package(s) {', '.join(missing)}: install the LLM group (make install-llm)"
        return None

    def available(self) -> bool:
        return self.unavailable_reason() is None

    def _load(self) -> _Loaded:
        with self._lock:
            if self._loaded is None:
                reason = self.unavailable_reason()
                if reason:
                    raise LLMUnavailable(reason)
                self._loaded = self._load_model()
            return self._loaded

    def _load_model(self) -> _Loaded:
        import llguidance
        import llguidance.hf
        import torch

        transformers: Any = importlib.import_module("transformers")  # untyped calls: keep them Any here
        folder = resolve_model(self.model)
        if folder is None:
            raise LLMUnavailable(f"no language model at {self.model!r}")
        cuda = torch.cuda.is_available()
        device = self.device or ("cuda" if cuda else "cpu")
        quantize = cuda if self.quantize is None else self.quantize
        kwargs: dict[str, Any] = {"local_files_only": True}
        if quantize:
            kwargs["quantization_config"] = transformers.BitsAndBytesConfig(
                load_in_4bit=True,
                bnb_4bit_quant_type="nf4",
                bnb_4bit_use_double_quant=True,
                bnb_4bit_compute_dtype=torch.bfloat16,
            )
            kwargs["device_map"] = device
        else:
            kwargs["dtype"] = torch.bfloat16 if device == "cuda" else torch.float32
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
            model = transformers.AutoModelForCausalLM.from_pretrained(folder, **kwargs)
        except (OSError, ValueError, ImportError) as exc:
            raise LLMUnavailable(f"the model at {self.model!r} could not be loaded: {exc}") from exc
        if not quantize:
            model = model.to(device)
        model.eval()
        ll_tokenizer = llguidance.hf.from_tokenizer(tokenizer)
        grammar = llguidance.LLMatcher.grammar_from_json_schema(
            output_schema(self.max_facts), defaults={"whitespace_flexible": False}
        )
        error = llguidance.LLMatcher.validate_grammar(grammar, ll_tokenizer)
        if error:
            raise LLMUnavailable(f"the answer schema could not be compiled for this tokenizer: {error}")
        return _Loaded(model, tokenizer, ll_tokenizer, grammar, device)

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory (the first extraction loads it)."""
        return self._loaded is not None

    @property
    def quantized(self) -> bool:
        """Whether the loaded model's weights are 4-bit (bitsandbytes)."""
        config = getattr(self._loaded.model, "config", None) if self._loaded else None
        quantization = getattr(config, "quantization_config", None)
        return bool(quantization is not None and getattr(quantization, "load_in_4bit", False))

    def generate(self, chunk: Chunk) -> tuple[str, list[float] | None]:
        """The constrained answer to one chunk and the confidence of each fact object in it.

        Raises:
            TruncatedAnswer: the token budget ran out before the JSON closed.
            LLMUnavailable: the model cannot be loaded or failed while generating.
        """
        loaded = self._load()
        try:
            with self._generating:  # one answer at a time: ingest workers share one model in memory
                text, ends, logprobs, complete = _decode(
                    loaded, render_chatml(chat_messages(chunk.text)), self.max_new_tokens
                )
        except RuntimeError as exc:  # CUDA out of memory, a device lost: the rules take over for this document
            raise LLMUnavailable(f"the local model failed while generating ({type(exc).__name__})") from exc
        if not complete:
            raise TruncatedAnswer(f"no end of answer within {self.max_new_tokens} tokens")
        return text, item_confidences(text, ends, logprobs)

    def answer_json(self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int) -> str:
        """A short answer to other ``messages`` (the triage rationale), constrained to ``schema``.

        Raises:
            TruncatedAnswer: the token budget ran out before the JSON closed.
            LLMUnavailable: the model cannot be loaded, the schema not compiled, or generation failed.
        """
        import llguidance

        loaded = self._load()
        grammar = llguidance.LLMatcher.grammar_from_json_schema(schema, defaults={"whitespace_flexible": False})
        if error := llguidance.LLMatcher.validate_grammar(grammar, loaded.ll_tokenizer):
            raise LLMUnavailable(f"the answer schema could not be compiled for this tokenizer: {error}")
        try:
            with self._generating:
                text, _, _, complete = _decode(loaded, render_chatml(messages), max_tokens, grammar)
        except RuntimeError as exc:
            raise LLMUnavailable(f"the local model failed while generating ({type(exc).__name__})") from exc
        if not complete:
            raise TruncatedAnswer(f"no end of answer within {max_tokens} tokens")
        return text

    def extract(self, text: str, language: str) -> list[Fact]:
        """Candidate facts (``Backend`` interface); notices are in ``run``."""
        return self.run(text, language).facts

    def run(self, text: str, language: str) -> LLMResult:
        """Candidate facts of the whole document, chunk by section, with notices of what was skipped.

        Raises:
            LLMUnavailable: the model cannot be loaded.
        """
        self._load()
        return run_chunks(self.generate, self.name, text, language, self.chunk_chars)


def _decode(
    loaded: _Loaded, prompt: str, max_new_tokens: int, grammar: str | None = None
) -> tuple[str, list[int], list[float], bool]:
    """(answer text, character end of each token, log-probability of each token, answer complete).

    ``grammar`` constrains the answer (default: the extraction schema the model was loaded with).
    """
    import llguidance
    import numpy as np
    import torch

    transformers: Any = importlib.import_module("transformers")

    tokenizer = loaded.tokenizer
    matcher = llguidance.LLMatcher(loaded.ll_tokenizer, grammar or loaded.grammar)
    eos = tokenizer.eos_token_id
    inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(loaded.device)
    prompt_length = int(inputs["input_ids"].shape[1])

    class SchemaConstraint(transformers.LogitsProcessor):  # type: ignore[misc]
        """Only tokens that keep the answer a prefix of a schema-valid JSON object; EOS once it is whole."""

        def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
            if input_ids.shape[1] > prompt_length and not matcher.is_stopped():
                matcher.consume_token(int(input_ids[0, -1]))
            vocab = scores.shape[-1]
            if matcher.is_stopped() or matcher.is_error():
                allowed = np.zeros(vocab, dtype=bool)
                allowed[eos] = True
            else:
                bits = np.unpackbits(np.frombuffer(matcher.compute_bitmask(), dtype=np.uint8), bitorder="little")
                allowed = np.zeros(vocab, dtype=bool)
                allowed[: min(vocab, bits.size)] = bits[:vocab].astype(bool)
            mask = torch.from_numpy(allowed).to(scores.device)
            return scores.masked_fill(~mask, float("-inf"))

    config = transformers.GenerationConfig(
        max_new_tokens=max_new_tokens,
        do_sample=False,
        eos_token_id=eos,
        pad_token_id=tokenizer.pad_token_id or eos,
        output_logits=True,  # raw scores: a token the model did not want scores low even when forced
        return_dict_in_generate=True,
    )
    with torch.inference_mode():
        out = loaded.model.generate(
            **inputs,
            generation_config=config,
            logits_processor=transformers.LogitsProcessorList([SchemaConstraint()]),
        )
    tokens = [int(t) for t in out.sequences[0, prompt_length:]]
    logprobs = [
        float(torch.log_softmax(step[0].float(), dim=-1)[token])
        for step, token in zip(out.logits, tokens, strict=False)
    ]
    if tokens and tokens[-1] == eos:
        tokens, logprobs = tokens[:-1], logprobs[:-1]
    elif not matcher.is_stopped() and tokens:
        matcher.consume_token(tokens[-1])  # the last token was sampled after the last processor call
    raw = b""
    byte_ends = []
    for token in tokens:
        raw += loaded.ll_tokenizer.decode_bytes([token])
        byte_ends.append(len(raw))
    text = raw.decode("utf-8", errors="replace")
    char_ends = [len(raw[:b].decode("utf-8", errors="ignore")) for b in byte_ends]
    complete = matcher.is_accepting() and not matcher.is_error()
    return text, char_ends, [lp if math.isfinite(lp) else -30.0 for lp in logprobs], complete
