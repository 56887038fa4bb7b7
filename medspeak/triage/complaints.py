"""Chief complaint → complaint categories and a care pathway, by similarity.

A nurse writes "abd pain", "SOB", "douleur thoracique" or "Rt. side motor weakness". Character n-gram
TF-IDF (2-4 characters inside words) over the exemplar phrases of ``data/pathways.json`` tolerates
abbreviations, typos and French; the cosine similarity to each category is both a model feature
(so SHAP can say "complaint like *chest pain* → more urgent") and the pathway shown to the nurse.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

__all__ = ["PATHWAYS_FILE", "ComplaintMatcher", "Pathway", "matcher"]

PATHWAYS_FILE: Final = Path(__file__).parent / "data" / "pathways.json"
_MIN_PATHWAY_SIMILARITY: Final = 0.35  # below this the complaint resembles no category well enough to route it
_TOKEN = re.compile(r"[a-zà-ÿ/]+|\d+")


@dataclass(frozen=True, slots=True)
class Pathway:
    """Where a complaint category goes and what to do first."""

    category: str
    label: str
    department: str
    first_actions: tuple[str, ...]
    source: str
    similarity: float


class ComplaintMatcher:
    """Similarity of free-text complaints to the categories of a pathways file."""

    def __init__(self, spec: dict[str, Any], digest: str) -> None:
        self.digest = digest
        self._abbreviations: dict[str, str] = spec["abbreviations"]
        self._sources: dict[str, str] = spec["sources"]
        self.categories: list[dict[str, Any]] = spec["categories"]
        self.category_ids = [c["id"] for c in self.categories]
        phrases = [self.normalise(p) for c in self.categories for p in c["exemplars"]]
        counts = [len(c["exemplars"]) for c in self.categories]
        if min(counts, default=0) < 1:
            raise ValueError("every complaint category needs at least one exemplar phrase")
        self._owner = np.repeat(np.arange(len(self.categories)), counts)
        self._first_exemplar = np.concatenate([[0], np.cumsum(counts)[:-1]])  # a category's exemplars are contiguous
        self._vectoriser = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
        self._exemplars = self._vectoriser.fit_transform(phrases).T.tocsr()
        # For one complaint at a time (similarity_row): sklearn's transform spends ~1.5 ms validating one
        # string; the same arithmetic on the n-grams directly takes ~0.1 ms.
        self._analyse = self._vectoriser.build_analyzer()
        self._vocabulary: dict[str, int] = self._vectoriser.vocabulary_
        self._idf: npt.NDArray[np.float64] = self._vectoriser.idf_

    def normalise(self, text: str) -> str:
        """Lower-case, abbreviations spelled out ("abd pain" → "abdominal pain")."""
        tokens = _TOKEN.findall(text.lower().replace(".", " "))
        return " ".join(self._abbreviations.get(t, t) for t in tokens)

    def similarities(self, complaints: Sequence[str | None]) -> npt.NDArray[np.float64]:
        """Cosine similarity (0-1) of each complaint to each category: rows × categories; NaN when missing."""
        out = np.full((len(complaints), len(self.categories)), np.nan)
        texts = [self.normalise(c) if isinstance(c, str) else "" for c in complaints]
        # A complaint with no letters left ("??": text lost to a wrong encoding) counts as missing.
        present = [i for i, t in enumerate(texts) if t.strip()]
        if not present:
            return out
        vectors = self._vectoriser.transform([texts[i] for i in present])
        per_exemplar = np.asarray((vectors @ self._exemplars).todense())
        best = np.zeros((len(present), len(self.categories)))
        for k in range(len(self.categories)):  # the best exemplar of each category
            best[:, k] = per_exemplar[:, self._owner == k].max(axis=1)
        out[present] = best
        return out

    def similarity_row(self, complaint: str | None) -> npt.NDArray[np.float64]:
        """:meth:`similarities` of one complaint, bit for bit, without sklearn's per-call validation.

        The steps are those of ``TfidfVectorizer.transform`` (counts of the vocabulary's n-grams in column
        order, ``1 + log(tf)``, times idf, divided by the L2 norm summed in the same order) and the
        same sparse product with the exemplars, so the floats are identical, not merely close.
        """
        text = self.normalise(complaint) if isinstance(complaint, str) else ""
        if not text.strip():
            return np.full(len(self.categories), np.nan)
        counts: dict[int, int] = {}
        for gram in self._analyse(text):
            column = self._vocabulary.get(gram)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        columns = np.array(sorted(counts), dtype=np.int32)
        data = np.array([counts[c] for c in columns.tolist()], dtype=np.float64)
        np.log(data, out=data)
        data += 1.0
        data *= self._idf[columns]
        squares = 0.0
        for value in data.tolist():  # sequential, like sklearn's inplace_csr_row_normalize_l2
            squares += value * value
        if squares != 0.0:
            data /= math.sqrt(squares)
        vector = sparse.csr_array(
            (data, columns, np.array([0, len(columns)], dtype=np.int32)), shape=(1, len(self._vocabulary))
        )
        per_exemplar = np.asarray((vector @ self._exemplars).todense())[0]
        return np.asarray(np.maximum.reduceat(per_exemplar, self._first_exemplar), dtype=np.float64)

    def pathway(self, complaint: str | None) -> Pathway | None:
        """The care pathway of the most similar category, or None when nothing is similar enough."""
        return self.pathway_for(self.similarities([complaint])[0])

    def pathway_for(self, sims: npt.NDArray[np.float64]) -> Pathway | None:
        """The pathway for one row of :meth:`similarities` (saves a second vectorisation)."""
        if np.isnan(sims).all():
            return None
        k = int(np.argmax(sims))
        if sims[k] < _MIN_PATHWAY_SIMILARITY:
            return None
        c = self.categories[k]
        return Pathway(
            c["id"], c["label"], c["department"], tuple(c["first_actions"]), self._sources[c["source"]], float(sims[k])
        )

    def label(self, category_id: str) -> str:
        return str(self.categories[self.category_ids.index(category_id)]["label"])


@lru_cache(maxsize=2)
def matcher(path: Path = PATHWAYS_FILE) -> ComplaintMatcher:
    """The matcher of a pathways file, built once (deterministic: same file, same features)."""
    raw = path.read_bytes()
    return ComplaintMatcher(json.loads(raw), hashlib.sha256(raw).hexdigest())
