"""Populations: the personas of a run and their assignment to graph nodes.

``Population.from_config`` samples personas (:mod:`socialsim.agents.sampling`) or loads a
persona file (:mod:`socialsim.agents.persona_files`); ``assign_personas`` maps them to the
nodes of the graph. The sampling and file functions are importable from here as well.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import networkx as nx
import numpy as np

from socialsim.agents.persona_files import load_personas, save_personas
from socialsim.agents.sampling import (
    LEANINGS,
    SPEC_KEYS,
    TRAITS,
    SampledPersonas,
    sample_personas,
    sample_population,
)
from socialsim.core.errors import ConfigError, DataFileError
from socialsim.core.network import Network
from socialsim.core.persona import Persona

STRATEGIES = ("random", "homophily", "by_degree")


class Population:
    """The personas of a run, indexed by id."""

    def __init__(self, personas: Sequence[Persona]) -> None:
        self.personas = personas if isinstance(personas, SampledPersonas) else list(personas)

    @classmethod
    def from_config(
        cls,
        size: int,
        personas: str | dict,
        rng: np.random.Generator,
        base_dir: Path | None = None,
    ) -> Population:
        """Build from `population.personas`: 'default', a generator mapping, or a file path."""
        if isinstance(personas, dict):
            return cls(sample_population(size, rng, personas))
        if personas == "default":
            return cls(sample_population(size, rng))
        path = Path(personas)
        if not path.is_absolute() and not path.exists() and base_dir is not None:
            path = Path(base_dir) / path
        loaded = load_personas(path)
        if len(loaded) < size:
            raise DataFileError(
                f"personas file {str(path)!r} has {len(loaded)} rows but population.size is "
                f"{size}; add rows or lower population.size"
            )
        return cls(loaded[:size])

    def save(self, path: str | Path) -> None:
        """Write the personas as JSONL."""
        save_personas(self.personas, path)

    def __len__(self) -> int:
        return len(self.personas)

    def __getitem__(self, index: int) -> Persona:
        return self.personas[index]

    def __iter__(self) -> Iterator[Persona]:
        return iter(self.personas)


# --- assignment to nodes ---------------------------------------------------------------------


def _bfs_order(network: Network, rng: np.random.Generator) -> np.ndarray:
    """Nodes in breadth-first order from seeded starts (every component, undirected view).

    Neighbours are visited in the graph's adjacency order; each level of the search is one
    vectorised step over the adjacency arrays.
    """
    indptr, indices = network.neighbour_lists()
    n = len(indptr) - 1
    seen = np.zeros(n, dtype=bool)
    order = np.empty(n, dtype=np.int64)
    filled = 0
    for start in rng.permutation(n).tolist():
        if seen[start]:
            continue
        seen[start] = True
        frontier = np.array([start], dtype=np.int64)
        while len(frontier):
            order[filled : filled + len(frontier)] = frontier
            filled += len(frontier)
            lengths = indptr[frontier + 1] - indptr[frontier]
            offsets = np.repeat(indptr[frontier] - np.cumsum(lengths) + lengths, lengths)
            reached = indices[offsets + np.arange(int(lengths.sum()))]
            reached = reached[~seen[reached]]
            first = np.sort(np.unique(reached, return_index=True)[1])
            frontier = reached[first]
            seen[frontier] = True
    return order


def field_values(personas: Sequence[Persona], name: str) -> list:
    """One field of every persona: from columns when the personas are sampled lazily."""
    if isinstance(personas, SampledPersonas):
        return personas.column(name)
    if name.startswith("big_five."):
        trait = name.split(".", 1)[1]
        return [getattr(p.big_five, trait) for p in personas]
    return [getattr(p, name) for p in personas]


def assignment_order(
    personas: Sequence[Persona],
    graph: nx.Graph | Network,
    strategy: str,
    rng: np.random.Generator,
) -> list[int]:
    """Which persona each node gets: node i gets ``personas[order[i]]``.

    `graph` is a :class:`~socialsim.core.network.Network` or a networkx graph on nodes
    0..N-1 (the same order for either).

    random: a seeded permutation. homophily: personas sorted by (political leaning,
    country, age) laid along a breadth-first walk, so neighbours are alike. by_degree: the
    most active personas (activity_rate, then extraversion) on the highest-degree nodes.
    """
    n = graph.n if isinstance(graph, Network) else graph.number_of_nodes()
    if len(personas) != n:
        raise ConfigError(f"population has {len(personas)} personas but the graph has {n} nodes")
    if isinstance(graph, nx.Graph) and set(graph.nodes()) != set(range(n)):
        raise ConfigError("graph nodes must be the integers 0..N-1 to assign personas")
    if strategy == "random":
        return rng.permutation(n).tolist()
    network = Network.of(graph)
    order = np.zeros(n, dtype=np.int64)
    if strategy == "homophily":
        shuffled = rng.permutation(n)
        leaning = np.asarray(
            [LEANINGS.index(v) for v in field_values(personas, "political_leaning")], dtype=int
        )
        country = _ranks(field_values(personas, "country"))
        age = np.asarray(field_values(personas, "age"))
        # a stable sort of the shuffled ids: equal keys keep their shuffled order
        ranked = shuffled[np.lexsort((age[shuffled], country[shuffled], leaning[shuffled]))]
        order[_bfs_order(network, rng)] = ranked
    elif strategy == "by_degree":
        nodes = np.lexsort((rng.random(n), -network.degree))
        rate = np.asarray(field_values(personas, "activity_rate"), dtype=float)
        extraversion = np.asarray(field_values(personas, "big_five.extraversion"), dtype=float)
        ranked = np.lexsort((-extraversion, -rate))
        order[nodes] = ranked
    else:
        raise ConfigError(f"population.assign: {strategy!r} is not one of {', '.join(STRATEGIES)}")
    return order.tolist()


def _ranks(values: list) -> np.ndarray:
    """Each value's rank among the distinct values in sorted order."""
    table = sorted(set(values))
    index = {v: i for i, v in enumerate(table)}
    return np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))


def placed(personas: Sequence[Persona], order: list[int]) -> Iterator[Persona]:
    """The personas in node order, each with `id` set to its node, built one at a time."""
    if isinstance(personas, SampledPersonas):
        yield from personas.take(order)
        return
    for node, i in enumerate(order):
        yield personas[i].model_copy(update={"id": node})


def assign_personas(
    personas: Sequence[Persona],
    graph: nx.Graph | Network,
    strategy: str,
    rng: np.random.Generator,
) -> list[Persona]:
    """Personas re-ordered so that index == node, each with `id` set to its node.

    The strategies are those of :func:`assignment_order`.
    """
    return list(placed(personas, assignment_order(personas, graph, strategy, rng)))


__all__ = [
    "LEANINGS",
    "SPEC_KEYS",
    "STRATEGIES",
    "TRAITS",
    "Population",
    "SampledPersonas",
    "assign_personas",
    "assignment_order",
    "field_values",
    "load_personas",
    "placed",
    "sample_personas",
    "sample_population",
    "save_personas",
]
