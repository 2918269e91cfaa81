"""Written files are safe to open: CSV formula cells defused, XML well-formed, exports of many runs.

A run whose persona names and agent messages are spreadsheet formulas and hold control
characters writes CSV tables no spreadsheet runs as formulas (numbers stay numbers) and a
graph.graphml and graph.gexf that networkx reads back; ``socialsim export`` exports every
run of an arms directory.
"""

from __future__ import annotations

import csv
import json

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import socialsim as ss
from socialsim.cli import app
from socialsim.core.csv_safe import FORMULA_STARTS, neutralise_formulas, read_csv, restore_formulas
from socialsim.core.rundata import load_run
from socialsim.experiments.export import export_gexf, export_transcripts, run_dirs
from tests.simulation.test_llm_run import ScriptedClient, _cfg

NAMES = ['=HYPERLINK("http://evil.example","x")', "@SUM(1)", "+1+1", "Ann\x01\x0bBo\x1f", "-2"]
MESSAGE = '=HYPERLINK("http://evil.example","click")'
REASON = "@SUM(A1:A9)"


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """One LLM run (scripted answers) of agents named and talking in formulas."""
    tmp = tmp_path_factory.mktemp("hostile")
    answer = json.dumps(
        {"message": MESSAGE, "to": "all", "beliefs": {"c1": {"reason": REASON, "credence": 0.5}}}
    )
    cfg = _cfg(tmp, size=5, steps=2).with_overrides(["output.formats=[jsonl,csv]"])
    return ss.run(
        cfg,
        out=tmp / "r",
        personas=pd.DataFrame({"name": NAMES}),
        clients={cfg.agents.llm.model_dump_json(): ScriptedClient(lambda r: answer)},
    )


def cells(path):
    """Every cell of a CSV file, as a spreadsheet would read it."""
    with open(path, newline="", encoding="utf-8") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


def test_no_csv_cell_of_a_run_starts_a_formula(hostile_run):
    tables = sorted(hostile_run.dir.rglob("*.csv"))
    assert {"events.csv", "personas.csv", "agents.csv", "steps.csv"} <= {p.name for p in tables}
    for path in tables:
        frame = pd.read_csv(path)
        numeric = {c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])}
        text = [c for c in frame.columns if c not in numeric]
        for column in text:
            values = frame[column].dropna().astype(str)
            assert not values.str.startswith(FORMULA_STARTS).any(), (path.name, column)
    events = cells(hostile_run.dir / "events.csv")
    assert sum(cell == "'" + MESSAGE for cell in events) >= 10  # every message cell, defused
    personas = cells(hostile_run.dir / "personas.csv")
    assert {"'" + NAMES[0], "'@SUM(1)", "'+1+1", "'-2"} <= set(personas)


def test_numeric_columns_stay_numbers_and_text_reads_back_as_written(hostile_run):
    agents = pd.read_csv(hostile_run.dir / "agents.csv")
    assert pd.api.types.is_float_dtype(agents["credence"])
    assert pd.api.types.is_integer_dtype(agents["agent"])
    personas = read_csv(hostile_run.dir / "personas.csv")
    assert personas["name"].tolist()[:3] == NAMES[:3] and personas["name"][4] == "-2"
    assert pd.api.types.is_integer_dtype(personas["age"])
    assert load_run(hostile_run.dir).personas["name"].tolist()[:3] == NAMES[:3]


def test_neutralising_is_exact_to_undo_and_leaves_numbers_alone():
    table = pd.DataFrame(
        {
            "text": ["=1+1", "'=quoted already", "''+2", "plain", "\tTab", "\rCR", None, "-x"],
            "mixed": [{"a": 1}, "=A1", 3, None, "ok", "@x", "-", 1.5],
            "number": [-1.5, 2.0, -3.0, 0.0, 1.0, -0.25, 7.0, 8.0],
            "count": [-1, 2, -3, 0, 1, -2, 7, 8],
            "kind": pd.Categorical(["-a", "b", "-a", "=c", "b", "b", "b", "b"]),
        }
    )
    safe = neutralise_formulas(table)
    assert safe["text"].tolist()[:6] == ["'=1+1", "''=quoted already", "'''+2", "plain", "'\tTab", "'\rCR"]  # fmt: skip
    assert safe["text"][7] == "'-x" and pd.isna(safe["text"][6])
    assert safe["mixed"].tolist()[:3] == [{"a": 1}, "'=A1", 3] and safe["mixed"][5] == "'@x"
    assert safe["number"].equals(table["number"]) and safe["count"].equals(table["count"])
    assert set(safe["kind"].cat.categories) == {"'-a", "b", "'=c"}
    back = restore_formulas(safe)
    assert back["text"].tolist()[:6] == table["text"].tolist()[:6]
    assert back["mixed"].tolist() == table["mixed"].tolist()
    assert list(back["kind"]) == list(table["kind"])
    assert table["text"][0] == "=1+1"  # the caller's table is not changed


