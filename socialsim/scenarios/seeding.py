"""Which nodes get a role: seeding strategies shared by attackers, guardians and persuaders.

Every strategy is a pure function of the graph and a seeded numpy Generator (ties are
broken at random through it), so the same seed picks the same nodes.

    >>> select_nodes(nx.star_graph(4), 1, "highest_degree", np.random.default_rng(0))
    [0]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import networkx as nx
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from socialsim.core.errors import ConfigError

Strategy = Literal["random", "highest_degree", "highest_betweenness", "k_core", "periphery", "ids"]
STRATEGIES: tuple[str, ...] = Strategy.__args__  # type: ignore[attr-defined]

_EXACT_BETWEENNESS_MAX = 2000  # above this many nodes betweenness is sampled (k = 500 pivots)


class SeedSpec(BaseModel):
    """How many nodes to pick (`count` or `fraction`) and how (`strategy`, or explicit `ids`)."""

    model_config = ConfigDict(extra="forbid")

    count: int | None = Field(None, ge=0)
    fraction: float | None = Field(None, ge=0.0, le=1.0)
    strategy: Strategy = "random"
    ids: list[int] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_size(self) -> SeedSpec:
        if self.count is not None and self.fraction is not None:
            raise ValueError("give either count or fraction, not both")
        if self.ids and self.strategy != "ids":
            if "strategy" in self.model_fields_set:
                raise ValueError(
                    f"ids pick the agents, so strategy {self.strategy!r} would be ignored; "
                    "give strategy: ids, or drop ids"
                )
            self.strategy = "ids"
        if self.strategy == "ids" and not self.ids:
            raise ValueError("strategy 'ids' needs a non-empty ids list")
        if self.strategy == "ids" and (self.count is not None or self.fraction is not None):
            raise ValueError(
                f"ids pick {len(self.ids)} agents, so count or fraction would be ignored; drop it"
            )
        if len(set(self.ids)) < len(self.ids):
            raise ValueError(f"ids {self.ids} repeat an agent; name each agent once")
        return self

    def size(self, n_agents: int, default: int = 1) -> int:
        """The number of nodes this spec asks for in a population of `n_agents`."""
        if self.strategy == "ids":
            return len(self.ids)
        if self.count is not None:
            return self.count
        if self.fraction is not None:
            return int(round(self.fraction * n_agents))
        return default


def select_nodes(
    graph: nx.Graph,
    k: int,
    strategy: str,
    rng: np.random.Generator,
    exclude: Iterable[int] = (),
    ids: Iterable[int] = (),
) -> list[int]:
    """Pick `k` nodes by strategy, never one in `exclude`; ConfigError when too few remain."""
    if strategy not in STRATEGIES:
        raise ConfigError(f"seeding strategy {strategy!r} is not one of {', '.join(STRATEGIES)}")
    banned = set(int(i) for i in exclude)
    if strategy == "ids":
        chosen = [int(i) for i in ids]
        bad = [i for i in chosen if i not in graph or i in banned]
        if bad:
            raise ConfigError(
                f"seeding ids {bad[:5]} are not free agents (valid ids 0..{graph.number_of_nodes() - 1}, "
                "each agent holds one role)"
            )
        if len(set(chosen)) != len(chosen):
            raise ConfigError(f"seeding ids {chosen} repeat an agent")
        return chosen
    candidates = np.array(
        sorted(int(v) for v in graph.nodes if int(v) not in banned), dtype=np.int64
    )
    if k > len(candidates):
        raise ConfigError(
            f"cannot pick {k} agents by {strategy}: only {len(candidates)} are free "
            f"(of {graph.number_of_nodes()})"
        )
    if k <= 0:
        return []
    # A random permutation first makes every tie break at random (sorts below are stable).
    candidates = candidates[rng.permutation(len(candidates))]
    if strategy == "random":
        return [int(v) for v in candidates[:k]]
    keys = _rank_keys(graph, strategy, rng)
    ranked = sorted(candidates.tolist(), key=lambda v: keys[v], reverse=True)  # stable
    return [int(v) for v in ranked[:k]]


def _rank_keys(graph: nx.Graph, strategy: str, rng: np.random.Generator) -> dict[int, tuple]:
    """Per-node sort keys, larger first: (primary, secondary)."""
    degree = dict(graph.degree())
    if strategy == "highest_degree":
        return {v: (degree[v], 0.0) for v in graph}
    if strategy == "highest_betweenness":
        n = graph.number_of_nodes()
        sample = None if n <= _EXACT_BETWEENNESS_MAX else 500
        seed = int(rng.integers(2**31 - 1)) if sample else None
        between = nx.betweenness_centrality(graph, k=sample, seed=seed)
        return {v: (between[v], degree[v]) for v in graph}
    core = nx.core_number(_simple_undirected(graph))
    if strategy == "k_core":
        return {v: (core[v], degree[v]) for v in graph}
    # periphery: the least embedded nodes (lowest core number, then lowest degree)
    return {v: (-core[v], -degree[v]) for v in graph}


def _simple_undirected(graph: nx.Graph) -> nx.Graph:
    """The graph without direction and self-loops (core numbers need it)."""
    simple = nx.Graph(graph.to_undirected() if graph.is_directed() else graph)
    simple.remove_edges_from(nx.selfloop_edges(simple))
    return simple


def select(
    graph: nx.Graph,
    spec: SeedSpec,
    rng: np.random.Generator,
    exclude: Iterable[int] = (),
    default: int = 1,
) -> list[int]:
    """Pick the nodes a :class:`SeedSpec` asks for."""
    k = spec.size(graph.number_of_nodes(), default)
    return select_nodes(graph, k, spec.strategy, rng, exclude=exclude, ids=spec.ids)


__all__ = ["STRATEGIES", "SeedSpec", "Strategy", "select", "select_nodes"]
