"""`socialsim export --what gexf` of a run without graph.graphml builds its graph from
edges.parquet and the personas, as `--what graphml` does."""

from __future__ import annotations

import shutil

import networkx as nx
import pytest

import socialsim as ss
from socialsim.core.errors import DataFileError
from socialsim.experiments.export import export_gexf
from tests.cli_in_process import run_cli

CONFIG = {
    "name": "gexf",
    "seed": 2,
    "steps": 3,
    "population": {"size": 40},
    "network": {"kind": "barabasi_albert", "params": {"m": 2}},
    "agents": {"policy": "degroot"},
    "claims": [{"id": "c1", "text": "The river is poisoned.", "truth": False}],
    "output": {"report": False},
}


def same_graph(a: nx.Graph, b: nx.Graph) -> None:
    assert dict(a.nodes(data=True)) == dict(b.nodes(data=True))
    assert sorted(map(sorted, a.edges())) == sorted(map(sorted, b.edges()))


@pytest.fixture(scope="module")
def kept(tmp_path_factory):
    """A run that kept graph.graphml, and the GEXF exported from it."""
    root = tmp_path_factory.mktemp("kept")
    run = ss.run(ss.ExperimentConfig.from_dict(CONFIG), out=root / "run").dir
    assert (run / "graph.graphml").is_file()
    graph = nx.read_gexf(export_gexf(run))
    assert all("name" in data for _, data in graph.nodes(data=True))  # personas as attributes
    return graph


def test_a_run_above_the_graphml_cap_exports_gexf_from_the_cli(tmp_path, kept):
    over = {**CONFIG, "output": {"report": False, "graphml_max_agents": 10}}
    run = ss.run(ss.ExperimentConfig.from_dict(over), out=tmp_path / "run").dir
    assert not (run / "graph.graphml").exists()
    done = run_cli("export", str(run), "--what", "gexf")
    assert done.code == 0, done.err
    gexf = nx.read_gexf(run / "graph.gexf")
    assert gexf.number_of_nodes() == 40 and gexf.number_of_edges() > 0
    same_graph(gexf, kept)
    assert not (run / "graph.graphml").exists()  # nothing else written into the run


def test_a_run_whose_graph_graphml_is_missing_exports_the_same_gexf(tmp_path, kept):
    run = ss.run(ss.ExperimentConfig.from_dict(CONFIG), out=tmp_path / "run").dir
    (run / "graph.graphml").unlink()
    same_graph(nx.read_gexf(export_gexf(run, tmp_path / "out.gexf")), kept)


def test_a_run_with_no_network_at_all_is_refused(tmp_path):
    run = ss.run(ss.ExperimentConfig.from_dict(CONFIG), out=tmp_path / "run").dir
    shutil.copytree(run, tmp_path / "bare")
    for name in ("graph.graphml", "edges.parquet"):
        (tmp_path / "bare" / name).unlink()
    with pytest.raises(DataFileError, match="holds no network"):
        export_gexf(tmp_path / "bare")
    assert not (tmp_path / "bare" / "graph.gexf").exists()
