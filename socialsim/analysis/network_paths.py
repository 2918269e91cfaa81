"""Connected components and mean shortest-path length of a network.

The mean path length runs one breadth-first search per source, 64 sources at once (one bit
each), over the largest (weakly) connected component: exact up to ``max_sources`` nodes,
otherwise from a seeded sample of sources within a work budget, with the number of sources
in the output.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
from scipy import sparse

from socialsim.core.network import Network

PATH_MAX_SOURCES = 1000
PATH_MAX_VISITS = 400_000_000


def components(graph: nx.Graph | Network) -> dict[str, Any]:
    """Number of (weakly) connected components and the share of nodes in the largest."""
    g = Network.of(graph)
    if g.n == 0:
        return {"n_components": 0, "largest_component_share": None}
    sizes = np.bincount(g.components)
    return {"n_components": int(len(sizes)), "largest_component_share": float(sizes.max() / g.n)}


def path_length(
    graph: nx.Graph | Network,
    max_sources: int = PATH_MAX_SOURCES,
    max_visits: int = PATH_MAX_VISITS,
    seed: int = 0,
) -> dict[str, Any]:
    """Mean shortest-path length in the largest (weakly) connected component.

    Exact (every node a source) when the component has at most `max_sources` nodes.
    Otherwise breadth-first searches from a seeded uniform sample of sources: `max_sources`,
    or fewer where one search per 64 sources would visit more than `max_visits` edge ends in
    all (at least 64 sources); ``average_path_length_sources`` says how many.
    """
    g = Network.of(graph)
    out: dict[str, Any] = {"average_path_length": None, "average_path_length_sources": None}
    if g.n < 2:
        return out
    labels = g.components
    largest = np.flatnonzero(labels == np.bincount(labels).argmax())
    n = len(largest)
    if n < 2:
        return out
    sub = g.simple if n == g.n else g.simple[largest][:, largest]
    sources = np.arange(n)
    if n > max_sources:
        per_search = (n + sub.nnz) * 12  # about a dozen levels, each a pass over the edges
        k = min(max_sources, max(_BATCH, max_visits // per_search * _BATCH), n)
        sources = np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False))
    total = sum(_distance_sum(sub, sources[i : i + _BATCH]) for i in range(0, len(sources), _BATCH))
    out["average_path_length"] = total / (len(sources) * (n - 1))
    out["average_path_length_sources"] = int(len(sources))
    return out


_BATCH = 64  # sources searched at once, one bit each


def _distance_sum(adj: sparse.csr_array, sources: np.ndarray) -> int:
    """Sum of hop distances from `sources` (at most 64) to every node they reach.

    One breadth-first search for all of them: bit s of a node's word marks source s, and
    a level ORs the words of each node's neighbours, one pass over the edges.
    """
    n = adj.shape[0]
    starts = adj.indptr[:-1]
    isolated = np.diff(adj.indptr) == 0
    seen = np.zeros(n, dtype=np.uint64)
    seen[sources] = np.left_shift(np.uint64(1), np.arange(len(sources), dtype=np.uint64))
    frontier = seen.copy()
    total, level = 0, 0
    while True:
        level += 1
        reach = np.bitwise_or.reduceat(frontier[adj.indices], starts) if adj.nnz else frontier * 0
        reach[isolated] = 0
        new = reach & ~seen
        if not new.any():
            return total
        total += level * _popcount(new)
        seen |= new
        frontier = new


def _popcount(words: np.ndarray) -> int:
    """Number of set bits in an array of uint64."""
    if hasattr(np, "bitwise_count"):
        return int(np.bitwise_count(words).sum(dtype=np.int64))
    return int(_BYTE_BITS[words.view(np.uint8)].sum(dtype=np.int64))


_BYTE_BITS = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def average_path_length(
    graph: nx.Graph | Network, max_sources: int = PATH_MAX_SOURCES, seed: int = 0
) -> float:
    """Mean shortest-path length in the largest (weakly) connected component (see path_length).

    ``average_path_length(nx.path_graph(4))`` -> 10/6; NaN with fewer than two nodes.
    """
    value = path_length(graph, max_sources=max_sources, seed=seed)["average_path_length"]
    return float("nan") if value is None else value
