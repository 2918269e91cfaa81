"""The misinformation scenario: claims library, probe scoring, config errors, end-to-end runs."""

import importlib.util
from typing import get_args

import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

import socialsim as ss
from socialsim.analysis.summarize import summarize_run
from socialsim.core.claims import (
    DISTANCES,
    answer_schema,
    builtin_claims,
    claim_library,
    framed_text,
    rule_answer,
    score_answer,
)
from socialsim.core.errors import ConfigError, DataFileError
from socialsim.simulation.log import read_events
from socialsim.simulation.model import SocialModel
from socialsim.simulation.world import create_scenario
from socialsim.testing import Failure, ScriptedClient, fitted, run_scripted

CUSTOM = {
    "id": "moon_cheese",
    "topic": "science",
    "true_statement": "The Moon is made of rock.",
    "manipulated_statement": "The Moon is made of cheese.",
    "probes": [
        {
            "distance": "direct",
            "question": "What is the Moon made of?",
            "options": ["Rock", "Cheese"],
            "correct": "A",
            "manipulated": "B",
        },
        {
            "distance": "indirect",
            "question": "Could you eat a Moon rock sample?",
            "options": ["No", "Yes"],
            "correct": "A",
            "manipulated": "B",
        },
        {
            "distance": "peripheral",
            "question": "What orbits the Earth?",
            "options": ["The Moon", "Mars"],
            "correct": "A",
        },
    ],
}


def cfg(tmp_path, steps=4, size=20, policy="degroot", **params):
    data = {
        "name": "misinfo",
        "seed": 3,
        "steps": steps,
        "population": {"size": size},
        "network": {"kind": "watts_strogatz", "params": {"k": 4, "p": 0.1}},
        "agents": {
            "policy": policy,
            "params": {"p": 0.5} if policy == "independent_cascade" else {},
        },
        "scenario": {"kind": "misinformation", "params": params},
        "output": {"dir": str(tmp_path / "runs"), "report": False, "formats": ["jsonl"]},
    }
    return ss.ExperimentConfig.from_dict(data)


def make_model(config, path):
    path.mkdir(parents=True, exist_ok=True)
    return SocialModel(config, path)


# --- library ---------------------------------------------------------------------------------------
def test_library_has_twenty_claims_with_probes_at_every_distance():
    claims = builtin_claims()
    assert len(claims) >= 20
    assert len({c.id for c in claims}) == len(claims)
    for claim in claims:
        assert claim.true_statement != claim.manipulated_statement
        assert {p.distance for p in claim.probes} == set(DISTANCES)
        for probe in claim.probes:
            assert probe.correct in probe.letters
            if probe.distance != "peripheral":
                assert probe.manipulated in probe.letters and probe.manipulated != probe.correct


def test_user_claims_from_file_and_inline(tmp_path):
    path = tmp_path / "claims.yaml"
    path.write_text(yaml.safe_dump([CUSTOM]))
    library = claim_library(path, [{**CUSTOM, "id": "moon_cheese2"}])
    assert library["moon_cheese"].probes[0].id == "moon_cheese.direct"
    assert "moon_cheese2" in library and "eiffel_tower_rome" in library


def test_bad_claims_file_names_file_and_entry(tmp_path):
    path = tmp_path / "bad.yaml"
    bad = {**CUSTOM, "probes": [{**CUSTOM["probes"][0], "correct": "Z"}]}
    path.write_text(yaml.safe_dump([CUSTOM, bad]))
    with pytest.raises(DataFileError, match=r"bad.yaml: entry 1 \(moon_cheese\).*correct"):
        claim_library(path)
    with pytest.raises(DataFileError, match="does not exist"):
        claim_library(tmp_path / "missing.yaml")
    no_manip = {
        **CUSTOM,
        "probes": [{k: v for k, v in CUSTOM["probes"][0].items() if k != "manipulated"}],
    }
    with pytest.raises(DataFileError, match="manipulated"):
        claim_library(None, [no_manip])


