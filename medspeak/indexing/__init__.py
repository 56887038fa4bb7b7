"""Indexing: grounded extraction of clinical facts from document text.

Every fact carries the evidence it came from (character span, page, box); a fact that cannot be
aligned to the source text goes to ``unsupported`` and never into the record.
"""

from medspeak.indexing.extract import ExtractionOutput, extract_facts
from medspeak.indexing.schema import Assertion, Evidence, Fact, Grounding

__all__ = ["Assertion", "Evidence", "ExtractionOutput", "Fact", "Grounding", "extract_facts"]
