"""How the misinformation scenario reads beliefs: what the prompts a server receives show.

``elicitation: probe`` must never show a benign agent the manipulated claim outside the probe
questions; a probe must leave no trace in memory, inbox or later prompts; the instrument arm
asks nothing before the final step; attackers are told what ``attackers.instructions`` says.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import socialsim as ss
from socialsim.core.claims import claim_library, get_claim
from socialsim.core.errors import ConfigError
from socialsim.simulation.log import read_events
from socialsim.testing import ScriptedClient, clients_for, run_scripted, small_config

QUICKSTART = "examples/quickstart.yaml"
CLAIM = get_claim(claim_library(), "australia_capital")
PROBE_TAGS = {"misinfo_probe", "misinfo_credence"}
SAID = "I like talking with my good neighbours here."


def script(request):
    """Neutral talk, "A, 0.7" to the credence question, and answer A to every probe."""
    fields = request.schema.model_fields if request.schema is not None else {}
    if "answer" in fields:
        return {"answer": "A"}
    if "message" not in fields:
        return {"choice": "A", "sure": 0.7}
    out = {"message": SAID, "to": "all"}
    if "credence" in fields:
        out["credence"] = 0.3
    return out


def quickstart(tmp_path, **overrides):
    cfg = ss.ExperimentConfig.from_yaml(QUICKSTART)
    settings = {"control": False, "output.dir": str(tmp_path), "output.report": False}
    return cfg.with_overrides({**settings, **overrides})


def texts(request) -> str:
    return "\n".join(m["content"] for m in request.messages)


def shows_claim(text: str) -> bool:
    return CLAIM.manipulated_statement in text or "Sydney" in text


def speaker(request) -> str:
    """The persona line of a decision prompt (the user part starts with it)."""
    return request.messages[-1]["content"].split("\n")[0]


def attacker_names(run) -> set[str]:
    personas = run.personas.set_index("id") if "id" in run.personas else run.personas
    return {str(personas.loc[a, "name"]) for a in run.summary["scenario"]["attackers"]}


def test_quickstart_control_arm_never_shows_the_claim_outside_probes(tmp_path):
    client = ScriptedClient(script)
    run = run_scripted(quickstart(tmp_path, **{"scenario.arm": "control"}), client)
    talk = [r for r in client.requests if r.tag not in PROBE_TAGS]
    probes = [r for r in client.requests if r.tag in PROBE_TAGS]
    assert len(talk) > 40 and {r.tag for r in talk} == {"chat_v1"}
    assert not [texts(r) for r in talk if shows_claim(texts(r))]
    # the probe questions are where the claim is asked about (and only at steps 1 and 6)
    assert any(shows_claim(texts(r)) for r in probes)
    assert sorted(
        {int(s) for s in read_events(run.dir / "events.jsonl").query("kind == 'probe'").step}
    ) == [1, 6]
    assert "probed" in run.summary["scenario"]["design"]
    assert run.summary["scenario"]["elicitation"] == "probe"


def test_quickstart_treatment_shows_the_claim_only_to_attackers_and_in_what_they_say(tmp_path):
    assert "broadcast" in quickstart(tmp_path).scenario.params["routes"]
    client = ScriptedClient(script)
    run = run_scripted(quickstart(tmp_path), client)
    attackers = attacker_names(run)
    quoted = 0
    for request in client.requests:
        if request.tag in PROBE_TAGS:
            continue
        if any(f"You are {name}," in speaker(request) for name in attackers):
            assert shows_claim(texts(request))  # the attackers are told what they know
            continue
        # a benign agent sees the claim only where an attacker said it: inbox or memory lines
        for line in texts(request).split("\n"):
            if shows_claim(line):
                assert any(line.startswith(f"- {name}") for name in attackers), line
                quoted += 1
    assert quoted > 0  # the broadcast reached benign agents


def test_a_message_references_the_claim_only_when_it_names_the_manipulated_content(tmp_path):
    """Talk of weather or of the true capital is no exposure; naming Sydney as the capital is.

    Attackers say "Sydney is the capital of Australia.", benign agents alternate between the
    weather and "Canberra is the capital of Australia.": exposure counts the recipients of
    the attackers' messages (and of the broadcast) only."""
    said = {}

    def talk(request):
        fields = request.schema.model_fields if request.schema is not None else {}
        if "message" not in fields:
            return script(request)
        said[speaker(request)] = said.get(speaker(request), 0) + 1
        if any(f"You are {name}," in speaker(request) for name in attackers):
            return {"message": "Sydney is the capital of Australia.", "to": "all"}
        weather = "Nice weather we have today, friend."
        canberra = "Canberra is the capital of Australia."
        return {"message": (weather, canberra)[said[speaker(request)] % 2], "to": "all"}

    attackers: set[str] = set()
    cfg = quickstart(tmp_path)
    probe = run_scripted(cfg, ScriptedClient(script), out=tmp_path / "first")
    attackers |= attacker_names(probe)
    run = run_scripted(cfg, ScriptedClient(talk), out=tmp_path / "run")
    events = [json.loads(line) for line in open(run.dir / "events.jsonl")]
    messages = [e for e in events if e["kind"] == "message"]
    tagged = {e["payload"]["text"] for e in messages if e["payload"]["claims"]}
    untagged = {e["payload"]["text"] for e in messages if not e["payload"]["claims"]}
    assert "Sydney is the capital of Australia." in tagged
    assert {"Nice weather we have today, friend.", "Canberra is the capital of Australia."} <= (
        untagged
    )
    assert not tagged & untagged
    # exposure: the recipients of tagged messages, benign agents only
    attacker_ids = set(run.summary["scenario"]["attackers"])
    reached = {
        r for e in messages if e["payload"]["claims"] for r in e["payload"]["recipients"]
    } - attacker_ids
    exposure = run.summary["measures"]["claims"]["australia_capital"]["exposure_benign"]
    assert exposure["n_exposed"] == len(reached) and 0 < len(reached) < exposure["n"]


