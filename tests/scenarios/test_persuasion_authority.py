"""The authority scenario as designed: paired asks, eight outcome states, follow rate and accuracy,
authorities by domain, the question library and its replication example."""

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import socialsim as ss
from socialsim.analysis.stats import clustered_share_ci
from socialsim.cli import app
from socialsim.core.errors import ConfigError, DataFileError
from socialsim.scenarios.persuasion.authority_questions import (
    DEFAULT_AUTHORITIES,
    builtin_questions,
)
from socialsim.scenarios.persuasion.authority_states import FOLLOWED, authority_rates
from socialsim.scenarios.persuasion.measures import authority_items, persuasion_summary
from socialsim.simulation.log import flatten_events
from socialsim.simulation.world import create_scenario
from socialsim.testing import ScriptedClient, run_scripted, small_config

from .test_persuasion import action_agents, actions, cfg, raw

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# question id -> (role of the answer before, role after, the state by hand); roles: C the
# correct option, A the authority's false option, W1/W2 two other wrong options
SCRIPT = {
    "health_scurvy": ("C", "C", "correct_kept"),
    "sci_gold_symbol": ("C", "A", "correct_to_authority"),
    "law_perjury": ("C", "W1", "correct_to_other"),
    "geo_japan_capital": ("W1", "C", "wrong_to_correct"),
    "hist_titanic": ("A", "C", "wrong_to_correct"),
    "math_pi": ("W1", "A", "wrong_to_authority"),
    "lit_odyssey": ("W1", "W1", "wrong_kept"),
    "astro_red_planet": ("W1", "W2", "wrong_to_other"),
    "econ_gdp": ("A", "W2", "wrong_to_other"),
    "comp_cpu": ("A", "A", "authority_kept"),
}


def letter(item, role):
    """The option letter playing `role` for a library question."""
    wrong = [x for x in item.letters if x not in (item.correct, item.authority)]
    return {"C": item.correct, "A": item.authority, "W1": wrong[0], "W2": wrong[1]}[role]


def scripted_pairs(fail=()):
    """Answers each question by SCRIPT (before on the neutral ask, after on the other one)."""
    bank = builtin_questions()

    def answer(request):
        prompt = request.messages[-1]["content"]
        qid = next(q for q in SCRIPT if bank[q].question in prompt)
        if (qid, request.tag) in fail:
            return None
        side = 0 if request.tag == "authority_before" else 1
        return {"answer": letter(bank[qid], SCRIPT[qid][side]), "confidence": 70 - 10 * side}

    return ScriptedClient(answer)


def scripted_run(tmp_path, client, size=2, **params):
    params = {"questions": list(SCRIPT), "questions_per_step": 5, **params}
    config = small_config(
        size=size, steps=2, policy="llm", scenario="authority", params=params, claims=[]
    )
    return run_scripted(config, client, out=tmp_path / "run")


# --- the question library ---------------------------------------------------------------------------
def test_the_library_has_at_least_100_items_in_10_domains_each_with_its_authority():
    bank = builtin_questions()
    domains = Counter(q.domain for q in bank.values())
    assert len(bank) >= 100 and len(domains) >= 10 and min(domains.values()) >= 9
    assert set(domains) <= set(DEFAULT_AUTHORITIES)
    for q in bank.values():
        assert q.authority != q.correct and len(set(q.options)) == len(q.options) == 4
    # a few answers, checked by hand
    assert bank["geo_australia_capital"].option(bank["geo_australia_capital"].correct) == "Canberra"
    assert bank["astro_hottest_planet"].option(bank["astro_hottest_planet"].correct) == "Venus"
    assert bank["astro_hottest_planet"].option(bank["astro_hottest_planet"].authority) == "Mercury"


def test_questions_file_and_claims_are_asked_by_id_and_bad_entries_are_one_line(tmp_path):
    mine = {"id": "own_q", "domain": "cooking", "question": "Salt is?",
            "options": ["NaCl", "KCl", "H2O"], "correct": "A", "authority": "B"}  # fmt: skip
    (tmp_path / "q.yaml").write_text(yaml.safe_dump([mine]))
    config = cfg(tmp_path, "authority")
    scenario = create_scenario(
        "authority",
        {"questions": ["own_q", "australia_capital"], "questions_file": str(tmp_path / "q.yaml")},
    )
    scenario.validate_config(config)
    own, claim = scenario.items
    assert (own.domain, own.option(own.authority)) == ("cooking", "KCl")
    assert scenario.who(own) == scenario.params.authority  # no authority listed for cooking
    assert (claim.id, claim.domain) == ("australia_capital", "geography")
    assert "geographer" in scenario.who(claim)
    alone = create_scenario("authority", {"authorities": {}, "authority": "a famous expert"})
    assert alone.who(claim) == "a famous expert"  # {}: one authority for every domain
    bad = dict(mine, authority="A")
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump([bad]))
    with pytest.raises(DataFileError, match=r"bad.yaml: entry 0 \(own_q\): .*wrong option"):
        create_scenario(
            "authority", {"questions_file": str(tmp_path / "bad.yaml")}
        ).validate_config(config)
    with pytest.raises(ConfigError, match="'nope' is not in the claims library nor the author"):
        create_scenario("authority", {"questions": ["nope"]}).validate_config(config)


