"""Networks from a spec: a registered generator (seeded) or a file, on nodes 0..N-1.

:func:`build_network` gives an :class:`EdgeList` (arrays; the networkx graph is built on
first use), :func:`build_graph` the networkx graph. The kinds and their parameters live in
:mod:`socialsim.simulation.generators`; users add kinds with
:func:`socialsim.register_network`.
"""

from __future__ import annotations

from itertools import chain
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from socialsim.core.errors import ConfigError
from socialsim.core.registry import NETWORKS


class EdgeList:
    """A network as arrays: nodes 0..n-1 and an (m, 2) int64 edge array, no self-loops.

    ``graph`` is the networkx graph, built on first use (with node attributes such as
    ``community``) and kept; ``attributes`` holds those node attributes as lists.
    """

    def __init__(
        self,
        n: int,
        edges: np.ndarray,
        directed: bool,
        kind: str,
        attributes: dict[str, list[Any]] | None = None,
        graph: nx.Graph | None = None,
    ) -> None:
        self.n = int(n)
        self.edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        self.directed = bool(directed)
        self.kind = kind
        self.attributes = attributes or {}
        self._graph = graph

    @property
    def graph(self) -> nx.Graph:
        """The networkx graph (built on first use)."""
        if self._graph is None:
            graph = nx.DiGraph() if self.directed else nx.Graph()
            graph.add_nodes_from(range(self.n))
            graph.add_edges_from(self.edges.tolist())
            for key, values in self.attributes.items():
                for node, value in enumerate(values):
                    graph.nodes[node][key] = value
            graph.graph["kind"] = self.kind
            self._graph = graph
        return self._graph

    def degree(self) -> np.ndarray:
        """Degree of every node (in + out when directed)."""
        return np.bincount(self.edges.reshape(-1), minlength=self.n)

    def neighbour_lists(self) -> tuple[np.ndarray, np.ndarray]:
        """CSR (indptr, indices) of the undirected view, in the adjacency order of `graph`.

        Built from the arrays when the graph would be (edges of an undirected network
        reach both ends in list order), so `graph` is not built for it.
        """
        if self._graph is not None or self.directed:
            view = self.graph.to_undirected(as_view=True) if self.directed else self.graph
            return _lists(view, self.n)
        src, dst = self.edges[:, 0], self.edges[:, 1]
        owner = np.column_stack([src, dst]).reshape(-1)  # edge k: src then dst, in order
        other = np.column_stack([dst, src]).reshape(-1)
        order = np.argsort(owner, kind="stable")
        indptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner, minlength=self.n), out=indptr[1:])
        return indptr, other[order]


def build_network(
    kind: str,
    n: int,
    params: dict[str, Any] | None,
    seed: int,
    directed: bool = False,
    base_dir: Path | None = None,
) -> EdgeList:
    """Build the network for `n` agents as arrays: integer nodes 0..N-1, seeded, no self-loops.

    `kind` names a registered generator (:func:`socialsim.register_network`); its params are
    validated against the generator's ``Params``. A ``path`` parameter is read relative to
    `base_dir` (the config file's folder) when it is not found as given.
    """
    entry = NETWORKS.get(kind)
    given = effective_params(kind, params or {})
    if base_dir is not None and isinstance(given.get("path"), str):
        path = Path(given["path"])
        if not path.is_absolute() and not path.exists():
            given = {**given, "path": str(base_dir / path)}
    typed = NETWORKS.validate(kind, given, "network.params")
    try:
        made = entry.obj(n, typed, seed)
    except (nx.NetworkXError, ValueError) as exc:
        raise ConfigError(f"network ({kind}, n={n}, params={given}): {exc}") from None
    if isinstance(made, np.ndarray):
        made = np.asarray(made, dtype=np.int64).reshape(-1, 2)
        _check_nodes(kind, made, n)
        edges = made[made[:, 0] != made[:, 1]]
        if directed:
            edges = np.concatenate([edges, edges[:, ::-1]])
        return EdgeList(n, edges, directed, kind)
    if not isinstance(made, nx.Graph):
        raise ConfigError(
            f"network.kind {kind!r}: its generator returned {type(made).__name__}; "
            "return a networkx graph or an (m, 2) edge array"
        )
    graph = made
    if sorted(graph.nodes()) != list(range(n)):
        raise ConfigError(
            f"network.kind {kind!r}: its generator must return nodes 0..{n - 1} "
            f"(got {graph.number_of_nodes()} nodes); relabel with "
            "networkx.convert_node_labels_to_integers"
        )
    if directed and not graph.is_directed():
        graph = graph.to_directed()
    if not directed and graph.is_directed():
        graph = graph.to_undirected()
    graph.remove_edges_from(list(nx.selfloop_edges(graph)))
    graph.graph["kind"] = kind
    edges = np.fromiter(chain.from_iterable(graph.edges()), dtype=np.int64)
    keys = sorted({k for _, data in graph.nodes(data=True) for k in data})
    attributes = {k: [graph.nodes[v].get(k) for v in range(n)] for k in keys}
    return EdgeList(n, edges, directed, kind, attributes, graph)