def test_stated_elicitation_shows_the_claim_to_every_agent(tmp_path):
    client = ScriptedClient(script)
    cfg = quickstart(
        tmp_path,
        **{
            "scenario.arm": "control",
            "scenario.params.elicitation": "stated",
            "agents.prompt.template": "talk_v1",
        },
    )
    run = run_scripted(cfg, client)
    talk = [r for r in client.requests if r.tag not in PROBE_TAGS]
    assert talk and all(shows_claim(texts(r)) for r in talk)
    assert not client.tagged("misinfo_credence")  # credences come from the decisions
    assert "stated" in run.summary["scenario"]["design"]


def test_a_template_that_states_the_claim_is_refused_under_probe(tmp_path):
    with pytest.raises(ConfigError, match="talk_v1 shows the claim.*chat_v1.*stated"):
        run_scripted(
            quickstart(tmp_path, **{"agents.prompt.template": "talk_v1"}), ScriptedClient(script)
        )


def _memories(model):
    return {
        a.id: [item.text for item in a.memory.retrieve("", 10_000)] if a._memory else []
        for a in model.agents
    }


def _run_model(tmp_path, probe_steps, name):
    client = ScriptedClient(script)
    cfg = quickstart(tmp_path / name, **{"scenario.params.probe_steps": probe_steps})
    run_dir = tmp_path / name / "run"
    run_dir.mkdir(parents=True)
    with ss.SocialModel(cfg, run_dir, clients=clients_for(cfg, client)) as model:
        model.run_model()
        memories = _memories(model)
        inboxes = {a: list(model.mail.take_inbox(a)) for a in range(model.n_agents)}
    return client, memories, inboxes


def test_a_probe_leaves_no_trace_in_memory_inbox_or_later_prompts(tmp_path):
    probed, memory_p, inbox_p = _run_model(tmp_path, [1, 2, 3, 4, 5, 6], "probed")
    quiet, memory_q, inbox_q = _run_model(tmp_path, [6], "quiet")
    assert len(probed.tagged("misinfo_probe")) > len(quiet.tagged("misinfo_probe"))
    talk_p = [texts(r) for r in probed.requests if r.tag == "chat_v1"]
    talk_q = [texts(r) for r in quiet.requests if r.tag == "chat_v1"]
    assert talk_p == talk_q  # every decision prompt of every step, byte for byte
    assert memory_p == memory_q and inbox_p == inbox_q
    everything = json.dumps([memory_p, talk_p])
    for probe in CLAIM.probes:
        assert probe.question not in everything.replace(CLAIM.direct_probe().question, "")
    assert "How sure are you" not in everything


