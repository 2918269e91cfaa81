"""Network: edge arrays, listening lists, sampling, sub-networks, node table, saved state."""

import json

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from socialsim.core.network import Network
from socialsim.experiments.state_codec import Decoder, Encoder


def _lists(network: Network) -> list[list[int]]:
    """Whom each node listens to, as Python lists."""
    return [network.neighbours(v).tolist() for v in range(network.n)]


@pytest.mark.parametrize(
    "graph",
    [
        nx.karate_club_graph(),
        nx.gnp_random_graph(40, 0.1, seed=1, directed=True),
        nx.MultiGraph([(0, 1), (0, 1), (1, 2), (2, 2)]),
        nx.Graph([(0, 1), (1, 1), (1, 2)]),
    ],
    ids=["undirected", "directed", "multigraph", "self-loop"],
)
def test_degrees_and_edges_count_as_networkx_counts_them(graph):
    network = Network.of(graph)
    assert network.n == graph.number_of_nodes() and network.n_edges == graph.number_of_edges()
    assert network.degree.tolist() == [d for _, d in graph.degree(range(network.n))]
    assert Network.of(network) is network


def test_lists_are_in_neighbours_when_directed_and_neighbours_otherwise():
    directed = Network.from_edges(4, np.array([[0, 1], [2, 1], [1, 3], [3, 1]]), directed=True)
    assert _lists(directed) == [[], [0, 2, 3], [], [1]]
    assert directed.listen_degree.tolist() == [0, 3, 0, 1]
    assert directed.rows.tolist() == [1, 1, 1, 3]
    undirected = Network.from_edges(4, np.array([[2, 0], [0, 1], [3, 2]]))
    assert _lists(undirected) == [[1, 2], [0], [0, 3], [2]]
    loop = Network.of(nx.Graph([(0, 1), (1, 1)]))
    assert _lists(loop) == [[1], [0, 1]]  # a loop: the node listens to itself once


def test_nodes_numbered_in_another_order_keep_their_ids_and_labels_are_kept():
    shuffled = nx.Graph()
    shuffled.add_nodes_from([(2, {"x": "c"}), (0, {"x": "a"}), (1, {"x": "b"})])
    shuffled.add_edges_from([(2, 0), (0, 1)])
    network = Network.of(shuffled)
    assert network.nodes is None and _lists(network) == [[1, 2], [0], [0]]
    assert network.node_values("x").tolist() == ["a", "b", "c"]
    labelled = nx.relabel_nodes(shuffled, {0: "zero", 1: "one", 2: "two"})
    network = Network.of(labelled)
    assert network.nodes == ["two", "zero", "one"]  # numbered in list(graph) order
    assert network.node_values("x").tolist() == ["c", "a", "b"]
    assert sorted(network.to_networkx().edges()) == sorted(labelled.edges())


def test_random_neighbours_are_uniform_over_whom_each_agent_listens_to():
    star = Network.of(nx.star_graph(4))  # hub 0 listens to 1..4
    rng = np.random.default_rng(0)
    picks = star.random_neighbours(np.zeros(40_000, dtype=np.int64), rng.random((40_000, 1)))
    counts = np.bincount(picks[:, 0], minlength=5)
    assert counts[0] == 0
    expected = 10_000
    chi2 = float((((counts[1:] - expected) ** 2) / expected).sum())
    assert chi2 < 16.3  # 3 degrees of freedom: p = 0.001
    leaves = star.random_neighbours(np.arange(1, 5), rng.random((4, 3)))
    assert (leaves == 0).all()  # a leaf's only neighbour is the hub


def test_row_sum_adds_each_entrys_value_to_its_node():
    network = Network.of(nx.path_graph(4))  # lists: [1], [0, 2], [1, 3], [2]
    values = np.arange(4, dtype=float)[network.indices][:, None]
    assert network.row_sum(values)[:, 0].tolist() == [1.0, 2.0, 4.0, 2.0]


