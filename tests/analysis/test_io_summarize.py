import json

import pandas as pd
import pytest

from socialsim.analysis import io, summarize

from .tables import dump_jsonl, ev, spread_events


def test_load_run_reads_every_part(run_dir):
    run = io.load_run(run_dir)
    assert len(run.events) == len(spread_events()) + 1
    assert "payload.recipients" in run.events.columns
    assert run.agents.shape == (16, 4)
    assert sorted(run.graph.nodes) == [0, 1, 2, 3]
    assert run.graph.nodes[2]["country"] == "B"
    assert run.config["seed"] == 1
    assert run.summary == {}


def test_load_run_of_missing_dir_parts_is_empty(tmp_path):
    run = io.load_run(tmp_path)
    assert run.events.empty and run.agents.empty and run.graph is None and run.config == {}


def test_events_with_cut_off_line_and_type_changes_still_read(tmp_path):
    rows = [ev("probe", 0, 1, None, "c1", answer="yes"), ev("probe", 1, 2, None, "c1", answer=3)]
    path = tmp_path / "events.jsonl"
    dump_jsonl(path, rows)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"run": "r", "step": 2, "ki')
    table = io.read_events_table(path)
    assert len(table) == 2
    assert table["payload.answer"].tolist() == ["yes", 3]


def test_payload_reads_both_shapes():
    raw = pd.DataFrame({"kind": ["x"], "payload": [{"a": 1}]})
    flat = pd.DataFrame({"kind": ["x"], "payload.a": [1]})
    assert io.payload(raw, "a").tolist() == [1] == io.payload(flat, "a").tolist()
    assert io.payload(raw, "b").tolist() == [None]


def test_as_list_decodes_flattened_lists():
    assert io.as_list("[1, 2]") == [1, 2]
    assert io.as_list(None) == []
    assert io.as_list("gpt") == ["gpt"]


def test_summarize_run_measures(run_dir):
    summary = summarize.summarize_run(io.load_run(run_dir))
    c1 = summary["claims"]["c1"]
    assert c1["final_reach"] == 0.75 and c1["time_to_50"] == 1
    assert c1["exposure"]["conversion_rate"] == 0.75
    assert c1["cascades"]["largest_size"] == 3
    assert c1["persistence"]["removal_step"] == 2
    assert c1["probe_accuracy"] == {"direct": 0.5, "indirect": 0.5}
    assert c1["disagreement_final"] == pytest.approx(0.2)
    llm = summary["llm"]
    assert (llm["calls"], llm["cached"], llm["errors"], llm["tokens"]) == (2, 1, 1, 40)
    assert llm["mean_latency_s"] == 1.0
    assert summary["network"]["n_nodes"] == 4
    json.dumps(summary)  # JSON-ready


def test_flat_metrics_columns(run_dir):
    flat = summarize.flat_metrics(summarize.summarize_run(io.load_run(run_dir)))
    assert flat["reach.c1"] == 0.75
    assert flat["peak.c1"] == 0.75
    assert flat["exposure.conversion_rate.c1"] == 0.75
    assert flat["llm.calls"] == 2.0
    assert flat["network.n_edges"] == 3.0
    assert all(isinstance(v, float) for v in flat.values())


def test_flat_metrics_norms_key():
    flat = summarize.flat_metrics({"norms": {"adherence": {"overall": 0.5}}})
    assert flat == {"adherence.overall": 0.5}


def test_analyze_dir_writes_summary_and_tables(run_dir):
    (run_dir / "summary.json").write_text(json.dumps({"scenario": {"kind": "misinformation"}}))
    analysis = summarize.analyze_dir(run_dir)
    written = json.loads((run_dir / "summary.json").read_text())
    assert written["analysis"]["claims"]["c1"]["final_reach"] == 0.75
    assert written["scenario"] == {"kind": "misinformation"}  # the run's own keys stay
    assert analysis == written["analysis"]
    tables = {p.name for p in (run_dir / "tables").glob("*.csv")}
    assert {
        "adoption_c1.csv",
        "cascades_c1.csv",
        "probes_c1.csv",
        "degree_distribution.csv",
    } <= tables
    curve = pd.read_csv(run_dir / "tables" / "adoption_c1.csv")
    assert curve["share"].tolist() == [0.25, 0.5, 0.75, 0.75]


def test_analyze_dir_twice_does_not_nest(run_dir):
    summarize.analyze_dir(run_dir)
    summarize.analyze_dir(run_dir)
    written = json.loads((run_dir / "summary.json").read_text())
    assert set(written) == {"analysis"}


def test_summarize_scenario_measures_and_flat_names():
    from .tables import frame, scenario_events

    run = io.RunData(events=frame(scenario_events()))
    summary = summarize.summarize_run(run)
    assert summary["norms"]["adherence"]["overall"] == 0.75
    assert summary["collaboration"]["success"]["solo"] == 1.0
    assert summary["collaboration"]["gap"]["m1"] == 0.5
    assert summary["persuasion"]["authority"]["sycophantic_agreement"] == 1.0
    assert summary["persuasion"]["drift"]["slope"] == pytest.approx(0.1)
    flat = summarize.flat_metrics(summary)
    assert flat["adherence.overall"] == 0.75
    assert flat["collaboration.success.pair"] == 0.5
    assert flat["persuasion.debate.odds_ratio.odds_ratio"] > 0
    json.dumps(summary)