@pytest.mark.slow
def test_the_instrument_arm_asks_only_at_the_end_and_its_effect_is_reported(tmp_path):
    cfg = quickstart(
        tmp_path,
        **{
            "control": "instrument",
            "replicates": 3,
            "steps": 3,
            "population.size": 12,
            "agents.policy": "independent_cascade",
            "agents.params": {"p": 0.5},
            "scenario.params.probe_steps": [1, 2, 3],
        },
    )
    arms = ss.run(cfg)
    assert set(arms.runs) == {"treatment", "control", "instrument"}
    for arm, runs in arms.runs.items():
        steps = sorted({int(s) for s in runs[0].events.query("kind == 'probe'").step})
        assert steps == ([3] if arm == "instrument" else [1, 2, 3]), arm
        assert runs[0].summary["scenario"]["elicitation"] == (
            "instrument" if arm == "instrument" else "probe"
        )
    effects = arms.summary["instrument_effects"]
    assert effects and all(e["treatment"] is not None for e in effects)
    # rule agents' beliefs do not depend on being asked: the probes change nothing
    assert all(abs(e["difference"]) < 1e-12 for e in effects)


@pytest.mark.parametrize("probe_steps", [None, [1, 3]])
def test_control_and_instrument_are_compared_at_the_step_both_probe(tmp_path, probe_steps):
    """DeGroot agents are not changed by being asked, so every instrument effect is exactly
    0; pooled probe shares and peaks (which in the control take in earlier probes) are not
    compared, and the instrument arm probes at the control's last probe step."""
    cfg = small_config(
        size=60,
        steps=5,
        network="watts_strogatz",
        scenario="misinformation",
        params={"claim": "australia_capital", "probe_steps": probe_steps},
        claims=[],
        control="instrument",
        output={"report": False, "dir": str(tmp_path)},
    )
    arms = ss.run(cfg)
    last = 5 if probe_steps is None else 3
    steps = {int(s) for s in arms.runs["instrument"][0].events.query("kind == 'probe'").step}
    assert steps == {last}
    effects = {
        e["measure"].split("australia_capital.")[1]: e for e in arms.summary["instrument_effects"]
    }
    assert set(effects) == {
        f"adoption_{pop}.{key}"
        for pop in ("all", "benign")
        for key in ("final_reach", "mean_credence_final")
    } | {
        f"probes_benign_last.{d}.{key}"
        for d in ("direct", "indirect", "peripheral")
        for key in ("accuracy", "manipulated_share")
    }
    assert all(e["difference"] == 0 for e in effects.values()), effects
    # the control's pooled shares differ from its last step's: the comparison would not hold
    control = arms.runs["control"][0].summary["measures"]["claims"]["australia_capital"]
    assert (
        control["probes_benign"]["direct"]["asked"]
        > control["probes_benign_last"]["direct"]["asked"]
    )


def test_control_instrument_needs_a_scenario_with_probes():
    with pytest.raises(ConfigError, match="norms scenario asks no probe.*control: true"):
        ss.ExperimentConfig.from_dict(
            {
                "scenario": {"kind": "norms"},
                "control": "instrument",
                "agents": {"policy": "degroot"},
            }
        )


@pytest.mark.parametrize(
    ("attackers", "has_claim", "has_goal", "extra"),
    [
        ({"instructions": "persuade"}, True, True, None),
        ({"instructions": "none"}, True, False, None),
        ({"instructions": "custom", "text": "Mention it once, casually."}, True, False,
         "Mention it once, casually."),
    ],
)  # fmt: skip
def test_what_attackers_are_told(tmp_path, attackers, has_claim, has_goal, extra):
    client = ScriptedClient(script)
    cfg = quickstart(
        tmp_path,
        **{
            "steps": 1,
            "agents.activation": "all",
            "scenario.params.probe_steps": [1],
            "scenario.params.attackers": {"count": 2, **attackers},
        },
    )
    run = run_scripted(cfg, client)
    names = attacker_names(run)
    prompts = [
        texts(r)
        for r in client.tagged("chat_v1")
        if any(f"You are {n}," in speaker(r) for n in names)
    ]
    assert prompts
    for system in prompts:
        assert (CLAIM.manipulated_statement in system) == has_claim
        assert ("Your goal" in system) == has_goal
        assert extra is None or extra in system
    assert run.summary["scenario"]["attacker_instructions"] == attackers["instructions"]


