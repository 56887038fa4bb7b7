"""Language-model extraction backends: a local model (``transformers``) or an OpenAI-compatible server.

Both return candidate facts with claimed evidence; ``medspeak.indexing.extract`` grounds them, checks
them against the rules (``hybrid``) and falls back to the rules when the model cannot answer.
"""

from medspeak.indexing.llm.base import LLMResult, LLMUnavailable
from medspeak.indexing.llm.local import DEFAULT_MODEL, LocalLLMBackend, resolve_model
from medspeak.indexing.llm.prompt import output_schema
from medspeak.indexing.llm.server import ServerBackend

__all__ = [
    "DEFAULT_MODEL",
    "LLMResult",
    "LLMUnavailable",
    "LocalLLMBackend",
    "ServerBackend",
    "output_schema",
    "resolve_model",
]