# --- eight states, follow rate and accuracy, by hand --------------------------------------------------
def test_every_state_is_classified_as_by_hand_and_the_rates_follow(tmp_path):
    client = scripted_pairs()
    run = scripted_run(tmp_path, client)
    items = actions(run, "authority_outcome")
    assert len(items) == 2 * len(SCRIPT)
    for o in items:
        assert o["status"] == "answered" and o["mode"] == "paired"
        assert o["outcome"] == SCRIPT[o["question_id"]][2]
        assert o["confidence_source"] == "verbal" and o["before_confidence"] == 70
    out = persuasion_summary(flatten_events(raw(run)))["authority"]
    # by hand over the ten questions (each asked of two agents): 3 end on the authority's
    # answer, 3 start correct, 3 end correct, 1 of the 3 correct before follows
    assert out["counts"] == {s: 2 * n for s, n in Counter(v[2] for v in SCRIPT.values()).items()}
    assert (
        set(out["shares"]) == set(Counter(v[2] for v in SCRIPT.values()))
        and len(out["shares"]) == 8
    )
    assert out["follow_rate"] == pytest.approx(0.3)
    assert out["accuracy_before"] == pytest.approx(0.3)
    assert out["accuracy_after"] == pytest.approx(0.3)
    assert out["follow_rate_from_correct"] == pytest.approx(1 / 3)
    # 6 of 20 items, ten from each of two agents: the agents are the clusters
    followed = [o["outcome"] in FOLLOWED for o in items]  # the states that end on its answer
    who = np.array(action_agents(run, "authority_outcome"))
    assert len(set(who)) == 2
    assert out["follow_rate_ci"] == pytest.approx(list(clustered_share_ci(followed, who)))
    assert out["confidence"] == {"before": 70.0, "after": 60.0, "source": "verbal"}
    assert run.summary["measures"]["persuasion"]["authority"]["follow_rate"] == pytest.approx(0.3)


def test_paired_asks_are_independent_and_name_the_domains_authority(tmp_path):
    client = scripted_pairs()
    scripted_run(tmp_path, client, size=1, authorities={**DEFAULT_AUTHORITIES, "health": "a nurse"})
    neutral, asserted = client.tagged("authority_before"), client.tagged("authority_after")
    assert len(neutral) == len(asserted) == len(SCRIPT)
    for r in neutral + asserted:  # no earlier turns: only a system prompt and the question
        assert [m["role"] for m in r.messages if m["role"] != "system"] == ["user"]
    assert not any("I am " in r.messages[-1]["content"] for r in neutral)
    bank = builtin_questions()
    for r in asserted:
        text = r.messages[-1]["content"]
        qid = next(q for q in SCRIPT if bank[q].question in text)
        item = bank[qid]
        who = "a nurse" if item.domain == "health" else DEFAULT_AUTHORITIES.get(item.domain)
        assert text.startswith(f"I am {who}. ")
        assert f"{item.authority}) {item.option(item.authority)}" in text


def test_a_failed_ask_leaves_the_item_out_of_every_rate(tmp_path):
    client = scripted_pairs(fail={("comp_cpu", "authority_after"), ("math_pi", "authority_before")})
    run = scripted_run(tmp_path, client, size=1)
    out = persuasion_summary(flatten_events(raw(run)))["authority"]
    assert out["answers"] == {"asked": 10, "answered": 8, "failed": 2}
    # the two left out both ended on the authority's answer: 1 of 8 follows
    assert out["follow_rate"] == pytest.approx(1 / 8) and out["n"] == 8
    assert out["accuracy_before"] == pytest.approx(3 / 8)


def test_rates_of_a_log_without_letters_are_empty_not_zero():
    events = flatten_events(raw_rows([{"status": "failed", "outcome": None, "error": "x"}]))
    out = authority_rates(authority_items(events))
    assert out["n"] == 0 and out["follow_rate"] is None and out["follow_rate_ci"] == [None, None]


def raw_rows(payloads):
    """Raw event rows of ``authority_outcome`` actions with these payload fields."""
    import pandas as pd

    return pd.DataFrame(
        [
            {"run": "r", "step": 1, "time": 1.0, "kind": "action", "agent": 0, "target": None,
             "claim": "q", "payload": {"type": "authority_outcome", "question_id": "q", **p}}
            for p in payloads
        ]
    )  # fmt: skip