def _check_nodes(kind: str, edges: np.ndarray, n: int) -> None:
    if len(edges) and (edges.min() < 0 or edges.max() >= n):
        raise ConfigError(
            f"network.kind {kind!r}: its generator returned node ids outside 0..{n - 1}"
        )


def build_graph(
    kind: str,
    n: int,
    params: dict[str, Any] | None,
    seed: int,
    directed: bool = False,
    base_dir: Path | None = None,
) -> nx.Graph:
    """Build the network for `n` agents: integer nodes 0..N-1, seeded, no self-loops."""
    return build_network(kind, n, params, seed, directed, base_dir).graph


def effective_params(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters that apply to `kind`.

    Flat keys apply to every kind that has them (so one config can sweep `network.kind`);
    a section named after a kind (``watts_strogatz: {k: 6}``) applies to that kind only.
    A key no registered kind knows is an error.
    """
    fields = {e.name: list(e.params.model_fields) for e in NETWORKS.entries()}
    NETWORKS.get(kind)
    known = set().union(*fields.values())
    given: dict[str, Any] = {}
    for key, value in params.items():
        if key in fields:
            if not isinstance(value, dict):
                raise ConfigError(f"network.params.{key}: expected a mapping of {key} parameters")
            bad = sorted(set(value) - set(fields[key]))
            if bad:
                allowed = ", ".join(fields[key]) or "none"
                raise ConfigError(
                    f"network.params.{key}.{bad[0]}: unknown for {key}; allowed: {allowed}"
                )
        elif key not in known:
            allowed = ", ".join(fields[kind]) or "none"
            raise ConfigError(
                f"network.params.{key}: unknown parameter; allowed for {kind}: {allowed}"
            )
        elif key in fields[kind]:
            given[key] = value
    given.update(params.get(kind, {}))
    return given


def _lists(adjacency: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR (indptr, indices) of an adjacency mapping over nodes 0..n-1, in its order."""
    counts = np.fromiter((len(adjacency[v]) for v in range(n)), dtype=np.int64, count=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    flat = chain.from_iterable(adjacency[v] for v in range(n))
    return indptr, np.fromiter(flat, dtype=np.int64, count=int(indptr[-1]))


def listen_csr(graph: nx.Graph | EdgeList) -> tuple[np.ndarray, np.ndarray]:
    """CSR arrays (indptr, indices) of whom each node listens to (in-neighbours if directed).

    Each node's list is sorted.
    """
    n = graph.n if isinstance(graph, EdgeList) else graph.number_of_nodes()
    if isinstance(graph, EdgeList):
        src, dst = graph.edges[:, 0], graph.edges[:, 1]
        if graph.directed:
            listener, speaker = dst, src
        else:
            listener, speaker = np.concatenate([src, dst]), np.concatenate([dst, src])
    else:
        indptr, speaker = _lists(graph.pred if graph.is_directed() else graph.adj, n)
        listener = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    keys = np.sort(listener * max(n, 1) + speaker)
    counts = np.bincount(listener, minlength=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return indptr, keys % max(n, 1)
