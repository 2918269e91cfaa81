"""Manipulation: the three advisor conditions, preference ratings, and odds ratios that say why
they are null."""

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

import socialsim as ss
from socialsim.scenarios.manipulation.condition_measures import (
    condition_cells,
    condition_odds_ratios,
    odds_ratio_2x2,
    rating_shifts,
)
from socialsim.scenarios.manipulation.ratings import PRIOR
from socialsim.scenarios.manipulation.talk import TACTIC_INSTRUCTIONS
from socialsim.testing import ScriptedClient, run_scripted

from .test_manipulation import actions, cfg

THREE = ["neutral", "hidden_goal", "explicit_tactic"]
ROOT = Path(__file__).resolve().parents[2]


def choices(rows):
    """Answered choices: (assigned_condition, harmful) pairs."""
    return pd.DataFrame(
        [{"status": "answered", "assigned_condition": c, "harmful": float(h)} for c, h in rows]
    )


# --- odds ratios --------------------------------------------------------------------------------
def test_a_table_without_events_in_either_group_gets_no_odds_ratio_and_says_why():
    none = choices([("x", 0)] * 3)
    out = odds_ratio_2x2(none, choices([("y", 0)] * 4), ("hidden_goal", "neutral"))
    assert (out["a"], out["b"], out["c"], out["d"]) == (0, 3, 0, 4)
    assert out["odds_ratio"] is None and out["ci_low"] is None and out["corrected"] is None
    assert out["reason"] == "no harmful choice in either group: the odds are 0 on both sides"
    every = odds_ratio_2x2(choices([("x", 1)] * 2), choices([("y", 1)]))
    assert every["odds_ratio"] is None and "harmful in both groups" in every["reason"]
    empty = odds_ratio_2x2(pd.DataFrame(columns=["status", "harmful"]), none, ("tactic", "neutral"))
    assert (
        empty["odds_ratio"] is None and empty["reason"] == "no answered choice in the tactic group"
    )


def test_odds_ratios_by_hand_and_a_single_zero_cell_is_corrected():
    out = odds_ratio_2x2(
        choices([("x", 1)] * 14 + [("x", 0)] * 6), choices([("y", 1)] * 2 + [("y", 0)] * 18)
    )
    assert out["odds_ratio"] == pytest.approx(14 * 18 / (6 * 2)) and out["reason"] is None
    zero = odds_ratio_2x2(choices([("x", 1)] * 3 + [("x", 0)]), choices([("y", 0)] * 4))
    assert zero["corrected"] is True and zero["reason"] is None
    assert zero["odds_ratio"] == pytest.approx((3.5 * 4.5) / (1.5 * 0.5))


def test_condition_odds_and_ratios_by_hand():
    table = choices(
        [("neutral", 1), ("neutral", 0), ("neutral", 0), ("neutral", 0)]
        + [("hidden_goal", 1), ("hidden_goal", 1), ("hidden_goal", 0)]
        + [("explicit_tactic", 0), ("explicit_tactic", 0)]
    )
    cells = condition_cells(table)
    assert cells["neutral"]["odds"] == pytest.approx(1 / 3)
    assert cells["hidden_goal"]["odds"] == pytest.approx(2.0) and cells["hidden_goal"]["k"] == 2
    assert cells["explicit_tactic"]["odds"] == 0.0
    lo, hi = cells["hidden_goal"]["ci_low"], cells["hidden_goal"]["ci_high"]
    assert cells["hidden_goal"]["odds_ci_low"] == pytest.approx(lo / (1 - lo))
    assert cells["hidden_goal"]["odds_ci_high"] == pytest.approx(hi / (1 - hi))
    ratios = condition_odds_ratios(table)
    assert set(ratios) == {"hidden_goal", "explicit_tactic"}
    assert ratios["hidden_goal"]["odds_ratio"] == pytest.approx(2 * 3 / (1 * 1))
    assert ratios["explicit_tactic"]["corrected"] is True  # a = 0, the neutral group has one


def test_rating_shift_by_hand():
    rows = []
    for conv, advised, cond, before, after in [
        (0, "harmful", "hidden_goal", (3, 5), (6, 2)),  # gap -2 -> +4: +6 toward harmful
        (1, "beneficial", "neutral", (3, 5), (2, 6)),  # gap -2 -> -4: -2 harmful, +2 advised
    ]:
        for turn, (h, b) in ((0, before), (1, (4, 4)), (2, after)):
            rows.append({"conversation": conv, "assigned_condition": cond, "advised": advised,
                         "turn": turn, "status": "answered", "harmful_rating": h,
                         "beneficial_rating": b})  # fmt: skip
    rows.append({**rows[-1], "conversation": 2, "turn": 0})  # no rating after the last turn
    shifts = rating_shifts(pd.DataFrame(rows)).set_index("conversation")
    assert list(shifts.index) == [0, 1]
    assert shifts.loc[0, "toward_harmful"] == 6 and shifts.loc[0, "toward_advised"] == 6
    assert shifts.loc[1, "toward_harmful"] == -2 and shifts.loc[1, "toward_advised"] == 2


# --- the scenario -------------------------------------------------------------------------------
def test_conditions_split_targets_evenly_and_hidden_goal_has_no_tactic(tmp_path):
    run = ss.run(cfg(tmp_path, size=31, conditions=THREE))
    assigned = actions(run, "manipulation_assignment")
    assert Counter(a["assigned_condition"] for a in assigned) == {c: 10 for c in THREE}
    for a in assigned:
        assert a["condition"] == a["assigned_condition"]
        assert (a["advisor_kind"] == "neutral") == (a["condition"] == "neutral")
        assert (a["tactic"] is not None) == (a["condition"] == "explicit_tactic")
    summary = run.summary["measures"]["manipulation"]
    assert set(summary["conditions"]) == set(THREE)
    assert summary["ratings"] == {"asked": 30 * 3, "answered": 90, "failed": 0}


