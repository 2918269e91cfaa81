"""The record written a chunk at a time and read on demand equals the record held whole."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import socialsim as ss
from socialsim.analysis.credences import credence_array
from socialsim.analysis.summarize import summarize_run
from socialsim.core.csv_safe import write_csv
from socialsim.core.rundata import RunData, load_run, node_attributes
from socialsim.testing import ScriptedClient, clients_for, run_scripted, small_config

CLAIMS = [
    {"id": "c1", "text": "The river is poisoned.", "truth": False},
    {"id": "c2", "text": "=1+1 The bridge will close.", "truth": True},
]


def rule_run(tmp_path, **overrides):
    cfg = small_config(
        size=30, steps=4, policy="degroot", network="watts_strogatz", claims=CLAIMS,
        output={"report": False, "formats": ["csv", "parquet"]}, **overrides,
    )  # fmt: skip
    return ss.run(cfg, out=tmp_path / "run")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    run = rule_run(tmp_path_factory.mktemp("chunked"))
    return run.path


def whole_table(run_dir) -> pd.DataFrame:
    """The agents table as the run held it whole (built from the model's snapshots)."""
    return load_run(run_dir).agents


def test_the_chunked_files_hold_the_whole_table_byte_for_byte(run_dir, tmp_path):
    table = whole_table(run_dir)
    assert len(table) == 5 * 30 * 2  # steps 0..4 x agents x claims
    write_csv(table, tmp_path / "whole.csv")  # the writer of the whole table
    assert (run_dir / "agents.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    table.to_parquet(tmp_path / "whole.parquet", index=False)
    pd.testing.assert_frame_equal(
        pd.read_parquet(run_dir / "agents.parquet"), pd.read_parquet(tmp_path / "whole.parquet")
    )
    chunked = pq.ParquetFile(run_dir / "agents.parquet")
    assert chunked.num_row_groups == 5  # a recorded step per row group
    meta = chunked.schema_arrow.metadata
    assert json.loads(meta[b"socialsim.claims"]) == ["c1", "c2"]
    assert int(meta[b"socialsim.n_agents"]) == 30


def test_load_run_reads_credences_without_building_the_table(run_dir):
    lazy = load_run(run_dir)
    assert lazy.claims == ["c1", "c2"] and lazy.n_agents == 30 and lazy.last_step() == 4
    per_claim = {c: credence_array(lazy, c) for c in lazy.claims}
    assert lazy._agents is None  # nothing built the long table
    whole = RunData(agents=whole_table(run_dir))
    for claim, (steps, matrix) in per_claim.items():
        steps_w, matrix_w = credence_array(whole, claim)
        np.testing.assert_array_equal(steps, steps_w)
        np.testing.assert_array_equal(matrix, matrix_w)
    finals = lazy.final_credences()
    pd.testing.assert_frame_equal(
        node_attributes(lazy.personas, finals), node_attributes(lazy.personas, whole.agents)
    )


def test_load_run_reads_the_event_log_only_when_asked(run_dir, tmp_path):
    import pickle
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    lazy = load_run(copy)
    assert lazy._events is None  # not read yet
    assert lazy.final_credences()["c1"].shape == (30,) and lazy.network.n == 30
    assert lazy._events is None  # credences, personas and the network need no log
    again = pickle.loads(pickle.dumps(lazy))  # (sweeps send records between processes)
    events = lazy.events
    assert len(events) > 30 and set(events["kind"]) >= {"belief_change"}
    pd.testing.assert_frame_equal(again.events, events)
    (copy / "events.jsonl").unlink()  # read once: later use needs no file
    assert lazy.events is events
    lazy.events = events.iloc[:3]  # a table set by hand replaces it
    assert len(lazy.events) == 3
    for name in ("events.parquet", "events.csv"):  # the older files load the same way
        (copy / name).rename(copy / f"{name}.kept")
    for name in ("events.parquet", "events.csv"):
        (copy / f"{name}.kept").rename(copy / name)
        other = load_run(copy)
        assert other._events is None
        assert len(other.events) == len(events) and list(other.events["kind"]) == list(
            events["kind"]
        )
        (copy / name).unlink()
    assert load_run(copy).events.empty  # no log at all: an empty table


def test_measures_of_a_lazy_record_equal_those_of_the_whole_table(run_dir):
    lazy = load_run(run_dir)
    whole = load_run(run_dir)
    whole.agents = whole_table(run_dir)  # held whole: the measures read the table
    assert json.dumps(summarize_run(lazy), sort_keys=True, default=str) == json.dumps(
        summarize_run(whole), sort_keys=True, default=str
    )


def test_a_run_record_in_memory_builds_its_table_only_on_demand(tmp_path):
    run = rule_run(tmp_path)
    assert run._agents is None and run.credences is not None
    on_disk = pd.read_parquet(run.path / "agents.parquet")
    pd.testing.assert_frame_equal(run.agents, on_disk, check_dtype=False)


def test_an_older_agents_file_of_one_row_group_without_metadata_still_loads(run_dir, tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    for f in run_dir.iterdir():
        if f.is_file() and f.name != "agents.parquet":
            (old / f.name).write_bytes(f.read_bytes())
    table = whole_table(run_dir)
    table.to_parquet(old / "agents.parquet", index=False)  # one row group, pandas metadata only
    data = load_run(old)
    assert data.claims == ["c1", "c2"] and data.n_agents == 30
    steps, matrix = credence_array(data, "c2")
    np.testing.assert_array_equal(matrix, credence_array(load_run(run_dir), "c2")[1])


def test_agents_made_on_demand_give_the_same_log_as_agents_made_up_front(tmp_path):
    """LLM agents come into being when first active; making every one first changes nothing."""

    def decide(request):
        return {"message": "Hello.", "to": "all", "beliefs": {}}

    cfg = small_config(
        size=12, steps=3, policy="llm", claims=CLAIMS[:1],
        agents={"policy": "llm", "activation": "fraction", "activation_fraction": 0.3},
    )  # fmt: skip
    lazy = run_scripted(cfg, ScriptedClient(decide), out=tmp_path / "lazy")
    model = ss.SocialModel(cfg, clients=clients_for(cfg, ScriptedClient(decide)))
    assert len(model.created_ids()) < 12
    model.social_agents  # noqa: B018 - every agent made before the first step
    model.run_model()
    model.close()
    lines = lambda text: [json.loads(x) for x in text.splitlines()]  # noqa: E731
    logged = model.log.sink.text() if model.log.sink.path is None else ""
    assert lines(logged) == lines((lazy.path / "events.jsonl").read_text())
