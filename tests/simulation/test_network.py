"""Graphs from specs: every kind builds, is seeded, and bad specs fail with one line."""

import networkx as nx
import numpy as np
import pytest

from socialsim.core.errors import ConfigError, DataFileError
from socialsim.core.network import Network
from socialsim.core.registry import NETWORKS
from socialsim.simulation.network import build_graph, build_network
from socialsim.simulation.random_graphs import barabasi_albert_edges, erdos_renyi_edges


@pytest.mark.parametrize("kind", [k for k in NETWORKS.names() if k != "file"])
def test_every_generator_gives_n_integer_nodes(kind):
    g = build_graph(kind, 30, {}, seed=1)
    assert sorted(g.nodes()) == list(range(30))
    assert nx.number_of_selfloops(g) == 0


def test_same_seed_same_graph_different_seed_different():
    a = build_graph("erdos_renyi", 50, {"p": 0.1}, seed=3)
    b = build_graph("erdos_renyi", 50, {"p": 0.1}, seed=3)
    c = build_graph("erdos_renyi", 50, {"p": 0.1}, seed=4)
    assert set(a.edges()) == set(b.edges()) and set(a.edges()) != set(c.edges())


def test_stochastic_block_marks_communities():
    g = build_graph("stochastic_block", 20, {"blocks": 2, "p_in": 1.0, "p_out": 0.0}, seed=0)
    assert {g.nodes[i]["community"] for i in range(20)} == {0, 1}
    assert nx.number_connected_components(g) == 2


def test_params_of_other_kinds_are_ignored_and_sections_apply_per_kind():
    g = build_graph("ring", 6, {"k": 4, "p": 0.5}, seed=0)
    assert g.number_of_edges() == 6
    params = {"k": 2, "watts_strogatz": {"k": 4, "p": 0.0}, "barabasi_albert": {"m": 1}}
    assert build_graph("watts_strogatz", 10, params, seed=0).number_of_edges() == 20
    assert build_graph("barabasi_albert", 10, params, seed=0).number_of_edges() == 9


def test_unknown_param_and_bad_value():
    with pytest.raises(
        ConfigError, match=r"network\.params\.q: unknown parameter; allowed for ring"
    ):
        build_graph("ring", 5, {"q": 1}, seed=0)
    with pytest.raises(ConfigError, match=r"network\.params\.ring\.k: unknown for ring"):
        build_graph("ring", 5, {"ring": {"k": 1}}, seed=0)
    with pytest.raises(ConfigError, match=r"network\.params\.m"):
        build_graph("barabasi_albert", 5, {"m": 9}, seed=0)


def test_file_graph_edgelist_and_graphml(tmp_path):
    edges = tmp_path / "g.txt"
    edges.write_text("# comment\n1 2\n2 3\n3 1\n")
    g = build_graph("file", 3, {"path": str(edges)}, seed=0)
    assert sorted(g.nodes()) == [0, 1, 2] and g.number_of_edges() == 3
    gml = tmp_path / "g.graphml"
    nx.write_graphml(nx.path_graph(4), gml)
    assert build_graph("file", 4, {"path": str(gml)}, seed=0).number_of_edges() == 3


def test_file_graph_errors(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        build_graph("file", 3, {"path": str(tmp_path / "x.txt")}, seed=0)
    edges = tmp_path / "g.txt"
    edges.write_text("0 1\n")
    with pytest.raises(DataFileError, match="has 2 nodes but population.size is 5"):
        build_graph("file", 5, {"path": str(edges)}, seed=0)


def test_a_directed_edge_list_keeps_its_direction(tmp_path):
    """As a GraphML file of the same chain does: 0 -> 1 -> 2 -> 3, not both ways."""
    edges = tmp_path / "chain.txt"
    edges.write_text("0 1\n1 2\n2 3\n")
    gml = tmp_path / "chain.graphml"
    nx.write_graphml(nx.DiGraph([(0, 1), (1, 2), (2, 3)]), gml)
    for path in (edges, gml):
        g = build_graph("file", 4, {"path": str(path)}, seed=0, directed=True)
        assert sorted(g.edges()) == [(0, 1), (1, 2), (2, 3)], path
    undirected = build_graph("file", 4, {"path": str(edges)}, seed=0)
    assert not undirected.is_directed() and undirected.number_of_edges() == 3


def test_an_edge_list_with_no_edge_says_how_one_is_written(tmp_path):
    edges = tmp_path / "g.csv"
    edges.write_text("0,1\n1,2\n")
    with pytest.raises(DataFileError, match=r"holds no edge: .*separated by spaces"):
        build_graph("file", 3, {"path": str(edges)}, seed=0)


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("powerlaw_cluster", {"m": 20}, r"network\.params\.m: 20 must be < population\.size"),
        ("grid", {"rows": 3, "cols": 3}, r"rows x cols = 3 x 3 = 9 cells .* at least 20"),
        ("stochastic_block", {"blocks": 30}, r"network\.params\.blocks: 30 .* at most 20"),
    ],
)
def test_parameters_too_large_for_the_population_are_refused(kind, params, message):
    # each gave a graph without a word: no edge, an error about relabelling, empty blocks
    with pytest.raises(ConfigError, match=message):
        build_graph(kind, 20, params, seed=0)


def test_directed_graph_listens_to_in_neighbours():
    net = Network.of(nx.DiGraph([(0, 1), (2, 1), (1, 3)]))
    indptr, indices = net.indptr, net.indices
    assert sorted(indices[indptr[1] : indptr[2]].tolist()) == [0, 2]
    assert indices[indptr[3] : indptr[4]].tolist() == [1]
    assert indptr[1] - indptr[0] == 0