def test_listening_lists_are_kept_as_given_and_make_the_edges():
    indptr = np.array([0, 2, 3, 3])
    indices = np.array([2, 1, 0], dtype=np.int32)  # row 0 unsorted, kept so
    network = Network.listening(indptr, indices)
    assert network.indptr is indptr and network.indices is indices
    assert network.directed and network.n == 3
    assert network.src.tolist() == [2, 1, 0] and network.dst.tolist() == [0, 0, 1]
    assert network.listen_degree.tolist() == [2, 1, 0]
    assert network.degree.tolist() == [3, 2, 1]


@pytest.mark.parametrize("directed", [False, True])
def test_without_absent_nodes_drops_their_edges_and_keeps_list_order(directed):
    graph = nx.gnp_random_graph(60, 0.1, seed=3, directed=directed)
    network = Network.of(graph)
    absent = np.zeros(60, dtype=bool)
    absent[[4, 17, 33]] = True
    fewer = network.without(absent)
    kept = [(u, v) for u, v in graph.edges() if not absent[u] and not absent[v]]
    assert fewer.n == 60 and fewer.n_edges == len(kept)
    assert sorted(zip(fewer.src.tolist(), fewer.dst.tolist(), strict=True)) == sorted(kept)
    fresh = Network(60, fewer.src, fewer.dst, directed)
    assert _lists(fewer) == _lists(fresh)
    assert fewer.listen_degree.tolist() == fresh.listen_degree.tolist()
    reversed_rows = np.concatenate([network.neighbours(v)[::-1] for v in range(60)])
    lists = Network.listening(network.indptr.copy(), reversed_rows)
    lists_fewer = lists.without(absent)
    for v in np.flatnonzero(~absent).tolist():
        row = lists.neighbours(v)
        assert lists_fewer.neighbours(v).tolist() == row[~absent[row]].tolist()


def test_with_attributes_shares_the_edges_and_builds_a_graph_with_them():
    network = Network.from_edges(3, np.array([[0, 1], [1, 2]]), kind="ring")
    indptr = network.indptr
    table = pd.DataFrame({"party": ["a", None, "b"], "age": [30, 40, 50]})
    other = network.with_attributes(table)
    assert other.indptr is indptr and other.src is network.src and other.kind == "ring"
    assert network.attributes is None and other.node_values("party").isna().tolist() == [
        False,
        True,
        False,
    ]
    graph = other.to_networkx()
    assert graph.nodes[0] == {"party": "a", "age": 30} and graph.nodes[1] == {"age": 40}
    assert graph.graph["kind"] == "ring" and sorted(graph.edges()) == [(0, 1), (1, 2)]
    assert other.scalar_attributes() == ["age"]  # party is missing at node 1


def test_neighbour_lists_follow_the_graphs_adjacency_order():
    graph = nx.DiGraph([(0, 2), (1, 0), (0, 1), (3, 0)])
    indptr, indices = Network.of(graph).neighbour_lists()
    undirected = graph.to_undirected(as_view=True)
    for v in range(4):
        assert indices[indptr[v] : indptr[v + 1]].tolist() == list(undirected[v])
    edges = np.array([[0, 2], [1, 0], [3, 0], [2, 1]])
    indptr, indices = Network.from_edges(4, edges).neighbour_lists()  # from the arrays
    built = nx.Graph(edges.tolist())
    assert indices[indptr[0] : indptr[1]].tolist() == [2, 1, 3]
    for v in range(4):
        assert indices[indptr[v] : indptr[v + 1]].tolist() == list(built[v])


def test_saved_state_restores_edges_node_table_and_lists():
    network = Network.from_edges(
        4, np.array([[0, 1], [1, 2], [3, 2]]), attributes={"community": [0, 0, 1, 1]}, kind="sbm"
    )
    network.to_networkx()  # a cached graph is not saved
    indptr = network.indptr
    encoder = Encoder({})
    tree = json.loads(json.dumps(encoder.encode(network)))
    restored = Decoder(encoder.arrays.__getitem__, lambda name: None).decode(tree)
    assert type(restored) is Network and restored._graph is None
    assert restored.edges.tolist() == network.edges.tolist() and restored.kind == "sbm"
    assert restored.node_values("community").tolist() == [0, 0, 1, 1]
    assert np.array_equal(restored.indptr, indptr) and _lists(restored) == _lists(network)
