"""Network growth: set_edges, params, the join schedule, attachment rules, LLM answers, arms."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import socialsim as ss
import socialsim.scenarios.network_growth.measures  # noqa: F401 - registers the measure
import socialsim.scenarios.network_growth.scenario  # noqa: F401 - registers the scenario
from socialsim.core.errors import ConfigError
from socialsim.scenarios.network_growth.graph import pick_weighted, sample_ids
from socialsim.scenarios.network_growth.measures import follow_graph, network_growth_summary
from socialsim.simulation.log import read_events
from socialsim.simulation.world import create_scenario
from socialsim.testing import ScriptedClient, run_scripted


def growth_cfg(tmp_path=None, size=60, steps=11, policy="degroot", **params):
    base = {"initial": 5, "joiners_per_step": 5, "follows_per_join": 2, "candidates": 0}
    base.update(params)
    out = {"dir": str(tmp_path) if tmp_path else "runs", "report": False, "formats": ["jsonl"]}
    return ss.ExperimentConfig.from_dict(
        {
            "name": "growth",
            "seed": 3,
            "steps": steps,
            "population": {"size": size},
            "network": {"kind": "erdos_renyi", "params": {"p": 0.0}, "directed": True},
            "agents": {"policy": policy, "llm": {"model": "openai/x", "api_base": "http://x/v1"}},
            "scenario": {"kind": "network_growth", "params": base},
            "output": out,
        }
    )


def actions(run, kind):
    ev = read_events(run.dir / "events.jsonl")
    rows = ev[ev.kind == "action"]
    keep = rows.payload.map(lambda p: p.get("type") == kind)
    return rows[keep.to_numpy(dtype=bool)]


# --- SocialModel.set_edges ---------------------------------------------------------------


def test_set_edges_replaces_whom_agents_hear_and_the_written_edges(tmp_path):
    cfg = ss.ExperimentConfig.from_dict(
        {
            "name": "edges",
            "steps": 1,
            "population": {"size": 4},
            "network": {"kind": "ring", "directed": True},
            "agents": {"policy": "degroot"},
            "claims": [{"id": "c1", "text": "The river is poisoned."}],
            "output": {"dir": str(tmp_path), "report": False},
        }
    )
    with ss.SocialModel(cfg) as model:
        assert model.neighbours(0) == [1, 3]
        model.graph  # noqa: B018 - builds the cached networkx graph
        model.set_edges(np.array([[2, 0], [3, 0], [1, 1]]))
        assert model.neighbours(0) == [2, 3]  # 0 listens to whom it follows... in-edges
        assert model.neighbours(1) == []  # the self-loop is left out
        assert sorted(model.graph.edges()) == [(2, 0), (3, 0)]
        assert model.space.G.number_of_edges() == 2
        assert model.record().network.n_edges == 2
        with pytest.raises(ConfigError, match="0..3"):
            model.set_edges(np.array([[0, 4]]))


def test_grown_edges_reach_edges_parquet_and_rule_updates(tmp_path):
    claims = [{"id": "c1", "text": "The river is poisoned."}]  # for the rule to update
    run = ss.run(growth_cfg(tmp_path).with_overrides({"claims": claims}))
    edges = pd.read_parquet(run.dir / "edges.parquet")
    rebuilt = follow_graph(run.events, 60)
    assert sorted(zip(edges.source, edges.target, strict=True)) == sorted(
        zip(rebuilt.src, rebuilt.dst, strict=True)
    )
    # degroot agents moved towards agents they follow: belief changes come from followees
    changes = run.events[run.events.kind == "belief_change"]
    pairs = set(zip(edges.source.tolist(), edges.target.tolist(), strict=True))
    assert len(changes) > 0
    assert all(
        (int(t), int(a)) in pairs
        for a, t in zip(changes.agent, changes.target, strict=True)
        if t == t
    )


# --- params --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"attachment": "random"},
        {"initial": 0},
        {"follows_per_join": -1},
        {"joiners_per_step": 2.5},
        {"homophily_weight": float("nan")},
        {"revisit": 1.5},
        {"homophily_attribute": "name"},
    ],
)
def test_bad_params_are_one_line_config_errors(params):
    with pytest.raises(ConfigError) as err:
        create_scenario("network_growth", params)
    assert "scenario.params" in str(err.value) and "\n" not in str(err.value)


def test_undirected_network_and_oversized_cohort_are_refused(tmp_path):
    cfg = growth_cfg(tmp_path).model_dump()
    cfg["network"]["directed"] = False
    with pytest.raises(ConfigError, match="network.directed"):
        ss.run(ss.ExperimentConfig.from_dict(cfg))
    with pytest.raises(ConfigError, match="initial"):
        ss.run(growth_cfg(tmp_path, size=4, initial=5))


def test_llm_agents_need_a_candidate_list(tmp_path):
    with pytest.raises(ConfigError, match="candidates"):
        ss.SocialModel(growth_cfg(tmp_path, policy="llm", candidates=0))


# --- the rule baseline ---------------------------------------------------------------------


def test_agents_join_on_schedule_absent_until_then_and_follow_on_joining(tmp_path):
    run = ss.run(growth_cfg(tmp_path, size=60, steps=6, follows_per_join=2))
    joined = actions(run, "joined")
    per_step = joined.groupby("step").size().to_dict()
    assert per_step == {0: 5, 1: 5, 2: 5, 3: 5, 4: 5, 5: 5, 6: 5}
    assert sorted(joined.agent.astype(int)) == list(range(35))
    assert run.steps["present"].tolist() == [5, 10, 15, 20, 25, 30, 35]
    follows = actions(run, "follow")
    assert len(follows) == 35 * 2
    step_of = dict(zip(joined.agent.astype(int), joined.step, strict=True))
    # every follow is made in the step its follower joined, towards an agent present then
    assert all(s == step_of[int(a)] for a, s in zip(follows.agent, follows.step, strict=True))
    assert all(step_of[int(t)] <= s for t, s in zip(follows.target, follows.step, strict=True))
    assert run.personas["present"].sum() == 35
    assert run.summary["scenario"]["joined"] == 35


def test_same_seed_same_log(tmp_path):
    a = ss.run(growth_cfg(tmp_path / "a", candidates=4, revisit=0.3, attachment="homophilous"))
    b = ss.run(growth_cfg(tmp_path / "b", candidates=4, revisit=0.3, attachment="homophilous"))
    strip = lambda r: [  # noqa: E731
        {k: v for k, v in json.loads(line).items() if k != "run"}
        for line in (r.dir / "events.jsonl").read_text().splitlines()
    ]
    assert strip(a) == strip(b)


def _gap(rule: str, seed: int, n: int = 1000, m: int = 3) -> float:
    cfg = growth_cfg(size=n, steps=n // 10 - 1, initial=10, joiners_per_step=10,
                     follows_per_join=m, attachment=rule)  # fmt: skip
    with ss.SocialModel(cfg, seed=seed) as model:
        model.run_model()
        fp = network_growth_summary(model.record())["friendship_paradox"]
    assert fp["agents"] == n and fp["mean_degree"] == pytest.approx(m)
    return fp["gap"]


@pytest.mark.slow
def test_preferential_attachment_shows_the_paradox_far_more_than_uniform():
    """Every agent follows m = 3, so mean followees' followers - mean followers = Var / mean
    of the in-degree. Uniform attachment gives a geometric in-degree (mean m, variance
    m(m+1)): a gap of m + 1 = 4. Preferential (followers + 1) gives a power law of exponent
    2 + 1/m < 3 whose variance grows with N: at N = 1000 the largest in-degree is about
    N^(m/(m+1)) ~ 178, which alone adds 178^2 / (N m) ~ 10 to the gap, so the gap exceeds
    2 (m + 1)."""
    m = 3
    uniform = [_gap("uniform", s) for s in (1, 2, 3)]
    preferential = [_gap("preferential", s) for s in (1, 2, 3)]
    assert abs(np.mean(uniform) - (m + 1)) < 1.0
    assert all(g > 0 for g in uniform)
    assert all(p > 2 * (m + 1) for p in preferential)


def test_homophilous_attachment_makes_followers_alike():
    def political(rule):
        cfg = growth_cfg(size=400, steps=39, initial=10, joiners_per_step=10,
                         follows_per_join=3, candidates=10, attachment=rule,
                         homophily_weight=10.0)  # fmt: skip
        with ss.SocialModel(cfg) as model:
            model.run_model()
            return network_growth_summary(model.record())["homophily"]["political_leaning"]

    # weight 10 on a same-leaning candidate in a list of 10: most follows stay in the group
    assert political("homophilous") > 0.3
    assert abs(political("uniform")) < 0.1


def test_revisits_unfollow_the_followee_with_fewest_followers(tmp_path):
    run = ss.run(growth_cfg(tmp_path, revisit=1.0, unfollow=1.0, candidates=5, steps=4))
    unfollows = actions(run, "unfollow")
    choices = actions(run, "follow_choice")
    revisits = choices[choices.payload.map(lambda p: p["on"] == "revisit").to_numpy(dtype=bool)]
    assert len(unfollows) > 0 and len(revisits) > 0
    assert set(unfollows.agent.astype(int)) <= set(revisits.agent.astype(int))
    graph = follow_graph(run.events, 60)
    assert graph.n_edges == len(actions(run, "follow")) - len(unfollows)


def test_snapshots_stay_in_the_run_directory(tmp_path):
    run = ss.run(growth_cfg(tmp_path, steps=4, snapshot_every=2))
    files = sorted(p.name for p in (run.dir / "snapshots").iterdir())
    assert files == ["follows_step_00002.parquet", "follows_step_00004.parquet"]
    at2 = pd.read_parquet(run.dir / "snapshots" / files[0])
    rebuilt = follow_graph(run.events, 60, step=2)
    assert sorted(zip(at2.source, at2.target, strict=True)) == sorted(
        zip(rebuilt.src, rebuilt.dst, strict=True)
    )


def test_weighted_picks_follow_the_weights_and_samples_are_distinct():
    rng = np.random.default_rng(0)
    picks = [pick_weighted(rng, np.arange(3), np.array([1.0, 3.0, 0.0]), 1)[0] for _ in range(4000)]
    assert 2 not in picks and np.mean(np.array(picks) == 1) == pytest.approx(0.75, abs=0.03)
    assert sorted(pick_weighted(rng, np.arange(5), np.ones(5), 9)) == [0, 1, 2, 3, 4]
    ids = sample_ids(rng, 10_000, 50)
    assert len(set(ids.tolist())) == 50 and ids.max() < 10_000


# --- LLM agents -----------------------------------------------------------------------------


def scripted(answer) -> ScriptedClient:
    """Answers growth questions with `answer(request)`; step decisions with a plain post."""
    post = json.dumps({"message": "hi", "to": "all", "beliefs": []})
    return ScriptedClient(
        lambda r: answer(r) if r.tag.startswith("growth_") else post, prompt_tokens=5
    )


def llm_run(tmp_path, answer, **params):
    cfg = growth_cfg(tmp_path, size=12, steps=2, policy="llm", candidates=4,
                     initial=4, joiners_per_step=4, **params)  # fmt: skip
    client = scripted(answer)
    return run_scripted(cfg, client), client


def test_llm_answers_become_follows_and_unusable_ones_are_failed_not_imputed(tmp_path):
    def answer(r):
        agent_seed = r.seed % 3
        if agent_seed == 0:
            return None  # the call fails
        if agent_seed == 1:
            return json.dumps({"follow": [9]})  # not a listed number
        return json.dumps({"follow": [1, 2]})

    run, client = llm_run(tmp_path, answer)
    assert client.tags().count("growth_join_v1") == 12
    choices = actions(run, "follow_choice").payload.tolist()
    assert len(choices) == 12 and all(c["by"] == "llm" for c in choices)
    failed = [c for c in choices if c["status"] == "failed"]
    answered = [c for c in choices if c["status"] == "answered"]
    assert failed and answered
    assert all(c["follow"] is None and c["error"] for c in failed)
    assert any("not a listed number" in c["error"] for c in failed)
    assert any("503" in c["error"] for c in failed)
    assert all(c["follow"] == c["shown"][:2] for c in answered)
    follows = actions(run, "follow")
    assert len(follows) == 2 * len(answered)
    measured = run.summary["measures"]["network_growth"]["answers"]
    assert measured["asked"] == 12
    assert (measured["answered"], measured["failed"]) == (len(answered), len(failed))


def test_llm_agents_see_candidates_in_an_order_of_their_own_not_join_order(tmp_path):
    """A model that always picks the first listed must not follow the oldest members: the
    list is drawn per agent and step, the prompt lists it in the logged order, and the
    number picked names the candidate at that place."""
    cfg = growth_cfg(tmp_path, size=40, steps=4, policy="llm", candidates=6, initial=8,
                     joiners_per_step=8)  # fmt: skip
    client = scripted(lambda r: json.dumps({"follow": [1]}))
    run = run_scripted(cfg, client)
    choices = [c for c in actions(run, "follow_choice").payload if c["status"] == "answered"]
    assert len(choices) >= 12 and all(c["follow"] == c["shown"][:1] for c in choices)
    shown = [c["shown"] for c in choices if len(c["shown"]) > 1]
    assert any(s != sorted(s) for s in shown)  # in id order every list would be sorted
    firsts = [s[0] == min(s) for s in shown]
    assert sum(firsts) < len(firsts)  # the first listed is not always the oldest
    names = run.personas.set_index("id")["name"] if "id" in run.personas else run.personas["name"]
    joins = [r for r in client.requests if r.tag == "growth_join_v1"]
    listed = 0
    for request, choice in zip(joins, [c for c in choices if c["on"] == "join"], strict=True):
        text = request.messages[-1]["content"]
        at = [text.index(f"{k}. {names[a]}") for k, a in enumerate(choice["shown"], start=1)]
        assert at == sorted(at)  # listed in the logged order, numbered from 1
        listed += 1
    assert listed >= 12


def test_llm_revisit_unfollows_by_number(tmp_path):
    def answer(r):
        return json.dumps(
            {"follow": [1], "unfollow": [1]} if "revisit" in r.tag else {"follow": [1]}
        )

    run, _ = llm_run(tmp_path, answer, revisit=1.0)
    revisits = [c for c in actions(run, "follow_choice").payload if c["on"] == "revisit"]
    assert revisits and all(c["status"] == "answered" for c in revisits)
    assert len(actions(run, "unfollow")) == sum(len(c["unfollow"]) for c in revisits) > 0


@pytest.mark.slow
def test_control_arm_attaches_uniformly_without_asking_and_effects_are_computed(tmp_path):
    cfg = growth_cfg(tmp_path, size=300, steps=29, initial=10, joiners_per_step=10,
                     follows_per_join=3)  # fmt: skip
    arms = ss.run(cfg.with_overrides({"control": True, "replicates": 2}), out=tmp_path / "a")
    effect = next(
        e
        for e in arms.summary["effects"]
        if e["measure"] == "network_growth.friendship_paradox.gap"
    )
    treated = [r.summary["measures"]["network_growth"]["friendship_paradox"]["gap"]
               for r in arms.runs["treatment"]]  # fmt: skip
    assert effect["treatment"] == pytest.approx(np.mean(treated))
    assert effect["difference"] > 0  # preferential minus uniform attachment
    for run in arms.runs["control"]:
        rules = run.events["payload.rule"].dropna()
        assert set(rules) == {"uniform"} and run.summary["scenario"]["attachment"] == "uniform"
    same = [set(r.events.loc[r.events["payload.type"] == "joined", "agent"]) for r in
            (arms.runs["treatment"][0], arms.runs["control"][0])]  # fmt: skip
    assert same[0] == same[1]


@pytest.mark.integration
def test_embedded_model_grows_a_small_network(tmp_path):
    cfg = growth_cfg(tmp_path, size=4, steps=1, policy="llm", candidates=3, initial=3,
                     joiners_per_step=1, follows_per_join=1).model_dump()  # fmt: skip
    cfg["agents"]["llm"] = {"model": "local/smollm2", "max_tokens": 48}
    cfg["agents"]["prompt"] = {"persona": "brief"}
    run = ss.run(ss.ExperimentConfig.from_dict(cfg))
    choices = actions(run, "follow_choice").payload.tolist()
    assert len(choices) == 4 and all(c["by"] == "llm" for c in choices)
    assert all(c["status"] in ("answered", "failed") for c in choices)
    assert all((c["follow"] is None) == (c["status"] == "failed") for c in choices)
    answers = run.summary["measures"]["network_growth"]["answers"]
    assert answers["asked"] == 4 and answers["answered"] + answers["failed"] == 4
    assert len(actions(run, "follow")) == sum(len(c["follow"] or []) for c in choices)
