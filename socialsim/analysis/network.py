"""Network measures: degrees, clustering, paths, assortativity, homophily, friendship paradox.

Every measure reads the graph once into integer edge arrays (:class:`GraphArrays`) and runs
in time and memory linear in nodes + edges. The two that are not linear when exact say so
in their output: clustering (O(sum of squared degrees)) is estimated from a seeded sample of
nodes (and of wedges for transitivity) above ``exact_max_nodes``, and the mean path length
(one breadth-first search per source) from a seeded sample of sources within a work budget.
The exact values equal networkx's (``nx.average_clustering``, ``nx.transitivity``,
``nx.degree_assortativity_coefficient``, ``nx.attribute_assortativity_coefficient``,
``nx.numeric_assortativity_coefficient``).
"""

from __future__ import annotations

import re
from functools import cached_property
from itertools import chain
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

CLUSTERING_EXACT_MAX_NODES = 100_000
CLUSTERING_SAMPLE_NODES = 20_000
TRANSITIVITY_SAMPLE_WEDGES = 200_000
PATH_MAX_SOURCES = 1000
PATH_MAX_VISITS = 400_000_000
_SKIP = {  # words of attribute names that mark ids, names, free text and credences
    "agent", "credence", "belief", "id", "ids", "label", "name", "text", "persona", "bio",
    "backstory",
}  # fmt: skip


