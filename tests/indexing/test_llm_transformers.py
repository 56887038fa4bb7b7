"""The local LLM path without weights: a tiny random Mistral built here, loaded through production code.

A random model writes garbage, but constrained decoding makes it schema-valid garbage, and grounding
must keep every one of its facts out of the record. The same model is loaded in 4 bits with
bitsandbytes on the CPU (accelerate), and on CUDA by the ``gpu`` test where a device exists.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from medspeak.indexing import extract, extract_facts
from medspeak.indexing.extract import NO_MODEL_NOTICE, ExtractionFailed
from medspeak.indexing.llm import LocalLLMBackend, local, output_schema
from medspeak.indexing.llm.answer import TruncatedAnswer
from medspeak.indexing.llm.prompt import Chunk, chat_messages, render_chatml
from medspeak.indexing.schema import Medication

torch = pytest.importorskip("torch")
DOCUMENT = "Medications: Metoprolol 25 mg PO twice daily.\nAssessment: Denies chest pain.\n"


def _build_tiny_mistral(folder: Path) -> Path:
    """A 2-layer, 64-wide random Mistral and a byte-level BPE tokenizer with ChatML markers."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import MistralConfig, MistralForCausalLM, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=3000,
        special_tokens=["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # every byte: any text can be written
        show_progress=False,
    )
    bpe.train_from_iterator([render_chatml(chat_messages(DOCUMENT))], trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token="<s>", eos_token="<|im_end|>", unk_token="<unk>", pad_token="</s>"
    )
    torch.manual_seed(0)
    config = MistralConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    MistralForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a 64-wide model only loses to thread hand-offs on a shared runner
    yield _build_tiny_mistral(tmp_path_factory.mktemp("tiny-mistral"))
    torch.set_num_threads(threads)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the local backend tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _facts(answer_text: str) -> list[dict[str, Any]]:
    answer = json.loads(answer_text)
    jsonschema.validate(answer, output_schema())
    facts: list[dict[str, Any]] = answer["facts"]
    return facts


def test_no_model_folder_means_unavailable_and_nothing_is_downloaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: None
) -> None:
    for name in (str(tmp_path / "absent"), str(tmp_path), "medspeak-tests/no-such-model"):
        reason = LocalLLMBackend(name).unavailable_reason()
        assert reason is not None and "nothing is downloaded" in reason
    monkeypatch.setenv("MEDSPEAK_LLM_MODEL", str(tmp_path / "absent"))
    monkeypatch.delenv("MEDSPEAK_LLM_URL", raising=False)
    with pytest.raises(ExtractionFailed, match="transformers extraction backend is unavailable: no language model"):
        extract_facts(DOCUMENT, backend="transformers")
    auto = extract_facts(DOCUMENT)
    assert (auto.backend, auto.notices) == ("rules", [NO_MODEL_NOTICE])


