"""Exact TreeSHAP for LightGBM boosters, fast on shallow trees (the FastTreeSHAP v2 idea).

LightGBM's ``pred_contrib`` runs the path-dependent TreeSHAP algorithm, whose cost per row
and tree grows with leaves x depth^2. For one leaf, the value function of path-dependent
TreeSHAP is a product over the distinct features ``P`` on the leaf's path::

    g(S) = v * prod_{k in P} (o_k if k in S else z_k)

with ``v`` the leaf value, ``z_k`` the share of the training rows (LightGBM's data counts)
that pass the path's splits on ``k``, and ``o_k`` 1 if the row passes all of them, else 0.
The Shapley value of ``k`` then depends only on the leaf and on the set ``M`` of path features
the row passes, so it can be tabulated for every ``M`` (2^|P| entries) when the model is
loaded. Explaining a row is then: evaluate each split once, form ``M`` per leaf, add the
tabulated values -- leaves x depth work instead of leaves x depth^2, with no per-row
recursion. The values are the same as ``pred_contrib``'s up to floating-point rounding.

Numerical splits only, as LightGBM decides them (missing values go the default way for
``missing_type`` NaN, zero and NaN for ``Zero``; NaN counts as 0.0 otherwise). A booster
with categorical splits, or with paths so long that the tables would be too large, is
explained by ``pred_contrib`` instead (:func:`contributions` decides).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from math import factorial

import lightgbm as lgb
import numba
import numpy as np

log = logging.getLogger(__name__)

MAX_TABLE_ENTRIES = 1 << 24  # 128 MB of float64: above this, pred_contrib explains the model
_MISSING = {"None": 0, "Zero": 1, "NaN": 2}
_ZERO = 1e-35  # LightGBM's kZeroThreshold
_BLOCK = 256  # rows per parallel work item


@dataclass(frozen=True)
class _Split:
    feature: int
    threshold: float
    missing: int  # 0 None, 1 Zero, 2 NaN
    default_left: bool
    left_share: float  # of the node's training rows (data counts)
    right_share: float


@dataclass(frozen=True)
class TreeTables:
    """A booster flattened for :func:`_explain`: its splits, leaf paths and Shapley tables.

    Node arrays are indexed by a global node number; leaf arrays by a global leaf number.
    ``path_*`` hold, per leaf, the splits on its path (padded with -1), ``slot`` the
    position of each split's feature among the leaf's distinct path features ``feats``.
    ``table[offset[l] + M * n_feats[l] + j]`` is the contribution of ``feats[l, j]`` when
    the row passes exactly the path features in bit mask ``M``.
    """

    n_features: int
    node_feature: np.ndarray
    node_threshold: np.ndarray
    node_missing: np.ndarray
    node_default_left: np.ndarray
    path_node: np.ndarray
    path_left: np.ndarray
    path_slot: np.ndarray
    feats: np.ndarray
    n_feats: np.ndarray
    offset: np.ndarray
    table: np.ndarray
    expected_value: float


def tabulate(booster: lgb.Booster) -> TreeTables | None:
    """Flatten ``booster`` for fast TreeSHAP; ``None`` where it does not apply.

    It does not apply to categorical splits, multi-class or linear-tree models, or to trees
    whose tables would exceed :data:`MAX_TABLE_ENTRIES`.
    """
    dump = booster.dump_model()
    if dump.get("num_class", 1) != 1 or any(t.get("num_cat", 0) for t in dump["tree_info"]):
        return None
    nodes: list[_Split] = []
    leaves: list[tuple[list[int], list[bool], float]] = []  # path, sides taken, leaf value
    expected = 0.0
    for info in dump["tree_info"]:
        root = info["tree_structure"]
        if "leaf_value" in root:  # a tree of one leaf moves the bias only
            expected += float(root["leaf_value"])
            continue
        total = float(root["internal_count"])
        stack: list[tuple[dict, list[int], list[bool]]] = [(root, [], [])]
        while stack:
            node, path, sides = stack.pop()
            if "leaf_value" in node:
                leaves.append((path, sides, float(node["leaf_value"])))
                expected += float(node["leaf_count"]) / total * float(node["leaf_value"])
                continue
            if node["decision_type"] != "<=":
                return None
            count = float(node["internal_count"])
            left, right = node["left_child"], node["right_child"]
            nodes.append(
                _Split(
                    feature=int(node["split_feature"]),
                    threshold=float(node["threshold"]),
                    missing=_MISSING[node["missing_type"]],
                    default_left=bool(node["default_left"]),
                    left_share=_count(left) / count if count else 0.0,
                    right_share=_count(right) / count if count else 0.0,
                )
            )
            number = len(nodes) - 1
            stack += [(left, [*path, number], [*sides, True])]
            stack += [(right, [*path, number], [*sides, False])]
    return _assemble(nodes, leaves, expected, booster.num_feature())


def contributions(booster: lgb.Booster, X: np.ndarray, tables: TreeTables | None) -> np.ndarray:
    """SHAP values of each row, shaped as ``pred_contrib``: features then the bias column.

    Args:
        booster: The model.
        X: Feature rows (float64, the booster's column order; NaN for missing).
        tables: ``tabulate(booster)``; ``None``: LightGBM's ``pred_contrib``.
    """
    if tables is None:
        return booster.predict(X, pred_contrib=True)
    X = np.ascontiguousarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != tables.n_features:
        raise ValueError(f"X has shape {X.shape}; the model has {tables.n_features} features")
    out = np.zeros((len(X), tables.n_features + 1))
    _explain(
        X, tables.node_feature, tables.node_threshold, tables.node_missing,
        tables.node_default_left, tables.path_node, tables.path_left, tables.path_slot,
        tables.feats, tables.n_feats, tables.offset, tables.table, out,
    )  # fmt: skip
    out[:, -1] = tables.expected_value
    return out


def _assemble(
    nodes: list[_Split],
    leaves: list[tuple[list[int], list[bool], float]],
    expected: float,
    n_features: int,
) -> TreeTables | None:
    """Distinct path features, zero fractions and Shapley tables of every leaf."""
    depth = max((len(p) for p, *_ in leaves), default=1)
    n = len(leaves)
    path_node = np.full((n, depth), -1, dtype=np.int64)
    path_left = np.zeros((n, depth), dtype=np.bool_)
    path_slot = np.zeros((n, depth), dtype=np.int64)
    feats = np.full((n, depth), -1, dtype=np.int64)
    n_feats = np.zeros(n, dtype=np.int64)
    zero = np.ones((n, depth))
    values = np.array([v for _, _, v in leaves])
    for i, (path, sides, _) in enumerate(leaves):
        slots: dict[int, int] = {}
        for p, (node, left) in enumerate(zip(path, sides, strict=True)):
            split = nodes[node]
            slot = slots.setdefault(split.feature, len(slots))
            path_node[i, p], path_left[i, p], path_slot[i, p] = node, left, slot
            zero[i, slot] *= split.left_share if left else split.right_share
        for feature, slot in slots.items():
            feats[i, slot] = feature
        n_feats[i] = len(slots)
    sizes = (1 << n_feats) * n_feats
    if sizes.sum() > MAX_TABLE_ENTRIES:
        log.info("trees too deep for fast TreeSHAP tables; pred_contrib explains the model")
        return None
    offset = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    table = np.zeros(int(sizes.sum()))
    weights = _shapley_weights(depth)
    _fill_tables(n_feats, zero, values, offset, weights, table)
    return TreeTables(
        n_features=n_features,
        node_feature=np.array([s.feature for s in nodes], dtype=np.int64),
        node_threshold=np.array([s.threshold for s in nodes], dtype=np.float64),
        node_missing=np.array([s.missing for s in nodes], dtype=np.int64),
        node_default_left=np.array([s.default_left for s in nodes], dtype=np.bool_),
        path_node=path_node, path_left=path_left, path_slot=path_slot,
        feats=feats, n_feats=n_feats, offset=offset, table=table,
        expected_value=expected,
    )  # fmt: skip


def _count(node: dict) -> float:
    return float(node["leaf_count"] if "leaf_value" in node else node["internal_count"])


def _shapley_weights(d_max: int) -> np.ndarray:
    """``w[d, s] = s! (d - s - 1)! / d!``: the weight of a coalition of ``s`` of ``d`` players."""
    w = np.zeros((d_max + 1, d_max + 1))
    for d in range(1, d_max + 1):
        for s in range(d):
            w[d, s] = factorial(s) * factorial(d - s - 1) / factorial(d)
    return w


@numba.njit(cache=True)
def _fill_tables(n_feats, zero, values, offset, weights, table):  # pragma: no cover - numba
    """Shapley value of each path feature for every set ``M`` of passed path features.

    phi_j(M) = (1[j in M] - z_j) * v * prod_{k not in M, k != j} z_k
               * sum_s w(s, d) e_{|A| - s}(z_A),   A = M without j,
    where e_m is the m-th elementary symmetric polynomial: the sum over coalitions S of A of
    size s of prod_{k in A - S} z_k.
    """
    for leaf in range(len(n_feats)):
        d = n_feats[leaf]
        z = zero[leaf]
        v = values[leaf]
        e = np.zeros(d + 1)
        for mask in range(1 << d):
            for j in range(d):
                rest = 1.0
                e[:] = 0.0
                e[0] = 1.0
                size = 0
                for k in range(d):
                    if k == j:
                        continue
                    if mask >> k & 1:
                        size += 1
                        for m in range(size, 0, -1):
                            e[m] += e[m - 1] * z[k]
                    else:
                        rest *= z[k]
                total = 0.0
                for s in range(size + 1):
                    total += weights[d, s] * e[size - s]
                passed = 1.0 if mask >> j & 1 else 0.0
                table[offset[leaf] + mask * d + j] = (passed - z[j]) * v * rest * total


@numba.njit(parallel=True, cache=True)
def _explain(
    X,
    node_feature,
    node_threshold,
    node_missing,
    node_default_left,
    path_node,
    path_left,
    path_slot,
    feats,
    n_feats,
    offset,
    table,
    out,
):  # pragma: no cover - numba; fmt: skip
    n_rows = X.shape[0]
    n_nodes = node_feature.shape[0]
    n_blocks = (n_rows + _BLOCK - 1) // _BLOCK
    for block in numba.prange(n_blocks):
        left = np.empty(n_nodes, dtype=np.bool_)
        for i in range(block * _BLOCK, min(n_rows, (block + 1) * _BLOCK)):
            for node in range(n_nodes):
                x = X[i, node_feature[node]]
                missing = node_missing[node]
                if missing != 2 and np.isnan(x):
                    x = 0.0
                if (missing == 1 and -_ZERO <= x <= _ZERO) or (missing == 2 and np.isnan(x)):
                    left[node] = node_default_left[node]
                else:
                    left[node] = x <= node_threshold[node]
            for leaf in range(path_node.shape[0]):
                d = n_feats[leaf]
                mask = (1 << d) - 1
                for p in range(path_node.shape[1]):
                    node = path_node[leaf, p]
                    if node < 0:
                        break
                    if left[node] != path_left[leaf, p]:
                        mask &= ~(1 << path_slot[leaf, p])
                base = offset[leaf] + mask * d
                for j in range(d):
                    out[i, feats[leaf, j]] += table[base + j]