class GraphArrays:
    """A graph as int64 edge arrays over node indices 0..n-1 (``nodes[i]`` is the label).

    ``GraphArrays.of(graph)`` reads a networkx graph once; ``GraphArrays(n, src, dst)``
    takes edges directly (``attributes``: a node table, one row per node index, for
    :func:`homophily`). Self-loops count as networkx counts them: twice in a degree, once
    as a neighbour. Every measure here accepts either a networkx graph or this.
    """

    def __init__(
        self,
        n: int,
        src: np.ndarray,
        dst: np.ndarray,
        directed: bool = False,
        nodes: list[Any] | None = None,
        attributes: pd.DataFrame | None = None,
    ) -> None:
        self.n = int(n)
        self.src = np.asarray(src, dtype=np.int64)
        self.dst = np.asarray(dst, dtype=np.int64)
        self.directed = bool(directed)
        self.nodes = nodes
        self.attributes = attributes
        self._graph: nx.Graph | None = None

    @classmethod
    def of(cls, graph: nx.Graph | GraphArrays) -> GraphArrays:
        """The arrays of a networkx graph (returned unchanged if already arrays)."""
        if isinstance(graph, GraphArrays):
            return graph
        n = graph.number_of_nodes()
        adjacency = getattr(graph, "_adj", None) or graph.adj  # successors when directed
        nodes = list(adjacency)
        counts = np.fromiter(map(len, adjacency.values()), dtype=np.int64, count=n)
        flat = chain.from_iterable(adjacency.values())
        if nodes == list(range(n)):
            labels = None
            nbr = np.fromiter(flat, dtype=np.int64, count=int(counts.sum()))
        else:
            labels = nodes
            index = {v: i for i, v in enumerate(nodes)}
            nbr = np.fromiter(map(index.__getitem__, flat), dtype=np.int64, count=int(counts.sum()))
        own = np.repeat(np.arange(n, dtype=np.int64), counts)
        if graph.is_directed() or graph.is_multigraph():
            src, dst = own, nbr
            if graph.is_multigraph():  # one entry per parallel edge, as networkx counts them
                mult = np.fromiter(
                    (len(keys) for nbrs in adjacency.values() for keys in nbrs.values()),
                    dtype=np.int64,
                    count=len(nbr),
                )
                src, dst = np.repeat(src, mult), np.repeat(dst, mult)
                if not graph.is_directed():
                    once = src <= dst
                    src, dst = src[once], dst[once]
            arrays = cls(n, src, dst, graph.is_directed(), labels)
        else:
            once = own <= nbr
            arrays = cls(n, own[once], nbr[once], False, labels)
            arrays.__dict__["pairs"] = (own, nbr)  # the adjacency lists are the pairs
        arrays._graph = graph
        return arrays

    def to_networkx(self) -> nx.Graph:
        """The networkx graph, with the node table as node attributes (built once)."""
        if self._graph is None:
            from socialsim.analysis.io import attach_node_attributes

            graph = nx.DiGraph() if self.directed else nx.Graph()
            graph.add_nodes_from(range(self.n))
            graph.add_edges_from(zip(self.src.tolist(), self.dst.tolist(), strict=True))
            if self.attributes is not None:
                attach_node_attributes(graph, self.attributes)
            if self.nodes is not None:
                graph = nx.relabel_nodes(graph, dict(enumerate(self.nodes)))
            self._graph = graph
        return self._graph

    @property
    def n_edges(self) -> int:
        """Number of edges (self-loops included)."""
        return len(self.src)

    @cached_property
    def degree(self) -> np.ndarray:
        """Degree of each node (in + out when directed; a self-loop counts twice)."""
        return np.bincount(self.src, minlength=self.n) + np.bincount(self.dst, minlength=self.n)

    @cached_property
    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(node, neighbour) pairs: each edge both ways when undirected (a loop once)."""
        if self.directed:
            return self.src, self.dst
        loop = self.src == self.dst
        return (
            np.concatenate([self.src, self.dst[~loop]]),
            np.concatenate([self.dst, self.src[~loop]]),
        )

    @cached_property
    def simple(self) -> sparse.csr_array:
        """Symmetric 0/1 adjacency of the undirected simple graph (no loops), sorted rows."""
        if self.directed:
            rows = np.concatenate([self.src, self.dst])
            cols = np.concatenate([self.dst, self.src])
        else:
            rows, cols = self.pairs
        keep = rows != cols
        rows, cols = rows[keep], cols[keep]
        matrix = sparse.csr_array(
            (np.ones(len(rows), dtype=np.int64), (rows, cols)), shape=(self.n, self.n)
        )
        matrix.sum_duplicates()
        matrix.data[:] = 1
        return matrix

    @cached_property
    def components(self) -> np.ndarray:
        """Component label of each node (weak components when directed)."""
        return connected_components(self.simple, directed=False)[1]

    @cached_property
    def node_table(self) -> pd.DataFrame:
        """Node attributes, one row per node index (the given table, else the graph's)."""
        if self.attributes is not None:
            return self.attributes.reset_index(drop=True)
        if self._graph is None:
            return pd.DataFrame(index=range(self.n))
        return pd.DataFrame.from_records(
            [data for _, data in self._graph.nodes(data=True)], nrows=self.n
        ).reindex(range(self.n))

    def node_values(self, attribute: str) -> pd.Series | None:
        """One node attribute for every node index (missing: NaN), or None if no node has it."""
        table = self.node_table
        return table[attribute] if attribute in table.columns else None

    def scalar_attributes(self) -> list[str]:
        """Attributes that every node carries as a scalar (str, int, float, bool)."""
        table = self.node_table
        return [c for c in table.columns if table[c].notna().all() and _scalars(table[c])]


_SCALAR_KINDS = {"string", "integer", "floating", "boolean", "mixed-integer-float", "decimal"}


def _scalars(values: pd.Series) -> bool:
    """True when every value is a str, int, float or bool."""
    if values.dtype != object:
        return True
    if pd.api.types.infer_dtype(values, skipna=False) in _SCALAR_KINDS:
        return True
    return all(isinstance(v, str | int | float | bool) for v in values)


def degree_distribution(graph: nx.Graph | GraphArrays) -> pd.DataFrame:
    """Number and share of nodes per degree: ``degree, count, share``."""
    g = GraphArrays.of(graph)
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


def degree_assortativity(graph: nx.Graph | GraphArrays) -> float | None:
    """Degree assortativity (Newman 2002): Pearson correlation of degrees across edges.

    Undirected: over both ends of every edge; directed: source out-degree against target
    in-degree. A star gives -1.0; None when degrees do not vary across edges.
    """
    g = GraphArrays.of(graph)
    if g.directed:
        out = np.bincount(g.src, minlength=g.n)
        into = np.bincount(g.dst, minlength=g.n)
        return _pearson(out[g.src].astype(float), into[g.dst].astype(float))
    u, v = g.pairs
    return _pearson(g.degree[u].astype(float), g.degree[v].astype(float))


def _triangles_exact(adj: sparse.csr_array, degree: np.ndarray) -> np.ndarray:
    """Triangles at every node of a simple undirected graph.

    Each edge is oriented from the lower to the higher (degree, id) end, so every triangle
    u -> v -> w (with u -> w) is found once: at u by rows of (L @ L) * L, at w by its
    columns, at v by rows of (L.T @ L) * L. Work O(m * sqrt(m)) at most.
    """
    n = adj.shape[0]
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort((np.arange(n), degree))] = np.arange(n)
    coo = adj.tocoo()
    up = rank[coo.row] < rank[coo.col]
    lower = sparse.csr_array(
        (np.ones(int(up.sum()), dtype=np.int64), (coo.row[up], coo.col[up])), shape=(n, n)
    )
    ends = (lower @ lower).multiply(lower)
    middle = (lower.T @ lower).multiply(lower)
    return (
        np.asarray(ends.sum(axis=1)).ravel()
        + np.asarray(ends.sum(axis=0)).ravel()
        + np.asarray(middle.sum(axis=1)).ravel()
    )


