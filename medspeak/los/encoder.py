"""Preprocessing: one-hot categories, TF-IDF + PCA on the reports' text, StandardScaler on numbers.

Fitted with scikit-learn; the learned state (categories, vocabulary, idf, PCA axes, means and scales)
is kept as plain JSON and applied with numpy, so the committed artifact holds no pickle: loading a
model never executes code from a file.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from sklearn.decomposition import PCA
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from medspeak.los.features import CATEGORICAL, NUMERIC, Snapshot

__all__ = ["TEXT_GROUP", "FeatureEncoder"]

_WORD_PATTERN: Final = r"(?u)\b[^\W\d_]{3,}\b"  # words of 3+ letters: doses and codes say little about the stay
_MAX_WORDS: Final = 400  # vocabulary cap: enough for drug and test names, small artifact
_MIN_DOCS: Final = 3  # a word in fewer stays is noise on a few hundred admissions
_TEXT_AXES: Final = 8  # PCA components kept from the text
TEXT_GROUP: Final = "reports_text"


class FeatureEncoder:
    """Turns snapshots into the model's matrix; ``fit`` learns, ``state``/``from_state`` round-trip JSON."""

    def __init__(self) -> None:
        self.categories_: dict[str, list[str]] = {}
        self.vocabulary_: list[str] = []
        self.idf_: NDArray[np.float64] = np.zeros(0)
        self.pca_mean_: NDArray[np.float64] = np.zeros(0)
        self.pca_components_: NDArray[np.float64] = np.zeros((0, 0))
        self.scale_mean_: NDArray[np.float64] = np.zeros(0)
        self.scale_: NDArray[np.float64] = np.zeros(0)

    def fit(self, snapshots: Sequence[Snapshot]) -> FeatureEncoder:
        """Learn categories, vocabulary, text axes and scales from training snapshots."""
        onehot = OneHotEncoder(handle_unknown="ignore").fit(
            [[str(s.values[c]) for c in CATEGORICAL] for s in snapshots]
        )
        self.categories_ = {c: [str(v) for v in cats] for c, cats in zip(CATEGORICAL, onehot.categories_, strict=True)}
        texts = [s.text for s in snapshots]
        n_docs = sum(1 for t in texts if t)
        if n_docs >= _MIN_DOCS:
            tfidf = TfidfVectorizer(
                token_pattern=_WORD_PATTERN,
                min_df=_MIN_DOCS,
                max_features=_MAX_WORDS,
                sublinear_tf=True,
                dtype=np.float64,
            )
            try:
                tfidf.fit(texts)
            except ValueError:  # no word reaches min_df: the text adds nothing
                pass
            else:
                vocab = tfidf.vocabulary_
                self.vocabulary_ = sorted(vocab, key=vocab.__getitem__)
                self.idf_ = np.asarray(tfidf.idf_, dtype=np.float64)
        if self.vocabulary_:
            dense = self._tfidf(texts)
            pca = PCA(
                n_components=min(_TEXT_AXES, len(self.vocabulary_), len(texts) - 1), svd_solver="covariance_eigh"
            ).fit(dense)
            self.pca_mean_, self.pca_components_ = pca.mean_, pca.components_
        scaler = StandardScaler().fit(self._numbers(snapshots))
        self.scale_mean_, self.scale_ = scaler.mean_, scaler.scale_
        return self

    @property
    def feature_names(self) -> list[str]:
        """Column names: ``group=value`` for categories, the number's name, ``reports_text:axisN``."""
        names = [f"{c}={v}" for c in CATEGORICAL for v in self.categories_[c]]
        names += list(NUMERIC)
        names += [f"{TEXT_GROUP}:axis{i + 1}" for i in range(self.pca_components_.shape[0])]
        return names

    @property
    def groups(self) -> list[str]:
        """The feature each column comes from (SHAP values are summed per group for explanations)."""
        return [n.split("=")[0].split(":")[0] for n in self.feature_names]

    def transform(self, snapshots: Sequence[Snapshot]) -> NDArray[np.float64]:
        """The model's matrix: one-hot columns, then scaled numbers and text axes."""
        onehot = np.zeros((len(snapshots), sum(len(v) for v in self.categories_.values())))
        offset = 0
        for c in CATEGORICAL:
            index = {v: i for i, v in enumerate(self.categories_[c])}
            for row, s in enumerate(snapshots):
                i = index.get(str(s.values[c]))
                if i is not None:
                    onehot[row, offset + i] = 1.0
            offset += len(index)
        scaled = (self._numbers(snapshots) - self.scale_mean_) / np.where(self.scale_ > 0, self.scale_, 1.0)
        return np.hstack([onehot, scaled])

    def top_words(self, text: str, n: int = 5) -> list[str]:
        """The report words with the highest TF-IDF weight in ``text`` (what the text features saw)."""
        weights = self._tfidf([text])[0]
        order = np.argsort(-weights)[:n]
        return [self.vocabulary_[i] for i in order if weights[i] > 0]

    def _numbers(self, snapshots: Sequence[Snapshot]) -> NDArray[np.float64]:
        numeric = np.array([[float(s.values[c]) for c in NUMERIC] for s in snapshots], dtype=np.float64)
        if not self.vocabulary_:
            return numeric.reshape(len(snapshots), len(NUMERIC))
        axes = (self._tfidf([s.text for s in snapshots]) - self.pca_mean_) @ self.pca_components_.T
        return np.hstack([numeric.reshape(len(snapshots), len(NUMERIC)), axes])

    def _tfidf(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """scikit-learn's TfidfVectorizer (sublinear tf, smooth idf, l2 norm), replayed on the kept vocabulary."""
        index = {w: i for i, w in enumerate(self.vocabulary_)}
        out = np.zeros((len(texts), len(index)))
        for row, text in enumerate(texts):
            for word, count in Counter(re.findall(_WORD_PATTERN, text.lower())).items():
                i = index.get(word)
                if i is not None:
                    out[row, i] = (1.0 + math.log(count)) * self.idf_[i]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.asarray(np.divide(out, norms, out=np.zeros_like(out), where=norms > 0), dtype=np.float64)

    def state(self) -> dict[str, Any]:
        """The learned state as JSON-ready values."""
        return {
            "categories": self.categories_,
            "vocabulary": self.vocabulary_,
            "idf": self.idf_.tolist(),
            "pca_mean": self.pca_mean_.tolist(),
            "pca_components": self.pca_components_.tolist(),
            "scale_mean": self.scale_mean_.tolist(),
            "scale": self.scale_.tolist(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> FeatureEncoder:
        """Rebuild an encoder from ``state()`` output."""
        enc = cls()
        enc.categories_ = {str(k): [str(v) for v in vals] for k, vals in state["categories"].items()}
        enc.vocabulary_ = [str(w) for w in state["vocabulary"]]
        enc.idf_ = np.asarray(state["idf"], dtype=np.float64)
        enc.pca_mean_ = np.asarray(state["pca_mean"], dtype=np.float64)
        enc.pca_components_ = np.asarray(state["pca_components"], dtype=np.float64).reshape(-1, len(enc.vocabulary_))
        enc.scale_mean_ = np.asarray(state["scale_mean"], dtype=np.float64)
        enc.scale_ = np.asarray(state["scale"], dtype=np.float64)
        return enc
