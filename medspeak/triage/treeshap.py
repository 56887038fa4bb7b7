"""Exact TreeSHAP for shallow trees, by table: each tree's SHAP values for every way a patient can pass through it.

Path-dependent TreeSHAP (what XGBoost's ``pred_contribs`` and shap's ``TreeExplainer`` compute for a tree
model) gives the Shapley values of ``v(S) = E[f(x) | x_S]``, where the expectation follows the patient's
branch at a split on a feature of ``S`` and averages both branches by their training cover otherwise. So a
tree's values depend on a patient only through the branch taken at each of its splits: a depth-3 tree has
at most 7 splits, hence at most 2**7 = 128 patterns. :class:`TreeTable` computes, once per model, every
pattern's values from the definition (the weighted sum over subsets of the tree's features); a patient then
costs one comparison per split and one table lookup per tree, vectorised over all trees: about 0.1 ms
for 1,500 trees, where XGBoost's recursive TreeSHAP takes 1-1.7 ms. The values are the same Shapley values
(tests/triage/test_treeshap.py compares them with XGBoost's on varied patients).

Deeper trees make the table grow as 2**splits: :meth:`TreeTable.build` refuses models whose trees have
more than :data:`MAX_SPLITS` splits (the caller then uses XGBoost's own TreeSHAP).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from math import factorial
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import xgboost as xgb

__all__ = ["MAX_SPLITS", "TreeTable", "TreeTooDeep"]

MAX_SPLITS: Final = 10  # 1,024 patterns a tree: ~80 KB a tree at most
_CHUNK_ROWS: Final = 256
# Objectives whose margin starts at the stored base score (a logistic one stores a probability instead).
_IDENTITY_BASE: Final = frozenset(
    {"multi:softprob", "multi:softmax", "reg:squarederror"}
)  # rows scored at once: bounds the (rows × trees × features) working array


class TreeTooDeep(ValueError):
    """A tree has too many splits for a table; use XGBoost's own TreeSHAP."""


@dataclass(frozen=True)
class _Tree:
    left: list[int]
    right: list[int]
    feature: list[int]
    condition: npt.NDArray[np.float32]
    default_left: list[bool]
    cover: list[float]

    def is_leaf(self, node: int) -> bool:
        return self.left[node] == -1


