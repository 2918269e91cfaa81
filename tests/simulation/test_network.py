"""Graphs from specs: every kind builds, is seeded, and bad specs fail with one line."""

import networkx as nx
import numpy as np
import pytest

from socialsim.errors import ConfigError, DataFileError
from socialsim.simulation.config import NETWORK_KINDS
from socialsim.simulation.network import build_graph, listen_csr


@pytest.mark.parametrize("kind", [k for k in NETWORK_KINDS if k != "file"])
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


def test_directed_graph_listens_to_in_neighbours():
    g = nx.DiGraph([(0, 1), (2, 1), (1, 3)])
    indptr, indices = listen_csr(g)
    assert sorted(indices[indptr[1] : indptr[2]].tolist()) == [0, 2]
    assert indices[indptr[3] : indptr[4]].tolist() == [1]
    assert indptr[1] - indptr[0] == 0


def test_undirected_csr_matches_neighbours():
    g = build_graph("watts_strogatz", 40, {"k": 4, "p": 0.2}, seed=2)
    indptr, indices = listen_csr(g)
    for v in g.nodes():
        assert np.array_equal(
            np.sort(indices[indptr[v] : indptr[v + 1]]), np.array(sorted(g.neighbors(v)))
        )