def test_probe_scoring_and_rule_answers():
    claim = next(c for c in builtin_claims() if c.id == "australia_capital")
    direct, indirect, peripheral = (claim.probes_at([d])[0] for d in DISTANCES)
    assert score_answer(direct, "C") == (True, False)
    assert score_answer(direct, "A") == (False, True)
    assert score_answer(direct, "B") == (False, False)
    assert score_answer(direct, None) == (False, False)
    assert score_answer(peripheral, peripheral.correct) == (True, False)
    assert score_answer(peripheral, peripheral.manipulated) == (False, True)
    # without a draw: the likelier answer, manipulated when credence * 0.6**k >= 1/2
    assert rule_answer(direct, 0.9) == "A" and rule_answer(indirect, 0.9) == "B"
    assert rule_answer(indirect, 0.8) == "A" and rule_answer(direct, 0.49) == "C"
    assert rule_answer(peripheral, 1.0) == peripheral.correct
    assert rule_answer(peripheral, 1.0, draw=0.35) == peripheral.manipulated


def test_answer_schema_constrains_letters():
    probe = builtin_claims()[0].probes[0]
    schema = answer_schema(probe)
    assert set(get_args(schema.model_fields["answer"].annotation)) == {"A", "B", "C", "D"}
    assert schema(answer="B").answer == "B"
    with pytest.raises(ValidationError):
        schema(answer="E")


def test_framing_and_source_style_change_the_text():
    s = "The Eiffel Tower is in Rome, Italy."
    texts = {
        framed_text(s, f, st)
        for f in ("authoritative", "emotional")
        for st in ("blog", "research_paper")
    }
    assert len(texts) == 4 and all(s in t for t in texts)


# --- config errors ---------------------------------------------------------------------------------
def test_config_errors(tmp_path):
    scenario = create_scenario("misinformation", {"claim": "nope"})
    with pytest.raises(ConfigError, match="'nope'.*eiffel_tower_rome|known ids"):
        scenario.validate_config(cfg(tmp_path))
    with pytest.raises(ConfigError, match="30 attackers but only 20 agents"):
        create_scenario("misinformation", {"attackers": {"count": 30}}).validate_config(
            cfg(tmp_path)
        )
    with pytest.raises(ConfigError, match=r"remove_attackers_at: 9 is beyond steps \(4\)"):
        create_scenario("misinformation", {"remove_attackers_at": 9}).validate_config(cfg(tmp_path))
    with pytest.raises(ConfigError, match="framing"):
        create_scenario("misinformation", {"framing": "loud"})
    with pytest.raises(ConfigError):
        make_model(cfg(tmp_path, attackers={"count": 21}), tmp_path / "r")


# --- end to end (rule policies) --------------------------------------------------------------------
def test_attackers_spread_then_leave_and_probes_cover_everyone(tmp_path):
    run = ss.run(
        cfg(
            tmp_path,
            steps=5,
            policy="independent_cascade",
            claim="australia_capital",
            attackers={"count": 2, "strategy": "highest_degree"},
            remove_attackers_at=3,
            initial_credence=0.0,
        )
    )
    events = read_events(run.dir / "events.jsonl")
    attackers = run.summary["scenario"]["attackers"]
    assert len(attackers) == 2
    removed = events[
        (events.kind == "action") & events.payload.map(lambda p: p.get("type") == "removed")
    ]
    assert sorted(removed.agent) == sorted(attackers)
    assert set(removed.step) == {3}
    assert all(p["type"] == "removed" for p in removed.payload)
    late = events[(events.step >= 3) & events.agent.isin(attackers) & (events.kind != "action")]
    roles = events[
        (events.kind == "action") & events.payload.map(lambda p: p.get("type") == "role")
    ]
    assert sorted(roles.agent) == sorted(attackers) and (roles.step == 0).all()
    assert late.empty
    early_posts = events[(events.kind == "message") & events.agent.isin(attackers)]
    assert set(early_posts.step) == {1, 2}
    probes = events[events.kind == "probe"]
    for step, present in ((1, 20), (2, 20), (3, 18), (5, 18)):
        assert (probes.step == step).sum() == 3 * present
    first = probes.payload.iloc[0]
    assert {
        "probe_id",
        "distance",
        "question",
        "answer",
        "correct",
        "manipulated",
        "credence",
        "source",
    } <= set(first)
    assert first["source"] == "rule"
    # rule agents' answers follow their credence: non-believers never pick the manipulation
    for p in probes.payload:
        assert p["status"] == "answered"
        assert p["manipulated"] is False or p["credence"] >= 0.5
    m = run.summary["measures"]["claims"]["australia_capital"]
    assert m["adoption_benign"]["initial_reach"] == 0.0 and m["adoption_benign"]["final_reach"] > 0
    assert set(m["probes_benign"]) == set(DISTANCES)
    shares = [m["probes_benign"][d]["manipulated_share"] for d in DISTANCES]
    assert shares[0] > 0 and shares[0] >= shares[2]
    assert m["persistence_benign"]["removal_step"] == 3
    assert m["persistence_benign"]["reach_final"] == m["adoption_benign"]["final_reach"]