def _triangles_at(adj: sparse.csr_array, nodes: np.ndarray) -> np.ndarray:
    """Triangles at each of `nodes`: edges among its neighbours."""
    rows = adj[nodes]
    return np.asarray((rows @ adj).multiply(rows).sum(axis=1)).ravel() // 2


def clustering(
    graph: nx.Graph | GraphArrays,
    exact_max_nodes: int = CLUSTERING_EXACT_MAX_NODES,
    sample_nodes: int = CLUSTERING_SAMPLE_NODES,
    sample_wedges: int = TRANSITIVITY_SAMPLE_WEDGES,
    seed: int = 0,
) -> dict[str, Any]:
    """Average clustering and transitivity of the undirected simple graph.

    ``clustering`` is the mean local clustering over all nodes (0 for degree < 2, as
    ``nx.average_clustering``); ``transitivity`` is 3 x triangles / connected triples
    (``nx.transitivity``). Exact up to `exact_max_nodes` nodes. Above that, clustering is
    the mean over `sample_nodes` nodes drawn uniformly without replacement and
    transitivity the closed share of `sample_wedges` wedges drawn uniformly (a centre with
    probability proportional to its wedges, then two distinct neighbours; Schank & Wagner
    2005); ``clustering_sampled_nodes`` and ``transitivity_sampled_wedges`` give the sample
    sizes (None when exact). A triangle gives 1.0 and 1.0; a star 0.0 and 0.0.
    """
    g = GraphArrays.of(graph)
    out: dict[str, Any] = {
        "clustering": None,
        "clustering_sampled_nodes": None,
        "transitivity": None,
        "transitivity_sampled_wedges": None,
    }
    if g.n == 0:
        return out
    adj = g.simple
    degree = np.diff(adj.indptr)
    wedges = degree * (degree - 1) // 2
    total_wedges = int(wedges.sum())
    if g.n <= exact_max_nodes:
        tri = _triangles_exact(adj, degree)
        local = np.divide(tri, wedges, out=np.zeros(g.n), where=wedges > 0)
        out["clustering"] = float(local.mean())
        out["transitivity"] = float(tri.sum() / total_wedges) if total_wedges else 0.0
        return out
    rng = np.random.default_rng(seed)
    k = min(sample_nodes, g.n)
    nodes = np.sort(rng.choice(g.n, size=k, replace=False))
    tri = _triangles_at(adj, nodes)
    local = np.divide(tri, wedges[nodes], out=np.zeros(k), where=wedges[nodes] > 0)
    out["clustering"] = float(local.mean())
    out["clustering_sampled_nodes"] = int(k)
    if total_wedges == 0:
        out["transitivity"] = 0.0
        return out
    centres = np.searchsorted(
        np.cumsum(wedges), rng.integers(0, total_wedges, sample_wedges), "right"
    )
    d = degree[centres]
    first = rng.integers(0, d)
    second = rng.integers(0, d - 1)
    second += second >= first  # two distinct neighbours
    start = adj.indptr[centres]
    a, b = adj.indices[start + first], adj.indices[start + second]
    keys = np.repeat(np.arange(g.n, dtype=np.int64), degree) * g.n + adj.indices
    pos = np.searchsorted(keys, a * g.n + b)
    closed = keys[np.minimum(pos, len(keys) - 1)] == a * g.n + b
    out["transitivity"] = float(closed.mean())
    out["transitivity_sampled_wedges"] = int(sample_wedges)
    return out


def components(graph: nx.Graph | GraphArrays) -> dict[str, Any]:
    """Number of (weakly) connected components and the share of nodes in the largest."""
    g = GraphArrays.of(graph)
    if g.n == 0:
        return {"n_components": 0, "largest_component_share": None}
    sizes = np.bincount(g.components)
    return {"n_components": int(len(sizes)), "largest_component_share": float(sizes.max() / g.n)}


