"""Exports of many runs: one events, agents or measures table of an arms or sweep directory,
equal to the runs read one by one, with the columns that say which run a row is from."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

import socialsim as ss
from socialsim.cli import app
from socialsim.core.csv_safe import read_csv
from socialsim.core.event_tables import typed_events
from socialsim.core.rundata import load_run
from socialsim.experiments.export import export
from socialsim.experiments.export_tables import labelled_runs
from socialsim.simulation.config import ExperimentConfig

pytestmark = pytest.mark.slow  # module fixtures build whole runs


def _cfg(tmp, **over):
    data = {
        "name": "exp",
        "seed": 3,
        "steps": 3,
        "population": {"size": 16},
        "network": {"kind": "barabasi_albert", "params": {"m": 2}},
        "agents": {"policy": "independent_cascade", "params": {"p": 0.4}},
        "scenario": {
            "kind": "misinformation",
            "params": {"claim": "australia_capital", "attackers": {"count": 2}},
        },
        "output": {"dir": str(tmp / "runs"), "report": False},
    }
    cfg = ExperimentConfig.from_dict(data)
    return cfg.with_overrides(over) if over else cfg


@pytest.fixture(scope="module")
def arms_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export_arms")
    return ss.run(_cfg(tmp, replicates=2, control=True), out=tmp / "a").dir


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export_sweep")
    grid = {"agents.params.p": [0.2, 0.6]}
    ss.sweep(_cfg(tmp, replicates=2), grid=grid, out=tmp / "s", executor="serial", report=False)
    return tmp / "s"


def _expected(root, what):
    """The runs' tables read one by one by load_run, behind their identifying columns."""
    parts = []
    for run in labelled_runs(root):
        data = load_run(run.path)
        table = (data.events if what == "events" else data.agents).reset_index(drop=True)
        for key, value in reversed(run.labels.items()):
            table.insert(0, key, value)
        parts.append(table)
    return pd.concat(parts, ignore_index=True)


def _plain(table):
    """Every cell as a Python value, missing ones as None (tables read from files differ
    only in how they mark a missing value and in int against float)."""
    return table.astype(object).where(table.notna(), None).reset_index(drop=True)


def _same(got, want):
    assert set(got.columns) == set(want.columns)
    pd.testing.assert_frame_equal(_plain(got[list(want.columns)]), _plain(want), check_dtype=False)


def test_arms_events_one_parquet_table_equal_to_the_runs(arms_dir):
    path = export(arms_dir, "events", "parquet")[0]
    assert path == arms_dir / "export-events.parquet"
    got = typed_events(pd.read_parquet(path))
    want = _expected(arms_dir, "events")
    assert len(got) == len(want) > 0
    assert list(got.columns[:3]) == ["arm", "seed", "run_dir"]
    counts = got.groupby(["arm", "seed"]).size()
    assert set(counts.index) == {(a, s) for a in ("treatment", "control") for s in (3, 4)}
    _same(got, want)


def test_arms_agents_csv_and_measures_rows(arms_dir, tmp_path):
    path = export(arms_dir, "agents", "csv", out=tmp_path / "agents.csv")[0]
    got = read_csv(path)
    want = _expected(arms_dir, "agents")
    assert len(got) == len(want) > 0
    _same(got, want)
    measures = read_csv(export(arms_dir, "measures", "csv", out=tmp_path / "m.csv")[0])
    results = read_csv(arms_dir / "results.csv")
    assert len(measures) == 4
    assert set(zip(measures["arm"], measures["seed"], strict=True)) == set(
        zip(results["arm"], results["seed"], strict=True)
    )
    key = next(c for c in results.columns if c.endswith("final_reach"))
    by_run = measures.set_index("run_dir")[key]
    assert by_run.to_dict() == pytest.approx(results.set_index("run_dir")[key].to_dict())


def test_sweep_events_one_table_with_cell_parameter_arm_and_seed(sweep_dir, tmp_path):
    path = export(sweep_dir, "events", "jsonl", out=tmp_path / "e.jsonl")[0]
    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    want = _expected(sweep_dir, "events")
    assert len(rows) == len(want) > 0
    got = pd.DataFrame(rows)
    assert list(got.columns[:5]) == ["cell", "agents.params.p", "arm", "seed", "run_dir"]
    assert set(zip(got["cell"], got["seed"], strict=True)) == {(0, 3), (0, 4), (1, 3), (1, 4)}
    assert set(got["agents.params.p"]) == {0.2, 0.6}
    pd.testing.assert_series_equal(got["step"], want["step"], check_dtype=False)
    parquet = typed_events(pd.read_parquet(export(sweep_dir, "events", "parquet")[0]))
    _same(parquet, want)
    csv = typed_events(read_csv(export(sweep_dir, "events", "csv", out=tmp_path / "e.csv")[0]))
    _same(csv, want)


def test_cli_export_bad_input_is_one_line_and_keeps_files(arms_dir, tmp_path):
    runner = CliRunner()
    out = tmp_path / "m.parquet"
    ok = runner.invoke(app, ["export", str(arms_dir), "--what", "measures", "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    before = out.read_bytes()
    again = runner.invoke(app, ["export", str(arms_dir), "--what", "measures", "--out", str(out)])
    assert again.exit_code != 0 and "--force" in str(again.exception)
    assert out.read_bytes() == before
    forced = ["export", str(arms_dir), "--what", "measures", "--out", str(out), "--force"]
    assert runner.invoke(app, forced).exit_code == 0
    for argv, words in (
        (["--what", "votes"], "--what 'votes'"),
        (["--what", "events", "--format", "xlsx"], "--format 'xlsx'"),
        (["--what", "gexf", "--format", "csv"], "--format applies"),
    ):
        result = runner.invoke(app, ["export", str(arms_dir), *argv])
        assert result.exit_code != 0 and words in str(result.exception), argv
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "notes.txt").write_text("x")
    result = runner.invoke(app, ["export", str(tmp_path / "plain"), "--what", "events"])
    assert "not a run, arms or sweep directory" in str(result.exception)


def test_graphs_one_file_per_run_in_a_folder(arms_dir, tmp_path):
    paths = export(arms_dir, "graphml", out=tmp_path / "g")
    assert sorted(p.name for p in paths) == sorted(
        f"{a}-s{s}.graphml" for a in ("treatment", "control") for s in (3, 4)
    )
    import networkx as nx

    graph = nx.read_graphml(paths[0], node_type=int)
    assert graph.number_of_nodes() == load_run(arms_dir / "treatment" / "s3").n_agents
    folders = export(arms_dir, "transcripts", out=tmp_path / "t")
    assert all(f.parent == tmp_path / "t" and f.is_dir() for f in folders) and len(folders) == 4
