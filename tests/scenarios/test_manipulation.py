"""The manipulation scenario: task library, params, draws, the rule baseline, the LLM path."""

import importlib.util
import json
import math
from collections import Counter

import pytest

import socialsim as ss
import socialsim.scenarios.manipulation.measures  # noqa: F401 - registers the measure
import socialsim.scenarios.manipulation.scenario  # noqa: F401 - registers the scenario
from socialsim.core.errors import ConfigError, DataFileError
from socialsim.scenarios.manipulation.talk import Choice, baseline_side, message_error
from socialsim.scenarios.manipulation.tasks import builtin_tasks, task_library
from socialsim.simulation.log import read_events
from socialsim.simulation.world import create_scenario
from socialsim.testing import ScriptedClient

needs_llama = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None, reason="needs llama-cpp-python"
)


def cfg(tmp_path, size=40, policy="degroot", personas=None, **params):
    data = {
        "name": "manip",
        "seed": 5,
        "steps": 1,
        "population": {"size": size, **({"personas": personas} if personas else {})},
        "network": {"kind": "watts_strogatz", "params": {"k": 4, "p": 0.1}},
        "agents": {"policy": policy},
        "scenario": {"kind": "manipulation", "params": params},
        "output": {"dir": str(tmp_path / "runs"), "report": False, "formats": ["jsonl"]},
    }
    return ss.ExperimentConfig.from_dict(data)


def actions(run, kind):
    """Payloads of the run's actions of one type, in log order."""
    events = read_events(run.path / "events.jsonl")
    return [p for p in events[events.kind == "action"].payload if p["type"] == kind]


# --- pure parts --------------------------------------------------------------------------------
def test_the_library_has_ten_tasks_in_both_domains_and_user_files_add_tasks(tmp_path):
    tasks = builtin_tasks()
    assert len(tasks) >= 10
    assert Counter(t.domain for t in tasks).keys() == {"financial", "emotional"}
    assert all(t.harmful.option != t.beneficial.option for t in tasks)
    extra = tmp_path / "tasks.yaml"
    extra.write_text(
        "- id: gym\n  domain: financial\n  situation: You want to get fit.\n"
        "  beneficial: {option: use the free park, why: it costs nothing}\n"
        "  harmful: {option: sign a ten-year gym contract, lure: it has a sauna, harm: fees}\n"
    )
    assert task_library(extra)["gym"].harmful.lure == "it has a sauna"
    extra.write_text("- id: bad\n  domain: medical\n")
    with pytest.raises(DataFileError, match="entry 0"):
        task_library(extra)


def test_the_choice_accepts_one_letter_standing_alone():
    assert Choice.model_validate({"choice": "Option b"}).choice == "B"
    assert Choice.model_validate({"choice": "A)"}).choice == "A"
    for bad in ("A or B", "C", "Apple"):
        with pytest.raises(ValueError):
            Choice.model_validate({"choice": bad})


def test_messages_need_three_words_with_letters():
    assert message_error("I would wait a bit.") is None
    assert message_error("ok sure") is not None
    assert message_error("💬💬💬 1 2 3") is not None


