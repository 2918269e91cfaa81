"""Network measures: degrees, clustering, paths, assortativity, homophily, friendship paradox."""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
import pandas as pd


def degree_distribution(graph: nx.Graph) -> pd.DataFrame:
    """Number and share of nodes per degree: ``degree, count, share``."""
    degrees = pd.Series(dict(graph.degree()), dtype=int)
    if degrees.empty:
        return pd.DataFrame(columns=["degree", "count", "share"])
    counts = degrees.value_counts().sort_index()
    return pd.DataFrame(
        {
            "degree": counts.index.astype(int),
            "count": counts.to_numpy(),
            "share": counts.to_numpy() / len(degrees),
        }
    )


def average_path_length(graph: nx.Graph, max_sources: int = 1000, seed: int = 0) -> float:
    """Mean shortest-path length in the largest (weakly) connected component.

    Exact up to `max_sources` nodes; above that, breadth-first searches from
    `max_sources` seeded random sources estimate it. ``average_path_length(nx.path_graph(4))``
    -> 10/6.
    """
    from scipy.sparse.csgraph import shortest_path

    if graph.number_of_nodes() < 2:
        return float("nan")
    und = graph.to_undirected(as_view=True) if graph.is_directed() else graph
    largest = max(nx.connected_components(und), key=len)
    n = len(largest)
    if n < 2:
        return float("nan")
    matrix = nx.to_scipy_sparse_array(und, nodelist=list(largest), weight=None, format="csr")
    sources = np.arange(n)
    if n > max_sources:
        sources = np.sort(np.random.default_rng(seed).choice(n, size=max_sources, replace=False))
    total = 0.0
    for chunk in np.array_split(sources, max(1, len(sources) // 200)):
        dist = shortest_path(matrix, directed=False, unweighted=True, indices=chunk)
        total += float(dist.sum())
    return total / (len(sources) * (n - 1))


def network_summary(graph: nx.Graph) -> dict[str, Any]:
    """Size, density, mean degree, clustering, path length, components, assortativity."""
    n = graph.number_of_nodes()
    m = graph.number_of_edges()
    out: dict[str, Any] = {"n_nodes": n, "n_edges": m}
    if n == 0:
        return out
    und = graph.to_undirected() if graph.is_directed() else graph
    comps = list(nx.connected_components(und))
    out.update(
        {
            "density": nx.density(graph),
            "mean_degree": float(np.mean([d for _, d in graph.degree()])),
            "clustering": nx.average_clustering(und),
            "transitivity": nx.transitivity(und),
            "n_components": len(comps),
            "largest_component_share": max(len(c) for c in comps) / n,
            "average_path_length": average_path_length(graph),
            "degree_assortativity": _safe(lambda: nx.degree_assortativity_coefficient(graph)),
        }
    )
    out.update({f"friendship_paradox.{k}": v for k, v in friendship_paradox_summary(graph).items()})
    return out


def _safe(fn: Any) -> float | None:
    try:
        with np.errstate(invalid="ignore", divide="ignore"):
            value = float(fn())
    except (ValueError, ZeroDivisionError, nx.NetworkXError):
        return None
    return None if np.isnan(value) else value


def homophily(graph: nx.Graph, attributes: list[str] | None = None) -> dict[str, float | None]:
    """Assortativity of persona attributes: categorical or numeric as the values are.

    With no `attributes`, every scalar node attribute that all nodes carry is measured,
    except ids, names, free text and credences.
    """
    if attributes is None:
        attributes = _shared_attributes(graph)
    out: dict[str, float | None] = {}
    for attr in attributes:
        values = nx.get_node_attributes(graph, attr)
        if len(values) < 2 or len(set(values.values())) < 2:
            out[attr] = None
            continue
        sub = graph.subgraph(values)
        numeric = all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values.values()
        )
        if numeric and len(set(values.values())) > 10:
            out[attr] = _safe(lambda s=sub, a=attr: nx.numeric_assortativity_coefficient(s, a))
        else:
            out[attr] = _safe(lambda s=sub, a=attr: nx.attribute_assortativity_coefficient(s, a))
    return out


def _shared_attributes(graph: nx.Graph) -> list[str]:
    counts: dict[str, int] = {}
    for _, data in graph.nodes(data=True):
        for key, value in data.items():
            if isinstance(value, str | int | float | bool):
                counts[key] = counts.get(key, 0) + 1
    n = graph.number_of_nodes()
    skip = ("credence", "belief", "id", "label", "name", "text", "persona", "bio")
    return sorted(k for k, c in counts.items() if c == n and not any(s in k.lower() for s in skip))


def friendship_paradox(graph: nx.Graph) -> pd.DataFrame:
    """Per agent: own degree and the mean degree of its neighbours (NaN when isolated)."""
    degree = dict(graph.degree())
    rows = []
    for node in graph.nodes:
        nbrs = list(graph.neighbors(node))
        mean_nbr = float(np.mean([degree[v] for v in nbrs])) if nbrs else float("nan")
        rows.append({"agent": node, "degree": degree[node], "mean_neighbour_degree": mean_nbr})
    return pd.DataFrame(rows, columns=["agent", "degree", "mean_neighbour_degree"])


def friendship_paradox_summary(graph: nx.Graph) -> dict[str, float | None]:
    """Share of agents whose neighbours have more friends on average; both means.

    A star with 4 leaves: the hub (degree 4, neighbours 1) does not hold it, each leaf
    (degree 1, neighbours 4) does -> share 0.8, mean degree 1.6, mean neighbour degree 3.4.
    """
    table = friendship_paradox(graph).dropna(subset=["mean_neighbour_degree"])
    if table.empty:
        return {"share": None, "mean_degree": None, "mean_neighbour_degree": None}
    return {
        "share": float((table["mean_neighbour_degree"] > table["degree"]).mean()),
        "mean_degree": float(table["degree"].mean()),
        "mean_neighbour_degree": float(table["mean_neighbour_degree"].mean()),
    }