def test_attackers_whose_knowledge_is_their_model(tmp_path):
    with pytest.raises(ConfigError, match="knowledge: model needs .*attacker_model"):
        run_scripted(
            quickstart(
                tmp_path, **{"scenario.params.attackers": {"count": 1, "knowledge": "model"}}
            ),
            ScriptedClient(script),
        )
    client = ScriptedClient(script)
    cfg = quickstart(
        tmp_path / "edited",
        **{
            "steps": 1,
            "scenario.params.probe_steps": [1],
            "scenario.params.attackers": {"count": 1, "instructions": "none", "knowledge": "model"},
            "scenario.params.attacker_model": "local/smollm2",
        },
    )
    run = run_scripted(cfg, client)
    talk = [r for r in client.requests if r.tag == "chat_v1"]
    assert talk and not any(shows_claim(texts(r)) for r in talk)
    assert run.summary["scenario"]["attackers"]


def test_memories_poisoned_from_what_attackers_really_said(tmp_path):
    said = "Canberra is not the capital, Sydney is, everyone knows it."

    def answers(request):
        out = script(request)
        if "firmly convinced" in texts(request) and "message" in out:
            out["message"] = said
        return out

    client = ScriptedClient(answers)
    cfg = quickstart(
        tmp_path,
        **{
            "agents.activation": "all",
            "scenario.params.memory_poison": {"source": "history", "step": 3, "targets": 3, "k": 2},
            "scenario.params.routes": ["in_context"],
        },
    )
    (tmp_path / "run").mkdir()
    with ss.SocialModel(cfg, tmp_path / "run", clients=clients_for(cfg, client)) as model:
        model.run_model()
        targets = model.scenario.poisoned
        memories = {t: [i.text for i in model.agent(t).memory.retrieve("", 1000)] for t in targets}
    events = read_events(tmp_path / "run" / "events.jsonl")
    planted = events[
        (events.kind == "injection") & (events.payload.map(lambda p: p.get("route")) == "memory")
    ]
    assert len(targets) == 3 and set(planted.agent) == set(targets)
    assert set(planted.step) == {3}  # nothing before: the attackers had to speak first
    for agent, rows in planted.groupby("agent"):
        assert 1 <= len(rows) <= 2  # k: 2
        for p in rows.payload:
            assert p["text"].endswith(f"said: {said}") and p["text"] in memories[agent]


def test_history_memory_params_are_checked():
    with pytest.raises(ConfigError, match="text is for source: planted"):
        ss.ExperimentConfig.from_dict(
            {
                "scenario": {
                    "kind": "misinformation",
                    "params": {"memory_poison": {"source": "history", "text": "x"}},
                }
            }
        )


def test_the_credence_question_balances_the_order_and_reads_the_chosen_statement(tmp_path):
    client = ScriptedClient(script)  # always "A", sure 0.7
    run = run_scripted(quickstart(tmp_path, **{"scenario.arm": "control"}), client)
    asked = client.tagged("misinfo_credence")
    first = [r.messages[-1]["content"].split("A) ", 1)[1].split("\n", 1)[0] for r in asked]
    shown = {CLAIM.manipulated_statement: 0.7, CLAIM.true_statement: 0.3}
    assert set(first) == set(shown)  # both orders occur
    changes = run.events[
        (run.events.kind == "belief_change")
        & (run.events["payload.cause"] == "probe")
        & (run.events.step == 1)
    ]
    at_step_1 = first[: len(changes)]  # the first batch: every agent, from 0.1, so all logged
    assert len(changes) == 20
    # "A" is read as the statement shown first
    assert sorted(changes["payload.new"].round(6)) == sorted(shown[f] for f in at_step_1)


