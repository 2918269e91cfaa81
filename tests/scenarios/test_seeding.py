"""Seeding strategies pick the expected nodes on small hand-built graphs."""

import networkx as nx
import numpy as np
import pytest

from socialsim.core.errors import ConfigError
from socialsim.scenarios.seeding import SeedSpec, select, select_nodes


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def core_with_leaves() -> nx.Graph:
    """A 5-clique (nodes 0-4) with one leaf hanging off each clique node (nodes 5-9)."""
    g = nx.complete_graph(5)
    g.add_edges_from((i, i + 5) for i in range(5))
    return g


def test_highest_degree_picks_the_hub_of_a_star():
    assert select_nodes(nx.star_graph(6), 1, "highest_degree", rng()) == [0]


def test_highest_betweenness_picks_the_bridge_of_a_barbell():
    g = nx.barbell_graph(4, 1)  # two 4-cliques joined through node 4
    assert select_nodes(g, 1, "highest_betweenness", rng()) == [4]


def test_k_core_picks_the_core_and_periphery_the_leaves():
    g = core_with_leaves()
    assert sorted(select_nodes(g, 5, "k_core", rng())) == [0, 1, 2, 3, 4]
    assert sorted(select_nodes(g, 5, "periphery", rng())) == [5, 6, 7, 8, 9]
    assert set(select_nodes(nx.star_graph(5), 3, "periphery", rng())) <= {1, 2, 3, 4, 5}


def test_ties_break_at_random_but_reproducibly():
    g = nx.cycle_graph(20)
    a = select_nodes(g, 3, "highest_degree", rng(1))
    assert a == select_nodes(g, 3, "highest_degree", rng(1))
    picks = {tuple(select_nodes(g, 3, "highest_degree", rng(s))) for s in range(10)}
    assert len(picks) > 1


def test_random_respects_exclude_and_count():
    g = nx.path_graph(10)
    chosen = select_nodes(g, 5, "random", rng(), exclude=[0, 1, 2])
    assert len(chosen) == len(set(chosen)) == 5
    assert not set(chosen) & {0, 1, 2}


def test_exclude_moves_to_the_next_best():
    g = nx.star_graph(4)
    g.add_edge(1, 9)
    assert select_nodes(g, 1, "highest_degree", rng(), exclude=[0]) == [1]


def test_ids_and_errors():
    g = nx.path_graph(5)
    assert select_nodes(g, 0, "ids", rng(), ids=[3, 1]) == [3, 1]
    with pytest.raises(ConfigError, match="not free"):
        select_nodes(g, 0, "ids", rng(), ids=[7])
    with pytest.raises(ConfigError, match="only 5 are free"):
        select_nodes(g, 6, "random", rng())
    with pytest.raises(ConfigError, match="not one of"):
        select_nodes(g, 1, "loudest", rng())


def test_seed_spec_sizes():
    assert SeedSpec(count=3).size(100) == 3
    assert SeedSpec(fraction=0.25).size(100) == 25
    assert SeedSpec().size(100, default=2) == 2
    spec = SeedSpec(ids=[1, 2])
    assert spec.strategy == "ids" and spec.size(100) == 2
    assert select(nx.path_graph(4), spec, rng()) == [1, 2]
    with pytest.raises(ValueError):
        SeedSpec(count=1, fraction=0.5)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"strategy": "random", "ids": [1, 2]}, "strategy 'random' would be ignored"),
        ({"strategy": "ids", "ids": [1, 2], "count": 5}, "count or fraction would be ignored"),
        ({"ids": [1, 2], "fraction": 0.5}, "count or fraction would be ignored"),
        ({"ids": [3, 3]}, r"ids \[3, 3\] repeat an agent; name each agent once"),
    ],
)
def test_a_setting_ids_would_override_is_refused_not_ignored(spec, message):
    with pytest.raises(ValueError, match=message):
        SeedSpec.model_validate(spec)
    assert SeedSpec.model_validate({"ids": [1, 2]}).strategy == "ids"  # ids alone: as before
