"""The network of a run as integer edge arrays: :class:`Network`, one type for every layer.

The generators build one (:func:`socialsim.simulation.network.build_network`), the model
steps on it (``model.network``), rules read whom each agent listens to from it
(``Rule.graph(ctx)``), scenarios pair agents over it and every network measure
(:mod:`socialsim.analysis.network`) takes it or a networkx graph. Degrees, the listening
lists (CSR), (node, neighbour) pairs, the sparse simple adjacency, components, the node
attribute table and the networkx graph are each computed on first use.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from socialsim.core.networkx_io import adjacency_csr, build_graph, read_graph

# the computed parts a copy of the same edges may share (not the node table or the graph)
_EDGE_CACHES = ("degree", "pairs", "simple", "components", "_listening", "rows", "listen_degree")


class Network:
    """A network as int64 edge arrays over node indices 0..n-1 (``nodes[i]``: a label, if any).

    ``Network(n, src, dst, directed)`` takes edges directly, ``Network.from_edges`` an (m, 2)
    array, ``Network.from_networkx`` (or ``Network.of``) reads a networkx graph once, and
    ``Network.listening(indptr, indices)`` takes lists of whom each node listens to.
    ``attributes`` is the node table (one row per node index; a dict of columns is read as
    one), ``kind`` the generator that made it. Self-loops count as networkx counts them:
    twice in a degree, once as a neighbour.

    ``indptr`` / ``indices`` list whom each node listens to (its neighbours, or its
    in-neighbours when directed), each list sorted; ``listen_degree`` is their number,
    ``rows`` the node each entry belongs to. ``degree`` counts in + out when directed.
    """

    def __init__(
        self,
        n: int,
        src: np.ndarray,
        dst: np.ndarray,
        directed: bool = False,
        *,
        nodes: list[Any] | None = None,
        attributes: pd.DataFrame | dict[str, Any] | None = None,
        kind: str | None = None,
    ) -> None:
        self.n = int(n)
        self.src = np.asarray(src, dtype=np.int64)
        self.dst = np.asarray(dst, dtype=np.int64)
        self.directed = bool(directed)
        self.nodes = nodes
        self.attributes = _table(attributes)
        self.kind = kind
        self._graph: nx.Graph | None = None
        self._from_lists = False  # True: made from listening lists, its edges made from them

    # --- constructors -------------------------------------------------------------------------

    @classmethod
    def from_edges(
        cls,
        n: int,
        edges: np.ndarray,
        directed: bool = False,
        *,
        attributes: pd.DataFrame | dict[str, Any] | None = None,
        kind: str | None = None,
        graph: nx.Graph | None = None,
    ) -> Network:
        """A network from an (m, 2) edge array; `graph`, when given, is its networkx graph."""
        edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        src, dst = np.ascontiguousarray(edges[:, 0]), np.ascontiguousarray(edges[:, 1])
        network = cls(n, src, dst, directed, attributes=attributes, kind=kind)
        network._graph = graph
        return network

    @classmethod
    def of(cls, graph: nx.Graph | Network) -> Network:
        """The network of a networkx graph (returned unchanged if already a Network)."""
        return graph if isinstance(graph, Network) else cls.from_networkx(graph)

    @classmethod
    def from_networkx(cls, graph: nx.Graph) -> Network:
        """Read a networkx graph once (kept as its graph; its node attributes are the table).

        Nodes 0..n-1 (in any order) are their own indices; other labels are numbered in
        ``list(graph)`` order and kept in ``nodes``.
        """
        src, dst, labels, pairs = read_graph(graph)
        network = cls(graph.number_of_nodes(), src, dst, graph.is_directed(), nodes=labels)
        if pairs is not None:
            network.__dict__["pairs"] = pairs  # the adjacency lists are the pairs
        network._graph = graph
        return network

    @classmethod
    def listening(cls, indptr: np.ndarray, indices: np.ndarray) -> Network:
        """The directed network (speaker -> listener) of lists of whom each node listens to.

        Row v of the CSR (`indptr`, `indices`) lists whom node v listens to; the lists are
        kept as given (in their order and dtype), the edge arrays made only when asked for.
        """
        network = cls.__new__(cls)
        network.n = len(indptr) - 1
        network.directed = True
        network.nodes = None
        network.attributes = None
        network.kind = None
        network._graph = None
        network._from_lists = True
        network._listening = (np.asarray(indptr), np.asarray(indices))
        return network

    # --- edges ----------------------------------------------------------------------------------

    @cached_property
    def src(self) -> np.ndarray:
        """Source of every edge (a listening network: the speaker of every entry)."""
        return np.asarray(self.indices, dtype=np.int64)

    @cached_property
    def dst(self) -> np.ndarray:
        """Target of every edge (a listening network: the listener of every entry)."""
        return np.asarray(self.rows, dtype=np.int64)

    @property
    def edges(self) -> np.ndarray:
        """The edges as an (m, 2) array (made on each call)."""
        return np.column_stack([self.src, self.dst])

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
        """(node, neighbour) pairs: each edge both ways when undirected (a loop once); int32
        ids below 2**31 nodes (they index node arrays, and take half the memory)."""
        dtype = _index_dtype(self.n)
        src, dst = self.src.astype(dtype, copy=False), self.dst.astype(dtype, copy=False)
        return _both_ways(src, dst, self.directed)

    @cached_property
    def simple(self) -> sparse.csr_array:
        """Symmetric 0/1 adjacency of the undirected simple graph (no loops), sorted rows."""
        if self.directed:
            dtype = _index_dtype(self.n)
            src, dst = self.src.astype(dtype, copy=False), self.dst.astype(dtype, copy=False)
            rows, cols = np.concatenate([src, dst]), np.concatenate([dst, src])
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

    # --- whom each node listens to ----------------------------------------------------------

    @cached_property
    def _listening(self) -> tuple[np.ndarray, np.ndarray]:
        """CSR (indptr, indices) of whom each node listens to, each list sorted."""
        n = max(self.n, 1)
        if self.directed:
            listener, speaker = self.dst, self.src
        else:
            listener, speaker = self.__dict__.get("pairs") or _both_ways(self.src, self.dst)
        keys = np.sort(listener * n + speaker)
        indptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(listener, minlength=self.n), out=indptr[1:])
        return indptr, keys % n

    @property
    def indptr(self) -> np.ndarray:
        """Where each node's list of whom it listens to starts in ``indices`` (n + 1)."""
        return self._listening[0]

    @property
    def indices(self) -> np.ndarray:
        """Whom each node listens to, node after node (see ``indptr``)."""
        return self._listening[1]

    @cached_property
    def listen_degree(self) -> np.ndarray:
        """How many nodes each node listens to (its degree; its in-degree when directed)."""
        return np.diff(self.indptr)

    @cached_property
    def rows(self) -> np.ndarray:
        """The node each entry of ``indices`` belongs to."""
        return np.repeat(np.arange(self.n, dtype=self.indices.dtype), self.listen_degree)

    def neighbours(self, node: int) -> np.ndarray:
        """Whom `node` listens to."""
        return self.indices[self.indptr[node] : self.indptr[node + 1]]

    def random_neighbours(self, agents: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        """A uniform pick from whom each agent listens to, per column of `uniforms` (U(0,1)).

        Every agent must listen to someone (``listen_degree > 0``).
        """
        count = self.listen_degree[agents][:, None]
        picked = self.indptr[agents][:, None] + (uniforms * count).astype(np.int64)
        return self.indices[picked].astype(np.int64)

    def row_sum(self, entry_values: np.ndarray) -> np.ndarray:
        """Sum (entries, C) values, one row per entry of ``indices``, over each node -> (n, C)."""
        out = np.empty((self.n, entry_values.shape[1]))
        for c in range(entry_values.shape[1]):
            out[:, c] = np.bincount(self.rows, weights=entry_values[:, c], minlength=self.n)
        return out

    def neighbour_lists(self) -> tuple[np.ndarray, np.ndarray]:
        """CSR (indptr, indices) of the undirected view, in the adjacency order of the graph.

        Made from the arrays when the networkx graph would be made from them (an undirected
        network's edges reach both ends in edge order), so no graph is built for it.
        """
        if self._graph is not None or self.directed:
            graph = self.to_networkx()
            view = graph.to_undirected(as_view=True) if graph.is_directed() else graph
            return adjacency_csr(view.adj, self.n, self.nodes)
        owner = np.column_stack([self.src, self.dst]).reshape(-1)  # edge k: src then dst
        other = np.column_stack([self.dst, self.src]).reshape(-1)
        order = np.argsort(owner, kind="stable")
        indptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner, minlength=self.n), out=indptr[1:])
        return indptr, other[order]

    # --- other networks from this one ----------------------------------------------------------

    def without(self, absent: np.ndarray) -> Network:
        """The same nodes without every edge that touches an `absent` one (a bool mask).

        Lists of whom each node listens to keep their order.
        """
        present = ~np.asarray(absent, dtype=bool)
        rows, indices = self.rows, self.indices
        keep = present[indices] & present[rows]
        rows, indices = rows[keep], indices[keep]
        count = np.bincount(rows, minlength=self.n)
        indptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(count, out=indptr[1:])
        if self._from_lists:
            out = Network.listening(indptr, indices)
        else:
            kept = present[self.src] & present[self.dst]
            out = Network(
                self.n,
                self.src[kept],
                self.dst[kept],
                self.directed,
                nodes=self.nodes,
                attributes=self.attributes,
                kind=self.kind,
            )
            out._listening = (indptr, indices)
        out.rows, out.listen_degree = rows, count
        return out

    def with_attributes(self, attributes: pd.DataFrame | dict[str, Any] | None) -> Network:
        """The same edges with another node table (computed edge parts shared)."""
        out = Network.__new__(Network)
        out.__dict__.update({k: v for k, v in vars(self).items() if k in _EDGE_CACHES})
        for key in ("n", "directed", "nodes", "kind", "src", "dst"):
            setattr(out, key, getattr(self, key))
        out.attributes = _table(attributes)
        out._graph = None
        out._from_lists = False
        return out

    def to_networkx(self) -> nx.Graph:
        """The networkx graph, with the node table as node attributes (built once)."""
        if self._graph is None:
            self._graph = build_graph(
                self.n, self.src, self.dst, self.directed, self.attributes, self.kind, self.nodes
            )
        return self._graph

    # --- node attributes ------------------------------------------------------------------------

    @cached_property
    def node_table(self) -> pd.DataFrame:
        """Node attributes, one row per node index (the given table, else the graph's)."""
        if self.attributes is not None:
            return self.attributes
        if self._graph is None:
            return pd.DataFrame(index=range(self.n))
        data = self._graph._node  # type: ignore[attr-defined]
        order = self.nodes if self.nodes is not None else range(self.n)
        return pd.DataFrame.from_records([data[v] for v in order], nrows=self.n).reindex(
            range(self.n)
        )

    def node_values(self, attribute: str) -> pd.Series | None:
        """One node attribute for every node index (missing: NaN), or None if no node has it."""
        table = self.node_table
        return table[attribute] if attribute in table.columns else None

    def scalar_attributes(self) -> list[str]:
        """Attributes that every node carries as a scalar (str, int, float, bool)."""
        table = self.node_table
        return [c for c in table.columns if table[c].notna().all() and _scalars(table[c])]

    # --- a run's saved state ------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        """The edges, node table (as columns) and lists; other parts are made again on use."""
        table = self.attributes
        return {
            "n": self.n,
            "src": self.src,
            "dst": self.dst,
            "directed": self.directed,
            "nodes": self.nodes,
            "kind": self.kind,
            "attributes": None if table is None else {c: table[c].tolist() for c in table},
            "lists": self.__dict__.get("_listening"),
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`__getstate__` saved."""
        self.__init__(  # type: ignore[misc]
            state["n"],
            state["src"],
            state["dst"],
            state["directed"],
            nodes=state["nodes"],
            attributes=state["attributes"],
            kind=state["kind"],
        )
        if state.get("lists") is not None:
            indptr, indices = state["lists"]
            self._listening = (np.asarray(indptr), np.asarray(indices))


def _table(attributes: pd.DataFrame | dict[str, Any] | None) -> pd.DataFrame | None:
    """The node table: a DataFrame indexed 0..n-1 (a dict of columns read as one)."""
    if attributes is None:
        return None
    if isinstance(attributes, dict):
        return pd.DataFrame(attributes)
    return attributes.reset_index(drop=True)


def _both_ways(
    src: np.ndarray, dst: np.ndarray, directed: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(node, neighbour) pairs: the edges, and each non-loop edge reversed when undirected."""
    if directed:
        return src, dst
    loop = src == dst
    if not loop.any():
        return np.concatenate([src, dst]), np.concatenate([dst, src])
    return np.concatenate([src, dst[~loop]]), np.concatenate([dst, src[~loop]])


def _index_dtype(n: int) -> type:
    """The smallest integer type that holds node ids below `n` (int32 or int64)."""
    return np.int32 if n < 2**31 else np.int64


_SCALAR_KINDS = {"string", "integer", "floating", "boolean", "mixed-integer-float", "decimal"}


def _scalars(values: pd.Series) -> bool:
    """True when every value is a str, int, float or bool."""
    if values.dtype != object:
        return True
    if pd.api.types.infer_dtype(values, skipna=False) in _SCALAR_KINDS:
        return True
    return all(isinstance(v, str | int | float | bool) for v in values)