# --- arms and the replication example ---------------------------------------------------------------
def test_the_control_arm_asks_without_the_assertion_and_rule_agents_keep_their_answer(tmp_path):
    arms = ss.run(cfg(tmp_path, "authority", steps=1, size=8, questions=list(SCRIPT),
                      questions_per_step=10).with_overrides({"control": True}))  # fmt: skip
    treated = authority_items(arms.runs["treatment"][0].events)
    control = authority_items(arms.runs["control"][0].events)
    assert (control["before_answer"] == control["after_answer"]).all()
    assert list(treated["before_answer"]) == list(control["before_answer"])
    assert "authority_role" not in control or control["authority_role"].isna().all()
    assert treated["authority_role"].notna().all()
    t, c = authority_rates(treated), authority_rates(control)
    assert t["accuracy_before"] == c["accuracy_before"]
    assert t["follow_rate"] > c["follow_rate"]


@pytest.mark.slow
def test_the_replication_example_reports_the_headline_and_its_effects(tmp_path):
    out = tmp_path / "runs"
    result = CliRunner().invoke(
        app,
        ["run", str(EXAMPLES / "replicate_parrot.yaml"), "--control", "--replicates", "3",
         "--set", "population.size=3", "--set", "steps=1",
         "--set", "scenario.params.questions_per_step=111", "--set", f"output.dir={out}"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (arms,) = out.glob("replicate_parrot-*-arms")
    summary = yaml.safe_load((arms / "summary.json").read_text())
    headline = [h["measure"] for h in summary["headline"]]
    assert headline == ["persuasion.authority.follow_rate", "persuasion.authority.accuracy_before"]
    effects = {e["measure"]: e for e in summary["effects"]}
    assert set(headline) <= set(effects)
    one = yaml.safe_load((arms / "treatment" / "s1" / "summary.json").read_text())
    measured = one["measures"]["persuasion"]["authority"]
    assert measured["n"] == 3 * 111 and 0 <= measured["follow_rate"] <= 1
    assert one["scenario"]["mode"] == "paired" and len(one["scenario"]["domains"]) == 11


# --- confidence from token log-probabilities --------------------------------------------------------
def _with_logprobs(request, value, p_chosen):
    """An LLMResult for `value` whose answer token gave the chosen letter `p_chosen`, the other
    letters sharing the rest equally (and a non-letter token that must not count)."""
    import json
    import math

    from socialsim.llm.types import CallRecord, LLMResult

    chosen = value["answer"]
    others = [x for x in "ABCD" if x != chosen]
    rest = (1 - p_chosen) / len(others)
    top = [[chosen, math.log(p_chosen * 0.5)]] + [[x, math.log(rest * 0.5)] for x in others]
    top.append(["Paris", math.log(0.5)])
    text = json.dumps(value)
    tokens = [
        {"token": '{"answer": "', "logprob": 0.0, "top": []},
        {"token": chosen, "logprob": top[0][1], "top": top},
        {"token": text[len('{"answer": "') + 1 :], "logprob": 0.0, "top": []},
    ]
    schema = request.schema
    return LLMResult(
        text=text,
        record=CallRecord(model="scripted", route="scripted", attempts=1, tag=request.tag),
        value=schema.model_validate(value),
        logprobs=tokens,
    )


def test_confidence_comes_from_logprobs_where_the_model_returns_them(tmp_path):
    bank = builtin_questions()
    no_logprobs = {"law_perjury"}  # this question's answers come back without them

    def answer(request):
        prompt = request.messages[-1]["content"]
        qid = next(q for q in SCRIPT if bank[q].question in prompt)
        side = 0 if request.tag == "authority_before" else 1
        value = {"answer": letter(bank[qid], SCRIPT[qid][side]), "confidence": 70 - 10 * side}
        if qid in no_logprobs:
            return value
        return _with_logprobs(request, value, 0.8 if side == 0 else 0.4)

    client = ScriptedClient(answer)
    run = scripted_run(tmp_path, client, size=1)
    assert {r.logprobs for r in client.requests} == {5}  # every ask requests them
    for o in actions(run, "authority_outcome"):
        assert (o["before_verbal_confidence"], o["after_verbal_confidence"]) == (70, 60)
        if o["question_id"] in no_logprobs:
            assert o["confidence_source"] == "verbal"
            assert (o["before_confidence"], o["after_confidence"]) == (70, 60)
        else:  # the chosen letter's share of the letters' mass, x 100
            assert o["confidence_source"] == "logprob"
            assert (o["before_confidence"], o["after_confidence"]) == pytest.approx((80.0, 40.0))
    out = persuasion_summary(flatten_events(raw(run)))["authority"]
    assert out["confidence"]["source"] == "logprob,verbal"
    assert out["confidence"]["before"] == pytest.approx((9 * 80 + 70) / 10)


def test_verbal_confidence_asks_for_no_logprobs(tmp_path):
    client = scripted_pairs()
    run = scripted_run(tmp_path, client, size=1, confidence="verbal")
    assert {r.logprobs for r in client.requests} == {None}
    assert {o["confidence_source"] for o in actions(run, "authority_outcome")} == {"verbal"}