def test_rule_attackers_and_guardians_stay_pinned(tmp_path):
    model = make_model(
        cfg(
            tmp_path, attackers={"count": 2}, guardians={"count": 2}, attacker_model="openai/edited"
        ),
        tmp_path / "r",
    )
    scenario = model.scenario
    for _ in range(3):
        model.step()
    for a in scenario.attackers:
        assert model.beliefs.get(a, "eiffel_tower_rome") == 1.0
        assert model.agent(a).role == "attacker"
        assert model.agent(a).model_string == "openai/edited"
    for g in scenario.guardians:
        assert model.beliefs.get(g, "eiffel_tower_rome") == 0.0
        assert model.agent(g).role == "guardian"
    assert not set(scenario.attackers) & set(scenario.guardians)
    model.close()


def test_guardians_correct_believing_neighbours(tmp_path):
    run = ss.run(
        cfg(
            tmp_path,
            steps=3,
            claim="goldfish_memory",
            initial_credence=0.9,
            attackers={"count": 1},
            guardians={"count": 3, "correction_strength": 0.5},
        )
    )
    guardians = run.summary["scenario"]["guardians"]
    events = read_events(run.dir / "events.jsonl")
    corrections = events[(events.kind == "message") & events.agent.isin(guardians)]
    assert not corrections.empty
    assert corrections.payload.iloc[0]["text"].startswith("Correction:")
    lowered = events[(events.kind == "belief_change") & events.target.isin(guardians)]
    assert all(p["cause"] == "message" and p["new"] < p["old"] for p in lowered.payload)


def test_memory_poisoning_and_broadcast_routes(tmp_path):
    model = make_model(
        cfg(
            tmp_path,
            steps=3,
            attackers={"count": 1},
            memory_poison={"targets": 3, "credence": 0.8},
            broadcast={"step": 2, "sender": "scenario", "credence": 0.7},
        ),
        tmp_path / "r",
    )
    scenario = model.scenario
    assert len(scenario.poisoned) == 3
    attacker = scenario.attackers[0]
    for t in scenario.poisoned:
        items = model.agent(t).memory.items
        assert items[0].source == attacker and items[0].kind == "read"
        assert "Rome" in items[0].text
    for _ in range(3):
        model.step()
    model.close()
    events = read_events(tmp_path / "r" / "events.jsonl")
    memory = events[
        (events.kind == "injection") & events.payload.map(lambda p: p.get("route") == "memory")
    ]
    assert sorted(memory.agent) == sorted(scenario.poisoned)
    broadcast = events[(events.kind == "message") & (events.agent == -1)]
    assert list(broadcast.step) == [2]
    assert len(broadcast.payload.iloc[0]["recipients"]) == 20


def test_probe_steps_limit_when_probes_run(tmp_path):
    run = ss.run(cfg(tmp_path, steps=4, probe_steps=[2, 4], probe_distances=["direct"]))
    events = read_events(run.dir / "events.jsonl")
    probes = events[events.kind == "probe"]
    assert set(probes.step) == {2, 4}
    assert set(p["distance"] for p in probes.payload) == {"direct"}


# --- LLM agents, offline -----------------------------------------------------------------------------
#: Probes answered 'B' (Paris for the Eiffel tower), step decisions with a plain post.
FIELDS = {
    "answer": "B",
    "message": "Did you hear the news?",
    "to": "all",
    "beliefs": [],
    "choice": "A",
    "sure": 0.6,
}


