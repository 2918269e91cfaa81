"""The network as integer edge arrays: :class:`GraphArrays`, read once from networkx or given.

Every network measure (:mod:`socialsim.analysis.network`) takes a networkx graph or this;
the arrays give degrees, (node, neighbour) pairs, the sparse simple adjacency, components
and the node attribute table, each computed on first use.
"""

from __future__ import annotations

from functools import cached_property
from itertools import chain
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components


class GraphArrays:
    """A graph as int64 edge arrays over node indices 0..n-1 (``nodes[i]`` is the label).

    ``GraphArrays.of(graph)`` reads a networkx graph once; ``GraphArrays(n, src, dst)``
    takes edges directly (``attributes``: a node table, one row per node index, for
    :func:`homophily`). Self-loops count as networkx counts them: twice in a degree, once
    as a neighbour. Every network measure accepts either a networkx graph or this.
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
            from socialsim.core.rundata import attach_node_attributes

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
