import networkx as nx
import pytest

from socialsim.analysis import network


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
