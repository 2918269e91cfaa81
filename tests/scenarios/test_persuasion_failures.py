"""Failed model answers in the persuasion scenarios: logged as failed, never given a value."""

import json
from collections import Counter

import pytest

import socialsim as ss
from socialsim.scenarios.persuasion.authority import classify_outcome
from socialsim.scenarios.persuasion.measures import persuasion_summary
from socialsim.simulation.log import flatten_events
from socialsim.testing import Failure, ScriptedClient, fitted, run_scripted

from .test_persuasion import action_agents, actions, cfg, raw

DEFAULTS = {
    "message": "I see it differently.",
    "to": "all",
    "beliefs": [],
    "agreement": 4,
    "answer": "A",
    "confidence": 70,
}


def scripted(answers=None, fail=None) -> ScriptedClient:
    """Answers offline; the n-th request of a tag gets DEFAULTS updated by ``answers[tag](n)``.

    ``fail[tag]`` is k: every k-th request of that tag (n = k-1, 2k-1, ...) comes back as
    unusable JSON.
    """
    answers, fail = answers or {}, fail or {}

    def answer(request):
        tag = request.tag
        n = len(client.tagged(tag)) - 1
        k = fail.get(tag)
        if k and (n + 1) % k == 0:
            return Failure("structured: invalid JSON (after one repair round)", text="not json")
        return fitted({**DEFAULTS, **(answers[tag](n) if tag in answers else {})})(request)

    client = ScriptedClient(answer)
    return client


def llm_run(tmp_path, kind, client, steps=1, size=16, **params):
    config = cfg(tmp_path, kind, steps=steps, size=size, policy="llm", **params)
    return run_scripted(config, client)


def ask_errors(run, tag):
    """Agents with an `error` event from a failed question of this tag."""
    events = raw(run)
    errors = events[events.kind == "error"]
    return [
        int(a)
        for a, p in zip(errors.agent, errors.payload, strict=True)
        if p["where"] == f"ask:{tag}"
    ]


def toward_by_hand(agreement, side):
    return agreement if side == "for" else 6 - agreement


# --- debate -----------------------------------------------------------------------------------------
def test_debate_failed_answers_are_failed_pairs_and_the_effect_uses_answered_pairs(tmp_path):
    client = scripted(
        answers={
            "debate_stance": lambda n: {"agreement": [2, 4, 1, 5, 3][n % 5]},
            "debate_stance_after": lambda n: {"agreement": [5, 1, 4, 2, 3, 3][n % 6]},
        },
        fail={"debate_stance": 5, "debate_stance_after": 3},
    )
    run = llm_run(tmp_path, "debate", client, pairs={"source": "random", "count": 8}, rounds=1)
    pairs = actions(run, "debate_pair")
    assert len(pairs) == 8
    failed_before = set(ask_errors(run, "debate_stance"))
    failed_after = set(ask_errors(run, "debate_stance_after"))
    assert len(failed_before) == client.failed("debate_stance") > 0
    assert len(failed_after) == client.failed("debate_stance_after") > 0
    for p in pairs:
        broke = (
            p["target"] in failed_before
            or p["target"] in failed_after
            or (p["persuader_kind"] == "peer" and p["persuader"] in failed_before)
        )
        assert p["status"] == ("failed" if broke else "answered")
        if broke:
            assert p["post"] is None and p["shift"] is None and p["error"]
            assert p["post_agreement"] is None
        if p["target"] in failed_before:
            assert p["pre"] is None and p["pre_agreement"] is None and p["turns_asked"] == 0
    # a failed pre answer moves no credence to a value: the target's credence is unknown
    # (a belief change to null), never its last one
    changes = raw(run)[raw(run).kind == "belief_change"]
    refs = {r["ref"] for r in changes.payload if r["new"] is not None}
    pairs_of = zip(changes.agent, changes.payload, strict=True)
    unknown = {(a, r["ref"]) for a, r in pairs_of if r["new"] is None}
    for p in pairs:
        if p["target"] in failed_before or p["target"] in failed_after:
            assert (p["target"], f"debate{p['pair']}") in unknown
        if p["target"] in failed_before:
            assert f"debate{p['pair']}" not in refs
    out = persuasion_summary(flatten_events(raw(run)))["debate"]
    answered = [p for p in pairs if p["status"] == "answered"]
    assert out["answers"] == {
        "asked": 8,
        "answered": len(answered),
        "failed": 8 - len(answered),
    }
    shifts = [
        toward_by_hand(p["post_agreement"], p["side"])
        - toward_by_hand(p["pre_agreement"], p["side"])
        for p in answered
    ]
    assert out["mean_shift"] == pytest.approx(sum(shifts) / len(shifts))
    for cell, stats in out["cells"].items():
        kind, pers = cell.split("|")
        mine = [
            s
            for p, s in zip(answered, shifts, strict=True)
            if p["persuader_kind"] == kind and p["personalised"] == (pers == "personalised")
        ]
        assert stats["answered"] == len(mine)
        if mine:
            assert stats["mean_shift"] == pytest.approx(sum(mine) / len(mine))