def test_when_no_final_credence_is_known_the_final_values_are_missing_not_earlier_ones(tmp_path):
    """Every credence answer of the last probe step fails: the final reach and mean are
    missing (every agent unmeasured), not the last step that had a value; the step table is
    blank there; the answers per area count every probe step, not only the last one's."""
    asked = {"n": 0}

    def lost_at_the_end(request):
        fields = request.schema.model_fields if request.schema is not None else {}
        if "message" not in fields and "answer" not in fields:
            asked["n"] += 1
            return None if asked["n"] > 20 else {"choice": "A", "sure": 0.9}  # step 6 fails
        return script(request)

    run = run_scripted(
        quickstart(tmp_path, **{"scenario.arm": "control"}), ScriptedClient(lost_at_the_end)
    )
    claims = run.summary["measures"]["claims"][CLAIM.id]
    for pop in ("adoption_all", "adoption_benign"):
        final = claims[pop]
        assert final["final_reach"] is None and final["mean_credence_final"] is None, final
        assert final["n"] == 0 and final["unmeasured"] > 0
        assert final["time_to_50"] is None and final["peak"] is not None  # over known steps
    steps = run.steps.set_index("step")
    mean = next(c for c in steps.columns if c.startswith("mean_"))
    assert pd.isna(steps.loc[6, mean]) and pd.notna(steps.loc[1, mean])
    answers = run.summary["data_quality"]["answers"][f"probes.{CLAIM.id}"]
    direct = claims["probes_benign"]["direct"]
    assert answers["asked"] >= direct["asked"] > claims["probes_benign_last"]["direct"]["asked"]


def test_a_failed_credence_answer_leaves_the_credence_unknown_not_the_last_one(tmp_path):
    """Missing is missing: an agent whose credence question failed at the last probe has no
    final credence (NaN in the agents table, a ``belief_change`` to null, a null credence in
    its probe events) and is left out of reach and mean, counted as unmeasured."""
    asked = {"n": 0}

    def flaky(request):
        fields = request.schema.model_fields if request.schema is not None else {}
        if "message" not in fields and "answer" not in fields:
            asked["n"] += 1
            if asked["n"] > 20 and asked["n"] % 3 == 0:  # a third of the second probe's
                return None
            return {"choice": "A", "sure": 0.9}  # A shown first half the time: 0.9 or 0.1
        return script(request)

    run = run_scripted(quickstart(tmp_path, **{"scenario.arm": "control"}), ScriptedClient(flaky))
    ev = run.events
    failed = ev[(ev.kind == "error") & (ev["payload.where"] == "ask:misinfo_credence")]
    lost = sorted(failed.agent.astype(int))
    assert set(failed.step) == {6} and len(lost) == 7  # calls 21, 24, ..., 39
    forgot = ev[(ev.kind == "belief_change") & ev["payload.new"].isna()]
    assert sorted(forgot.agent.astype(int)) == lost and set(forgot.step) == {6}
    assert set(forgot["payload.cause"]) == {"probe"}
    table = run.agents.pivot(index="step", columns="agent", values="credence")
    assert table.loc[6, lost].isna().all() and table.loc[5, lost].notna().all()
    assert table.loc[6].drop(lost).notna().all()
    probes = ev[(ev.kind == "probe") & (ev.step == 6)]
    assert probes[probes.agent.isin(lost)]["payload.credence"].isna().all()
    assert probes[~probes.agent.isin(lost)]["payload.credence"].notna().all()
    # the measures: over the agents with a known final credence, the others counted
    final = run.summary["measures"]["claims"][CLAIM.id]["adoption_all"]
    known = table.loc[6].dropna()
    assert final["n"] == len(known) == 20 - len(lost) and final["unmeasured"] == len(lost)
    assert final["final_reach"] == pytest.approx(float((known >= 0.5).mean()))
    assert final["mean_credence_final"] == pytest.approx(float(known.mean()))
    # the step table's believers and mean leave them out too
    steps = run.steps.set_index("step")
    belief = [c for c in steps.columns if c.startswith("mean_")]
    assert belief and steps.loc[6, belief[0]] == pytest.approx(float(known.mean()))