def path_length(
    graph: nx.Graph | GraphArrays,
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
    g = GraphArrays.of(graph)
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
    graph: nx.Graph | GraphArrays, max_sources: int = PATH_MAX_SOURCES, seed: int = 0
) -> float:
    """Mean shortest-path length in the largest (weakly) connected component (see path_length).

    ``average_path_length(nx.path_graph(4))`` -> 10/6; NaN with fewer than two nodes.
    """
    value = path_length(graph, max_sources=max_sources, seed=seed)["average_path_length"]
    return float("nan") if value is None else value


def network_summary(graph: nx.Graph | GraphArrays, seed: int = 0) -> dict[str, Any]:
    """Size, density, mean degree, clustering, path length, components, assortativity.

    Sampled estimates name their sample sizes (``clustering_sampled_nodes``,
    ``transitivity_sampled_wedges``, ``average_path_length_sources``).
    """
    g = GraphArrays.of(graph)
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
    graph: nx.Graph | GraphArrays, attributes: list[str] | None = None
) -> dict[str, float | None]:
    """Assortativity of node attributes (Newman 2003), over the nodes that carry them.

    An attribute with more than 10 distinct numbers is numeric: the Pearson correlation of
    its values across edges. Any other is categorical: r = (sum_i e_ii - sum_i a_i b_i) /
    (1 - sum_i a_i b_i), with e the share of edge ends joining value i to value j and a, b
    its margins, counted over the distinct values only. Undirected edges count both ways.
    With no `attributes`, every scalar attribute that all nodes carry is measured except
    ids, names, free text and credences. None where an attribute is missing or constant.
    """
    g = GraphArrays.of(graph)
    if attributes is None:
        attributes = sorted(k for k in g.scalar_attributes() if not _SKIP & _words(k))
    u, v = g.pairs
    out: dict[str, float | None] = {}
    for attr in attributes:
        out[attr] = _assortativity(g.node_values(attr), u, v)
    return out


def _words(key: str) -> set[str]:
    """The lower-case words of an attribute name (``credence.c1`` -> credence, c1)."""
    return set(re.split(r"[^a-z0-9]+", key.lower()))


def _assortativity(values: pd.Series | None, u: np.ndarray, v: np.ndarray) -> float | None:
    if values is None:
        return None
    present = values.notna().to_numpy()
    if present.sum() < 2:
        return None
    known = values[present].infer_objects()
    numeric = pd.api.types.is_numeric_dtype(known) and not pd.api.types.is_bool_dtype(known)
    codes, uniques = pd.factorize(known)
    if len(uniques) < 2:
        return None
    if not present.all():
        both = present[u] & present[v]
        u, v = u[both], v[both]
    if len(u) == 0:
        return None
    if numeric and len(uniques) > 10:
        x = np.full(len(values), np.nan)
        x[present] = pd.to_numeric(known).to_numpy(dtype=float)
        return _pearson(x[u], x[v])
    code = np.full(len(values), -1, dtype=np.int64)
    code[present] = codes
    cu, cv = code[u], code[v]
    k = len(uniques)
    a = np.bincount(cu, minlength=k) / len(cu)
    b = np.bincount(cv, minlength=k) / len(cv)
    same = float((cu == cv).mean())
    expected = float(a @ b)
    if not 1.0 - expected > 0:
        return None
    return (same - expected) / (1.0 - expected)


def friendship_paradox(graph: nx.Graph | GraphArrays) -> pd.DataFrame:
    """Per agent: own degree and the mean degree of its neighbours (NaN when isolated).

    Neighbours are successors in a directed graph; degrees count in + out.
    """
    g = GraphArrays.of(graph)
    u, v = g.pairs
    count = np.bincount(u, minlength=g.n)
    total = np.bincount(u, weights=g.degree[v], minlength=g.n)
    mean = np.divide(total, count, out=np.full(g.n, np.nan), where=count > 0)
    agents = np.asarray(g.nodes, dtype=object) if g.nodes is not None else np.arange(g.n)
    return pd.DataFrame({"agent": agents, "degree": g.degree, "mean_neighbour_degree": mean})


def friendship_paradox_summary(graph: nx.Graph | GraphArrays) -> dict[str, float | None]:
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
