"""Persuasion scenarios: debates (2x2), campaigns, authority pressure, accumulating context."""

import importlib.util
from collections import Counter

import networkx as nx
import numpy as np
import pytest

import socialsim as ss
from socialsim.core.errors import ConfigError, DataFileError
from socialsim.scenarios.persuasion.authority import OUTCOMES, classify_outcome
from socialsim.scenarios.persuasion.debate import CELLS, assign_conditions, make_pairs
from socialsim.scenarios.persuasion.measures import persuasion_summary
from socialsim.scenarios.propositions import (
    agreement_to_credence,
    builtin_propositions,
    credence_to_agreement,
    proposition_library,
    toward,
)
from socialsim.simulation.log import flatten_events, read_events
from socialsim.simulation.world import create_scenario
from socialsim.testing import ScriptedClient, fitted, run_scripted

needs_llama = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None, reason="needs llama-cpp-python"
)


def cfg(tmp_path, kind, steps=3, size=16, policy="degroot", **params):
    data = {
        "name": kind,
        "seed": 11,
        "steps": steps,
        "population": {"size": size},
        "network": {"kind": "watts_strogatz", "params": {"k": 4, "p": 0.1}},
        "agents": {"policy": policy},
        "scenario": {"kind": kind, "params": params},
        "output": {"dir": str(tmp_path / "runs"), "report": False, "formats": ["jsonl"]},
    }
    return ss.ExperimentConfig.from_dict(data)


def raw(run):
    """The run's events in the raw shape (a payload dict per row)."""
    return read_events(run.path / "events.jsonl")


def actions(run, kind):
    """Payloads of the run's actions of one type, in log order."""
    events = raw(run)
    rows = events[events.kind == "action"]
    return [p for p in rows.payload if p["type"] == kind]


def action_agents(run, kind):
    """The `agent` column of the run's actions of one type, in log order."""
    events = raw(run)
    rows = events[events.kind == "action"]
    return [int(a) for a, p in zip(rows.agent, rows.payload, strict=True) if p["type"] == kind]


# --- pure parts --------------------------------------------------------------------------------------
def test_propositions_library():
    props = builtin_propositions()
    assert len(props) >= 10
    assert all(p.arguments_for and p.arguments_against for p in props)
    lib = proposition_library(custom=[{"id": "tea", "text": "Tea beats coffee.", "topic": "food"}])
    assert lib["tea"].topic == "food"
    with pytest.raises(DataFileError, match="entry 0"):
        proposition_library(custom=[{"id": "x"}])


def test_agreement_scale_helpers():
    assert [credence_to_agreement(c) for c in (0.0, 0.3, 0.5, 1.0)] == [1, 2, 3, 5]
    assert agreement_to_credence(5) == 1.0 and agreement_to_credence(1) == 0.0
    assert toward(2, "for") == 2 and toward(2, "against") == 4


@pytest.mark.parametrize("n", [4, 8, 12, 40])
def test_two_by_two_is_exactly_balanced_for_multiples_of_four(n):
    counts = Counter(assign_conditions(n, np.random.default_rng(n)))
    assert set(counts) == set(CELLS)
    assert set(counts.values()) == {n // 4}


@pytest.mark.parametrize("n", [1, 5, 7, 10])
def test_two_by_two_is_nearly_balanced_otherwise(n):
    counts = Counter(assign_conditions(n, np.random.default_rng(0)))
    values = [counts.get(c, 0) for c in CELLS]
    assert sum(values) == n and max(values) - min(values) <= 1


def test_assignment_is_reproducible_and_shuffled():
    a = assign_conditions(16, np.random.default_rng(1))
    assert a == assign_conditions(16, np.random.default_rng(1))
    assert a != [CELLS[i % 4] for i in range(16)]


def test_pairs_from_edges_are_disjoint_edges():
    g = nx.cycle_graph(10)
    pairs = make_pairs(g, "edges", None, np.random.default_rng(0))
    flat = [x for p in pairs for x in p]
    assert len(flat) == len(set(flat))
    assert all(g.has_edge(a, b) for a, b in pairs)
    with pytest.raises(ConfigError, match="only"):
        make_pairs(g, "edges", 6, np.random.default_rng(0))
    assert len(make_pairs(nx.empty_graph(9), "random", 4, np.random.default_rng(0))) == 4


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [  # correct A, the authority's false answer B, other wrong answers C and D
        ("A", "A", "correct_kept"),
        ("A", "B", "correct_to_authority"),
        ("A", "C", "correct_to_other"),
        ("C", "A", "wrong_to_correct"),
        ("B", "A", "wrong_to_correct"),  # from the authority's answer to the correct one
        ("C", "B", "wrong_to_authority"),
        ("C", "C", "wrong_kept"),
        ("C", "D", "wrong_to_other"),
        ("B", "C", "wrong_to_other"),  # left the authority's answer for another wrong one
        ("B", "B", "authority_kept"),
    ],
)
def test_authority_classifier(before, after, expected):
    assert classify_outcome(before, after, correct="A", authority="B") == expected
    assert expected in OUTCOMES and len(OUTCOMES) == 8