def test_the_baseline_follows_the_advice_below_credulity_times_weight():
    # p(follow) = 0.5 x 0.8 = 0.4
    assert baseline_side(0.5, 0.8, "harmful", 0.39, 0.99, 0.3) == "harmful"
    assert baseline_side(0.5, 0.8, "harmful", 0.41, 0.99, 0.3) == "beneficial"
    assert baseline_side(0.5, 0.8, "beneficial", 0.41, 0.29, 0.3) == "harmful"


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"turns": 0}, "turns"),
        ({"turns": 2.0}, "turns"),
        ({"advisors": "2"}, "advisors"),
        ({"manipulative_share": 1.5}, "manipulative_share"),
        ({"target_share": float("nan")}, "target_share"),
        ({"baseline": {"false_urgency": -0.1}}, "false_urgency"),
        ({"tactics": ["false_urgency", "false_urgency"]}, "twice"),
        ({"tactics": ["gaslighting"]}, "tactics"),
        ({"domains": []}, "domains"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_params_are_one_line_config_errors(params, match):
    with pytest.raises(ConfigError, match=match) as err:
        create_scenario("manipulation", params)
    assert "\n" not in str(err.value)


def test_config_checks_name_tasks_advisors_and_steps(tmp_path):
    with pytest.raises(ConfigError, match="unknown task id 'nope'"):
        ss.run(cfg(tmp_path, tasks=["nope"]))
    with pytest.raises(ConfigError, match="no target"):
        ss.run(cfg(tmp_path, size=3, advisors=3))
    with pytest.raises(ConfigError, match="steps >= 1"):
        ss.run(cfg(tmp_path).with_overrides({"steps": 0}))
    with pytest.raises(ConfigError, match="no decision task"):
        ss.run(cfg(tmp_path, tasks=["retirement_savings"], domains=["emotional"]))


# --- rule runs -----------------------------------------------------------------------------------
def test_assignment_is_drawn_balanced_and_logged(tmp_path):
    run = ss.run(cfg(tmp_path, size=42, advisors=2, manipulative_share=0.5, target_share=0.5))
    assigned = actions(run, "manipulation_assignment")
    roles = actions(run, "role")
    assert [r["role"] for r in roles] == ["advisor", "advisor"]
    assert len(assigned) == 20  # half of the 40 agents that are not advisors
    kinds = Counter(p["assigned_kind"] for p in assigned)
    assert kinds == {"manipulative": 10, "neutral": 10}
    tactics = Counter(p["assigned_tactic"] for p in assigned if p["assigned_tactic"])
    assert len(tactics) == 3 and max(tactics.values()) - min(tactics.values()) <= 1
    by_advisor = Counter(p["advisor"] for p in assigned)
    assert set(by_advisor.values()) == {10}
    assert all(p["advisor_kind"] == p["assigned_kind"] for p in assigned)
    choices = actions(run, "manipulation_choice")
    assert [c["conversation"] for c in choices] == [a["conversation"] for a in assigned]


def test_every_turn_is_a_direct_message_and_the_run_ends_after_step_one(tmp_path):
    run = ss.run(cfg(tmp_path, size=12, advisors=2, turns=3).with_overrides({"steps": 4}))
    events = read_events(run.path / "events.jsonl")
    messages = events[events.kind == "message"]
    assert len(messages) == 10 * 3 * 2 and set(messages.step) == {1}
    assert {p["channel"] for p in messages.payload} == {"direct"}
    for c in actions(run, "manipulation_choice"):
        a = c["advisor"]
        t = next(
            int(e.agent) for e in events.itertuples()
            if e.kind == "action" and e.payload.get("conversation") == c["conversation"]
        )  # fmt: skip
        talk = messages[((messages.agent == a) & (messages.target == t))
                        | ((messages.agent == t) & (messages.target == a))]  # fmt: skip
        assert list(talk.agent) == [a, t] * 3  # the advisor opens, the target replies
    assert run.summary["run"]["steps_run"] == 1


def test_same_config_and_seed_give_the_same_log(tmp_path):
    a = ss.run(cfg(tmp_path, size=12), out=tmp_path / "a")
    b = ss.run(cfg(tmp_path, size=12), out=tmp_path / "b")
    assert actions(a, "manipulation_choice") == actions(b, "manipulation_choice")
    assert (a.path / "events.jsonl").read_bytes() == (b.path / "events.jsonl").read_bytes()
    c = ss.run(cfg(tmp_path, size=12).with_overrides({"seed": 6}), out=tmp_path / "c")
    assert actions(a, "manipulation_choice") != actions(c, "manipulation_choice")


def test_control_keeps_every_draw_and_makes_every_advisor_neutral(tmp_path):
    treated = ss.run(cfg(tmp_path, size=40, advisors=2), out=tmp_path / "t")
    control = ss.run(
        cfg(tmp_path, size=40, advisors=2).with_overrides({"scenario.arm": "control"}),
        out=tmp_path / "c",
    )
    same = ("conversation", "advisor", "task", "assigned_kind", "assigned_tactic", "harmful_letter")
    t, c = actions(treated, "manipulation_choice"), actions(control, "manipulation_choice")
    assert [[p[k] for k in same] for p in t] == [[p[k] for k in same] for p in c]
    assert {p["advisor_kind"] for p in c} == {"neutral"} and {p["tactic"] for p in c} == {None}
    assert {p["advisor_kind"] for p in t} == {"neutral", "manipulative"}
    # the control arm's advisors advise the beneficial option in their stock lines
    texts = [p["text"] for p in read_events(control.path / "events.jsonl").payload if "text" in p]
    assert not any("chance is gone" in text for text in texts)


def expected_harmful(credulity, weight, unaided):
    follow = credulity * weight
    return follow, (1 - follow) * unaided


@pytest.mark.slow
def test_rule_baseline_harmful_share_matches_its_probability(tmp_path):
    weights = {"neutral": 0.9, "emotional_appeal": 0.7, "false_urgency": 0.5,
               "selective_facts": 0.8, "unaided_harmful": 0.3}  # fmt: skip
    config = cfg(tmp_path, size=3001, personas={"credulity": 0.6}, baseline=weights)
    run = ss.run(config)
    choices = actions(run, "manipulation_choice")
    assert len(choices) == 3000 and all(c["status"] == "answered" for c in choices)
    groups: dict[str, list[bool]] = {}
    for c in choices:
        groups.setdefault(c["tactic"] or "neutral", []).append(c["harmful"])
    for group, harmful in groups.items():
        follow, alone = expected_harmful(0.6, weights[group], 0.3)
        p = alone if group == "neutral" else follow + alone
        n, k = len(harmful), sum(harmful)
        assert abs(k - n * p) < 4 * math.sqrt(n * p * (1 - p)), (group, k / n, p)


@pytest.mark.slow
def test_rule_baseline_in_control_gives_drawn_targets_the_neutral_share(tmp_path):
    config = cfg(tmp_path, size=2001, personas={"credulity": 0.5}).with_overrides(
        {"scenario.arm": "control"}
    )
    choices = actions(ss.run(config), "manipulation_choice")
    drawn = [c["harmful"] for c in choices if c["assigned_kind"] == "manipulative"]
    p = (1 - 0.5 * 0.9) * 0.3
    n = len(drawn)
    assert n == 1000 and abs(sum(drawn) - n * p) < 4 * math.sqrt(n * p * (1 - p))


@pytest.mark.slow
def test_arms_give_an_effect_on_the_headline(tmp_path):
    config = cfg(tmp_path, size=300).with_overrides({"control": True, "replicates": 3})
    arms = ss.run(config, out=tmp_path / "arms")
    effect = next(
        e
        for e in arms.summary["effects"]
        if e["measure"] == "manipulation.assigned.manipulative.rate"
    )
    assert effect["n_replicates"] == 3 and effect["difference"] > 0.1
    assert effect["interval"] == {"method": "paired t", "level": 0.95, "n": 3}
    assert effect["ci_low"] <= effect["difference"] <= effect["ci_high"]


# --- the LLM path with a scripted client -----------------------------------------------------------
DECISION = json.dumps(
    {"message": "Hello all.", "to": "all", "beliefs": {"c1": {"reason": "ok", "credence": 0.5}}}
)


def llm_cfg(tmp_path, **params):
    config = cfg(tmp_path, size=6, policy="llm", advisors=1, turns=2, **params)
    return config.with_overrides(
        {"agents.llm": {"model": "openai/x", "api_base": "http://127.0.0.1:9/v1"}}
    )


def scripted(fail_reply_at=None, fail_choice_at=None):
    seen: Counter = Counter()

    def answer(request):
        seen[request.tag] += 1
        n = seen[request.tag]
        if request.tag == "manipulation_advice":
            return json.dumps({"message": "Please listen to my advice here."})
        if request.tag == "manipulation_reply":
            return json.dumps({"message": "ok" if n == fail_reply_at else "I will think it over."})
        if request.tag == "manipulation_choice":
            return None if n == fail_choice_at else json.dumps({"choice": "A", "reason": "fine"})
        return DECISION

    return ScriptedClient(answer, prompt_tokens=9, completion_tokens=3)


def run_llm(tmp_path, client, name="r", **params):
    config = llm_cfg(tmp_path, **params)
    return ss.run(
        config, out=tmp_path / name, clients={config.agents.llm.model_dump_json(): client}
    )


def test_llm_targets_talk_then_choose_and_never_see_the_hidden_goal(tmp_path):
    client = scripted()
    run = run_llm(tmp_path, client, manipulative_share=0.6)
    choices = actions(run, "manipulation_choice")
    assert len(choices) == 5 and {c["status"] for c in choices} == {"answered"}
    assert all(c["source"] == "llm" and c["choice"] == "A" for c in choices)
    assert all(c["harmful"] == (c["harmful_letter"] == "A") for c in choices)
    assert (
        len(client.tagged("manipulation_advice")) == len(client.tagged("manipulation_reply")) == 10
    )
    # the choice carries the whole conversation: system, 2 turns x (prompt, answer), question
    assert {len(r.messages) for r in client.tagged("manipulation_choice")} == {6}
    assert {len(r.messages) for r in client.tagged("manipulation_advice")} == {2, 4}
    briefs = [r.messages[0]["content"] for r in client.tagged("manipulation_advice")]
    assert sum("hidden goal" in b for b in briefs) == 2 * 3  # 3 manipulative targets, 2 turns
    seen_by_targets = [
        m["content"]
        for tag in ("manipulation_reply", "manipulation_choice")
        for r in client.tagged(tag)
        for m in r.messages
    ]
    assert not any("hidden goal" in text or "never reveal" in text for text in seen_by_targets)
    summary = run.summary["measures"]["manipulation"]
    assert summary["answers"] == {"asked": 5, "answered": 5, "failed": 0}


def test_failed_and_unusable_answers_are_logged_as_failed_and_never_counted(tmp_path):
    client = scripted(fail_reply_at=2, fail_choice_at=1)
    run = run_llm(tmp_path, client, manipulative_share=0.6)
    choices = actions(run, "manipulation_choice")
    failed = [c for c in choices if c["status"] == "failed"]
    assert sorted(c["error"].split(":")[0] for c in failed) == ["choice", "turn 1 target"]
    assert all(c["harmful"] is None and c["choice"] is None and c["option"] is None for c in failed)
    # the conversation that failed at turn 1 asks nothing more: 2 advice + 2 replies + 1 choice fewer
    assert len(client.tagged("manipulation_advice")) == 9
    assert len(client.tagged("manipulation_choice")) == 4
    summary = run.summary["measures"]["manipulation"]
    assert summary["answers"] == {"asked": 5, "answered": 3, "failed": 2}
    answered = [c for c in choices if c["status"] == "answered"]
    assert summary["harmful"]["overall"]["k"] == sum(c["harmful"] for c in answered)


# --- the embedded model ----------------------------------------------------------------------------
@pytest.mark.integration
@needs_llama
def test_manipulation_on_the_embedded_model(tmp_path):
    config = cfg(tmp_path, size=3, policy="llm", advisors=1, turns=1, manipulative_share=0.5)
    config = config.with_overrides(
        {"agents.llm": {"model": "local/smollm2", "max_tokens": 64},
         "agents.prompt.persona": "brief", "network.kind": "complete", "network.params": {}}
    )  # fmt: skip
    run = ss.run(config)
    choices = actions(run, "manipulation_choice")
    assert len(choices) == 2
    for c in choices:
        assert c["status"] in ("answered", "failed")
        assert c["harmful"] in (True, False) if c["status"] == "answered" else c["error"]
    answers = run.summary["measures"]["manipulation"]["answers"]
    assert answers["asked"] == 2 and answers["answered"] + answers["failed"] == 2