class TreeTable:
    """Every tree's SHAP values for every pattern of branches, and what a patient's pattern is."""

    def __init__(
        self,
        n_features: int,
        n_outputs: int,
        output: npt.NDArray[np.int_],
        split_feature: npt.NDArray[np.int_],
        split_condition: npt.NDArray[np.float32],
        missing_left: npt.NDArray[np.bool_],
        split_bit: npt.NDArray[np.int64],
        values: npt.NDArray[np.float64],
        value_feature: npt.NDArray[np.int_],
        leaf: npt.NDArray[np.float32],
        base: npt.NDArray[np.float32] | None,
    ) -> None:
        self.n_features, self.n_outputs = n_features, n_outputs
        self._split_feature = split_feature  # trees × splits: the feature each split tests (0 for padding)
        self._split_condition = split_condition  # go left when value < condition (float32, as XGBoost)
        self._missing_left = missing_left  # where a missing value goes
        self._split_bit = split_bit  # 2**k for the tree's k-th split; 0 for padding
        self._values = values  # trees × patterns × tree features: the SHAP values
        # Where each table value lands in a row's flattened (features × outputs) result.
        self._target = value_feature * n_outputs + output[:, None]
        self._trees = np.arange(len(output))
        self._leaf = leaf  # trees × patterns: the leaf a pattern ends in (float32, as XGBoost stores it)
        self._base = base  # the margin before any tree; None when the objective transforms it
        # Each output's trees in boosting order (outputs × rounds), when every output has as many trees.
        counts = np.bincount(output, minlength=n_outputs)
        self._rounds = (
            np.stack([np.flatnonzero(output == k) for k in range(n_outputs)], axis=1)
            if len(set(counts.tolist())) == 1
            else None
        )

    @classmethod
    def build(cls, booster: xgb.Booster) -> TreeTable:
        """The table of a trained booster (gbtree, numerical splits).

        Raises:
            TreeTooDeep: a tree has more than :data:`MAX_SPLITS` splits.
            ValueError: not a tree model with numerical splits only.
        """
        model = json.loads(booster.save_raw("json"))
        learner = model["learner"]
        n_features = int(learner["learner_model_param"]["num_feature"])
        n_outputs = max(1, int(learner["learner_model_param"]["num_class"]))
        gbtree = learner["gradient_booster"]
        if gbtree.get("name") != "gbtree":
            raise ValueError(f"not a gbtree model: {gbtree.get('name')}")
        trees = [_parse(tree) for tree in gbtree["model"]["trees"]]
        splits = [[n for n in range(len(t.left)) if not t.is_leaf(n)] for t in trees]
        width = max((len(s) for s in splits), default=0)
        if width > MAX_SPLITS:
            raise TreeTooDeep(f"a tree has {width} splits; a table holds trees of at most {MAX_SPLITS}")
        most_used = max(1, max((len({trees[t].feature[n] for n in s}) for t, s in enumerate(splits)), default=1))
        n_trees, slots = len(trees), max(width, 1)
        split_feature = np.zeros((n_trees, slots), dtype=np.intp)
        split_condition = np.zeros((n_trees, slots), dtype=np.float32)
        missing_left = np.zeros((n_trees, slots), dtype=bool)
        split_bit = np.zeros((n_trees, slots), dtype=np.int64)
        values = np.zeros((n_trees, 2**slots, most_used), dtype=np.float64)
        leaf = np.zeros((n_trees, 2**slots), dtype=np.float32)
        value_feature = np.zeros((n_trees, most_used), dtype=np.intp)
        for t, (tree, nodes) in enumerate(zip(trees, splits, strict=True)):
            for k, node in enumerate(nodes):
                split_feature[t, k] = tree.feature[node]
                split_condition[t, k] = tree.condition[node]
                missing_left[t, k] = tree.default_left[node]
                split_bit[t, k] = 1 << k
            used, table = _tree_values(tree, nodes)
            value_feature[t, : len(used)] = used
            values[t, : table.shape[0], : len(used)] = table
            leaf[t, : table.shape[0]] = _leaf_values(tree, nodes)
        output = np.asarray(gbtree["model"]["tree_info"], dtype=np.intp)
        base = None
        if learner["objective"]["name"] in _IDENTITY_BASE:
            base = np.resize(
                np.asarray(json.loads(learner["learner_model_param"]["base_score"]), np.float32), n_outputs
            )
        return cls(
            n_features,
            n_outputs,
            output,
            split_feature,
            split_condition,
            missing_left,
            split_bit,
            values,
            value_feature,
            leaf,
            base,
        )

    def patterns(self, features: npt.NDArray[np.float32]) -> npt.NDArray[np.int64]:
        """Rows × trees: the branches each row takes, as a number (bit k set: left at the tree's k-th split)."""
        x = np.asarray(features, dtype=np.float32)[:, self._split_feature]  # rows × trees × splits
        with np.errstate(invalid="ignore"):
            left = np.where(np.isnan(x), self._missing_left, x < self._split_condition)
        return np.asarray((left * self._split_bit).sum(axis=2), dtype=np.int64)

    @property
    def has_margins(self) -> bool:
        """Whether :meth:`margins` can reproduce the booster's margins (softmax and squared-error objectives)."""
        return self._base is not None and self._rounds is not None

    def margins(self, features: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Rows × outputs: ``predict(output_margin=True)``, bit for bit.

        XGBoost starts from the base score and adds each tree's leaf in boosting order, in float32; the
        same additions in the same order (``np.add.accumulate``, which is sequential) give the same floats.
        """
        if self._base is None or self._rounds is None:
            raise ValueError("this objective's base margin is not its base score: use the booster's predict")
        rows = np.asarray(features, dtype=np.float32)
        out = np.empty((len(rows), self.n_outputs), dtype=np.float32)
        for start in range(0, len(rows), _CHUNK_ROWS):
            chunk = rows[start : start + _CHUNK_ROWS]
            leaves = self._leaf[self._trees, self.patterns(chunk)][:, self._rounds]  # rows × rounds × outputs
            terms = np.concatenate([np.broadcast_to(self._base, (len(chunk), 1, self.n_outputs)), leaves], axis=1)
            out[start : start + len(chunk)] = np.add.accumulate(terms, axis=1, dtype=np.float32)[:, -1]
        return out

    def shap_values(self, features: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """SHAP values, rows × features × outputs (shap's layout; the bias term left out)."""
        rows = np.asarray(features, dtype=np.float32)
        out = np.empty((len(rows), self.n_features, self.n_outputs), dtype=np.float64)
        size = self.n_features * self.n_outputs
        for start in range(0, len(rows), _CHUNK_ROWS):
            chunk = rows[start : start + _CHUNK_ROWS]
            found = self._values[self._trees, self.patterns(chunk)]  # rows × trees × tree features
            slots = self._target[None, :, :] + (np.arange(len(chunk)) * size)[:, None, None]
            sums = np.bincount(slots.ravel(), weights=found.ravel(), minlength=len(chunk) * size)
            out[start : start + len(chunk)] = sums.reshape(len(chunk), self.n_features, self.n_outputs)
        return out


def _parse(tree: dict[str, Any]) -> _Tree:
    if any(int(t) != 0 for t in tree.get("split_type", [])):
        raise ValueError("categorical splits are not supported by the table")
    return _Tree(
        left=[int(n) for n in tree["left_children"]],
        right=[int(n) for n in tree["right_children"]],
        feature=[int(f) for f in tree["split_indices"]],
        condition=np.asarray(tree["split_conditions"], dtype=np.float32),  # a leaf's value for leaves
        default_left=[bool(d) for d in tree["default_left"]],
        cover=[float(c) for c in tree["sum_hessian"]],
    )


def _leaf_values(tree: _Tree, splits: list[int]) -> npt.NDArray[np.float32]:
    """Each pattern's leaf value (patterns that no patient can take included: they are never looked up)."""
    bit_of = {node: k for k, node in enumerate(splits)}
    out = np.empty(2 ** len(splits), dtype=np.float32)
    for pattern in range(len(out)):
        node = 0
        while not tree.is_leaf(node):
            node = tree.left[node] if (pattern >> bit_of[node]) & 1 else tree.right[node]
        out[pattern] = tree.condition[node]
    return out


def _tree_values(tree: _Tree, splits: list[int]) -> tuple[list[int], npt.NDArray[np.float64]]:
    """The tree's features, and patterns × features: the Shapley values of ``v(S) = E[f | x_S]``.

    ``v`` is computed for every subset ``S`` of the tree's features and every pattern at once
    (subsets × patterns arrays), then each feature's value is the Shapley sum over subsets without it.
    """
    used = sorted({tree.feature[n] for n in splits})
    m = len(used)
    index = {f: j for j, f in enumerate(used)}
    patterns = np.arange(2 ** len(splits), dtype=np.int64)
    subsets = np.arange(2**m, dtype=np.int64)
    bit_of = {node: k for k, node in enumerate(splits)}

    def expected(node: int) -> npt.NDArray[np.float64]:  # subsets × patterns
        if tree.is_leaf(node):
            return np.full((len(subsets), len(patterns)), float(tree.condition[node]))
        left, right = tree.left[node], tree.right[node]
        on_left, on_right = expected(left), expected(right)
        goes_left = ((patterns >> bit_of[node]) & 1).astype(bool)
        known = ((subsets >> index[tree.feature[node]]) & 1).astype(bool)
        followed = np.where(goes_left[None, :], on_left, on_right)
        averaged = (tree.cover[left] * on_left + tree.cover[right] * on_right) / tree.cover[node]
        return np.where(known[:, None], followed, averaged)

    v = expected(0)
    sizes = np.array([bin(s).count("1") for s in subsets])
    weight = np.array([factorial(k) * factorial(m - k - 1) / factorial(m) if k < m else 0.0 for k in range(m + 1)])
    table = np.zeros((len(patterns), m), dtype=np.float64)
    for j in range(m):
        without = subsets[(subsets >> j) & 1 == 0]
        table[:, j] = (weight[sizes[without]][:, None] * (v[without | (1 << j)] - v[without])).sum(axis=0)
    return used, table
