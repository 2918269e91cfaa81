"""The design of a debate run: the 2x2 cells, their balanced assignment, and the pairs.

``make_pairs`` forms disjoint (opponent, target) pairs from graph edges or at random;
``assign_conditions`` spreads the pairs over :data:`CELLS` as evenly as their number allows.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from socialsim.core.errors import ConfigError

CELLS: tuple[tuple[str, bool], ...] = (
    ("persuader", True),
    ("persuader", False),
    ("peer", True),
    ("peer", False),
)


def assign_conditions(n_pairs: int, rng: np.random.Generator) -> list[tuple[str, bool]]:
    """(persuader_kind, personalised) per pair, balanced over the 4 cells (exact when n % 4 == 0)."""
    # Shuffle which cells get the extra pairs too, so no cell is favoured when n % 4 != 0.
    offset = int(rng.integers(4)) if n_pairs % 4 else 0
    cells = [CELLS[(i + offset) % 4] for i in range(n_pairs)]
    return [cells[i] for i in rng.permutation(n_pairs)]


def make_pairs(
    graph: nx.Graph, source: str, count: int | None, rng: np.random.Generator
) -> list[tuple[int, int]]:
    """Disjoint (persuader, target) pairs: a random matching of graph edges, or random agents.

    Edges are matched greedily in random order; when that yields fewer than `count` pairs on a
    small graph, a maximum matching is used instead.
    """
    nodes = [int(v) for v in graph.nodes]
    if source == "random":
        order = [nodes[i] for i in rng.permutation(len(nodes))]
        pairs = [(order[i], order[i + 1]) for i in range(0, len(order) - 1, 2)]
    else:
        edges = [(int(u), int(v)) for u, v in graph.edges if u != v]
        used: set[int] = set()
        pairs = []
        for k in rng.permutation(len(edges)):
            u, v = edges[k]
            if u in used or v in used:
                continue
            used.update((u, v))
            pairs.append((u, v) if rng.random() < 0.5 else (v, u))
        if count is not None and len(pairs) < count <= graph.number_of_nodes() // 2 <= 1000:
            # the random greedy matching fell short: take a maximum matching (small graphs)
            best = sorted(
                tuple(sorted(e))
                for e in nx.max_weight_matching(nx.Graph(graph), maxcardinality=True)
            )
            best = [best[i] for i in rng.permutation(len(best))]
            pairs = [(int(u), int(v)) if rng.random() < 0.5 else (int(v), int(u)) for u, v in best]
    if count is not None:
        if count > len(pairs):
            raise ConfigError(
                f"scenario.params.pairs.count: {count} pairs asked but the {source} pairing gives "
                f"only {len(pairs)} disjoint pairs; lower it or add agents"
            )
        pairs = pairs[:count]
    return pairs


__all__ = ["CELLS", "assign_conditions", "make_pairs"]
