"""Networks from a spec: generators (seeded) and files, relabelled to nodes 0..N-1.

:func:`build_network` gives an :class:`EdgeList` (arrays; the networkx graph is built on
first use), :func:`build_graph` the networkx graph. barabasi_albert and erdos_renyi are
drawn by vectorised generators of the textbook models (linear in nodes + edges); the other
kinds come from networkx.
"""

from __future__ import annotations

import math
from itertools import chain
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from socialsim.errors import ConfigError, DataFileError

_DEFAULTS: dict[str, dict[str, Any]] = {
    "erdos_renyi": {"p": None, "mean_degree": 4},
    "barabasi_albert": {"m": 2},
    "watts_strogatz": {"k": 4, "p": 0.1},
    "stochastic_block": {"blocks": 2, "p_in": 0.3, "p_out": 0.01, "sizes": None},
    "powerlaw_cluster": {"m": 2, "p": 0.3},
    "complete": {},
    "ring": {},
    "grid": {"rows": None, "cols": None, "periodic": False},
    "file": {"path": None, "format": None},
}


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
    """Build the network for `n` agents as arrays: integer nodes 0..N-1, seeded, no self-loops."""
    if kind not in _DEFAULTS:
        raise ConfigError(f"network.kind: {kind!r} is not one of {', '.join(_DEFAULTS)}")
    given = effective_params(kind, params or {})
    p = {**_DEFAULTS[kind], **given}
    try:
        made = _generate(kind, n, p, seed, base_dir)
    except (nx.NetworkXError, ValueError) as exc:
        raise ConfigError(f"network ({kind}, n={n}, params={given}): {exc}") from None
    if isinstance(made, np.ndarray):
        edges = made[made[:, 0] != made[:, 1]]
        if directed:
            edges = np.concatenate([edges, edges[:, ::-1]])
        return EdgeList(n, edges, directed, kind)
    graph = made
    if directed and not graph.is_directed():
        graph = graph.to_directed()
    if not directed and graph.is_directed():
        graph = graph.to_undirected()
    graph.remove_edges_from(list(nx.selfloop_edges(graph)))
    graph.graph["kind"] = kind
    edges = np.fromiter(chain.from_iterable(graph.edges()), dtype=np.int64)
    attributes = {}
    if kind == "stochastic_block":
        attributes["community"] = [graph.nodes[v]["community"] for v in range(n)]
    return EdgeList(n, edges, directed, kind, attributes, graph)


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
    A key no kind knows is an error.
    """
    known = set().union(*_DEFAULTS.values())
    given: dict[str, Any] = {}
    for key, value in params.items():
        if key in _DEFAULTS:
            if not isinstance(value, dict):
                raise ConfigError(f"network.params.{key}: expected a mapping of {key} parameters")
            bad = sorted(set(value) - set(_DEFAULTS[key]))
            if bad:
                allowed = ", ".join(_DEFAULTS[key]) or "none"
                raise ConfigError(
                    f"network.params.{key}.{bad[0]}: unknown for {key}; allowed: {allowed}"
                )
        elif key not in known:
            allowed = ", ".join(_DEFAULTS[kind]) or "none"
            raise ConfigError(
                f"network.params.{key}: unknown parameter; allowed for {kind}: {allowed}"
            )
        elif key in _DEFAULTS[kind]:
            given[key] = value
    given.update(params.get(kind, {}))
    return given


def _generate(
    kind: str, n: int, p: dict[str, Any], seed: int, base_dir: Path | None
) -> nx.Graph | np.ndarray:
    """A networkx graph, or an (m, 2) edge array from the vectorised generators."""
    if kind == "erdos_renyi":
        prob = p["p"] if p["p"] is not None else min(1.0, p["mean_degree"] / max(n - 1, 1))
        if not 0.0 <= float(prob) <= 1.0:
            raise ConfigError(f"network.params.p: {prob} must be between 0 and 1")
        return erdos_renyi_edges(n, float(prob), seed)
    if kind == "barabasi_albert":
        return barabasi_albert_edges(n, int(p["m"]), seed)
    if kind == "watts_strogatz":
        k = int(p["k"])
        if k >= n:
            raise ConfigError(f"network.params.k: {k} must be < population.size ({n})")
        return nx.connected_watts_strogatz_graph(n, k, float(p["p"]), seed=seed)
    if kind == "stochastic_block":
        sizes = p["sizes"] or _split_sizes(n, int(p["blocks"]))
        if sum(sizes) != n:
            raise ConfigError(
                f"network.params.sizes: they add up to {sum(sizes)}, population.size is {n}"
            )
        k = len(sizes)
        probs = [[p["p_in"] if i == j else p["p_out"] for j in range(k)] for i in range(k)]
        graph = nx.stochastic_block_model(sizes, probs, seed=seed)
        for _node, data in graph.nodes(data=True):
            data["community"] = int(data.pop("block"))
        graph.graph.pop("partition", None)
        return graph
    if kind == "powerlaw_cluster":
        return nx.powerlaw_cluster_graph(n, int(p["m"]), float(p["p"]), seed=seed)
    if kind == "complete":
        return nx.complete_graph(n)
    if kind == "ring":
        return nx.cycle_graph(n)
    if kind == "grid":
        rows = p["rows"] or int(math.floor(math.sqrt(n)))
        cols = p["cols"] or math.ceil(n / rows)
        grid = nx.grid_2d_graph(rows, cols, periodic=bool(p["periodic"]))
        nodes = sorted(grid.nodes())[:n]
        return nx.convert_node_labels_to_integers(grid.subgraph(nodes).copy(), ordering="sorted")
    return _from_file(p, n, base_dir)


def erdos_renyi_edges(n: int, p: float, seed: int) -> np.ndarray:
    """Edges (k x 2, i < j) of a G(n, p) random graph (Erdős & Rényi 1959; Gilbert 1959).

    Each of the n(n-1)/2 pairs is an edge independently with probability p: the number
    of edges is drawn from Binomial(n(n-1)/2, p), then that many distinct pairs uniformly
    (the first distinct pairs of uniform draws). Dense graphs (p > 0.5, or few pairs) draw
    every pair instead.
    """
    rng = np.random.default_rng(seed)
    pairs = n * (n - 1) // 2
    if pairs == 0 or p <= 0.0:
        return np.zeros((0, 2), dtype=np.int64)
    if p > 0.5 or pairs <= 1 << 21:
        out = []
        step = max(1, (1 << 22) // n)  # rows at a time: about 4M pairs
        for lo in range(0, n - 1, step):
            rows = np.arange(lo, min(n - 1, lo + step), dtype=np.int64)
            length = n - 1 - rows
            i = np.repeat(rows, length)
            j = i + 1 + np.arange(len(i)) - np.repeat(np.cumsum(length) - length, length)
            hit = rng.random(len(i)) < p
            out.append(np.column_stack([i[hit], j[hit]]))
        return np.concatenate(out)
    want = int(rng.binomial(pairs, p))
    keys = np.zeros(0, dtype=np.int64)
    while len(keys) < want:
        size = int((want - len(keys)) * 1.02) + 64
        u = rng.integers(0, n, size)
        v = rng.integers(0, n - 1, size)
        v += v >= u  # a uniform pair of distinct nodes
        drawn = np.concatenate([keys, np.minimum(u, v) * n + np.maximum(u, v)])
        first = np.sort(np.unique(drawn, return_index=True)[1])
        keys = drawn[first[:want]]
    keys = np.sort(keys)
    return np.column_stack([keys // n, keys % n])


def barabasi_albert_edges(n: int, m: int, seed: int, spare: int = 4) -> np.ndarray:
    """Edges (k x 2) of a Barabási-Albert graph (Barabási & Albert 1999), networkx's model.

    A star on nodes 0..m (hub 0) grows by nodes m+1..n-1, each joining m distinct earlier
    nodes picked with probability proportional to degree: uniform draws from the list of
    edge ends so far until m distinct nodes come up (``nx.barabasi_albert_graph`` draws the
    same way, one node at a time).

    Vectorised after Batagelj & Brandes (2005): the list of edge ends is laid out in
    advance (node t's m targets, then t itself m times), so every draw is a uniform
    position below node t's block, made up front: m + `spare` per node, and more from a
    generator seeded by (seed, t) for the rare node whose draws hold fewer than m distinct
    nodes. A position in a target slot holds the node that slot chose, found by pointer
    jumping; the choices are made again from the resolved values until none changes (draws
    point only to earlier positions, so this ends). The graph depends on `seed` alone.
    """
    if not 1 <= m < n:
        raise ConfigError(f"network.params.m: {m} must be >= 1 and < population.size ({n})")
    star = np.column_stack([np.zeros(m, dtype=np.int64), np.arange(1, m + 1, dtype=np.int64)])
    joining = n - m - 1
    if joining <= 0:
        return star
    below = 2 * m * (1 + np.arange(joining, dtype=np.int64))  # edge ends before each block
    draws = np.random.default_rng(seed).integers(0, below[:, None], size=(joining, m + spare))
    fixed, link = _decode(draws, m)
    chosen = (fixed[:, :m].reshape(-1), link[:, :m].reshape(-1))  # what each target slot copies
    while True:
        slots = _resolve(*chosen)
        values = np.where(link >= 0, slots[link.clip(0)], fixed)
        picked, count = _first_distinct(values, m)
        again = [np.take_along_axis(a, picked, axis=1) for a in (fixed, link)]
        for row in np.flatnonzero(count < m).tolist():
            again[0][row], again[1][row] = _draw_more(row, draws[row], values[row], slots, m, seed)
        again = [a.reshape(-1) for a in again]
        if all(np.array_equal(a, b) for a, b in zip(again, chosen, strict=True)):
            break
        chosen = (again[0], again[1])
    sources = np.repeat(np.arange(m + 1, n, dtype=np.int64), m)
    return np.concatenate([star, np.column_stack([sources, slots])])


def _decode(positions: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """What each position of the list of edge ends holds: a known node, or a target slot.

    The list: the star's ends (hub 0 m times, then 1..m), then per joining node its m
    target slots and itself m times. Returns (node or -1, slot index or -1).
    """
    q = positions - 2 * m
    row, within = np.divmod(np.maximum(q, 0), 2 * m)
    node = np.where(q < 0, np.where(positions < m, 0, positions - m + 1), row + m + 1)
    is_slot = (q >= 0) & (within < m)
    return np.where(is_slot, -1, node), np.where(is_slot, row * m + within, -1)


def _resolve(node: np.ndarray, link: np.ndarray) -> np.ndarray:
    """The node in every target slot, by pointer jumping along the slots that copy slots."""
    value = node.copy()
    link = link.copy()
    while True:
        open_ = np.flatnonzero(link >= 0)
        if not len(open_):
            return value
        ahead = link[open_]
        value[open_] = value[ahead]
        link[open_] = link[ahead]


def _first_distinct(values: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the columns of the first m distinct values, and how many there were."""
    rows, width = values.shape
    taken = np.zeros((rows, width), dtype=bool)
    count = np.zeros(rows, dtype=np.int64)
    picked = np.zeros((rows, m), dtype=np.int64)
    for k in range(width):
        fresh = count < m
        for j in range(k):
            fresh &= ~(taken[:, j] & (values[:, j] == values[:, k]))
        taken[:, k] = fresh
        picked[fresh, count[fresh]] = k
        count += fresh
    return picked, count


def _draw_more(
    row: int, draws: np.ndarray, values: np.ndarray, slots: np.ndarray, m: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(node, link) choices of a node whose m + spare draws held fewer than m distinct nodes."""
    chosen: dict[int, int] = {}
    for position, node in zip(draws.tolist(), values.tolist(), strict=True):
        chosen.setdefault(node, position)
    rng = np.random.default_rng([seed, row])
    high = 2 * m * (1 + row)
    while len(chosen) < m:
        position = int(rng.integers(0, high))
        node, link = _decode(np.array([position]), m)
        chosen.setdefault(int(node[0] if link[0] < 0 else slots[link[0]]), position)
    return _decode(np.fromiter(chosen.values(), dtype=np.int64, count=m), m)


def _split_sizes(n: int, blocks: int) -> list[int]:
    base, rest = divmod(n, blocks)
    return [base + (1 if i < rest else 0) for i in range(blocks)]


def _from_file(p: dict[str, Any], n: int, base_dir: Path | None) -> nx.Graph:
    if not p["path"]:
        raise ConfigError(
            "network.params.path: required for kind 'file' (edge list, .graphml or .gexf)"
        )
    path = Path(p["path"])
    if not path.is_absolute() and not path.exists() and base_dir is not None:
        path = base_dir / path
    if not path.is_file():
        raise DataFileError(f"network file {str(path)!r} does not exist; check network.params.path")
    fmt = p["format"] or {".graphml": "graphml", ".gexf": "gexf"}.get(
        path.suffix.lower(), "edgelist"
    )
    try:
        if fmt == "graphml":
            graph = nx.read_graphml(path)
        elif fmt == "gexf":
            graph = nx.read_gexf(path)
        elif fmt == "edgelist":
            graph = nx.read_edgelist(path, comments="#", data=False)
        else:
            raise ConfigError(
                f"network.params.format: {fmt!r} is not one of graphml, gexf, edgelist"
            )
    except (nx.NetworkXError, ValueError, TypeError, OSError) as exc:
        raise DataFileError(
            f"network file {str(path)!r} could not be read as {fmt}: {exc}"
        ) from None
    if graph.number_of_nodes() != n:
        raise DataFileError(
            f"network file {str(path)!r} has {graph.number_of_nodes()} nodes but population.size is {n}; "
            "make them equal"
        )
    try:
        order = sorted(graph.nodes(), key=lambda v: int(v))
    except (TypeError, ValueError):
        order = sorted(graph.nodes(), key=str)
    mapping = {v: i for i, v in enumerate(order)}
    return nx.relabel_nodes(graph, mapping)


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