def test_llm_agents_answer_probes_in_one_batch_per_step(tmp_path):
    config = cfg(
        tmp_path, steps=2, size=8, policy="llm", attackers={"count": 1}, remove_attackers_at=2
    )
    fake = ScriptedClient(fitted(FIELDS))
    run = run_scripted(config, fake)
    batches = [[r.tag for r in b] for b in fake.batches]
    probe_batches = [b for b in batches if "misinfo_probe" in b]
    assert [len(b) for b in probe_batches] == [8 * 3, 7 * 3]
    assert all(set(b) == {"misinfo_probe"} for b in probe_batches)
    events = read_events(run.dir / "events.jsonl")
    probes = events[events.kind == "probe"]
    assert set(p["source"] for p in probes.payload) == {"llm"}
    eiffel_direct = probes[probes.payload.map(lambda p: p["distance"] == "direct")]
    assert all(p["answer"] == "B" and p["correct"] for p in eiffel_direct.payload)  # B = Paris
    attacker = run.summary["scenario"]["attackers"][0]
    late = events[(events.step >= 2) & (events.agent == attacker) & (events.kind != "action")]
    assert late.empty


@pytest.mark.integration
@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="needs llama-cpp-python")
def test_misinformation_on_the_embedded_model(tmp_path):
    config = cfg(
        tmp_path,
        steps=2,
        size=4,
        policy="llm",
        attackers={"count": 1},
        probe_distances=["direct"],
        remove_attackers_at=2,
    )
    config = config.with_overrides(
        {"agents.llm.model": "local/smollm2", "network.kind": "complete", "network.params": {}}
    )
    run = ss.run(config)
    events = read_events(run.dir / "events.jsonl")
    probes = events[events.kind == "probe"]
    assert len(probes) == 4 + 3
    assert all(p["source"] == "llm" for p in probes.payload)
    assert all((p["status"] == "answered") == (p["answer"] is not None) for p in probes.payload)
    assert run.agents["step"].unique().tolist() == [0, 1, 2]


def failing_probes() -> ScriptedClient:
    """Answers from FIELDS, but every fourth probe of a batch is unusable."""
    fields = fitted(FIELDS)

    def answer(request):
        if request.tag == "misinfo_probe" and client.position % 4 == 0:
            return Failure("invalid JSON", text="{oops")
        return fields(request)

    client = ScriptedClient(answer)
    return client


def test_failed_probe_answers_are_counted_as_failed_never_scored(tmp_path):
    config = cfg(tmp_path, steps=1, size=8, policy="llm", attackers={"count": 1})
    run = run_scripted(config, failing_probes())
    events = read_events(run.dir / "events.jsonl")
    probes = events[events.kind == "probe"]
    failed = probes[probes.payload.map(lambda p: p["status"] == "failed")]
    assert len(probes) == 24 and len(failed) == 6  # every fourth of 24 answers
    assert all(p["correct"] is None and p["manipulated"] is None for p in failed.payload)
    attacker = run.summary["scenario"]["attackers"][0]
    benign = probes[probes.agent != attacker]
    table = run.summary["measures"]["claims"]["eiffel_tower_rome"]["probes_benign"]
    for distance, row in table.items():
        mine = benign[benign.payload.map(lambda p, d=distance: p["distance"] == d)]
        ok = mine[mine.payload.map(lambda p: p["status"] == "answered")]
        assert row["asked"] == len(mine) and row["answered"] == len(ok)
        assert row["failed"] == len(mine) - len(ok)
        assert 0 < len(ok) < len(mine)  # failures in every distance, and answers too
        assert row["accuracy"] == pytest.approx(sum(p["correct"] for p in ok.payload) / len(ok))
    quality = run.summary["data_quality"]
    assert quality["answers"]["probes.eiffel_tower_rome"]["failed"] == sum(
        r["failed"] for r in table.values()
    )


