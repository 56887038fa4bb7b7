"""CPU rules extractor: sections, lexicons and patterns, ConText assertions; knowledge in ``data/<language>/``."""

from medspeak.indexing.rules.backend import RulesBackend

__all__ = ["RulesBackend"]
