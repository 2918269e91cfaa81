"""A networkx graph as edge arrays and back, for :class:`~socialsim.core.network.Network`.

:func:`read_graph` reads a graph's adjacency once into int64 arrays (parallel edges and
self-loops counted as networkx counts them), :func:`build_graph` makes the graph of given
arrays with a node table as node attributes, :func:`adjacency_csr` lists each node's
neighbours in the graph's own order.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

PairsOrNone = tuple[np.ndarray, np.ndarray] | None


def read_graph(graph: nx.Graph) -> tuple[np.ndarray, np.ndarray, list[Any] | None, PairsOrNone]:
    """(src, dst, labels, pairs) of a graph: one entry per edge, over node indices.

    Nodes 0..n-1 (in any order) are their own indices (labels None); other labels are
    numbered in ``list(graph)`` order. `pairs` are the (node, neighbour) pairs of a simple
    undirected graph (its adjacency lists), else None.
    """
    n = graph.number_of_nodes()
    adjacency = getattr(graph, "_adj", None) or graph.adj  # successors when directed
    order = list(adjacency)
    counts = np.fromiter(map(len, adjacency.values()), dtype=np.int64, count=n)
    flat = chain.from_iterable(adjacency.values())
    total = int(counts.sum())
    labels = None if numbered(order, n) else order
    if labels is None:
        owner = np.asarray(order, dtype=np.int64) if n else np.zeros(0, np.int64)
        nbr = np.fromiter(flat, dtype=np.int64, count=total)
    else:
        owner = np.arange(n, dtype=np.int64)
        index = {v: i for i, v in enumerate(order)}
        nbr = np.fromiter(map(index.__getitem__, flat), dtype=np.int64, count=total)
    own = np.repeat(owner, counts)
    if not graph.is_directed() and not graph.is_multigraph():
        once = own <= nbr
        return own[once], nbr[once], labels, (own, nbr)
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
    return src, dst, labels, None


def build_graph(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    directed: bool,
    attributes: pd.DataFrame | None = None,
    kind: str | None = None,
    labels: list[Any] | None = None,
) -> nx.Graph:
    """The networkx graph of edge arrays: nodes 0..n-1 (or `labels`), the table's attributes."""
    graph = nx.DiGraph() if directed else nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(zip(src.tolist(), dst.tolist(), strict=True))
    if attributes is not None:
        attach_node_attributes(graph, attributes)
    if kind is not None:
        graph.graph["kind"] = kind
    if labels is not None:
        graph = nx.relabel_nodes(graph, dict(enumerate(labels)))
    return graph


def attach_node_attributes(graph: nx.Graph, attrs: pd.DataFrame) -> nx.Graph:
    """Set row i of `attrs` as the attributes of node i (missing values left out), in place."""
    columns = list(attrs.columns)
    values = [attrs[c].astype(object).where(attrs[c].notna(), None).tolist() for c in columns]
    nodes = graph._node  # the node attribute dicts, filled in one pass
    for i, row in enumerate(zip(*values, strict=True)):
        nodes[i].update({c: v for c, v in zip(columns, row, strict=True) if v is not None})
    return graph


def numbered(order: list[Any], n: int) -> bool:
    """True when the nodes are exactly the integers 0..n-1 (in any order)."""
    if order == list(range(n)):
        return True
    if not all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in order):
        return False
    return sorted(order) == list(range(n))


def adjacency_csr(
    adjacency: Any, n: int, labels: list[Any] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """CSR (indptr, indices) of an adjacency mapping over nodes 0..n-1 (or `labels`), in its order."""
    nodes = labels if labels is not None else range(n)
    counts = np.fromiter((len(adjacency[v]) for v in nodes), dtype=np.int64, count=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    flat = chain.from_iterable(adjacency[v] for v in nodes)
    if labels is not None:
        index = {v: i for i, v in enumerate(nodes)}
        flat = map(index.__getitem__, flat)
    return indptr, np.fromiter(flat, dtype=np.int64, count=int(indptr[-1]))