def test_undirected_csr_matches_neighbours():
    g = build_graph("watts_strogatz", 40, {"k": 4, "p": 0.2}, seed=2)
    net = Network.of(g)
    indptr, indices = net.indptr, net.indices
    for v in g.nodes():
        assert np.array_equal(
            np.sort(indices[indptr[v] : indptr[v + 1]]), np.array(sorted(g.neighbors(v)))
        )


def _exact_ba(n: int, m: int) -> dict[frozenset, float]:
    """Probability of every Barabási-Albert graph on n nodes, by enumeration."""
    from collections import Counter
    from fractions import Fraction

    def subsets(ends: list[int]) -> Counter:
        counts, out = Counter(ends), Counter()

        def grow(chosen: frozenset, p: Fraction) -> None:
            if len(chosen) == m:
                out[chosen] += p
                return
            rest = sum(c for v, c in counts.items() if v not in chosen)
            for v, c in counts.items():
                if v not in chosen:
                    grow(chosen | {v}, p * Fraction(c, rest))

        grow(frozenset(), Fraction(1))
        return out

    graphs: Counter = Counter()

    def add(t: int, edges: list, ends: list, p: Fraction) -> None:
        if t == n:
            graphs[frozenset(edges)] += p
            return
        for targets, q in subsets(ends).items():
            add(t + 1, edges + [(t, v) for v in targets], ends + [*targets] + [t] * m, p * q)

    add(m + 1, [(0, i) for i in range(1, m + 1)], [0] * m + list(range(1, m + 1)), Fraction(1))
    return {k: float(v) for k, v in graphs.items()}


@pytest.mark.slow
def test_barabasi_albert_draws_the_textbook_model():
    # every graph on 6 nodes with m=2 (180 of them) comes up as often as the model says
    exact = _exact_ba(6, 2)
    draws = 6000
    seen: dict[frozenset, int] = {}
    for seed in range(draws):
        key = frozenset(map(tuple, barabasi_albert_edges(6, 2, seed).tolist()))
        seen[key] = seen.get(key, 0) + 1
    assert set(seen) <= set(exact)
    chi2 = sum((seen.get(k, 0) - draws * p) ** 2 / (draws * p) for k, p in exact.items())
    assert chi2 < 240  # 179 degrees of freedom: p < 0.002 above this


def test_barabasi_albert_structure_and_seed():
    edges = barabasi_albert_edges(2000, 3, seed=4)
    assert len(edges) == 3 + 3 * (2000 - 4)
    graph = build_graph("barabasi_albert", 2000, {"m": 3}, seed=4)
    assert sorted(map(sorted, graph.edges())) == sorted(map(sorted, edges.tolist()))
    for t in range(4, 2000):  # each joining node: m distinct, earlier neighbours
        assert len([v for v in graph[t] if v < t]) == 3
    assert np.array_equal(barabasi_albert_edges(2000, 3, seed=4), edges)
    assert not np.array_equal(barabasi_albert_edges(2000, 3, seed=5), edges)
    degree = np.bincount(edges.reshape(-1))
    assert degree.max() > 60  # hubs: a power-law tail, not an ER-like spread


def test_erdos_renyi_edge_count_and_pairs():
    n, p = 3000, 0.002  # many pairs: the sparse drawing
    counts = [len(erdos_renyi_edges(n, p, seed)) for seed in range(20)]
    mean, sd = n * (n - 1) / 2 * p, (n * (n - 1) / 2 * p * (1 - p)) ** 0.5
    assert abs(np.mean(counts) - mean) < 4 * sd / np.sqrt(20)
    edges = erdos_renyi_edges(n, p, 1)
    assert (edges[:, 0] < edges[:, 1]).all()
    assert len(np.unique(edges[:, 0] * n + edges[:, 1])) == len(edges)
    hits = np.zeros((20, 20))
    for seed in range(300):  # few pairs: every pair drawn
        for i, j in erdos_renyi_edges(20, 0.3, seed).tolist():
            hits[i, j] += 1
    share = hits[np.triu_indices(20, 1)] / 300
    assert abs(share.mean() - 0.3) < 0.01 and share.min() > 0.15
    assert len(erdos_renyi_edges(30, 1.0, 0)) == 435


@pytest.mark.parametrize("kind", ["barabasi_albert", "erdos_renyi", "stochastic_block", "ring"])
@pytest.mark.parametrize("directed", [False, True])
def test_network_and_its_graph_agree(kind, directed):
    net = build_network(kind, 50, {}, seed=3, directed=directed)
    assert net.kind == kind and net.directed == directed
    graph = net.to_networkx()
    assert graph.is_directed() == directed and sorted(graph.nodes()) == list(range(50))
    assert graph.number_of_edges() == net.n_edges
    copy = Network.from_networkx(graph.copy())  # read back from networkx, not shared
    assert np.array_equal(net.indptr, copy.indptr) and np.array_equal(net.indices, copy.indices)
    assert np.array_equal(net.degree, copy.degree)
    if kind == "stochastic_block":
        community = net.node_values("community").tolist()
        assert community == [graph.nodes[v]["community"] for v in range(50)]
        assert set(community) == {0, 1}


@pytest.mark.parametrize("kind", ["barabasi_albert", "erdos_renyi", "watts_strogatz"])
def test_neighbour_lists_follow_the_graphs_adjacency_order(kind):
    fresh = build_network(kind, 60, {}, seed=2)  # lists from the arrays, no graph built
    indptr, indices = fresh.neighbour_lists()
    graph = build_network(kind, 60, {}, seed=2).to_networkx()
    for v in range(60):
        assert indices[indptr[v] : indptr[v + 1]].tolist() == list(graph[v])
