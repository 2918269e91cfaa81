"""Donor game: params, payoffs by hand, analytic rule baselines, generations, arms, LLM answers."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

import socialsim as ss
import socialsim.scenarios.donor_game.measures  # noqa: F401 - registers the measure
import socialsim.scenarios.donor_game.scenario  # noqa: F401 - registers the scenario
from socialsim.core.errors import ConfigError
from socialsim.scenarios.donor_game.ledger import pair_agents, settle
from socialsim.scenarios.donor_game.measures import donor_game_summary
from socialsim.scenarios.donor_game.prompts import Donation, StrategyText, rules_text, strategy_of
from socialsim.scenarios.donor_game.rules import GIVE, KEEP, PUNISH, Traces
from socialsim.simulation.log import flatten_events, read_events
from socialsim.simulation.queries import Answer, Question
from socialsim.simulation.world import create_scenario
from socialsim.testing import ScriptedClient, run_scripted


def config(tmp_path, size=8, steps=6, arm="treatment", agents=None, **params):
    return ss.ExperimentConfig.from_dict(
        {
            "name": "donor",
            "seed": 4,
            "steps": steps,
            "population": {"size": size},
            "network": {"kind": "ring"},
            "agents": agents or {"policy": "degroot", "params": {"initial": 0.5}},
            "scenario": {"kind": "donor_game", "arm": arm, "params": params},
            "output": {"dir": str(tmp_path), "report": False, "formats": ["jsonl"]},
        }
    )


def actions(run, type_):
    ev = read_events(run.dir / "events.jsonl")
    rows = ev[ev.kind == "action"]
    return [
        {"step": int(s), "agent": int(a), "target": None if t != t or t is None else int(t), **p}
        for s, a, t, p in zip(rows.step, rows.agent, rows.target, rows.payload, strict=True)
        if p.get("type") == type_
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"mutation_rate": 1.5},
        {"give_share": -0.1},
        {"rounds_per_generation": 0},
        {"rounds_per_generation": 2.5},
        {"multiplier": float("nan")},
        {"strategies": {"punisher": 1.0}},
        {"strategies": {"never_give": 0.0}},
        {"strategies": {"cheater": 1.0}},
        {"survivor_share": 0.0},
        {"rounds": 3},
    ],
)
def test_bad_params_are_one_line_config_errors(params):
    with pytest.raises(ConfigError) as err:
        create_scenario("donor_game", params)
    assert "scenario.params" in str(err.value) and "\n" not in str(err.value)


def test_a_single_agent_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="population.size >= 2"):
        ss.run(config(tmp_path, size=1))


def test_settle_by_hand_gifts_punishment_and_the_floor_at_zero():
    resources = np.array([10.0, 10.0, 10.0, 10.0])
    donors, target = np.arange(4), np.array([1, 2, 3, 0])
    action = np.array([GIVE, PUNISH, KEEP, GIVE])
    share = np.array([0.5, 0.2, 0.0, 0.1])
    paid = settle(resources, donors, target, action, share, 2.0, 2.0)
    assert paid.given.tolist() == [5.0, 0.0, 0.0, 1.0]
    assert paid.cost.tolist() == [0.0, 2.0, 0.0, 0.0]
    assert paid.received.tolist() == [2.0, 10.0, 0.0, 0.0]
    assert paid.damage.tolist() == [0.0, 0.0, 4.0, 0.0]
    # 10 - 5 + 2 ; 10 - 2 + 10 ; 10 - 4 ; 10 - 1
    assert paid.after.tolist() == [7.0, 18.0, 6.0, 9.0]
    # a punishment worth 10 against an agent with 1 takes only what is there
    capped = settle(
        np.array([1.0, 10.0]), np.array([0, 1]), np.array([1, 0]),
        np.array([KEEP, PUNISH]), np.array([0.0, 0.5]), 2.0, 2.0,
    )  # fmt: skip
    assert capped.damage.tolist() == [1.0, 0.0] and capped.after.tolist() == [0.0, 5.0]


def test_pairings_random_cycle_and_graph_neighbours():
    rng = np.random.default_rng(0)
    out = pair_agents(rng, 7, "random")
    assert sorted(out.tolist()) == list(range(7)) and not (out == np.arange(7)).any()
    # a path 0-1-2 and an isolated agent 3: neighbours only, the isolated one sits out
    indptr, indices = np.array([0, 1, 3, 4, 4]), np.array([1, 0, 2, 1])
    out = pair_agents(rng, 4, "edges", indptr, indices)
    assert out[0] == 1 and out[2] == 1 and out[1] in (0, 2) and out[3] == -1


def test_image_score_reads_the_last_depth_actions():
    traces = Traces(2, depth=2)
    assert traces.score(np.array([0, 1]), 1.0).tolist() == [1.0, 1.0]
    for step, act in enumerate([GIVE, KEEP, KEEP], 1):
        traces.record(np.array([0]), np.array([act]), np.array([0.5]), np.array([1]), step)
    assert traces.score(np.array([0]), 1.0).tolist() == [0.0]  # the first gift fell out
    assert [a for _, a, _, _ in traces.recent(0)] == [KEEP, KEEP]
    traces.reset(np.array([0]))
    assert traces.score(np.array([0]), 0.3).tolist() == [0.3]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Give half to anyone who gave last round.", None),
        ("Give 2 times the amount of the previous generation's generosity.", None),
        ("Rampus", "fewer than 3 words"),
        ("Your strategy,", "fewer than 3 words"),
        ("Your strategy.", "placeholder"),
        ("string", "placeholder"),
        ("When do you give, and how much?", "repeats the question"),
    ],
)
def test_strategy_texts_are_checked_for_sense(text, problem):
    rules = rules_text(2.0, 3, 3, False, 2.0)
    answer = Answer(Question(0, "p", StrategyText, "t"), StrategyText(strategy=text))
    strategy, error = strategy_of(answer, rules)
    if problem is None:
        assert strategy == text and error is None
    else:
        assert strategy is None and problem in error
    failed = Answer(Question(0, "p", StrategyText, "t"), None, error="HTTP 503")
    assert strategy_of(failed, rules) == (None, "HTTP 503")


def test_payoffs_of_a_four_agent_run_add_up_by_hand(tmp_path):
    run = ss.run(
        config(
            tmp_path, size=4, steps=4, rounds_per_generation=2, punishment=True,
            strategies={"punisher": 1, "never_give": 1}, give_share=0.5, threshold=0.5,
            punishment_multiplier=3.0, mutation_rate=0.0,
        )
    )  # fmt: skip
    rounds = actions(run, "donor_round")
    assert len(rounds) == 4 * 4
    assert any(r["action"] == "punish" for r in rounds)
    for step in range(1, 5):
        now = [r for r in rounds if r["step"] == step]
        for r in now:
            gifts = sum(o["given"] for o in now if o["target"] == r["agent"])
            punished = sum(o["cost"] for o in now if o["target"] == r["agent"])
            assert r["received"] == pytest.approx(2.0 * gifts)
            gross = r["resources_before"] - r["given"] - r["cost"] + r["received"]
            assert r["damage"] == pytest.approx(min(3.0 * punished, gross))
            assert r["resources_after"] == pytest.approx(gross - r["damage"])
            expected = 0.5 * r["resources_before"] if r["action"] in ("give", "punish") else 0.0
            assert r["given"] + r["cost"] == pytest.approx(expected)
    by = {(r["step"], r["agent"]): r for r in rounds}
    for agent in range(4):
        assert by[(1, agent)]["resources_before"] == by[(3, agent)]["resources_before"] == 10.0
        assert by[(2, agent)]["resources_before"] == by[(1, agent)]["resources_after"]


def test_everyone_giving_compounds_exactly(tmp_path):
    run = ss.run(
        config(tmp_path, size=4, steps=2, rounds_per_generation=2,
               strategies={"always_give": 1}, give_share=0.5, mutation_rate=0.0)
    )  # fmt: skip
    after = {(r["step"], r["agent"]): r["resources_after"] for r in actions(run, "donor_round")}
    assert all(after[(1, a)] == 15.0 and after[(2, a)] == 22.5 for a in range(4))


@pytest.mark.parametrize("pairing", ["random", "edges"])
@pytest.mark.parametrize("threshold", [0.5, 1.0])
def test_discriminators_with_good_starting_reputation_always_give(tmp_path, pairing, threshold):
    size, rounds, share = 10, 3, 0.4
    run = ss.run(
        config(
            tmp_path, size=size, steps=3 * rounds, rounds_per_generation=rounds, pairing=pairing,
            strategies={"discriminator": 1}, give_share=share, threshold=threshold,
            mutation_rate=0.0, initial_reputation=1.0,
        )
    )  # fmt: skip
    rounds_ = actions(run, "donor_round")
    assert {r["action"] for r in rounds_} == {"give"} and {r["share"] for r in rounds_} == {share}
    measures = run.summary["measures"]["donor_game"]
    for g in ("1", "2", "3"):
        assert measures["by_generation"][g]["donation_share"] == pytest.approx(share)
        assert measures["strategy_mix"][g] == {"discriminator": 1.0}
    if pairing == "random":  # each agent gives and receives once a round: 10 x (1 + s)^R
        for g in ("1", "2", "3"):
            total = measures["by_generation"][g]["total_resources"]
            assert total == pytest.approx(size * 10.0 * (1 + share) ** rounds)


def test_defectors_donate_nothing(tmp_path):
    run = ss.run(config(tmp_path, strategies={"never_give": 1}, mutation_rate=0.0))
    measures = run.summary["measures"]["donor_game"]
    assert measures["overall"]["donation_share"] == 0.0
    assert measures["overall"]["give_rate"] == 0.0
    assert all(r["given"] == 0.0 for r in actions(run, "donor_round"))
    assert measures["final"]["total_resources"] == 8 * 10.0


def test_generations_replace_the_poorest_in_their_slots(tmp_path):
    run = ss.run(config(tmp_path, size=9, steps=6, rounds_per_generation=3, mutation_rate=0.0))
    standings = {(s["generation"], s["agent"]): s for s in actions(run, "donor_standing")}
    replaced = actions(run, "donor_replaced")
    first = [standings[(1, a)] for a in range(9)]
    dropped = sorted(s["agent"] for s in first if not s["survives"])
    assert len(dropped) == 9 - 4 and sorted(r["agent"] for r in replaced) == dropped
    assert all(r["generation"] == 2 and r["replaced_born"] == 1 for r in replaced)
    worst_kept = min(s["resources"] for s in first if s["survives"])
    assert all(s["resources"] <= worst_kept for s in first if not s["survives"])
    for r in replaced:  # no mutation: the newcomer plays its parent's strategy
        parent = standings[(1, r["parent"])]
        assert parent["survives"] and r["mutated"] is False
        assert standings[(2, r["agent"])]["kind"] == parent["kind"]
        assert standings[(2, r["agent"])]["born"] == 2
    strategies = actions(run, "donor_strategy")
    assert sorted(s["agent"] for s in strategies if s["generation"] == 2) == dropped
    assert run.summary["scenario"]["replaced"] == {"2": 5}


def test_mutation_draws_fresh_strategies(tmp_path):
    run = ss.run(
        config(tmp_path, size=10, steps=4, rounds_per_generation=2, mutation_rate=1.0,
               strategies={"never_give": 1})
    )  # fmt: skip
    replaced = actions(run, "donor_replaced")
    assert replaced and all(r["mutated"] is True for r in replaced)
    kids = [s for s in actions(run, "donor_strategy") if s["generation"] == 2]
    assert {k["kind"] for k in kids} <= {"always_give", "never_give", "discriminator"}
    assert all(0.0 <= k["share"] <= 1.0 and 0.0 <= k["threshold"] <= 1.0 for k in kids)


def test_same_config_and_seed_give_the_same_log(tmp_path):
    def lines(out):
        run = ss.run(config(tmp_path, punishment=True, pairing="edges"), out=tmp_path / out)
        text = (run.dir / "events.jsonl").read_text().splitlines()
        return [{k: v for k, v in json.loads(line).items() if k != "run"} for line in text]

    assert lines("a") == lines("b")


def test_control_arm_hides_reputation_and_keeps_the_pairings(tmp_path):
    mix = {"discriminator": 1, "never_give": 1}
    runs = {
        arm: ss.run(
            config(tmp_path / arm, size=10, steps=4, rounds_per_generation=2, arm=arm,
                   strategies=mix, threshold=1.0, reputation_depth=1, mutation_rate=0.0)
        )
        for arm in ("treatment", "control")
    }  # fmt: skip
    rounds = {arm: actions(run, "donor_round") for arm, run in runs.items()}
    pairs = {
        arm: [(r["step"], r["agent"], r["target"]) for r in rows] for arm, rows in rounds.items()
    }
    assert pairs["treatment"] == pairs["control"]
    assert all(r["reputation"] is None for r in rounds["control"])
    assert all(r["reputation"] is not None for r in rounds["treatment"])
    kinds = {s["agent"]: s["kind"] for s in actions(runs["control"], "donor_standing")
             if s["generation"] == 1}  # fmt: skip
    # without reputation every discriminator gives; with it, defectors stop getting gifts
    gen1 = [r for r in rounds["control"] if r["generation"] == 1]
    assert all(r["action"] == "give" for r in gen1 if kinds[r["agent"]] == "discriminator")
    treated = [r for r in rounds["treatment"] if r["step"] == 2]
    refused = [r for r in treated if kinds[r["agent"]] == "discriminator"
               and kinds[r["target"]] == "never_give"]  # fmt: skip
    assert refused and all(r["action"] == "keep" for r in refused)
    assert runs["control"].summary["scenario"]["reputation_shown"] is False


@pytest.mark.slow
def test_arms_report_effects_on_the_headline_measures(tmp_path):
    cfg = config(
        tmp_path, size=10, steps=4, rounds_per_generation=2, threshold=1.0, reputation_depth=1,
        strategies={"discriminator": 1, "never_give": 1}, mutation_rate=0.0,
    ).with_overrides({"replicates": 2, "control": True})  # fmt: skip
    arms = ss.run(cfg)
    effects = {e["measure"]: e for e in arms.summary["effects"]}
    share = effects["donor_game.overall.donation_share"]
    assert share["n_replicates"] == 2
    assert share["treatment"] < share["control"]  # discriminators refuse known defectors
    assert "donor_game.final.total_resources" in effects
    assert "donor_game.overall.donation_share" in arms.results.columns


def scripted(strategy, percent, fail=()) -> ScriptedClient:
    """Answers strategy and donation questions in order; `strategy(k)` writes the k-th strategy,
    and the donation requests whose number is in `fail` get a transport error."""

    def answer(request):
        k = sum(1 for r in client.requests if r.schema is request.schema) - 1
        if request.schema is StrategyText:
            return {"strategy": strategy(k)}
        assert request.schema is Donation, request.tag  # the game asks nothing else
        return None if k in fail else {"percent": percent}

    client = ScriptedClient(answer, route="http", prompt_tokens=9, completion_tokens=3)
    return client


def llm_config(tmp_path, **params):
    agents = {
        "policy": "llm",
        "params": {"initial": 0.5},
        "llm": {"model": "openai/x", "api_base": "http://127.0.0.1:9/v1"},
    }
    return config(tmp_path, size=4, steps=4, agents=agents, rounds_per_generation=2, **params)


def prompt_of(request):
    return request.messages[-1]["content"]


def test_llm_answers_are_used_and_failures_are_counted_never_imputed(tmp_path):
    cfg = llm_config(tmp_path)

    def strategy(k):  # the fourth strategy (agent 3's) is not a strategy
        return "ok" if k == 3 else "Give 40% to players who gave."

    client = scripted(strategy, 40, fail=(0, 5, 6, 13))
    run = run_scripted(cfg, client)
    rounds = actions(run, "donor_round")
    failed = [r for r in rounds if r["status"] == "failed"]
    answered = [r for r in rounds if r["status"] == "answered"]
    assert len(rounds) == 16 and len(failed) == 4
    assert all(r["action"] is None and r["share"] is None and r["given"] == 0.0 for r in failed)
    assert all(r["error"] for r in failed)
    assert all(r["action"] == "give" and r["share"] == 0.4 for r in answered)
    measures = donor_game_summary(flatten_events(read_events(run.dir / "events.jsonl")))
    assert measures["answers"] == {"asked": 16, "answered": len(answered), "failed": len(failed)}
    assert measures["overall"]["donation_share"] == pytest.approx(0.4)
    strategies = [s for s in actions(run, "donor_strategy") if s["source"] == "llm"]
    assert len(strategies) == 4 + 2  # everyone in generation 1, two newcomers in generation 2
    bad = strategies[3]
    assert bad["agent"] == 3 and bad["status"] == "failed" and bad["strategy"] is None
    assert "fewer than 3 words" in bad["error"]
    assert measures["strategies"]["answers"] == {"asked": 6, "answered": 5, "failed": 1}
    assert run.summary["data_quality"]["calls"] == len(client.requests) == 16 + 6


def test_llm_newcomers_read_the_survivors_strategies_and_reputations(tmp_path):
    cfg = llm_config(tmp_path, reputation_depth=2)
    client = scripted(lambda k: "Give 40% to players who gave before.", 40)
    run = run_scripted(cfg, client)
    late = [
        r for r in client.requests if r.schema is StrategyText and "Generation 2" in prompt_of(r)
    ]
    assert len(late) == 2
    assert all("survived the last generation" in prompt_of(r) for r in late)
    assert all("1. Give 40% to players who gave before." in prompt_of(r) for r in late)
    second = [r for r in client.requests if "Generation 1, round 2." in prompt_of(r)]
    assert len(second) == 4 and all("1 round ago: gave 40%" in prompt_of(r) for r in second)
    assert all(s["survives"] in (True, False) for s in actions(run, "donor_standing"))


def test_llm_control_arm_tells_donors_nothing_about_the_recipient(tmp_path):
    cfg = llm_config(tmp_path).with_overrides({"scenario.arm": "control"})
    client = scripted(lambda k: "Give 40% to everyone I meet.", 40)
    run_scripted(cfg, client)
    donations = [prompt_of(r) for r in client.requests if r.schema is Donation]
    assert donations and all("You know nothing about how player" in p for p in donations)
    assert not any("recently as a donor" in p or "last 3 rounds" in p for p in donations)


def test_mixed_population_rule_newcomers_inherit_from_rule_survivors(tmp_path):
    cfg = llm_config(tmp_path, strategies={"always_give": 1}, mutation_rate=0.0)
    cfg = cfg.with_overrides(
        {"population.size": 8, "agents.mix": [{"policy": "degroot", "fraction": 0.5}]}
    )
    client = scripted(lambda k: "Give 40% to players who gave before.", 40)
    run = run_scripted(cfg, client)
    first = {s["agent"]: s for s in actions(run, "donor_standing") if s["generation"] == 1}
    assert sorted(s["source"] for s in first.values()) == ["llm"] * 4 + ["rule"] * 4
    for r in actions(run, "donor_replaced"):
        if first[r["agent"]]["source"] == "rule":
            assert first[r["parent"]]["source"] == "rule" and first[r["parent"]]["survives"]
        else:
            assert r["parent"] is None and r["mutated"] is None
    late = [prompt_of(r) for r in client.requests if r.schema is StrategyText
            and "Generation 2" in prompt_of(r)]  # fmt: skip
    survivors_rule = any(s["survives"] and s["source"] == "rule" for s in first.values())
    assert late and all(("Always give 50% of my resources." in p) == survivors_rule for p in late)


@pytest.mark.integration
@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="needs llama-cpp-python")
def test_embedded_model_plays_two_generations(tmp_path):
    from socialsim.llm.local import bundled_gguf

    if bundled_gguf() is None:
        pytest.skip("needs the bundled SmolLM2 GGUF")
    cfg = config(
        tmp_path, size=3, steps=2, rounds_per_generation=1, reputation_depth=2,
        agents={"policy": "llm", "params": {"initial": 0.5},
                "llm": {"model": "local/smollm2", "max_tokens": 64}},
    )  # fmt: skip
    run = ss.run(cfg)
    rounds = actions(run, "donor_round")
    assert len(rounds) == 2 * 3
    for r in rounds:
        assert r["status"] in ("answered", "failed")
        if r["status"] == "answered":
            assert r["action"] in ("give", "keep") and 0.0 <= r["share"] <= 1.0
        else:
            assert r["action"] is None and r["error"]
    strategies = actions(run, "donor_strategy")
    assert len(strategies) == 3 + 2 and all(s["source"] == "llm" for s in strategies)
    assert all((s["strategy"] is None) == (s["status"] == "failed") for s in strategies)
    answers = run.summary["measures"]["donor_game"]["answers"]
    assert answers["asked"] == 6 == answers["answered"] + answers["failed"]
    assert run.summary["data_quality"]["calls"] >= 6 + 5