def test_auto_leaves_a_model_folder_alone_without_cuda(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: auto takes the model (see the gpu test)")
    monkeypatch.setenv("MEDSPEAK_LLM_MODEL", str(tiny_model))
    monkeypatch.delenv("MEDSPEAK_LLM_URL", raising=False)
    output = extract_facts(DOCUMENT)
    assert output.backend == "rules"
    assert output.notices == ["The local language model needs a CUDA device; none was found.", NO_MODEL_NOTICE]


def test_constrained_decoding_returns_schema_valid_json(tiny_model: Path, no_network: None) -> None:
    backend = LocalLLMBackend(str(tiny_model), quantize=False, device="cpu", max_facts=2)
    text, confidences = backend.generate(Chunk(0, DOCUMENT))
    facts = _facts(text)
    assert backend.loaded and not backend.quantized
    assert confidences is not None and len(confidences) == len(facts)
    assert all(0.0 <= c <= 0.5 for c in confidences)  # a random model is never sure of anything


def test_a_random_models_facts_never_reach_the_record(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDSPEAK_LLM_MODEL", str(tiny_model))
    monkeypatch.setattr(extract, "_new_local", partial(LocalLLMBackend, quantize=False, max_facts=1))
    output = extract_facts(DOCUMENT, backend="transformers")

    assert output.backend == "transformers"
    assert [f for f in output.facts if f.extractor == "transformers"] == []
    rejected = [f for f in output.unsupported if f.extractor == "transformers"]
    assert rejected and all(f.grounding.value == "none" or f.flags for f in rejected)
    # What the document does say still reaches the record, from the rules, marked for review.
    (med,) = [f for f in output.facts if isinstance(f, Medication)]
    assert (med.normalized_name, med.extractor, med.flags) == ("metoprolol", "rules", ["missed_by_llm"])


def test_a_model_failing_mid_document_hands_over_to_the_rules(
    tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def out_of_memory(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setenv("MEDSPEAK_LLM_MODEL", str(tiny_model))
    monkeypatch.setattr(extract, "_new_local", partial(LocalLLMBackend, quantize=False))
    monkeypatch.setattr(local, "_decode", out_of_memory)
    output = extract_facts(DOCUMENT, backend="transformers")
    assert output.backend == "rules" and len(output.notices) == 1
    assert "failed while generating (RuntimeError)" in output.notices[0] and "rules" in output.notices[0]
    assert [f.normalized_name for f in output.facts if isinstance(f, Medication)] == ["metoprolol"]


def test_4bit_bitsandbytes_loading_on_cpu(tiny_model: Path, no_network: None) -> None:
    pytest.importorskip("bitsandbytes")
    backend = LocalLLMBackend(str(tiny_model), quantize=True, device="cpu", max_facts=1)
    text, _ = backend.generate(Chunk(0, DOCUMENT))
    _facts(text)
    assert backend.quantized
    assert backend._loaded is not None
    kinds = {type(p).__name__ for p in backend._loaded.model.parameters()}
    assert "Params4bit" in kinds


def test_a_cut_off_answer_is_detected_and_retried_on_smaller_chunks(tiny_model: Path) -> None:
    backend = LocalLLMBackend(str(tiny_model), quantize=False, device="cpu", max_new_tokens=6)
    with pytest.raises(TruncatedAnswer):
        backend.generate(Chunk(0, DOCUMENT))
    asked: list[int] = []
    generate = backend.generate

    def counting(chunk: Chunk) -> tuple[str, list[float] | None]:
        asked.append(len(chunk.text))
        return generate(chunk)

    backend.generate = counting  # type: ignore[method-assign]
    long_document = "".join(f"Day {i}: comfortable, walking on the ward, eating well.\n" for i in range(30))
    result = backend.run(long_document, "en")
    assert asked[0] == len(long_document) and len(asked) == 7  # the whole, two halves, four quarters
    assert len(result.notices) == 4 and all("cut off" in n for n in result.notices) and result.facts == []


def test_another_schema_constrains_another_answer(tiny_model: Path) -> None:
    """The triage rationale asks the same model for another JSON shape: the answer keeps to that one."""
    schema = {
        "type": "object",
        "properties": {"ok": {"type": "boolean"}},
        "required": ["ok"],
        "additionalProperties": False,
    }
    backend = LocalLLMBackend(str(tiny_model), device="cpu", quantize=False)
    answer = json.loads(backend.answer_json([{"role": "user", "content": "Is this fine?"}], schema, 16))
    jsonschema.validate(answer, schema)


@pytest.mark.gpu
def test_tiny_model_in_4_bits_on_cuda(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    pytest.importorskip("bitsandbytes")
    backend = LocalLLMBackend(str(tiny_model), max_facts=2)  # defaults on CUDA: 4 bits, on the GPU
    text, _ = backend.generate(Chunk(0, DOCUMENT))
    _facts(text)
    assert backend.quantized and backend._loaded is not None and backend._loaded.device == "cuda"
    assert next(backend._loaded.model.parameters()).device.type == "cuda"
    monkeypatch.setenv("MEDSPEAK_LLM_MODEL", str(tiny_model))
    monkeypatch.setattr(extract, "_new_local", partial(LocalLLMBackend, max_facts=2))
    monkeypatch.delenv("MEDSPEAK_LLM_URL", raising=False)
    output = extract_facts(DOCUMENT)  # auto: a model folder and CUDA → the local model
    assert output.backend == "transformers"
    assert [f for f in output.facts if f.extractor == "transformers"] == []