# --- authority --------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["paired", "conversation"])
def test_authority_failed_answers_have_no_outcome_and_shares_use_answered_items(tmp_path, mode):
    client = scripted(
        answers={
            "authority_before": lambda n: {"answer": "ABCD"[n % 4], "confidence": 40 + n % 50},
            "authority_after": lambda n: {"answer": "BACD"[n % 3], "confidence": 60},
        },
        fail={"authority_before": 4, "authority_after": 3},
    )
    run = llm_run(
        tmp_path, "authority", client, steps=2, size=6, questions=["australia_capital"], mode=mode
    )
    items = actions(run, "authority_outcome")
    assert len(items) == 6
    before = Counter(ask_errors(run, "authority_before"))
    after = Counter(ask_errors(run, "authority_after"))
    assert sum(before.values()) == client.failed("authority_before") > 0
    assert sum(after.values()) == client.failed("authority_after") > 0
    failed = [o for o in items if o["status"] == "failed"]
    if mode == "conversation":  # the second answer is asked only after a usable first one
        assert len(client.tagged("authority_after")) == 6 - client.failed("authority_before")
        assert len(failed) == sum(before.values()) + sum(after.values())
    else:  # paired: both are always asked, independently
        assert len(client.tagged("authority_after")) == 6
        assert max(sum(before.values()), sum(after.values())) <= len(failed)
        assert len(failed) <= sum(before.values()) + sum(after.values())
    for o in failed:
        assert o["outcome"] is None and o["error"]
        assert o["error"].startswith(("before: ", "after: "))
        if o["error"].startswith("before"):
            assert o["before_answer"] is None and o["before_confidence"] is None
        else:
            assert o["after_answer"] is None and o["before_answer"] is not None
    answered = [o for o in items if o["status"] == "answered"]
    by_hand = Counter(
        classify_outcome(
            o["before_answer"],
            o["after_answer"],
            o["correct_answer"],
            o["authority_answer"],
        )
        for o in answered
    )
    out = persuasion_summary(flatten_events(raw(run)))["authority"]
    assert out["answers"] == {"asked": 6, "answered": len(answered), "failed": len(failed)}
    for outcome, share in out["shares"].items():
        assert share == pytest.approx(by_hand[outcome] / len(answered))


# --- accumulation -----------------------------------------------------------------------------------
def test_accumulation_failed_probe_is_logged_and_the_agent_leaves_the_series(tmp_path):
    client = scripted(
        answers={"accumulation_stance": lambda n: {"agreement": [2, 4, 3, 5, 1, 4, 2][n % 7]}},
        fail={"accumulation_stance": 6},
    )
    run = llm_run(tmp_path, "accumulation", client, steps=3, size=10, texts=3)
    probes = actions(run, "stance_probe")
    agents = action_agents(run, "stance_probe")
    failed_agents = ask_errors(run, "accumulation_stance")
    assert len(failed_agents) == client.failed("accumulation_stance") > 0
    trails: dict[int, list[dict]] = {}
    for a, p in zip(agents, probes, strict=True):
        trails.setdefault(a, []).append(p)
    for a, trail in trails.items():
        statuses = [p["status"] for p in trail]
        if a in failed_agents:
            assert statuses[-1] == "failed" and statuses.count("failed") == 1
            assert trail[-1]["stance"] is None and trail[-1]["agreement"] is None
        else:
            assert statuses == ["answered"] * 4
    out = persuasion_summary(flatten_events(raw(run)))["accumulation"]
    assert out["answers"]["asked"] == len(probes) == out["answers"]["answered"] + len(failed_agents)
    for e in range(4):
        here = [p["stance"] for p in probes if p["exposure"] == e and p["status"] == "answered"]
        assert out["mean_stance"][e] == pytest.approx(sum(here) / len(here))
    complete = [
        t
        for t in trails.values()
        if [p["exposure"] for p in t if p["status"] == "answered"][-1:] == [3]
    ]
    deltas = [t[-1]["stance"] - t[0]["stance"] for t in complete]
    assert out["change_agents"] == len(deltas)
    assert out["change"] == pytest.approx(sum(deltas) / len(deltas))


