"""Graphs from a spec: generators (seeded) and files, relabelled to nodes 0..N-1."""

from __future__ import annotations

import math
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


def build_graph(
    kind: str,
    n: int,
    params: dict[str, Any] | None,
    seed: int,
    directed: bool = False,
    base_dir: Path | None = None,
) -> nx.Graph:
    """Build the network for `n` agents: integer nodes 0..N-1, seeded, no self-loops."""
    if kind not in _DEFAULTS:
        raise ConfigError(f"network.kind: {kind!r} is not one of {', '.join(_DEFAULTS)}")
    given = effective_params(kind, params or {})
    p = {**_DEFAULTS[kind], **given}
    try:
        graph = _generate(kind, n, p, seed, base_dir)
    except (nx.NetworkXError, ValueError) as exc:
        raise ConfigError(f"network ({kind}, n={n}, params={given}): {exc}") from None
    if directed and not graph.is_directed():
        graph = graph.to_directed()
    if not directed and graph.is_directed():
        graph = graph.to_undirected()
    graph.remove_edges_from(list(nx.selfloop_edges(graph)))
    graph.graph["kind"] = kind
    return graph


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


def _generate(kind: str, n: int, p: dict[str, Any], seed: int, base_dir: Path | None) -> nx.Graph:
    if kind == "erdos_renyi":
        prob = p["p"] if p["p"] is not None else min(1.0, p["mean_degree"] / max(n - 1, 1))
        return nx.fast_gnp_random_graph(n, prob, seed=seed)
    if kind == "barabasi_albert":
        m = int(p["m"])
        if not 1 <= m < n:
            raise ConfigError(f"network.params.m: {m} must be >= 1 and < population.size ({n})")
        return nx.barabasi_albert_graph(n, m, seed=seed)
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


def listen_csr(graph: nx.Graph) -> tuple[np.ndarray, np.ndarray]:
    """CSR arrays (indptr, indices) of whom each node listens to (in-neighbours if directed)."""
    n = graph.number_of_nodes()
    if graph.is_directed():
        src, dst = zip(*graph.edges(), strict=True) if graph.number_of_edges() else ((), ())
        listener = np.asarray(dst, dtype=np.int64)
        speaker = np.asarray(src, dtype=np.int64)
    else:
        edges = np.asarray(list(graph.edges()), dtype=np.int64).reshape(-1, 2)
        listener = np.concatenate([edges[:, 0], edges[:, 1]])
        speaker = np.concatenate([edges[:, 1], edges[:, 0]])
    order = np.lexsort((speaker, listener))
    listener, speaker = listener[order], speaker[order]
    counts = np.bincount(listener, minlength=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return indptr, speaker
