"""Collaboration scenario: params, trials end to end with BFS baselines, relay hand-over, batching."""

from __future__ import annotations

import importlib.util

import pytest

import socialsim as ss
from socialsim.core.errors import ConfigError
from socialsim.core.rundata import load_run
from socialsim.scenarios.collaboration.measures import collaboration_summary
from socialsim.scenarios.collaboration.scenario import CollaborationScenario, final_path
from socialsim.simulation.log import read_events
from socialsim.simulation.world import create_scenario
from socialsim.testing import StandInModel


def config(tmp_path, steps=2, size=8, **params):
    base = {"conditions": ["solo", "pair", "relay"], "trials_per_step": 3, "max_turns": 6}
    base.update(params)
    return ss.ExperimentConfig.from_dict(
        {
            "name": "collab",
            "seed": 5,
            "steps": steps,
            "population": {"size": size},
            "network": {"kind": "ring"},
            "agents": {"policy": "degroot"},
            "scenario": {"kind": "collaboration", "params": base},
            "output": {"dir": str(tmp_path), "report": False, "formats": ["jsonl"]},
        }
    )


def trial_events(run):
    ev = read_events(run.dir / "events.jsonl")
    return [p for p in ev[ev.kind == "action"].payload if p.get("type") == "collab_trial"]


def test_relay_k_must_be_below_max_turns():
    with pytest.raises(ConfigError, match="relay_k"):
        create_scenario("collaboration", {"conditions": ["relay"], "relay_k": 4, "max_turns": 4})
    create_scenario("collaboration", {"conditions": ["pair"], "relay_k": 4, "max_turns": 4})


@pytest.mark.parametrize(
    "maze", [{"width": 1, "height": 1}, {"width": 4, "height": 4, "start": [2, 2], "goal": [2, 2]}]
)
def test_too_small_maze_is_a_one_line_config_error(maze):
    with pytest.raises(ConfigError) as err:
        create_scenario("collaboration", {"maze": maze})
    assert "scenario.params.maze" in str(err.value)
    assert "\n" not in str(err.value)


def test_heterogeneous_needs_two_models(tmp_path):
    with pytest.raises(ConfigError, match="different models"):
        ss.run(config(tmp_path, conditions=["heterogeneous"]))


def test_baseline_pairs_solve_every_maze_end_to_end(tmp_path):
    run = ss.run(config(tmp_path, maze={"width": 6, "height": 4, "split": "mask"}))
    trials = trial_events(run)
    assert len(trials) == 2 * 3 * 3
    assert all(t["success"] and t["path_length"] == t["optimal_length"] for t in trials)
    assert all(t["status"] == "answered" and t["error"] is None for t in trials)
    pairs = [t for t in trials if t["condition"] != "solo"]
    # the baselines exchange their parts and the path: two or three messages, as the maze
    # and the starter fall
    assert all(len(t["agents"]) == 2 and t["turns"] == t["messages"] in (2, 3) for t in pairs)
    assert any(t["turns"] == 3 for t in pairs)
    ev = read_events(run.dir / "events.jsonl")
    messages = ev[ev.kind == "message"]
    assert len(messages) == sum(t["messages"] for t in pairs)
    assert set(messages.payload.map(lambda p: p["channel"])) == {"direct"}
    facts = run.summary["scenario"]
    assert facts["mazes"] == 2 * 3 and facts["models"] == ["baseline"]
    assert facts["conditions"] == ["solo", "pair", "relay"]
    measures = collaboration_summary(load_run(run.dir).events)
    assert measures["success"]["pair"]["rate"] == 1.0
    assert measures["gap"]["baseline"]["gap"] == 0.0


def test_pairs_come_from_graph_edges(tmp_path):
    run = ss.run(config(tmp_path, conditions=["pair"], pairs="edges"))
    n = 8
    for t in trial_events(run):
        a, b = t["agents"]
        assert (a - b) % n in (1, n - 1)  # ring neighbours


def test_relay_stronger_agent_writes_the_first_k_turns_then_hands_off():
    model = StandInModel(["big", "small"])
    scenario = CollaborationScenario(
        {
            "conditions": ["relay"],
            "relay_k": 2,
            "max_turns": 6,
            "trials_per_step": 1,
            "starter": "weaker",
            "model_rank": ["big", "small"],
            "maze": {"width": 5, "height": 3},
        }
    )
    scenario.setup(model)
    scenario.before_step(model)
    (payload,) = [e["payload"] for e in model.events]
    assert payload["agents"] == [1, 0] and payload["starter_role"] == "weaker"
    # turns 0 and 1 are written by the stronger agent 0 (for both seats), turn 2 by agent 1
    assert payload["generated_by"] == [0, 0, 1]
    assert payload["success"]
    # messages are attributed to the seat, not the writer
    assert [s for s, _, _ in model.sent] == [1, 0, 1]
    # the first relay turn shows the weaker seat's own map in the prompt
    first = model.batches[0][0]
    assert first.agent_id == 0 and "You speak first." in first.prompt


