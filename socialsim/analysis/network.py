"""Network measures: degrees, clustering, paths, assortativity, homophily, friendship paradox.

Every measure reads the graph once into integer edge arrays (a
:class:`~socialsim.core.network.Network`; given one, it reads nothing) and runs in time and
memory linear in nodes + edges.
The two that are not linear when exact say so in their output: clustering
(O(sum of squared degrees); :mod:`socialsim.analysis.network_clustering`) is estimated from a
seeded sample of nodes (and of wedges for transitivity) above ``exact_max_nodes``, and the mean
path length (one breadth-first search per source; :mod:`socialsim.analysis.network_paths`)
from a seeded sample of sources within a work budget. Both are importable from here.
The exact values equal networkx's (``nx.average_clustering``, ``nx.transitivity``,
``nx.degree_assortativity_coefficient``, ``nx.attribute_assortativity_coefficient``,
``nx.numeric_assortativity_coefficient``).
"""

from __future__ import annotations

import re
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from socialsim.analysis.network_assortativity import assortativity
from socialsim.analysis.network_clustering import (
    CLUSTERING_EXACT_MAX_NODES,
    CLUSTERING_SAMPLE_NODES,
    TRANSITIVITY_SAMPLE_WEDGES,
    clustering,
)
from socialsim.analysis.network_paths import (
    PATH_MAX_SOURCES,
    PATH_MAX_VISITS,
    average_path_length,
    components,
    path_length,
)
from socialsim.core.network import Network

__all__ = [
    "CLUSTERING_EXACT_MAX_NODES",
    "CLUSTERING_SAMPLE_NODES",
    "PATH_MAX_SOURCES",
    "PATH_MAX_VISITS",
    "TRANSITIVITY_SAMPLE_WEDGES",
    "Network",
    "average_path_length",
    "clustering",
    "components",
    "degree_assortativity",
    "degree_distribution",
    "friendship_paradox",
    "friendship_paradox_summary",
    "homophily",
    "network_summary",
    "path_length",
]

_SKIP = {  # words of attribute names that mark ids, names, free text and credences
    "agent", "credence", "belief", "id", "ids", "label", "name", "text", "persona", "bio",
    "backstory",
}  # fmt: skip


def degree_distribution(graph: nx.Graph | Network) -> pd.DataFrame:
    """Number and share of nodes per degree: ``degree, count, share``."""
    g = Network.of(graph)
    if g.n == 0:
        return pd.DataFrame(columns=["degree", "count", "share"])
    counts = np.bincount(g.degree)
    present = np.flatnonzero(counts)
    return pd.DataFrame(
        {
            "degree": present.astype(int),
            "count": counts[present],
            "share": counts[present] / g.n,
        }
    )


def _pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson correlation of paired values; None when either side does not vary."""
    if len(x) < 2:
        return None
    x = x - x.mean()
    y = y - y.mean()
    den = np.sqrt((x * x).sum() * (y * y).sum())
    if not den > 0:
        return None
    return float(np.clip((x * y).sum() / den, -1.0, 1.0))


def degree_assortativity(graph: nx.Graph | Network) -> float | None:
    """Degree assortativity (Newman 2002): Pearson correlation of degrees across edges.

    Undirected: over both ends of every edge; directed: source out-degree against target
    in-degree. A star gives -1.0; None when degrees do not vary across edges.
    """
    g = Network.of(graph)
    if g.directed:
        out = np.bincount(g.src, minlength=g.n)
        into = np.bincount(g.dst, minlength=g.n)
        return _pearson(out[g.src].astype(float), into[g.dst].astype(float))
    u, v = g.pairs
    return _pearson(g.degree[u].astype(float), g.degree[v].astype(float))


def network_summary(graph: nx.Graph | Network, seed: int = 0) -> dict[str, Any]:
    """Size, density, mean degree, clustering, path length, components, assortativity.

    Sampled estimates name their sample sizes (``clustering_sampled_nodes``,
    ``transitivity_sampled_wedges``, ``average_path_length_sources``).
    """
    g = Network.of(graph)
    out: dict[str, Any] = {"n_nodes": g.n, "n_edges": g.n_edges}
    if g.n == 0:
        return out
    pairs = g.n * (g.n - 1) if g.directed else g.n * (g.n - 1) / 2
    out["density"] = g.n_edges / pairs if pairs else 0.0
    out["mean_degree"] = float(g.degree.mean())
    out.update(clustering(g, seed=seed))
    out.update(components(g))
    out.update(path_length(g, seed=seed))
    out["degree_assortativity"] = degree_assortativity(g)
    out.update({f"friendship_paradox.{k}": v for k, v in friendship_paradox_summary(g).items()})
    return out


def homophily(
    graph: nx.Graph | Network, attributes: list[str] | None = None
) -> dict[str, float | None]:
    """Assortativity of node attributes (Newman 2003), over the nodes that carry them.

    An attribute with more than 10 distinct numbers is numeric: the Pearson correlation of
    its values across edges. Any other is categorical: r = (sum_i e_ii - sum_i a_i b_i) /
    (1 - sum_i a_i b_i), with e the share of edge ends joining value i to value j and a, b
    its margins, counted over the distinct values only. Undirected edges count both ways.
    With no `attributes`, every scalar attribute that all nodes carry is measured except
    ids, names, free text and credences. None where an attribute is missing or constant.
    """
    g = Network.of(graph)
    if attributes is None:
        attributes = sorted(k for k in g.scalar_attributes() if not _SKIP & _words(k))
    u, v = g.pairs
    return assortativity({attr: g.node_values(attr) for attr in attributes}, u, v)


def _words(key: str) -> set[str]:
    """The lower-case words of an attribute name (``credence.c1`` -> credence, c1)."""
    return set(re.split(r"[^a-z0-9]+", key.lower()))


def friendship_paradox(graph: nx.Graph | Network) -> pd.DataFrame:
    """Per agent: own degree and the mean degree of its neighbours (NaN when isolated).

    Neighbours are successors in a directed graph; degrees count in + out.
    """
    g = Network.of(graph)
    u, v = g.pairs
    count = np.bincount(u, minlength=g.n)
    total = np.bincount(u, weights=g.degree[v], minlength=g.n)
    mean = np.divide(total, count, out=np.full(g.n, np.nan), where=count > 0)
    agents = np.asarray(g.nodes, dtype=object) if g.nodes is not None else np.arange(g.n)
    return pd.DataFrame({"agent": agents, "degree": g.degree, "mean_neighbour_degree": mean})


def friendship_paradox_summary(graph: nx.Graph | Network) -> dict[str, float | None]:
    """Share of agents whose neighbours have more friends on average; both means.

    Over agents with at least one neighbour. A star with 4 leaves: the hub (degree 4,
    neighbours 1) does not hold it, each leaf (degree 1, neighbours 4) does -> share 0.8,
    mean degree 1.6, mean neighbour degree 3.4.
    """
    table = friendship_paradox(graph).dropna(subset=["mean_neighbour_degree"])
    if table.empty:
        return {"share": None, "mean_degree": None, "mean_neighbour_degree": None}
    return {
        "share": float((table["mean_neighbour_degree"] > table["degree"]).mean()),
        "mean_degree": float(table["degree"].mean()),
        "mean_neighbour_degree": float(table["mean_neighbour_degree"].mean()),
    }
