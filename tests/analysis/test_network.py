import networkx as nx
import numpy as np
import pandas as pd
import pytest

from socialsim.analysis import network
from socialsim.core.network import Network


def test_friendship_paradox_on_star():
    star = nx.star_graph(4)  # hub 0 with 4 leaves
    table = network.friendship_paradox(star).set_index("agent")
    assert table.loc[0, "degree"] == 4 and table.loc[0, "mean_neighbour_degree"] == 1
    assert table.loc[1, "degree"] == 1 and table.loc[1, "mean_neighbour_degree"] == 4
    summary = network.friendship_paradox_summary(star)
    assert summary["share"] == pytest.approx(0.8)
    assert summary["mean_degree"] == pytest.approx(1.6)
    assert summary["mean_neighbour_degree"] == pytest.approx(3.4)


def test_friendship_paradox_absent_on_regular_graph():
    assert network.friendship_paradox_summary(nx.cycle_graph(6))["share"] == 0.0


def test_degree_distribution():
    table = network.degree_distribution(nx.star_graph(4))
    assert table["degree"].tolist() == [1, 4]
    assert table["count"].tolist() == [4, 1]
    assert table["share"].tolist() == [0.8, 0.2]


def test_average_path_length_exact_and_sampled():
    assert network.average_path_length(nx.path_graph(4)) == pytest.approx(10 / 6)
    graph = nx.disjoint_union(nx.path_graph(4), nx.path_graph(2))
    assert network.average_path_length(graph) == pytest.approx(10 / 6)  # largest component
    big = nx.cycle_graph(400)
    exact = nx.average_shortest_path_length(big)
    assert network.average_path_length(big, max_sources=50) == pytest.approx(exact)


def test_homophily_on_assorted_graph():
    graph = nx.disjoint_union(nx.complete_graph(4), nx.complete_graph(4))
    graph.add_edge(0, 4)
    for node in graph.nodes:
        graph.nodes[node]["country"] = "A" if node < 4 else "B"
        graph.nodes[node]["name"] = f"n{node}"
    out = network.homophily(graph)
    assert set(out) == {"country"}
    assert out["country"] > 0.8
    assert network.homophily(graph, ["missing"]) == {"missing": None}


def test_network_summary_keys():
    out = network.network_summary(nx.star_graph(4))
    assert out["n_nodes"] == 5 and out["n_edges"] == 4
    assert out["clustering"] == 0.0
    assert out["degree_assortativity"] == pytest.approx(-1.0)
    assert out["friendship_paradox.share"] == pytest.approx(0.8)


# --- exact values against networkx and by hand ------------------------------------------------


def _random_graphs():
    """Graphs of 10-300 nodes: undirected, directed, with a self-loop, with string labels."""
    out = []
    for seed in range(4):
        out.append(nx.barabasi_albert_graph(40 + 60 * seed, 1 + seed, seed=seed))
        out.append(nx.powerlaw_cluster_graph(30 + 90 * seed, 2, 0.6, seed=seed))
        out.append(nx.gnp_random_graph(10 + 60 * seed, 0.08, seed=seed, directed=True))
    looped = nx.watts_strogatz_graph(120, 4, 0.2, seed=5)
    looped.add_edge(3, 3)
    out.append(looped)
    out.append(nx.relabel_nodes(nx.erdos_renyi_graph(50, 0.15, seed=6), lambda v: f"n{v}"))
    for g in out:
        rng = np.random.default_rng(len(g))
        for v in g.nodes:
            g.nodes[v]["group"] = str(rng.choice(["a", "b", "c"]))
            g.nodes[v]["score"] = float(rng.random() + (hash(str(v)) % 3))
            g.nodes[v]["level"] = int(rng.integers(0, 4))
    return out


@pytest.mark.parametrize(
    "graph",
    [pytest.param(g, marks=pytest.mark.slow) if len(g) >= 200 else g for g in _random_graphs()],
    ids=lambda g: f"n{len(g)}",
)
def test_measures_equal_networkx(graph):
    und = graph.to_undirected() if graph.is_directed() else graph
    got = network.clustering(graph)
    assert got["clustering"] == pytest.approx(nx.average_clustering(und), abs=1e-12)
    assert got["transitivity"] == pytest.approx(nx.transitivity(und), abs=1e-12)
    assert got["clustering_sampled_nodes"] is None
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = nx.degree_assortativity_coefficient(graph)
    got_r = network.degree_assortativity(graph)
    assert (got_r is None and np.isnan(expected)) or got_r == pytest.approx(expected, abs=1e-9)
    h = network.homophily(graph)
    assert h["group"] == pytest.approx(nx.attribute_assortativity_coefficient(graph, "group"))
    distinct = len(set(nx.get_node_attributes(graph, "score").values()))
    numeric = nx.numeric_assortativity_coefficient if distinct > 10 else None
    expected = (numeric or nx.attribute_assortativity_coefficient)(graph, "score")
    assert h["score"] == pytest.approx(expected)  # more than 10 distinct numbers: Pearson
    assert h["level"] == pytest.approx(nx.attribute_assortativity_coefficient(graph, "level"))
    comps = list(nx.connected_components(und))
    assert network.components(graph) == {
        "n_components": len(comps),
        "largest_component_share": max(map(len, comps)) / len(graph),
    }
    largest = und.subgraph(max(comps, key=len))
    assert network.average_path_length(graph) == pytest.approx(
        nx.average_shortest_path_length(largest)
    )
    table = network.friendship_paradox(graph).set_index("agent")
    degree = dict(graph.degree())
    for v in graph.nodes:
        nbrs = list(graph.neighbors(v))
        expected = np.mean([degree[u] for u in nbrs]) if nbrs else np.nan
        assert table.loc[v, "degree"] == degree[v]
        assert table.loc[v, "mean_neighbour_degree"] == pytest.approx(expected, nan_ok=True)