def test_turn_t_of_every_trial_is_one_batch():
    model = StandInModel(["m"] * 6)
    scenario = CollaborationScenario(
        {"conditions": ["solo", "pair"], "trials_per_step": 3, "max_turns": 5}
    )
    scenario.setup(model)
    scenario.before_step(model)
    sizes = [len(b) for b in model.batches]
    assert sizes[0] == 6  # 3 solo + 3 pair trials at turn 0
    assert sizes[1:] == [3, 3]  # pairs only; they agree at turn 2
    assert len({id(q.schema) for b in model.batches for q in b}) == 1


def test_who_starts_stronger():
    model = StandInModel(["weak", "strong", "weak", "strong"])
    scenario = CollaborationScenario(
        {
            "conditions": ["heterogeneous"],
            "starter": "stronger",
            "model_rank": ["strong"],
            "trials_per_step": 4,
        }
    )
    scenario.setup(model)
    scenario.before_step(model)
    for event in model.events:
        p = event["payload"]
        assert p["models"] == ["strong", "weak"] and p["starter_role"] == "stronger"


def test_final_path_is_the_last_statement():
    dialogue = [(0, "PATH: R R"), (1, "no, it is D D R R"), (0, "ok")]
    assert final_path(dialogue) == ["D", "D", "R", "R"]
    assert final_path([(0, "hello"), (1, "I cannot see the goal")]) is None


def failing_model(models, fails) -> StandInModel:
    """A StandInModel whose answers fail for the questions `fails(batch, position)` picks."""

    def answer(question):
        batch = model.batches[-1]
        position = next(k for k, q in enumerate(batch) if q is question)
        return None if fails(len(model.batches) - 1, position) else question.fallback()

    model = StandInModel(models, answer=answer)
    return model


def test_a_failed_turn_stops_the_trial_and_leaves_it_ungraded():
    # turn 0 batch: 2 solo then 2 pair questions; the second solo and the first pair fail
    model = failing_model(["m"] * 4, lambda batch, k: batch == 0 and k in (1, 2))
    scenario = CollaborationScenario(
        {"conditions": ["solo", "pair"], "trials_per_step": 2, "max_turns": 5}
    )
    scenario.setup(model)
    scenario.before_step(model)
    trials = [e["payload"] for e in model.events]
    assert [(t["condition"], t["status"]) for t in trials] == [
        ("solo", "answered"),
        ("solo", "failed"),
        ("pair", "failed"),
        ("pair", "answered"),
    ]
    for t in trials:
        if t["status"] == "failed":
            assert t["error"] == "turn 1: HTTP 503: overloaded"
            assert t["success"] is None and t["valid"] is None and t["path"] is None
            assert t["turns"] == 0 and t["path_length"] is None
        else:
            assert t["success"] is True and t["error"] is None
    # the failed pair asks nothing more: turn 1 holds only the live pair
    assert [len(b) for b in model.batches[1:]] == [1, 1]
    # a failed solo trial does not count towards the model's running solo success
    assert scenario._solo == {"m": [True]}


def test_the_control_arm_runs_unchanged(tmp_path):
    treated = ss.run(config(tmp_path / "t", steps=1))
    control_cfg = config(tmp_path / "c", steps=1).with_overrides({"scenario.arm": "control"})
    control = ss.run(control_cfg)
    assert control.summary["scenario"]["arm"] == "control"
    assert trial_events(control) == trial_events(treated)


@pytest.mark.integration
@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="needs llama-cpp-python")
def test_embedded_model_runs_a_collaboration_step(tmp_path):
    from socialsim.llm.local import bundled_gguf

    if bundled_gguf() is None:
        pytest.skip("needs the bundled SmolLM2 GGUF")
    cfg = config(
        tmp_path, steps=1, size=4, conditions=["solo", "pair"], trials_per_step=1, max_turns=2
    )
    cfg = cfg.with_overrides(
        {"agents.policy": "llm", "agents.llm.model": "local/smollm2", "agents.llm.max_tokens": 96}
    )
    run = ss.run(cfg)
    trials = trial_events(run)
    assert {t["condition"] for t in trials} == {"solo", "pair"}
    for t in trials:
        assert t["optimal_length"] >= 1 and t["models"][0] == "local/smollm2"
        if t["status"] == "answered":
            assert isinstance(t["success"], bool)
        else:
            assert t["status"] == "failed" and t["success"] is None and t["error"]


def test_every_turn_prompt_asks_for_the_answer_form_its_schema_checks():
    """The answer must be {"message": ...} (TurnMessage); the prompt says so too, for
    servers that do not constrain their output to the schema."""
    model = StandInModel(["m"] * 6)
    scenario = CollaborationScenario(
        {"conditions": ["solo", "pair"], "trials_per_step": 3, "max_turns": 5}
    )
    scenario.setup(model)
    scenario.before_step(model)
    questions = [q for b in model.batches for q in b]
    assert questions and {q.schema.__name__ for q in questions} == {"TurnMessage"}
    assert all(q.prompt.endswith('Reply in JSON as {"message": "..."}.') for q in questions)
