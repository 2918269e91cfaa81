"""Where the dashboard draws each agent: a seeded sample of at most ``DRAW_CAP`` nodes, laid
out once by networkx's spring layout so that nodes keep their places from step to step."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import networkx as nx
import numpy as np

DRAW_CAP = 1000


@dataclass(frozen=True)
class Layout:
    """The drawn nodes (agent ids), their positions ``(k, 2)`` and edges as rows into them."""

    n: int
    nodes: np.ndarray
    xy: np.ndarray
    edges: np.ndarray

    @property
    def sampled(self) -> bool:
        """True when only a sample of the agents is drawn."""
        return len(self.nodes) < self.n


def network_layout(n: int, edges: np.ndarray, seed: int, cap: int = DRAW_CAP) -> Layout:
    """Positions for a network of `n` agents with an ``(m, 2)`` edge array, seeded.

    Above `cap` agents a seeded sample of `cap` of them is drawn, with the edges among them.
    """
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if n > cap:
        nodes = np.sort(np.random.default_rng(seed).choice(n, size=cap, replace=False))
    else:
        nodes = np.arange(n, dtype=np.int64)
    index = np.full(n, -1, dtype=np.int64)
    index[nodes] = np.arange(len(nodes))
    local = index[edges] if len(edges) else np.zeros((0, 2), dtype=np.int64)
    local = local[(local >= 0).all(axis=1)]
    local = np.unique(np.sort(local, axis=1), axis=0) if len(local) else local
    xy = _spring(len(nodes), local.tobytes(), seed)
    return Layout(n=n, nodes=nodes, xy=xy, edges=local)


@lru_cache(maxsize=8)
def _spring(k: int, edge_bytes: bytes, seed: int) -> np.ndarray:
    """Spring-layout positions of nodes 0..k-1 (kept for the last few networks drawn)."""
    graph = nx.Graph()
    graph.add_nodes_from(range(k))
    graph.add_edges_from(np.frombuffer(edge_bytes, dtype=np.int64).reshape(-1, 2).tolist())
    if k == 0:
        return np.zeros((0, 2))
    # networkx switches to its sparse solver at 500 nodes; fewer iterations keep it to seconds
    iterations = 50 if k < 500 else 20
    pos = nx.spring_layout(graph, seed=seed, iterations=iterations)
    xy = np.array([pos[i] for i in range(k)], dtype=float)
    xy.setflags(write=False)
    return xy
