"""The built-in network kinds: each a generator registered with its parameters.

A generator is ``fn(n, params, seed)``: it returns a networkx graph on nodes 0..n-1 or an
(m, 2) edge array. Users add their own the same way (:func:`socialsim.register_network`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal

import networkx as nx
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from socialsim.core.errors import ConfigError, DataFileError, require_file
from socialsim.core.registry import register_network
from socialsim.simulation.graphml import read_graph_xml
from socialsim.simulation.random_graphs import barabasi_albert_edges, erdos_renyi_edges

Probability = float


class _Params(BaseModel):
    """Network params: unknown keys refused; numbers finite, never booleans, whole where counts."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


class ErdosRenyiParams(_Params):
    """G(n, p): `p`, or `mean_degree` when p is not given."""

    p: float | None = Field(None, ge=0.0, le=1.0, description="edge probability")
    mean_degree: float = Field(
        4.0, gt=0.0, description="sets p = mean_degree / (n - 1); below population.size"
    )


class BarabasiAlbertParams(_Params):
    """Preferential attachment."""

    m: int = Field(2, ge=1, description="edges each new node brings")


class WattsStrogatzParams(_Params):
    """Small world: a ring lattice rewired."""

    k: int = Field(4, ge=2, description="each node's neighbours on the ring (even)")
    p: float = Field(0.1, ge=0.0, le=1.0, description="rewiring probability")

    @field_validator("k")
    @classmethod
    def _even(cls, k: int) -> int:
        if k % 2:  # networkx would silently use k - 1
            raise ValueError(
                f"{k} must be even (k/2 neighbours on each side of the ring); use {k - 1} or {k + 1}"
            )
        return k


class StochasticBlockParams(_Params):
    """Communities: dense inside, sparse between."""

    blocks: int = Field(2, ge=1, description="number of equal communities (when no sizes)")
    p_in: float = Field(0.3, ge=0.0, le=1.0, description="edge probability inside a block")
    p_out: float = Field(0.01, ge=0.0, le=1.0, description="edge probability between blocks")
    sizes: list[Annotated[int, Field(ge=1)]] | None = Field(
        None, min_length=1, description="block sizes, each >= 1 (add up to the population)"
    )


class PowerlawClusterParams(_Params):
    """Holme-Kim: preferential attachment with triangles."""

    m: int = Field(2, ge=1, description="edges each new node brings")
    p: float = Field(0.3, ge=0.0, le=1.0, description="probability of closing a triangle")


class GridParams(_Params):
    """A 2-D lattice (rows x cols, the first n nodes)."""

    rows: int | None = Field(None, ge=1)
    cols: int | None = Field(None, ge=1)
    periodic: bool = False


class FileParams(_Params):
    """A graph read from a file (path relative to the config file)."""

    path: str | None = Field(None, description="edge list, .graphml or .gexf")
    format: Literal["graphml", "gexf", "edgelist"] | None = None


@register_network("erdos_renyi", params=ErdosRenyiParams)
def erdos_renyi(n: int, params: ErdosRenyiParams, seed: int) -> np.ndarray:
    """Erdős-Rényi G(n, p): every pair an edge independently with probability p."""
    if params.p is not None and "mean_degree" in params.model_fields_set:
        raise ConfigError(
            f"network.params: p ({params.p!r}) and mean_degree ({params.mean_degree!r}) both set "
            "the erdos_renyi edge probability; give one of them"
        )
    if params.p is None and "mean_degree" in params.model_fields_set and params.mean_degree >= n:
        raise ConfigError(
            f"network.params.mean_degree: {params.mean_degree!r} must be < population.size ({n}); "
            "a node has at most population.size - 1 neighbours"
        )
    p = params.p if params.p is not None else min(1.0, params.mean_degree / max(n - 1, 1))
    return erdos_renyi_edges(n, float(p), seed)


@register_network("barabasi_albert", params=BarabasiAlbertParams)
def barabasi_albert(n: int, params: BarabasiAlbertParams, seed: int) -> np.ndarray:
    """Barabási-Albert preferential attachment (scale-free degrees)."""
    return barabasi_albert_edges(n, params.m, seed)


@register_network("watts_strogatz", params=WattsStrogatzParams)
def watts_strogatz(n: int, params: WattsStrogatzParams, seed: int) -> nx.Graph:
    """Watts-Strogatz small world (connected)."""
    if params.k >= n:
        raise ConfigError(f"network.params.k: {params.k} must be < population.size ({n})")
    return nx.connected_watts_strogatz_graph(n, params.k, params.p, seed=seed)


