"""Norm justifications scored against the frame's rule of thumb: stems, overlap, a scripted run."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

import socialsim as ss
from socialsim.analysis.stats import clustered_share_ci
from socialsim.core.rundata import load_run
from socialsim.scenarios.norms.justification import (
    NO_JUSTIFICATION,
    agent_mean_cell,
    content_stems,
    justification_summary,
    justification_table,
    lexical_agreement,
    lexical_distance,
    rule_of_thumb,
    stem,
    variant_pairs,
)
from socialsim.scenarios.norms.library import builtin_library
from socialsim.scenarios.norms.measures import norm_choices, norms_summary
from socialsim.testing import ScriptedClient, run_scripted

TIP = "Leave a tip of about 15 to 20 percent"  # the base frame's rule
NO_TIP = "Leave no tip at all"  # the counter variant's rule
CUSTOMARY = "Tipping 15 to 20 percent is customary."
NOT_NEEDED = "No tip is needed at a counter."
SAYS_NO_TIP = "At a counter you leave no tip."


@pytest.mark.parametrize(
    ("word", "expected"),
    [("tipping", "tip"), ("tip", "tip"), ("leaving", "leav"), ("leave", "leav"),
     ("clothes", "cloth"), ("clothing", "cloth"), ("families", "family"), ("family", "family"),
     ("dress", "dress"), ("wedding", "wed"), ("needed", "need"), ("bus", "bus")],
)  # fmt: skip
def test_stem_rule(word, expected):
    assert stem(word) == expected


def test_content_words_and_overlap_by_hand():
    assert content_stems(TIP) == {"leav", "tip", "15", "20", "percent"}
    assert content_stems("You'd leave; don't skip it") == {"leav", "skip"}
    assert content_stems(None) == set() and content_stems("  ") == set()
    # 4 of the rule's 5 content words: tip, 15, 20, percent (not leave)
    assert lexical_agreement(TIP, CUSTOMARY) == pytest.approx(0.8)
    assert lexical_agreement(NO_TIP, NOT_NEEDED) == pytest.approx(0.5)
    assert lexical_agreement("the a of", "anything") is None
    # {tip, 15, 20, percent, customary} vs {tip, need, counter}: 1 shared of 7
    assert lexical_distance(CUSTOMARY, NOT_NEEDED) == pytest.approx(6 / 7)
    assert lexical_distance(CUSTOMARY, CUSTOMARY) == 0.0
    assert lexical_distance("", None) is None


def test_rule_of_thumb_is_the_most_expected_option_and_changes_in_the_variant():
    lib = builtin_library()
    assert rule_of_thumb(lib.frame("restaurant_us_bill")) == TIP
    assert rule_of_thumb(lib.frame("restaurant_us_counter")) == NO_TIP


# --- a scripted LLM run ------------------------------------------------------------------------
def norms_cfg(tmp_path, policy="llm"):
    return ss.ExperimentConfig.from_dict(
        {
            "name": "norms-why",
            "seed": 5,
            "steps": 1,
            "population": {"size": 4},
            "network": {"kind": "ring"},
            "agents": {"policy": policy, "llm": {"model": "openai/x", "api_base": "http://x/v1"}},
            "scenario": {
                "kind": "norms",
                "params": {
                    "frames": ["restaurant_us_bill", "restaurant_us_counter"],
                    "situations_per_step": 2,
                },
            },
            "output": {"dir": str(tmp_path), "report": False, "formats": ["jsonl"]},
        }
    )


def letter_of(prompt: str, behaviour: str) -> str:
    return re.search(rf"^([A-Z])\. {re.escape(behaviour)}$", prompt, re.M).group(1)


def script(client_box):
    """Agents 0, 1 tip at dinner and not at the counter, saying why; agents 2, 3 tip at both,
    saying at the counter that one leaves no tip (they say the rule and do otherwise)."""

    def answer(request):
        if request.tag != "norms_choice_v1":
            return json.dumps({"message": "hi", "to": "all", "beliefs": []})
        prompt = request.messages[-1]["content"]
        agent = client_box[0].position // 2  # each agent's two frames, in agent order
        if "sit-down restaurant" in prompt:
            return json.dumps({"choice": letter_of(prompt, TIP), "justification": CUSTOMARY})
        if agent < 2:
            return json.dumps({"choice": letter_of(prompt, NO_TIP), "justification": NOT_NEEDED})
        return json.dumps({"choice": letter_of(prompt, TIP), "justification": SAYS_NO_TIP})

    return answer


@pytest.fixture(scope="module")
def scripted_run(tmp_path_factory):
    box: list[ScriptedClient] = []
    client = ScriptedClient(script(box))
    box.append(client)
    return run_scripted(norms_cfg(tmp_path_factory.mktemp("why")), client)


def t_interval(values):
    x = np.asarray(values, dtype=float)
    half = sps.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return max(x.mean() - half, 0.0), min(x.mean() + half, 1.0)


def test_the_log_carries_the_rule_and_the_base_frame(scripted_run):
    table = norm_choices(load_run(scripted_run.dir).events)
    assert set(table["rule"]) == {TIP, NO_TIP}
    base = table[table["frame_id"] == "restaurant_us_bill"]
    variant = table[table["frame_id"] == "restaurant_us_counter"]
    assert base["variant_of"].isna().all() and (base["rule"] == TIP).all()
    assert (variant["variant_of"] == "restaurant_us_bill").all()
    assert (variant["rule"] == NO_TIP).all() and (table["source"] == "llm").all()


def test_scripted_justifications_scored_by_hand(scripted_run):
    out = norms_summary(load_run(scripted_run.dir).events)["justifications"]
    assert out["choices"] == {"llm_answered": 8, "llm_failed": 0, "scored": 8, "empty": 0,
                              "no_rule": 0, "rule": 0}  # fmt: skip
    # agents 0, 1: dinner 0.8, counter 0.5 (tip of {leave, tip}); agents 2, 3: 0.8 and 1.0
    agreement = out["agreement"]
    assert (agreement["n"], agreement["agents"]) == (8, 4)
    assert agreement["mean"] == pytest.approx(0.775)
    low, high = t_interval([0.65, 0.65, 0.9, 0.9])
    assert (agreement["ci_low"], agreement["ci_high"]) == pytest.approx((low, high))
    assert out["by_version"]["base"]["mean"] == pytest.approx(0.8)
    assert out["by_version"]["variant"]["mean"] == pytest.approx(0.75)
    assert out["by_frame"]["restaurant_us_counter"]["mean"] == pytest.approx(0.75)
    # choices that follow the rule: agents 0, 1 (0.8 + 0.5) / 2, agents 2, 3 only dinner 0.8
    assert out["by_choice"]["rule"]["mean"] == pytest.approx(0.725)
    assert out["by_choice"]["other"]["mean"] == pytest.approx(1.0)
    assert out["matches_rule"]["k"] == 6 and out["matches_rule"]["answered"] == 8
    # agents 0, 1 match at both frames, 2 and 3 at one: each agent's two answers a cluster
    matches = clustered_share_ci([1, 1, 1, 1, 1, 0, 1, 0], np.array([0, 0, 1, 1, 2, 2, 3, 3]))
    assert out["matches_rule"]["ci_low"] == pytest.approx(matches[0])
    # agents 2, 3 at the counter: agreement with the rule 1.0 > with their own choice 2/5
    assert (out["says_rule_does_other"]["k"], out["says_rule_does_other"]["answered"]) == (2, 2)


def test_base_and_variant_pairs_by_hand(scripted_run):
    table = justification_table(norm_choices(load_run(scripted_run.dir).events))
    pairs = variant_pairs(table).sort_values("agent")
    assert pairs["agent"].tolist() == [0, 1, 2, 3]
    assert pairs["choice_changed"].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert pairs["rule_changed"].tolist() == [1.0] * 4
    # {tip, 15, 20, percent, customary} vs {tip, need, counter} or {counter, leav, tip}
    assert pairs["shift"].tolist() == pytest.approx([6 / 7] * 4)
    block = justification_summary(table)["variants"]
    assert block["pairs"] == 4
    assert block["choice_changed"]["k"] == 2 and block["choice_changed_rule_changed"]["k"] == 2
    assert block["choice_changed_rule_kept"]["answered"] == 0
    assert block["shift_choice_changed"]["mean"] == pytest.approx(6 / 7)
    # the reason changed in all four pairs, the choice in two
    assert block["justification_follows_choice"]["k"] == 2


def test_rule_agents_have_no_justification_score(tmp_path):
    run = ss.run(norms_cfg(tmp_path, policy="degroot"))
    out = norms_summary(load_run(run.dir).events)["justifications"]
    assert out["choices"]["rule"] == 8 and out["choices"]["scored"] == 0
    assert out["agreement"]["mean"] is None and out["reason"] == NO_JUSTIFICATION


def test_a_log_without_rules_is_read_against_the_library():
    rows = pd.DataFrame(
        {
            "step": [1, 1, 1],
            "agent": [0, 0, 1],
            "status": ["answered", "answered", "failed"],
            "source": ["llm"] * 3,
            "frame_id": ["restaurant_us_counter", "user_frame", "restaurant_us_bill"],
            "behaviour": [NO_TIP, "x", None],
            "justification": [NOT_NEEDED, "because", None],
            "agent_role": [None] * 3,
        }
    )
    table = justification_table(rows)
    assert table["rule"].iloc[0] == NO_TIP and table["rule"].iloc[2] == TIP
    assert pd.isna(table["rule"].iloc[1])  # a frame the built-in library does not know
    assert table["variant_of"].tolist()[0] == "restaurant_us_bill"
    assert table["agreement"].iloc[0] == pytest.approx(0.5) and np.isnan(table["agreement"].iloc[1])
    out = justification_summary(table)
    assert out["choices"]["no_rule"] == 1 and out["choices"]["llm_failed"] == 1
    assert out["agreement"]["agents"] == 1 and out["agreement"]["ci_low"] is None
    assert "at least 2" in out["agreement"]["no_interval"]


def test_agent_mean_cell_weights_agents_not_answers():
    cell = agent_mean_cell(pd.Series([1.0, 1.0, 1.0, 0.0]), pd.Series([0, 0, 0, 1]))
    assert cell["mean"] == pytest.approx(0.5) and cell["n"] == 4 and cell["agents"] == 2