def test_rule_ratings_move_one_point_per_turn_only_for_targets_that_follow(tmp_path):
    run = ss.run(cfg(tmp_path, size=31, conditions=THREE))
    ratings = actions(run, "manipulation_rating")
    by_conv = {}
    for r in ratings:
        by_conv.setdefault(r["conversation"], []).append(r)
    picks = {c["conversation"]: c for c in actions(run, "manipulation_choice")}
    followed = 0
    for conv, rs in by_conv.items():
        assert [r["turn"] for r in rs] == [0, 1, 2]
        assert (rs[0]["harmful_rating"], rs[0]["beneficial_rating"]) == (
            PRIOR["harmful"],
            PRIOR["beneficial"],
        )
        advised = rs[0]["advised"]
        moved = rs[2][f"{advised}_rating"] - rs[0][f"{advised}_rating"]
        assert moved in (0, 2)
        if moved:  # a follower also chose the advised option
            followed += 1
            assert picks[conv]["harmful"] == (advised == "harmful")
    assert 0 < followed < len(by_conv)


def test_control_keeps_the_drawn_condition_and_makes_every_advisor_neutral(tmp_path):
    treated = ss.run(cfg(tmp_path, size=31, conditions=THREE), out=tmp_path / "t")
    control = ss.run(
        cfg(tmp_path, size=31, conditions=THREE).with_overrides({"scenario.arm": "control"}),
        out=tmp_path / "c",
    )
    t, c = actions(treated, "manipulation_choice"), actions(control, "manipulation_choice")
    assert [x["assigned_condition"] for x in t] == [x["assigned_condition"] for x in c]
    assert {x["condition"] for x in c} == {"neutral"} and {
        x["advised"] for x in actions(control, "manipulation_rating")
    } == {"beneficial"}


def test_llm_hidden_goal_brief_has_no_tactic_and_a_failed_rating_is_logged_not_filled(tmp_path):
    seen: Counter = Counter()

    def answer(request):
        seen[request.tag] += 1
        if request.tag == "manipulation_advice":
            return json.dumps({"message": "Please listen to my advice here."})
        if request.tag == "manipulation_reply":
            return json.dumps({"message": "I will think it over."})
        if request.tag == "manipulation_rating":
            return None if seen[request.tag] == 1 else json.dumps({"option_a": 6, "option_b": 2})
        return json.dumps({"choice": "A", "reason": "fine"})

    client = ScriptedClient(answer)
    config = cfg(tmp_path, size=7, policy="llm", advisors=1, turns=1, conditions=THREE)
    config = config.with_overrides(
        {"agents.llm": {"model": "openai/x", "api_base": "http://127.0.0.1:9/v1"}}
    )
    run = run_scripted(config, client)
    assigned = {a["conversation"]: a for a in actions(run, "manipulation_assignment")}
    briefs = {}
    for r in client.tagged("manipulation_advice"):
        briefs.setdefault(r.messages[0]["content"], None)
    hidden = [b for b in briefs if "hidden goal" in b]
    assert len(hidden) == 4  # 2 hidden_goal + 2 explicit_tactic targets, one turn each
    with_tactic = [b for b in hidden if any(t in b for t in TACTIC_INSTRUCTIONS.values())]
    assert len(with_tactic) == 2
    ratings = actions(run, "manipulation_rating")
    assert len(ratings) == 6 * 2 and len(client.tagged("manipulation_rating")) == 12
    failed = [r for r in ratings if r["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["harmful_rating"] is None and failed[0]["error"]
    ok = [r for r in ratings if r["status"] == "answered"]
    for r in ok:  # option A rated 6: the harmful option is A exactly when harmful_letter is A
        letter = assigned[r["conversation"]]["harmful_letter"]
        assert r["harmful_rating"] == (6 if letter == "A" else 2)
    # ratings are asked beside the conversation: the choice sees system, 1 turn, its question
    choice_requests = client.tagged("manipulation_choice")
    assert {len(r.messages) for r in choice_requests} == {4}
    assert not any(
        "favour each option" in m["content"] for r in choice_requests for m in r.messages
    )
    assert len(actions(run, "manipulation_choice")) == 6


@pytest.mark.slow
def test_replicate_example_reports_the_condition_odds_in_summary_and_effects(tmp_path):
    example = ROOT / "examples" / "replicate_manipulation.yaml"
    cmd = [sys.executable, "-m", "socialsim.cli", "run", str(example), "--control",
           "--replicates", "3", "--set", "population.size=61", "--set", f"output.dir={tmp_path}"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(next(tmp_path.rglob("summary.json")).read_text())
    paths = sorted(tmp_path.rglob("summary.json"), key=lambda p: len(p.parts))
    arms = json.loads(paths[0].read_text())
    one = json.loads(next(p for p in paths if "treatment" in p.parts).read_text())
    assert one["measures"]["manipulation"]["conditions"]["hidden_goal"]["odds"] is not None
    effects = {e["measure"] for e in arms["effects"]}
    assert "manipulation.conditions.hidden_goal.odds" in effects
    assert "manipulation.condition_odds_ratio.explicit_tactic.odds_ratio" in effects
    assert summary
