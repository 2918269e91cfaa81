"""Networks from a spec: a registered generator (seeded) or a file, on nodes 0..N-1.

:func:`build_network` gives a :class:`~socialsim.core.network.Network` (edge arrays; the
networkx graph is built on first use), :func:`build_graph` the networkx graph. The kinds
and their parameters live in :mod:`socialsim.simulation.generators`; users add kinds with
:func:`socialsim.register_network`.
"""

from __future__ import annotations

from itertools import chain
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from socialsim.core.errors import ConfigError
from socialsim.core.network import Network
from socialsim.core.registry import NETWORKS


def build_network(
    kind: str,
    n: int,
    params: dict[str, Any] | None,
    seed: int,
    directed: bool = False,
    base_dir: Path | None = None,
) -> Network:
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
        return Network.from_edges(n, edges, directed, kind=kind)
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
    attributes = {k: [graph.nodes[v].get(k) for v in range(n)] for k in keys} if keys else None
    return Network.from_edges(n, edges, directed, attributes=attributes, kind=kind, graph=graph)


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
    return build_network(kind, n, params, seed, directed, base_dir).to_networkx()


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