def test_clustering_by_hand():
    # triangle 0-1-2 with a pendant 3 on node 2: local 1, 1, 1/3, 0; 3 triangles / 5 wedges
    graph = nx.Graph([(0, 1), (1, 2), (0, 2), (2, 3)])
    out = network.clustering(graph)
    assert out["clustering"] == pytest.approx((1 + 1 + 1 / 3) / 4)
    assert out["transitivity"] == pytest.approx(3 / 5)
    assert network.clustering(nx.star_graph(5))["clustering"] == 0.0


def test_categorical_homophily_by_hand():
    # path a-a-b: edge ends (both ways) a-a twice, a-b once, b-a once -> e_aa = 1/2,
    # e_ab = e_ba = 1/4; a = b = (3/4, 1/4): r = (1/2 - 5/8) / (1 - 5/8) = -1/3
    graph = nx.path_graph(3)
    nx.set_node_attributes(graph, {0: "a", 1: "a", 2: "b"}, "side")
    assert network.homophily(graph)["side"] == pytest.approx(-1 / 3)
    nx.set_node_attributes(graph, "a", "same")
    assert network.homophily(graph, ["same", "absent"]) == {"same": None, "absent": None}


def test_homophily_from_arrays_and_node_table():
    graph = _random_graphs()[1]
    table = pd.DataFrame([graph.nodes[v] for v in range(len(graph))])
    src, dst = np.array(list(graph.edges())).T
    arrays = Network(len(graph), src, dst, attributes=table)
    assert network.homophily(arrays) == pytest.approx(network.homophily(graph))
    assert set(network.homophily(arrays)) == {"group", "level", "score"}


def test_clustering_sampled_above_cap():
    graph = nx.powerlaw_cluster_graph(3000, 3, 0.5, seed=1)
    exact = network.clustering(graph)
    sampled = network.clustering(graph, exact_max_nodes=1000, sample_nodes=1500, seed=2)
    assert sampled["clustering_sampled_nodes"] == 1500
    assert sampled["transitivity_sampled_wedges"] == network.TRANSITIVITY_SAMPLE_WEDGES
    assert sampled["clustering"] == pytest.approx(exact["clustering"], abs=0.03)
    assert sampled["transitivity"] == pytest.approx(exact["transitivity"], abs=0.01)
    again = network.clustering(graph, exact_max_nodes=1000, sample_nodes=1500, seed=2)
    assert again == sampled  # seeded


def test_path_length_sampled_sources_are_reported():
    ring = nx.cycle_graph(500)  # every source has the same mean distance
    out = network.path_length(ring, max_sources=100)
    assert out["average_path_length_sources"] == 100
    assert out["average_path_length"] == pytest.approx(nx.average_shortest_path_length(ring))
    small = network.path_length(nx.path_graph(4))
    assert small == {"average_path_length": pytest.approx(10 / 6), "average_path_length_sources": 4}
    budget = network.path_length(ring, max_sources=400, max_visits=1)
    assert budget["average_path_length_sources"] == 64  # the floor of one batch


def test_network_summary_on_empty_and_isolated_graphs():
    assert network.network_summary(nx.Graph()) == {"n_nodes": 0, "n_edges": 0}
    out = network.network_summary(nx.empty_graph(3))
    assert out["n_components"] == 3 and out["average_path_length"] is None
    assert out["degree_assortativity"] is None and out["friendship_paradox.share"] is None


@pytest.mark.parametrize("directed", [False, True])
def test_homophily_in_chunks_equals_networkx(monkeypatch, directed):
    from socialsim.analysis import network_assortativity

    rng = np.random.default_rng(11)
    graph = nx.gnp_random_graph(300, 0.03, seed=4, directed=directed)
    for v in graph.nodes:
        graph.nodes[v].update(
            group=["a", "b", "c"][int(rng.integers(3))],
            flag=bool(rng.random() < 0.4),
            stamp=1.7e9 + float(rng.normal()),  # far from zero: the moments must keep precision
            level=int(rng.integers(5)),
        )
        if rng.random() < 0.7:  # carried by some nodes only
            graph.nodes[v]["rank"] = float(rng.normal())
    whole = network.homophily(graph, ["group", "flag", "stamp", "level", "rank"])
    monkeypatch.setattr(network_assortativity, "CHUNK", 7)
    chunked = network.homophily(graph, ["group", "flag", "stamp", "level", "rank"])
    assert chunked == pytest.approx(whole, abs=1e-12)
    carried = graph.subgraph([v for v in graph if "rank" in graph.nodes[v]])
    for name, nx_r, g in (
        ("group", nx.attribute_assortativity_coefficient, graph),
        ("flag", nx.attribute_assortativity_coefficient, graph),
        ("level", nx.attribute_assortativity_coefficient, graph),
        ("rank", nx.numeric_assortativity_coefficient, carried),
    ):
        assert whole[name] == pytest.approx(nx_r(g, name), abs=1e-9), name
    # networkx loses these to rounding; the Pearson correlation across edge ends, two-pass
    edges = list(graph.edges()) + ([] if directed else [(b, a) for a, b in graph.edges()])
    stamps = np.array([[graph.nodes[a]["stamp"], graph.nodes[b]["stamp"]] for a, b in edges])
    assert whole["stamp"] == pytest.approx(np.corrcoef(stamps.T)[0, 1], abs=1e-9)