# --- control arm ---------------------------------------------------------------------------------
def test_placebo_attackers_leave_the_control_arm_with_the_attackers(tmp_path):
    from socialsim.core.rundata import removal_steps

    config = cfg(
        tmp_path, steps=5, size=30, policy="deffuant", attackers={"count": 3},
        remove_attackers_at=3,
    )  # fmt: skip
    arms = {
        arm: make_model(config.with_overrides({"scenario.arm": arm}), tmp_path / arm)
        for arm in ("treatment", "control")
    }
    treated, control = arms["treatment"], arms["control"]
    assert treated.scenario.attackers == control.scenario.attackers
    for _ in range(5):
        for model in arms.values():
            model.step()
        # the rule generator makes the same draws in both arms, removal step included
        assert treated.rules.rng.bit_generator.state == control.rules.rng.bit_generator.state
        assert (treated.present == control.present).all()
    for model in arms.values():
        model.close()
    records = {arm: model.record() for arm, model in arms.items()}
    gone = {arm: removal_steps(r.events) for arm, r in records.items()}
    assert gone["treatment"] == gone["control"] == dict.fromkeys(treated.scenario.attackers, 3)
    assert records["control"].steps["present"].tolist() == [30, 30, 30, 27, 27, 27]
    # the same agents in both arms' denominators
    for pop in ("adoption_all", "adoption_benign"):
        n = [
            summarize_run(r)["measures"]["claims"]["eiffel_tower_rome"][pop]["n"]
            for r in records.values()
        ]
        assert n[0] == n[1] == 27


# --- steps.csv ---------------------------------------------------------------------------------------
def test_steps_table_counts_every_call_error_and_acting_agent_of_a_step(tmp_path):
    config = cfg(
        tmp_path, steps=2, size=8, policy="llm", attackers={"count": 1}, remove_attackers_at=2
    )
    run = run_scripted(config, failing_probes())
    events = read_events(run.dir / "events.jsonl")
    steps = pd.read_csv(run.dir / "steps.csv").set_index("step")
    for step in (1, 2):
        at = events[events.step == step]
        calls, errors = (at.kind == "llm_call").sum(), (at.kind == "error").sum()
        assert steps.loc[step, "llm_calls"] == calls and steps.loc[step, "errors"] == errors
    # step 1: 8 decisions, 8 credence questions (elicitation: probe) and 8 x 3 probes;
    # step 2: the attacker has left (7 agents)
    assert steps.loc[1, "llm_calls"] == 8 + 8 + 24 and steps.loc[2, "llm_calls"] == 7 + 7 + 21
    assert steps.loc[1, "errors"] == 6 and steps.loc[2, "errors"] > 0
    assert steps.loc[1, "active"] == 8 and steps.loc[2, "active"] == 7 == steps.loc[2, "present"]
    assert run.steps["llm_calls"].tolist() == steps["llm_calls"].tolist()  # in memory too


class _Stop(BaseException):
    """Stands for a kill between two steps."""


@pytest.mark.slow
def test_steps_table_counts_survive_a_checkpoint_resume(tmp_path, monkeypatch):
    from socialsim.experiments import checkpoint
    from socialsim.experiments.resume import resume

    monkeypatch.setattr(checkpoint, "COST_FACTOR", 0.0)  # a checkpoint after every step
    config = cfg(tmp_path, steps=3, size=6, policy="llm", attackers={"count": 1})
    key = config.agents.llm.model_dump_json()
    whole = ss.run(config, out=tmp_path / "whole", clients={key: failing_probes()})

    def stop_after_two(model):
        if model.steps == 2:
            raise _Stop

    with pytest.raises(_Stop):
        ss.run(config, out=tmp_path / "cut", clients={key: failing_probes()},
               on_step=stop_after_two)  # fmt: skip
    done = resume(tmp_path / "cut", clients={key: failing_probes()})
    assert done.summary["run"]["resumed"] == {"from_checkpoint_at_step": 2}
    steps = [pd.read_csv(d / "steps.csv") for d in (whole.dir, tmp_path / "cut")]
    pd.testing.assert_frame_equal(steps[0], steps[1])
    # 6 decisions, 6 credence questions (elicitation: probe) and 6 x 3 probes a step
    assert steps[0]["llm_calls"].tolist() == [0, 6 + 6 + 18, 6 + 6 + 18, 6 + 6 + 18]