def test_unknown_proposition_and_bad_counts(tmp_path):
    for kind in ("debate", "persuasion", "accumulation"):
        with pytest.raises(ConfigError, match="'nope' is unknown"):
            create_scenario(kind, {"proposition": "nope"}).validate_config(cfg(tmp_path, kind))
    with pytest.raises(ConfigError, match="need 20 agents"):
        create_scenario("debate", {"pairs": {"count": 10}}).validate_config(cfg(tmp_path, "debate"))
    with pytest.raises(ConfigError, match="steps >= 5"):
        create_scenario("accumulation", {"texts": 5}).validate_config(
            cfg(tmp_path, "accumulation", steps=3)
        )
    with pytest.raises(ConfigError, match="only 10 texts"):
        create_scenario("accumulation", {"texts": 11}).validate_config(
            cfg(tmp_path, "accumulation", steps=12)
        )
    with pytest.raises(ConfigError, match="not in the claims library"):
        create_scenario("authority", {"questions": ["nope"]}).validate_config(
            cfg(tmp_path, "authority")
        )


# --- end to end on rule policies: measures match hand computation from the events ------------------
def test_debate_runs_every_pair_once_with_balanced_cells(tmp_path):
    run = ss.run(cfg(tmp_path, "debate", size=16, pairs={"source": "random", "count": 8}, rounds=2))
    pairs = actions(run, "debate_pair")
    assert len(pairs) == 8
    counts = Counter((p["persuader_kind"], p["personalised"]) for p in pairs)
    assert set(counts.values()) == {2}
    for p in pairs:
        assert p["status"] == "answered" and p["source"] == "rule"
        assert p["shift"] == p["post"] - p["pre"] and p["shift"] in (0, 1)  # one step toward
        assert p["pre"] == toward(p["pre_agreement"], p["side"])
        assert p["turns_asked"] == 4 and p["turns_failed"] == 0
    events = raw(run)
    messages = events[events.kind == "message"]
    assert len(messages) == 8 * 2 * 2
    assert all(m["channel"] == "direct" for m in messages.payload)
    roles = actions(run, "role")
    assert sorted(r["role"] for r in roles) == ["peer"] * 4 + ["persuader"] * 4
    assert not any(r["placebo"] for r in roles)
    out = persuasion_summary(flatten_events(events))["debate"]
    assert out["answers"] == {"asked": 8, "answered": 8, "failed": 0}
    assert out["mean_shift"] == pytest.approx(sum(p["shift"] for p in pairs) / 8)
    for cell, stats in out["cells"].items():
        kind, pers = cell.split("|")
        mine = [
            p["shift"]
            for p in pairs
            if (p["persuader_kind"], p["personalised"]) == (kind, pers == "personalised")
        ]
        assert stats["answered"] == 2 and stats["mean_shift"] == pytest.approx(sum(mine) / 2)
    facts = run.summary["scenario"]
    assert facts["pairs"] == 8 and sorted(facts["targets"]) == sorted(p["target"] for p in pairs)
    assert not {"cells", "mean_shift"} & set(facts)


def test_campaign_moves_the_population_toward_the_target(tmp_path):
    run = ss.run(
        cfg(
            tmp_path,
            "persuasion",
            steps=4,
            persuaders={"count": 3, "strategy": "highest_degree"},
            stance="for",
            messages="personalised",
            initial_credence=0.2,
        )
    )
    stances = actions(run, "stance")
    assert len(stances) == 5  # at setup, then after each step
    means = [s["stance"] for s in stances]
    assert means[0] == pytest.approx(0.2) and means == sorted(means) and means[-1] > 0.2
    assert all(sum(s["histogram"]) == s["asked"] == s["answered"] == 13 for s in stances)
    persuaders = run.summary["scenario"]["persuaders"]
    roles = actions(run, "role")
    assert sorted(action_agents(run, "role")) == sorted(persuaders)
    assert {(r["role"], r["placebo"]) for r in roles} == {("persuader", False)}
    events = raw(run)
    posts = events[events.kind == "message"]
    assert len(posts) and set(posts.agent) <= set(persuaders)
    assert all(m["channel"] == "direct" for m in posts.payload)
    # the stance by hand: mean credence of the 13 others, from the belief changes
    credence = {a: 0.2 for a in range(16) if a not in persuaders}
    changes = events[events.kind == "belief_change"]
    for step, s in enumerate(stances):
        for st, agent, p in zip(changes.step, changes.agent, changes.payload, strict=True):
            if int(st) == step and int(agent) in credence:
                credence[int(agent)] = p["new"]
        assert s["stance"] == pytest.approx(sum(credence.values()) / 13)
        assert s["agree"] == sum(c >= 0.5 for c in credence.values())
    out = persuasion_summary(flatten_events(events))["campaign"]
    assert out["change"] == pytest.approx(means[-1] - means[0]) and out["change"] > 0
    assert out["agree_share"][4] == pytest.approx(stances[-1]["agree"] / 13)
    assert "change" not in run.summary["scenario"]


