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
    (tmp_path / "config.yaml").write_text("name: partial\n")
    run = io.load_run(tmp_path)
    assert run.events.empty and run.agents.empty and run.graph is None
    assert run.config == {"name": "partial"}


def test_load_run_refuses_what_is_no_run(tmp_path):
    from socialsim.core.errors import ConfigError

    (tmp_path / "notes.txt").write_text("x")
    for path, says in (
        (tmp_path / "missing", "does not exist"),
        (tmp_path / "notes.txt", "is not a directory"),
        (tmp_path, "holds no run"),
    ):
        with pytest.raises(ConfigError, match=says) as err:
            io.load_run(path)
        assert str(err.value).startswith(f"load_run: {str(path)!r} ")


def test_events_with_cut_off_line_and_type_changes_still_read(tmp_path):
    rows = [ev("probe", 0, 1, None, "c1", answer="yes"), ev("probe", 1, 2, None, "c1", answer=3)]
    path = tmp_path / "events.jsonl"
    dump_jsonl(path, rows)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"run": "r", "step": 2, "ki')
    table = io.read_events_table(path)
    assert len(table) == 2
    assert table["payload.answer"].tolist() == ["yes", 3]


def test_payload_reads_one_column_of_the_events_table():
    flat = pd.DataFrame({"kind": ["x", "y"], "payload.a": [1, None]})
    assert io.payload(flat, "a").tolist()[0] == 1
    assert io.payload(flat, "b").isna().all()  # a key no event carries
    assert io.payload(flat, "b", default="none").tolist() == ["none", "none"]
    with pytest.raises(TypeError, match="flat_events"):  # a payload dict per row is refused
        io.payload(pd.DataFrame({"kind": ["x"], "payload": [{"a": 1}]}), "a")


def test_the_log_reads_to_lists_not_arrays(tmp_path):
    rows = [ev("message", 0, 0, None, "c1", id="m1", text="t", recipients=[1, 2], claims=["c1"])]
    dump_jsonl(tmp_path / "events.jsonl", rows)
    table = io.read_events_table(tmp_path / "events.jsonl")
    assert table["payload.recipients"].tolist() == [[1, 2]]
    assert type(table["payload.claims"].iloc[0]) is list


def test_as_list_decodes_flattened_lists():
    assert io.as_list("[1, 2]") == [1, 2]
    assert io.as_list(None) == []
    assert io.as_list("gpt") == ["gpt"]


def test_summarize_run_layout_and_data_quality(run_dir):
    summary = summarize.summarize_run(io.load_run(run_dir))
    assert set(summary) == {
        "run",
        "scenario",
        "populations",
        "data_quality",
        "measures",
        "headline",
        "intervals",
    }
    # every interval family is named with its method and what its n counts, at one level
    assert summary["intervals"]["level"] == 0.95
    for described in summary["intervals"]["methods"].values():
        assert described["method"] and described["n"]
    q = summary["data_quality"]
    # two llm_call events: one cached, one failed with an error
    assert (q["calls"], q["cached"], q["unusable"], q["repaired"]) == (2, 1, 1, 0)
    assert q["prompt_tokens"] + q["completion_tokens"] == 40
    assert q["mean_latency_s"] == 1.0
    assert (
        sum(r["calls"] for r in q["by_step"]) == 2 and sum(r["unusable"] for r in q["by_step"]) == 1
    )
    assert summary["measures"]["network"]["n_nodes"] == 4
    assert summary["run"]["agents"] == 4 and summary["run"]["steps_run"] == 3
    json.dumps(summary)  # JSON-ready


def test_flat_metrics_are_dotted_measure_keys():
    summary = {
        "measures": {
            "claims": {"c1": {"adoption_all": {"final_reach": 0.75, "peak_step": 2}}},
            "norms": {"adherence": 0.5, "answers": {"asked": 4}},
            "network": {"n_edges": 3, "name": "text is not a metric"},
        },
        "data_quality": {"calls": 2, "unusable": 1},
    }
    flat = summarize.flat_metrics(summary)
    assert flat == {
        "claims.c1.adoption_all.final_reach": 0.75,
        "claims.c1.adoption_all.peak_step": 2.0,
        "norms.adherence": 0.5,
        "norms.answers.asked": 4.0,
        "network.n_edges": 3.0,
        "data_quality.calls": 2.0,
        "data_quality.unusable": 1.0,
    }


@pytest.mark.slow
def test_analyze_dir_rewrites_summary_and_keeps_scenario_facts(run_dir):
    facts = {"kind": "misinformation", "arm": "treatment", "attackers": [0]}
    (run_dir / "summary.json").write_text(json.dumps({"scenario": facts}))
    summary = summarize.analyze_dir(run_dir)
    written = json.loads((run_dir / "summary.json").read_text())
    assert written == summary
    assert written["scenario"] == facts
    summarize.analyze_dir(run_dir)  # again: same layout, nothing nested
    again = json.loads((run_dir / "summary.json").read_text())
    assert set(again) == set(written) and again["measures"] == written["measures"]
    tables = {p.name for p in (run_dir / "tables").glob("*.csv")}
    assert {"adoption_c1.csv", "cascades_c1.csv", "probes_c1.csv"} <= tables
    curve = pd.read_csv(run_dir / "tables" / "adoption_c1.csv")
    assert set(curve["population"]) == {"all"}
    assert curve["step"].tolist() == [0, 1, 2, 3]


def test_headline_leads_with_the_benign_reach():
    measures = {
        "claims": {
            "c1": {
                "adoption_all": {"final_reach": 0.5},
                "adoption_benign": {"final_reach": 0.4},
            }
        }
    }
    (h,) = summarize.headline(measures, "misinformation")
    assert h["measure"] == "claims.c1.adoption_benign.final_reach" and h["value"] == 0.4
    assert summarize.lookup(measures, h["measure"]) == 0.4
    assert summarize.lookup(measures, "claims.c9.adoption_all") is None
