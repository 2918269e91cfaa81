"""The column-wise GraphML writer reads back through networkx as networkx's own writer does."""

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from socialsim.simulation.graphml import write_graphml


@pytest.mark.parametrize("directed", [False, True])
def test_round_trip_through_networkx(tmp_path, directed):
    nodes = pd.DataFrame(
        {
            "name": ['Ana <b>"x"</b> & co', "Bo", "Cé"],
            "age": [30, 41, 52],
            "credulity": [0.25, 0.5, 1 / 3],
            "present": [True, False, True],
            "scenario_role": [None, "attacker", None],
            "community": pd.array([1, None, 2], dtype="Int64"),
            "credence.c1": [0.1, float("nan"), 1.0],
        }
    )
    edges = np.array([[0, 1], [1, 2], [2, 0]])
    path = tmp_path / "g.graphml"
    write_graphml(path, 3, edges, nodes, directed)
    g = nx.read_graphml(path, node_type=int)
    assert g.is_directed() == directed
    assert (
        sorted(g.edges()) == sorted(map(tuple, edges.tolist()))
        or not directed
        and ({frozenset(e) for e in g.edges()} == {frozenset(e) for e in edges.tolist()})
    )
    assert g.nodes[0] == {
        "name": 'Ana <b>"x"</b> & co', "age": 30, "credulity": 0.25, "present": True,
        "community": 1, "credence.c1": 0.1,
    }  # fmt: skip
    assert g.nodes[1] == {
        "name": "Bo", "age": 41, "credulity": 0.5, "present": False, "scenario_role": "attacker",
    }  # fmt: skip
    assert g.nodes[2]["credulity"] == 1 / 3  # floats keep every digit
    reference = tmp_path / "ref.graphml"
    expected = nx.DiGraph() if directed else nx.Graph()
    expected.add_nodes_from(range(3))
    expected.add_edges_from(edges.tolist())
    for i, row in nodes.astype(object).iterrows():
        expected.nodes[i].update({k: v for k, v in row.items() if not pd.isna(v)})
    nx.write_graphml(expected, reference)
    ref = nx.read_graphml(reference, node_type=int)
    assert dict(ref.nodes(data=True)) == dict(g.nodes(data=True))