def test_authority_classifies_every_answer_pair(tmp_path):
    run = ss.run(
        cfg(
            tmp_path,
            "authority",
            steps=5,
            size=10,
            questions=["australia_capital", "hamlet_author", "goldfish_memory"],
            questions_per_step=2,
        )
    )
    outcomes = actions(run, "authority_outcome")
    assert len(outcomes) == 10 * 3
    for o in outcomes:
        assert o["status"] == "answered"
        assert o["outcome"] == classify_outcome(
            o["before_answer"],
            o["after_answer"],
            o["correct_answer"],
            o["authority_answer"],
        )
        assert 0 <= o["after_confidence"] <= 100
    counts = Counter(o["outcome"] for o in outcomes)
    out = persuasion_summary(flatten_events(raw(run)))["authority"]
    assert out["answers"] == {"asked": 30, "answered": 30, "failed": 0}
    assert out["shares"] == pytest.approx({k: counts[k] / 30 for k in OUTCOMES})
    assert run.summary["scenario"]["questions_asked"] == 3


def test_accumulation_probes_after_every_exposure(tmp_path):
    for mode in ("texts", "discussion"):
        run = ss.run(
            cfg(tmp_path, "accumulation", steps=6, size=10, texts=3, mode=mode), out=tmp_path / mode
        )
        probes = actions(run, "stance_probe")
        assert Counter(p["exposure"] for p in probes) == {0: 10, 1: 10, 2: 10, 3: 10}
        for p in probes:
            assert p["status"] == "answered"
            assert p["stance"] == toward(p["agreement"], p["side"])
        trails = {}
        for agent, p in zip(action_agents(run, "stance_probe"), probes, strict=True):
            trails.setdefault(agent, []).append((p["exposure"], p["stance"], p["side"]))
        for trail in trails.values():
            stances = [s for _, s, _ in sorted(trail)]
            assert stances == sorted(stances)  # the baseline only drifts toward the texts' side
            assert len({side for _, _, side in trail}) == 1
        out = persuasion_summary(flatten_events(raw(run)))["accumulation"]
        for e in range(4):
            here = [p["stance"] for p in probes if p["exposure"] == e]
            assert out["mean_stance"][e] == pytest.approx(sum(here) / 10)
        deltas = [sorted(t)[-1][1] - sorted(t)[0][1] for t in trails.values()]
        assert out["change"] == pytest.approx(sum(deltas) / 10) and out["change"] >= 0
        assert out["change_agents"] == 10


# --- LLM agents, offline ---------------------------------------------------------------------------------
#: Every structured answer of the offline runs: the fields of each request's schema.
FIELDS = {"message": "I see it differently.", "to": "all", "beliefs": [], "agreement": 4,
          "answer": "A", "confidence": 70}  # fmt: skip


def test_llm_debate_asks_each_turn_of_all_pairs_in_one_batch(tmp_path):
    fake = ScriptedClient(fitted(FIELDS))
    run = run_scripted(
        cfg(tmp_path, "debate", size=8, policy="llm", pairs={"source": "random"}, rounds=2),
        fake,
    )
    batches = [[r.tag for r in b] for b in fake.batches]
    scenario_batches = [b for b in batches if b[0].startswith("debate")]
    assert [(b[0], len(b)) for b in scenario_batches][1:] == [
        ("debate_turn", 4),
        ("debate_turn", 4),
        ("debate_turn", 4),
        ("debate_turn", 4),
        ("debate_stance_after", 4),
    ]
    assert scenario_batches[0][0] == "debate_stance"
    assert len(actions(run, "debate_pair")) == 4


# --- embedded model ----------------------------------------------------------------------------------------
def local_cfg(tmp_path, kind, steps, **params):
    config = cfg(tmp_path, kind, steps=steps, size=4, policy="llm", **params)
    return config.with_overrides(
        {"agents.llm.model": "local/smollm2", "network.kind": "complete", "network.params": {}}
    )


@pytest.mark.integration
@needs_llama
def test_debate_on_the_embedded_model(tmp_path):
    run = ss.run(local_cfg(tmp_path, "debate", 1, rounds=1, pairs={"source": "random", "count": 2}))
    pairs = actions(run, "debate_pair")
    assert len(pairs) == 2
    assert all(p["status"] == "failed" or 1 <= p["post"] <= 5 for p in pairs)


@pytest.mark.integration
@needs_llama
def test_campaign_on_the_embedded_model(tmp_path):
    run = ss.run(local_cfg(tmp_path, "persuasion", 2, persuaders={"count": 1}))
    assert len(actions(run, "stance")) == 3  # at setup and after each step


@pytest.mark.integration
@needs_llama
def test_authority_on_the_embedded_model(tmp_path):
    run = ss.run(local_cfg(tmp_path, "authority", 1, questions=["australia_capital"]))
    outcomes = actions(run, "authority_outcome")
    assert all(o["outcome"] in OUTCOMES or o["status"] == "failed" for o in outcomes)


@pytest.mark.integration
@needs_llama
def test_accumulation_on_the_embedded_model(tmp_path):
    run = ss.run(local_cfg(tmp_path, "accumulation", 2, texts=2))
    probes = actions(run, "stance_probe")
    assert {p["exposure"] for p in probes} <= {0, 1, 2} and probes