@register_network("stochastic_block", params=StochasticBlockParams)
def stochastic_block(n: int, params: StochasticBlockParams, seed: int) -> nx.Graph:
    """Stochastic block model; each node's ``community`` is kept as an attribute."""
    if params.sizes is None and params.blocks > n:
        raise ConfigError(
            f"network.params.blocks: {params.blocks} equal communities cannot be made of "
            f"population.size ({n}) agents; use at most {n} blocks"
        )
    sizes = params.sizes or _split_sizes(n, params.blocks)
    if sum(sizes) != n:
        raise ConfigError(
            f"network.params.sizes: they add up to {sum(sizes)}, population.size is {n}"
        )
    k = len(sizes)
    probs = [[params.p_in if i == j else params.p_out for j in range(k)] for i in range(k)]
    graph = nx.stochastic_block_model(sizes, probs, seed=seed)
    for _node, data in graph.nodes(data=True):
        data["community"] = int(data.pop("block"))
    graph.graph.pop("partition", None)
    return graph


@register_network("powerlaw_cluster", params=PowerlawClusterParams)
def powerlaw_cluster(n: int, params: PowerlawClusterParams, seed: int) -> nx.Graph:
    """Holme-Kim power-law graph with tunable clustering."""
    if params.m >= n:  # networkx gives an empty graph at m == n
        raise ConfigError(f"network.params.m: {params.m} must be < population.size ({n})")
    return nx.powerlaw_cluster_graph(n, params.m, params.p, seed=seed)


@register_network("complete")
def complete(n: int, params: BaseModel, seed: int) -> nx.Graph:
    """Everyone connected to everyone."""
    return nx.complete_graph(n)


@register_network("ring")
def ring(n: int, params: BaseModel, seed: int) -> nx.Graph:
    """A cycle."""
    return nx.cycle_graph(n)


@register_network("grid", params=GridParams)
def grid(n: int, params: GridParams, seed: int) -> nx.Graph:
    """A 2-D lattice, optionally periodic."""
    rows = params.rows or int(math.floor(math.sqrt(n)))
    cols = params.cols or math.ceil(n / rows)
    if rows * cols < n:
        raise ConfigError(
            f"network.params: rows x cols = {rows} x {cols} = {rows * cols} cells for "
            f"population.size ({n}) agents; make rows x cols at least {n} (or leave one out)"
        )
    lattice = nx.grid_2d_graph(rows, cols, periodic=params.periodic)
    nodes = sorted(lattice.nodes())[:n]
    return nx.convert_node_labels_to_integers(lattice.subgraph(nodes).copy(), ordering="sorted")


@register_network("file", params=FileParams)
def from_file(n: int, params: FileParams, seed: int) -> nx.Graph:
    """A graph read from an edge list, GraphML or GEXF file (nodes relabelled 0..n-1)."""
    if not params.path:
        raise ConfigError(
            "network.params.path: required for kind 'file' (edge list, .graphml or .gexf)"
        )
    path = Path(params.path)
    if not path.exists():
        raise DataFileError(f"network file {str(path)!r} does not exist; check network.params.path")
    require_file(path, "network file")  # a folder, a device: said as such
    fmt = params.format or {".graphml": "graphml", ".gexf": "gexf"}.get(
        path.suffix.lower(), "edgelist"
    )
    if fmt in ("graphml", "gexf"):
        graph = read_graph_xml(path, fmt)
    else:
        try:
            # read with direction; build_network makes it undirected unless network.directed
            graph = nx.read_edgelist(path, comments="#", data=False, create_using=nx.DiGraph)
        except (nx.NetworkXError, ValueError, TypeError, OSError) as exc:
            first = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise DataFileError(
                f"network file {str(path)!r} could not be read as an edge list: {first}"
            ) from None
    if graph.number_of_nodes() == 0 and fmt == "edgelist":
        raise DataFileError(
            f"network file {str(path)!r} holds no edge: an edge list has one edge per line, "
            "two node names separated by spaces ('0 1'; a line such as '0,1' is skipped)"
        )
    if graph.number_of_nodes() != n:
        raise DataFileError(
            f"network file {str(path)!r} has {graph.number_of_nodes()} nodes but "
            f"population.size is {n}; make them equal"
        )
    try:
        order = sorted(graph.nodes(), key=lambda v: int(v))
    except (TypeError, ValueError):
        order = sorted(graph.nodes(), key=str)
    graph = nx.relabel_nodes(graph, {v: i for i, v in enumerate(order)})
    for _node, data in graph.nodes(data=True):  # file attributes are not the run's
        keep = data.get("community")
        data.clear()
        if keep is not None:
            data["community"] = keep
    return graph


def _split_sizes(n: int, blocks: int) -> list[int]:
    base, rest = divmod(n, blocks)
    return [base + (1 if i < rest else 0) for i in range(blocks)]
