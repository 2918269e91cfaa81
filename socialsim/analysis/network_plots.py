"""Network figures: a seeded sample of a large graph, a numpy force layout, credence on it.

A drawn network is at most a few thousand nodes: :func:`network_sample` takes a seeded
snowball sample of a larger one without building its networkx graph.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from socialsim.analysis.canvas import figure, no_data
from socialsim.core.network import Network


def network_sample(
    graph: Any,
    max_nodes: int = 2000,
    seed: int = 0,
    start: Iterable[Any] = (),
    per_node: int = 25,
) -> nx.Graph:
    """A seeded snowball sample of at most `max_nodes` nodes (the graph itself when smaller).

    Breadth-first from the `start` nodes (then from seeded random nodes), taking at most
    `per_node` seeded neighbours of each node, so that a hub does not fill the sample with
    its leaves. `graph` is a networkx graph or a
    :class:`~socialsim.core.network.Network` (integer nodes; read through its sparse
    adjacency, so no networkx graph of the whole network is built). Work grows with the
    sample, not with the graph.
    """
    arrays = graph if isinstance(graph, Network) else None
    if arrays is not None and arrays.n <= max_nodes:
        return arrays.to_networkx()
    n = arrays.n if arrays is not None else graph.number_of_nodes()
    if n <= max_nodes:
        return graph
    rng = np.random.default_rng(seed)
    if arrays is not None:
        adj = arrays.simple
        nodes: Any = range(n)

        def neighbours(node: Any) -> list[Any]:
            return adj.indices[adj.indptr[node] : adj.indptr[node + 1]].tolist()

        starts = [int(v) for v in start if 0 <= int(v) < n]
    else:
        nodes = list(graph)

        def neighbours(node: Any) -> list[Any]:
            return list(nx.all_neighbors(graph, node)) if graph.is_directed() else list(graph[node])

        starts = [v for v in start if v in graph]
    starts = starts[: max(1, max_nodes // 10)]
    chosen: dict[Any, None] = {}
    queue: deque[Any] = deque()

    def take(node: Any) -> None:
        if node not in chosen:
            chosen[node] = None
            queue.append(node)

    for node in starts:
        take(node)
    while len(chosen) < max_nodes:
        if not queue:
            take(nodes[int(rng.integers(n))])
            continue
        node = queue.popleft()
        near = neighbours(node)
        if len(near) > per_node:
            near = [near[i] for i in rng.choice(len(near), per_node, replace=False)]
        for other in near:
            if len(chosen) >= max_nodes:
                break
            take(other)
    if arrays is None:
        return graph.subgraph(chosen).copy()
    picked = np.fromiter(chosen, dtype=np.int64)
    sub = arrays.simple[picked][:, picked].tocoo()
    view = nx.Graph()
    view.add_nodes_from(picked.tolist())
    keep = sub.row < sub.col
    view.add_edges_from(
        zip(picked[sub.row[keep]].tolist(), picked[sub.col[keep]].tolist(), strict=True)
    )
    return view


def spring_positions(graph: nx.Graph, seed: int = 0, iterations: int = 50) -> dict[Any, np.ndarray]:
    """Fruchterman-Reingold positions in the unit square, vectorised with numpy and seeded.

    Repulsion is computed between every pair of nodes (an n x n array per iteration), so it is
    for drawn graphs (a :func:`network_sample` of a large one): 2,000 nodes take seconds.
    """
    nodes = list(graph.nodes)
    n = len(nodes)
    pos = np.random.default_rng(seed).random((n, 2)).astype(np.float32)
    if n < 2:
        return dict(zip(nodes, pos.astype(float), strict=True))
    index = {node: i for i, node in enumerate(nodes)}
    pairs = [(index[u], index[v]) for u, v in graph.edges() if u != v]
    edges = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    k2 = np.float32(1 / n)  # the optimal distance k = 1 / sqrt(n), squared
    temperature = 0.1
    for _ in range(iterations):
        # repulsion k^2 / d along each pair: sum_j w_ij (p_i - p_j) = p_i sum_j w_ij - (W p)_i
        sq = (pos**2).sum(axis=1)
        dist2 = np.maximum(sq[:, None] + sq[None, :] - 2 * (pos @ pos.T), np.float32(1e-6))
        weight = k2 / dist2
        np.fill_diagonal(weight, 0)
        move = pos * weight.sum(axis=1)[:, None] - weight @ pos
        if len(edges):  # attraction d^2 / k along each edge
            d = pos[edges[:, 0]] - pos[edges[:, 1]]
            pull = d * (np.sqrt((d**2).sum(axis=1)) * np.sqrt(n))[:, None]
            np.add.at(move, edges[:, 0], -pull)
            np.add.at(move, edges[:, 1], pull)
        length = np.maximum(np.sqrt((move**2).sum(axis=1)), 1e-6)[:, None]
        pos += move / length * np.minimum(length, temperature)
        temperature -= 0.1 / (iterations + 1)
    return dict(zip(nodes, pos.astype(float), strict=True))


def network_credence(
    graph: nx.Graph,
    credence: pd.DataFrame,
    steps: Sequence[int] | None = None,
    seed: int = 0,
    highlight: Iterable[Any] = (),
    title: str | None = None,
) -> Any:
    """The network coloured by credence at chosen steps (seeded spring layout).

    `credence` is the step x agent matrix of :func:`socialsim.analysis.spread.credence_matrix`;
    default steps are the first and the last. `highlight` nodes (role agents) are drawn
    larger with a black edge. Draw a :func:`network_sample` of a large graph.
    """
    if credence.empty:
        fig = figure()
        return no_data(fig, fig.add_subplot())
    steps = (
        list(steps)
        if steps is not None
        else sorted({int(credence.index[0]), int(credence.index[-1])})
    )
    fig = figure(4.0 * len(steps), 4.0)
    nodes = list(graph.nodes)
    pos = spring_positions(graph, seed=seed)
    axes = fig.subplots(1, len(steps), squeeze=False)[0]
    xy = np.array([pos[n] for n in nodes]).reshape(-1, 2)
    edges = [(pos[u], pos[v]) for u, v in graph.edges()]
    marked = set(highlight) & set(nodes)
    is_marked = np.array([n in marked for n in nodes], dtype=bool)
    size = float(np.clip(25 * np.sqrt(100 / max(len(nodes), 1)), 3, 25))
    from matplotlib.collections import LineCollection

    mappable = None
    for ax, step in zip(axes, steps, strict=True):
        row = credence.loc[step] if step in credence.index else pd.Series(dtype=float)
        values = row.reindex(nodes).to_numpy(dtype=float)
        width = 0.5 if len(nodes) <= 500 else 0.2
        ax.add_collection(LineCollection(edges, colors="0.8", linewidths=width, zorder=1))
        mappable = ax.scatter(
            xy[:, 0],
            xy[:, 1],
            c=values,
            cmap="coolwarm",
            vmin=0,
            vmax=1,
            s=size,
            zorder=2,
            edgecolors="0.3",
            linewidths=0.3 if len(nodes) <= 500 else 0.0,
            plotnonfinite=True,
        )
        if is_marked.any():
            ax.scatter(
                xy[is_marked, 0],
                xy[is_marked, 1],
                c=values[is_marked],
                cmap="coolwarm",
                vmin=0,
                vmax=1,
                s=max(size * 3, 30),
                zorder=3,
                edgecolors="k",
                linewidths=1.0,
                plotnonfinite=True,
            )
        ax.set_title(f"step {step}")
        ax.set_axis_off()
    if mappable is not None:
        fig.colorbar(mappable, ax=list(axes), shrink=0.8, label="credence")
    if title:
        fig.suptitle(title)
    return fig