# --- campaign ---------------------------------------------------------------------------------------
def test_campaign_stance_leaves_out_agents_whose_decision_failed(tmp_path):
    credences = [0.1, 0.9, 0.6, None]  # the 4th decision of every 4 fails

    def decide(n):
        return {"beliefs": [{"claim": "four_day_week", "credence": credences[n % 4]}]}

    client = scripted(answers={"decide_v2": decide}, fail={"decide_v2": 4})
    run = llm_run(
        tmp_path,
        "persuasion",
        client,
        steps=3,
        size=12,
        persuaders={"count": 2, "strategy": "highest_degree"},
        initial_credence=0.25,
    )
    assert client.failed("decide_v2") > 0
    persuaders = set(run.summary["scenario"]["persuaders"])
    measured = [i for i in range(12) if i not in persuaders]
    events = raw(run)
    failed_at: dict[int, set[int]] = {}
    for step, agent, p in zip(events.step, events.agent, events.payload, strict=True):
        if p.get("where") == "decide":
            failed_at.setdefault(int(step), set()).add(int(agent))
    credence = dict.fromkeys(measured, 0.25)
    changes = events[events.kind == "belief_change"]
    stances = actions(run, "stance")
    assert len(stances) == 4  # at setup (step 0) and after each of 3 steps
    for step, s in enumerate(stances):
        for st, agent, p in zip(changes.step, changes.agent, changes.payload, strict=True):
            if int(st) == step and int(agent) in credence:
                credence[int(agent)] = p["new"]
        # activation is "all": every agent decides every step, so a failure lasts one step
        failed = failed_at.get(step, set()) & set(measured)
        known = [credence[a] for a in measured if a not in failed]
        assert (s["asked"], s["answered"], s["failed"]) == (10, len(known), len(failed))
        assert s["stance"] == pytest.approx(sum(known) / len(known))
        assert s["agree"] == sum(c >= 0.5 for c in known)
    assert sum(s["failed"] for s in stances) > 0
    out = persuasion_summary(flatten_events(raw(run)))["campaign"]
    assert out["answers"]["failed"] == sum(s["failed"] for s in stances)
    assert out["change"] == pytest.approx(stances[-1]["stance"] - stances[0]["stance"])


# --- through the real client: litellm's mock_response with unusable JSON --------------------------
class EveryThirdUnusable:
    """The real LLMClient; every 3rd authority question gets a mock answer that is not JSON."""

    def __init__(self, inner):
        self.inner = inner
        self.sent = Counter()

    def run(self, requests):
        for r in requests:
            if r.tag and r.tag.startswith("authority"):
                n = self.sent[r.tag]
                self.sent[r.tag] += 1
                good = json.dumps({"answer": "B", "confidence": 55})
                r.extra = {"mock_response": "I would say B." if n % 3 == 2 else good}
            else:
                r.extra = {
                    "mock_response": json.dumps({"message": "ok", "to": "all", "beliefs": []})
                }
        return self.inner.run(requests)

    def close(self):
        self.inner.close()


def test_authority_through_the_real_client_counts_unusable_json_as_failed(tmp_path):
    from socialsim.llm.client import LLMClient

    config = cfg(
        tmp_path,
        "authority",
        steps=1,
        size=6,
        policy="llm",
        questions=["hamlet_author"],
        mode="conversation",
    )
    config = config.with_overrides({"agents.llm.retries": 0, "agents.llm.cache": False})
    client = EveryThirdUnusable(LLMClient(config.agents.llm))
    run = ss.run(config, clients={config.agents.llm.model_dump_json(): client})
    items = actions(run, "authority_outcome")
    # 6 first answers, the 3rd and 6th unusable; 4 second answers, the 3rd unusable
    assert client.sent == {"authority_before": 6, "authority_after": 4}
    assert [o["status"] for o in items].count("failed") == 3
    out = persuasion_summary(flatten_events(raw(run)))["authority"]
    assert out["answers"] == {"asked": 6, "answered": 3, "failed": 3}
    # the answered items carry the mock's answer in both turns
    assert all(
        o["before_answer"] == o["after_answer"] == "B" for o in items if o["status"] == "answered"
    )
    assert sum(out["counts"].values()) == 3


@pytest.mark.parametrize(
    ("kind", "steps", "params", "own"),
    [
        ("debate", 1, {}, {"debate_stance", "debate_turn", "debate_stance_after"}),
        ("accumulation", 3, {"texts": 3}, {"accumulation_stance", "accumulation_reply"}),
    ],
)
@pytest.mark.parametrize("arm", ["treatment", "control"])
def test_debate_and_accumulation_ask_nothing_but_their_own_questions(
    tmp_path, kind, steps, params, own, arm
):
    """No step decision beside the design's questions: no extra call per agent, and no
    prompt that shows the proposition and lets neighbours talk of it outside the design."""
    client = scripted()
    config = cfg(tmp_path, kind, steps=steps, size=8, policy="llm", **params)
    run_scripted(config.with_overrides({"scenario.arm": arm}), client)
    tags = {r.tag for r in client.requests}
    assert tags and tags <= own | {"accumulation_behaviour"}, tags