def test_graphml_and_gexf_of_control_character_names_read_back(hostile_run):
    graph = nx.read_graphml(hostile_run.dir / "graph.graphml", node_type=int)
    assert graph.nodes[3]["name"] == "AnnBo"  # the forbidden characters dropped
    assert graph.nodes[0]["name"] == NAMES[0]
    path = export_gexf(hostile_run.dir)
    gexf = nx.read_gexf(path)
    assert sorted(data["name"] for _, data in gexf.nodes(data=True)) == sorted(
        [NAMES[0], "@SUM(1)", "+1+1", "AnnBo", "-2"]
    )


def test_graphml_keeps_tabs_newlines_and_carriage_returns(tmp_path):
    from socialsim.simulation.graphml import write_graphml

    names = ["a\tb\nc\r\nd", "e\x00f\ufffeg", "\x1bh"]
    edges = np.zeros((0, 2), dtype=np.int64)
    write_graphml(tmp_path / "g.graphml", 3, edges, pd.DataFrame({"name": names}), False)
    graph = nx.read_graphml(tmp_path / "g.graphml", node_type=int)
    assert [graph.nodes[i]["name"] for i in range(3)] == ["a\tb\nc\r\nd", "efg", "h"]


def test_graphml_types_a_category_column_by_the_values_in_use(tmp_path):
    from socialsim.simulation.graphml import write_graphml

    nodes = pd.DataFrame(
        {
            "group": pd.Categorical.from_codes([0, 1, -1, 0], categories=["a&<b>", "c", "d"]),
            "level": pd.Categorical.from_codes([0, 1, 1, -1], categories=[3, 7, "never used"]),
            "flag": pd.Categorical.from_codes([1, 0, -1, 1], categories=[False, True]),
            "note": pd.Series(['say "hi"', None, "plain", "x\x01y"], dtype=object),
        }
    )
    path = tmp_path / "g.graphml"
    write_graphml(path, 4, np.array([[0, 1], [1, 2], [2, 3]]), nodes, False)
    text = path.read_text(encoding="utf-8")
    assert 'attr.name="level" attr.type="long"' in text  # "never used" is in no row
    assert 'attr.name="flag" attr.type="boolean"' in text
    graph = nx.read_graphml(path, node_type=int)
    assert graph.nodes[0] == {"group": "a&<b>", "level": 3, "flag": True, "note": 'say "hi"'}
    assert graph.nodes[1] == {"group": "c", "level": 7, "flag": False}
    assert graph.nodes[2] == {"level": 7, "note": "plain"}  # missing values: no data element
    assert graph.nodes[3] == {"group": "a&<b>", "flag": True, "note": "xy"}


@pytest.mark.slow
def test_export_of_an_arms_directory_exports_every_run(tmp_path, rule_cfg):
    cfg = rule_cfg(replicates=2, steps=2)
    arms = ss.run(cfg, out=tmp_path / "arms")
    runs = run_dirs(arms.dir)
    assert len(runs) == 2 and all((r / "events.jsonl").is_file() for r in runs)
    result = CliRunner().invoke(app, ["export", str(arms.dir), "--what", "gexf"])
    assert result.exit_code == 0, result.output
    assert all((r / "graph.gexf").is_file() for r in runs)
    assert "exported gexf of 2 runs" in result.output
    result = CliRunner().invoke(app, ["export", str(arms.dir)])
    assert result.exit_code == 0 and all((r / "transcripts").is_dir() for r in runs)
    assert export_transcripts(runs[0]).parent == runs[0]


def test_export_of_a_folder_without_runs_is_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(app, ["export", str(tmp_path / "empty")])
    assert result.exit_code != 0
    assert "holds no run" in str(result.exception) and not list((tmp_path / "empty").iterdir())
