"""The record and its one reader, checked on runs the model really produced (rule policies).

Every expected value here is computed by hand from the run's own files with plain loops,
independently of the analysis code under test.
"""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import socialsim as ss
from socialsim.analysis import spread
from socialsim.analysis.summarize import flat_metrics, summarize_run
from socialsim.core.rundata import load_run, populations
from socialsim.simulation.config import ExperimentConfig


def _cfg(tmp_path, **over):
    data = {
        "name": "rec",
        "seed": 3,
        "steps": 4,
        "population": {"size": 24},
        "network": {"kind": "watts_strogatz", "params": {"k": 4, "p": 0.2}},
        "agents": {"policy": "independent_cascade", "params": {"p": 0.5}},
        "scenario": {
            "kind": "misinformation",
            "params": {
                "claim": "australia_capital",
                "attackers": {"count": 2, "strategy": "highest_degree"},
                "remove_attackers_at": 3,
            },
        },
        "output": {"dir": str(tmp_path / "runs"), "report": False},
    }
    cfg = ExperimentConfig.from_dict(data)
    return cfg.with_overrides(over) if over else cfg


@pytest.fixture(scope="module")
def misinfo_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("misinfo")
    return ss.run(_cfg(tmp), out=tmp / "run")


def _rows(run_dir):
    with open(run_dir / "events.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_agents_table_has_every_agent_and_claim_from_step_0(misinfo_run):
    agents = pd.read_parquet(misinfo_run.dir / "agents.parquet")
    steps = sorted(agents["step"].unique().tolist())
    assert steps == [0, 1, 2, 3, 4]
    for step in steps:
        at = agents[agents["step"] == step]
        assert sorted(at["agent"].tolist()) == list(range(24))
    # step 0 is the state after set-up: the two attackers at 1, everyone else at 0.1
    at0 = agents[agents["step"] == 0].set_index("agent")["credence"]
    attackers = misinfo_run.summary["scenario"]["attackers"]
    assert sorted(at0[at0 == 1.0].index.tolist()) == sorted(attackers)
    assert (at0.drop(attackers) == 0.1).all()


def test_adoption_counts_agents_whose_belief_never_changed(misinfo_run):
    """The old event-based count missed the attackers (set at set-up) and step 0."""
    curve = spread.adoption_curve(misinfo_run, "australia_capital")
    agents = pd.read_csv(misinfo_run.dir / "agents.csv")
    removed = {r["agent"]: r["step"] for r in _rows(misinfo_run.dir)
               if r["kind"] == "action" and r["payload"].get("type") == "removed"}  # fmt: skip
    for step in range(5):
        at = agents[agents["step"] == step]
        present = [a for a in range(24) if not (a in removed and step >= removed[a])]
        believers = sum(
            1 for a, c in zip(at["agent"], at["credence"], strict=True)
            if a in present and c >= 0.5
        )  # fmt: skip
        row = curve[curve["step"] == step].iloc[0]
        assert row["n"] == len(present)
        assert row["adopted"] == believers
        assert row["share"] == pytest.approx(believers / len(present))
    assert curve["step"].iloc[0] == 0 and curve["adopted"].iloc[0] == 2


def test_event_table_is_refused_with_a_clear_message(misinfo_run):
    with pytest.raises(TypeError, match="agents table"):
        spread.adoption_curve(misinfo_run.events, "australia_capital")


def test_in_memory_run_and_loaded_run_agree(misinfo_run):
    loaded = load_run(misinfo_run.dir)
    for pop in ("all", "benign"):
        a = spread.adoption_curve(misinfo_run, "australia_capital", population=pop)
        b = spread.adoption_curve(loaded, "australia_capital", population=pop)
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
    again = flat_metrics(summarize_run(loaded))
    first = flat_metrics(misinfo_run.summary)
    assert again.keys() == first.keys()
    # equal up to float summation order (the reloaded graph lists its edges in file order)
    assert again == pytest.approx(first, rel=1e-9, nan_ok=True)
    assert list(loaded.personas["agent"]) == list(range(24))
    assert set(loaded.personas.columns) >= {"name", "age", "policy", "scenario_role"}


def test_benign_population_leaves_out_attackers(misinfo_run):
    pops = populations(misinfo_run)
    attackers = misinfo_run.summary["scenario"]["attackers"]
    assert sorted(pops["attacker"].tolist()) == sorted(attackers)
    assert sorted(pops["benign"].tolist()) == sorted(set(range(24)) - set(attackers))
    m = misinfo_run.summary["measures"]["claims"]["australia_capital"]
    agents = pd.read_csv(misinfo_run.dir / "agents.csv")
    last = agents[agents["step"] == 4].set_index("agent")["credence"]
    benign = [a for a in range(24) if a not in attackers]
    assert m["adoption_benign"]["final_reach"] == pytest.approx(
        sum(last[a] >= 0.5 for a in benign) / len(benign)
    )
    assert m["adoption_benign"]["mean_credence_final"] == pytest.approx(
        sum(last[a] for a in benign) / len(benign)
    )


def test_exposure_and_persistence_by_hand(misinfo_run):
    rows = _rows(misinfo_run.dir)
    attackers = set(misinfo_run.summary["scenario"]["attackers"])
    exposed = set()
    for r in rows:
        if r["kind"] == "message" and "australia_capital" in (r["payload"].get("claims") or []):
            exposed |= {x for x in r["payload"]["recipients"] if x not in attackers}
    agents = pd.read_csv(misinfo_run.dir / "agents.csv")
    last = agents[agents["step"] == 4].set_index("agent")["credence"]
    adopters = {a for a in range(24) if a not in attackers and last[a] >= 0.5}
    m = misinfo_run.summary["measures"]["claims"]["australia_capital"]
    exp = m["exposure_benign"]
    assert exp["n_exposed"] == len(exposed)
    assert exp["n_exposed_adopters"] == len(exposed & adopters)
    if exposed:
        assert exp["conversion_rate"] == pytest.approx(len(exposed & adopters) / len(exposed))
    # persistence: attackers left at step 3, so reach_at_removal is the share after step 2
    at2 = agents[agents["step"] == 2].set_index("agent")["credence"]
    benign = [a for a in range(24) if a not in attackers]
    per = m["persistence_benign"]
    assert per["removal_step"] == 3
    assert per["reach_at_removal"] == pytest.approx(
        sum(at2[a] >= 0.5 for a in benign) / len(benign)
    )
    assert per["reach_final"] == pytest.approx(len(adopters) / len(benign))


def test_probe_measures_by_hand(misinfo_run):
    rows = [r for r in _rows(misinfo_run.dir) if r["kind"] == "probe"]
    attackers = set(misinfo_run.summary["scenario"]["attackers"])
    probes = misinfo_run.summary["measures"]["claims"]["australia_capital"]["probes_benign"]
    for distance, got in probes.items():
        mine = [r for r in rows if r["payload"]["distance"] == distance
                and r["agent"] not in attackers]  # fmt: skip
        answered = [r for r in mine if r["payload"]["status"] == "answered"]
        assert got["asked"] == len(mine)
        assert got["answered"] == len(answered)
        assert got["failed"] == 0
        assert got["manipulated_share"] == pytest.approx(
            sum(bool(r["payload"]["manipulated"]) for r in answered) / len(answered)
        )


def test_disagreement_by_hand(misinfo_run):
    agents = pd.read_csv(misinfo_run.dir / "agents.csv")
    graph = nx.read_graphml(misinfo_run.dir / "graph.graphml", node_type=int)
    last = agents[agents["step"] == 4].set_index("agent")["credence"]
    gone = set(misinfo_run.summary["scenario"]["attackers"])  # they left at step 3
    assert misinfo_run.summary["run"]["present_final"] == 24 - len(gone)
    diffs = [abs(last[u] - last[v]) for u, v in graph.edges() if not {u, v} & gone]
    m = misinfo_run.summary["measures"]["claims"]["australia_capital"]
    assert m["disagreement_final"] == pytest.approx(sum(diffs) / len(diffs))


def test_degroot_run_matches_the_closed_form(tmp_path):
    """x(t) = W^t x(0) with W the row-normalised adjacency (self included)."""
    cfg = _cfg(
        tmp_path,
        **{"agents.policy": "degroot", "agents.params": {"initial": "uniform"},
           "scenario.kind": "none", "scenario.params": {}, "population.size": 8,
           "network.kind": "ring", "network.params": {},
           "claims": [{"id": "c1", "text": "The river is poisoned."}]},
    )  # fmt: skip
    run = ss.run(cfg, out=tmp_path / "d")
    claim = run.claims[0]
    steps, matrix = spread.credence_array(run, claim)
    graph = nx.cycle_graph(8)
    w = nx.to_numpy_array(graph) + np.eye(8)
    w /= w.sum(axis=1, keepdims=True)
    x = matrix[0]
    for t in range(1, len(steps)):
        x = w @ x
        np.testing.assert_allclose(matrix[t], x, atol=1e-9)
    curve = spread.adoption_curve(run, claim)
    assert curve["share"].tolist() == pytest.approx((matrix >= 0.5).mean(axis=1).tolist())


def test_summary_has_one_key_per_quantity(misinfo_run):
    s = misinfo_run.summary
    assert set(s) == {
        "run", "scenario", "populations", "data_quality", "measures", "headline", "intervals",
    }  # fmt: skip
    numeric = {k for k, v in s["scenario"].items()
               if isinstance(v, int | float) and not isinstance(v, bool) and v is not None}  # fmt: skip
    assert numeric <= {"remove_attackers_at"}  # the scenario reports facts, not measures
    text = json.dumps(s)
    assert '"llm"' not in text and '"claims": {"australia_capital": {"text"' not in text
    assert json.loads((misinfo_run.dir / "summary.json").read_text()) == s


def test_summary_json_written_once(tmp_path, monkeypatch):
    from socialsim.experiments import runner

    calls = []
    real = runner.write_summary
    monkeypatch.setattr(runner, "write_summary", lambda *a: calls.append(1) or real(*a))
    ss.run(_cfg(tmp_path), out=tmp_path / "once")
    assert len(calls) == 1


POLICIES = ["degroot", "voter", "independent_cascade", "linear_threshold", "deffuant",
            "hegselmann_krause", "friedkin_johnsen"]  # fmt: skip


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    policy=st.sampled_from(POLICIES),
    size=st.integers(3, 30),
    steps=st.integers(1, 5),
    seed=st.integers(0, 10_000),
    threshold=st.sampled_from([0.3, 0.5, 0.7]),
    kind=st.sampled_from(["erdos_renyi", "barabasi_albert", "ring", "complete"]),
)
@pytest.mark.slow
def test_adoption_share_equals_agents_table(tmp_path, policy, size, steps, seed, threshold, kind):
    params = {"erdos_renyi": {"p": 0.3}, "barabasi_albert": {"m": 1}}.get(kind, {})
    cfg = ExperimentConfig.from_dict(
        {
            "name": "prop",
            "seed": seed,
            "steps": steps,
            "population": {"size": size},
            "network": {"kind": kind, "params": params},
            "agents": {"policy": policy, "params": {"initial": "uniform"}
                       if policy not in ("independent_cascade", "linear_threshold") else {}},
            "claims": [{"id": "c1", "text": "The river is poisoned."}],
            "output": {"dir": str(tmp_path / "runs"), "report": False, "formats": ["csv"]},
        }
    )  # fmt: skip
    run = ss.run(cfg)
    claim = run.claims[0]
    table = pd.read_csv(run.dir / "agents.csv")
    curve = spread.adoption_curve(load_run(run.dir), claim, threshold)
    assert curve["step"].tolist() == list(range(steps + 1))
    for step in range(steps + 1):
        at = table[(table["step"] == step) & (table["claim"] == claim)]
        assert len(at) == size
        expected = sum(c >= threshold for c in at["credence"]) / size
        assert curve.loc[curve["step"] == step, "share"].iloc[0] == pytest.approx(expected)


def test_the_scenario_names_its_headline_measures_and_the_analysis_fills_them(misinfo_run):
    s = misinfo_run.summary
    declared = [m["measure"] for m in s["scenario"]["measures"]]
    assert declared == [
        "claims.australia_capital.adoption_benign.final_reach",
        "claims.australia_capital.probes_benign.direct.manipulated_share",
    ]
    got = {h["measure"]: h["value"] for h in s["headline"]}
    m = s["measures"]["claims"]["australia_capital"]
    assert got == {
        declared[0]: m["adoption_benign"]["final_reach"],
        declared[1]: m["probes_benign"]["direct"]["manipulated_share"],
    }
