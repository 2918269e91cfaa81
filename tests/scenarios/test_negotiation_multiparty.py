"""Multi-party tables, reflection settings and outcome classes of the negotiation scenario."""

from __future__ import annotations

import json
import re

import pytest

import socialsim as ss
import socialsim.scenarios.negotiation.measures  # noqa: F401 - registers the measure
import socialsim.scenarios.negotiation.scenario  # noqa: F401 - registers the scenario
from socialsim.core.errors import ConfigError
from socialsim.core.rundata import event_table
from socialsim.scenarios.negotiation.multiparty import TABLE_TAG
from socialsim.scenarios.negotiation.prompts import TAG
from socialsim.scenarios.negotiation.reflection import REFLECTION_TAG
from socialsim.scenarios.negotiation.rules import concession_offer
from socialsim.scenarios.negotiation.tables import (
    CLASSES,
    Table,
    outcome_class,
    rule_move,
    rule_proposal,
)
from socialsim.testing import ScriptedClient, run_scripted

LLM = {"model": "openai/x", "api_base": "http://127.0.0.1:9/v1"}


def config(tmp_path, size=9, policy="degroot", llm=None, arm="treatment", top=None, **params):
    agents = {"policy": policy, **({"llm": llm} if llm else {})}
    return ss.ExperimentConfig.from_dict(
        {
            **(top or {}),
            "name": "nego-tables",
            "seed": 5,
            "steps": 1,
            "population": {"size": size},
            "network": {"kind": "complete"},
            "agents": agents,
            "scenario": {"kind": "negotiation", "arm": arm, "params": params},
            "output": {"dir": str(tmp_path), "report": False, "formats": ["jsonl"]},
        }
    )


def outcomes(run):
    return event_table(run.events, "action", "negotiation_outcome")


# --- the rule at a table, by hand ------------------------------------------------------------
def play(table: Table, rate: float) -> list[tuple[int, str, list[float]]]:
    """Rule moves turn by turn: (turn, action, allocation)."""
    moves = []
    for turn in range(1, table.max_turns + 1):
        action, shares = rule_move(table, turn, rate)
        table.turns = turn
        moves.append((turn, action, shares))
        if action == "propose":
            table.propose(table.seat(turn), shares)
        elif action == "accept":
            table.accept(turn)
        else:
            table.walk_away(turn)
        if table.done:
            break
    return moves


def test_three_rule_parties_conceding_fully_meet_at_turn_six():
    # ideal 90 for oneself, then (rate 1) the reservation 20 and (90 - 20) / 2 = 35 for each other
    table = Table(1, 90.0, [7, 8, 9], [20.0, 20.0, 20.0], public=False, max_turns=6)
    moves = play(table, 1.0)
    assert moves == [
        (1, "propose", [90.0, 0.0, 0.0]),
        (2, "propose", [0.0, 90.0, 0.0]),
        (3, "propose", [0.0, 0.0, 90.0]),
        (4, "propose", [20.0, 35.0, 35.0]),
        (5, "accept", []),  # seat 1 would keep 20 next: 35 is better
        (6, "accept", []),  # unanimity: the deal
    ]
    assert table.deal and table.ended_by == "accept" and table.ender == 9
    assert table.outcome() == "compromise"  # seat 0 had opened at 90, not 20
    # one turn less: a proposal at turn 4 could not be accepted by all, so seat 0 walks away
    short = Table(2, 90.0, [7, 8, 9], [20.0, 20.0, 20.0], public=False, max_turns=5)
    assert play(short, 1.0)[-1] == (4, "walk_away", []) and short.outcome() == "no_deal"


def test_public_rule_proposal_gives_each_other_party_its_reservation_first():
    # ideal: 100 - (10 + 30) = 60; the rest 100 - 60 - 40 = 0 shared equally
    assert rule_proposal(0, [20.0, 10.0, 30.0], 100.0, True, 0.5, 0) == [60.0, 10.0, 30.0]
    # second proposal: 20 + 40 / 2 = 40 for itself, 10 / 2 more for each other
    assert rule_proposal(0, [20.0, 10.0, 30.0], 100.0, True, 0.5, 1) == [40.0, 20.0, 40.0]
    # two parties, private: the bilateral rule's responder offer 60 - 60 / 4 = 45 on the y scale
    assert rule_proposal(1, [30.0, 40.0], 100.0, False, 0.5, 2) == [45.0, 55.0]
    assert concession_offer(60.0, 0.0, 0.5, 2) == 45.0


def test_outcome_class_by_hand():
    assert outcome_class(None, None, None, 100.0) is None
    assert outcome_class(False, None, None, 100.0) == "no_deal"
    assert outcome_class(True, [60.0, 40.0], [60.0, 40.0], 100.0) == "authority"
    assert outcome_class(True, [55.0, 45.0], [60.0, 40.0], 100.0) == "compromise"


def test_rule_tables_in_a_run_end_where_the_hand_count_says(tmp_path):
    # reservation 0.3 x 100 x 2 / 3 = 20 each; concession 1: [20, 40, 40] at turn 6, every table
    run = ss.run(
        config(tmp_path, parties=3, pairs="random", max_turns=6, concession=1.0,
               reservation={"low": 0.3, "high": 0.3})
    )  # fmt: skip
    table = outcomes(run)
    assert len(table) == 3 and (table["parties"] == 3).all()
    assert all(sorted(sum(table["members"], [])) == list(range(9)) for _ in [0])
    assert table["deal"].all() and (table["turns"] == 6).all()
    assert all(a == pytest.approx([20.0, 40.0, 40.0]) for a in table["allocation"])
    assert (table["outcome_class"] == "compromise").all()
    assert (table["adopted_from"] == table["proposer"]).all()  # seat 0 made the deal
    m = run.summary["measures"]["negotiation"]
    cls = m["outcome_class"]["overall"]
    assert (cls["compromise"]["k"], cls["compromise"]["rate"]) == (3, 1.0)
    assert (cls["authority"]["k"], cls["no_deal"]["answered"]) == (0, 3)
    # Wilson, 0 of 3: the three tables share no agent
    assert cls["authority"]["ci_high"] == pytest.approx(0.5614970317550454)
    assert m["diversity"]["overall"]["entropy_bits"] == 0.0  # every deal at position 0.2
    assert m["outcome_class"]["by_parties"]["3"]["compromise"]["rate"] == 1.0
    assert run.summary["scenario"]["parties"] == 3


def test_tables_along_edges_seat_an_agent_with_its_neighbours(tmp_path):
    cfg = config(tmp_path, size=12, parties=3, pairs="edges")
    cfg = cfg.model_copy(update={"network": cfg.network.model_copy(update={"kind": "ring"})})
    table = outcomes(ss.run(cfg))
    assert len(table) >= 1
    for members in table["members"]:  # on a ring: an agent and its two neighbours
        assert any({m % 12, (m + 1) % 12, (m + 2) % 12} == set(members) for m in members)


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"parties": 3, "mode": "price"}, "needs mode: split"),
        ({"parties": 5, "max_turns": 4}, "raise max_turns"),
        ({"parties": 7}, "scenario.params.parties"),
        ({"reflection": "ponder"}, "scenario.params.reflection"),
    ],
)
def test_bad_table_and_reflection_params_are_one_line_errors(tmp_path, params, error):
    with pytest.raises(ConfigError, match=re.escape(error)) as err:
        ss.run(config(tmp_path, **params))
    assert "\n" not in str(err.value)


def test_native_reasoning_is_refused_where_the_route_cannot_pass_it(tmp_path):
    with pytest.raises(ConfigError, match="fast_path: false"):
        ss.run(config(tmp_path, policy="llm", llm=LLM, reflection="native"))
    with pytest.raises(ConfigError, match="embedded model"):
        ss.run(config(tmp_path, policy="llm", llm={"model": "local/x"}, reflection="native"))
    with pytest.raises(ConfigError, match="unknown group 'agents.mix\\[0\\]'"):
        ss.run(config(tmp_path, reflection_by_group={"agents.mix[0]": "reflect"}))


# --- LLM tables: turn order, reflection kept private -------------------------------------------
def table_client() -> ScriptedClient:
    """Reflections name their author and turn; seat 0 proposes 50/25/25, the others accept."""

    def answer(request):
        text = request.messages[-1]["content"]
        turn = int(re.search(r"This is turn (\d+) of", text).group(1))
        me = re.search(r"You \(([^)]+)\)", text).group(1)
        if request.tag == REFLECTION_TAG:
            return json.dumps({"reflection": f"SECRET of {me} at turn {turn}"})
        if turn == 1:
            return json.dumps({"action": "propose", "shares": [50, 25, 25]})
        return json.dumps({"action": "accept", "shares": []})

    return ScriptedClient(answer)


@pytest.fixture(scope="module")
def reflected(tmp_path_factory):
    cfg = config(
        tmp_path_factory.mktemp("tables"), size=3, policy="llm", llm=LLM,
        parties=3, pairs="random", max_turns=4, reflection="reflect",
    )  # fmt: skip
    client = table_client()
    return run_scripted(cfg, client), client


def test_turns_go_round_the_table_in_seat_order(reflected):
    run, client = reflected
    moves = client.prompts(TABLE_TAG)
    assert len(moves) == 3  # turn 1 proposes, turns 2 and 3 accept: unanimity
    for turn, prompt in enumerate(moves, start=1):
        order = re.search(r"turns go round: (.*)\.\n", prompt).group(1).split(", ")
        assert [k for k, x in enumerate(order) if x.endswith("(you)")] == [(turn - 1) % 3]
    row = outcomes(run).iloc[0]
    assert row["deal"] and row["turns"] == 3 and row["outcome_class"] == "authority"
    assert row["allocation"] == [50.0, 25.0, 25.0] and row["adopted_from"] == row["members"][0]
    assert row["reflection"] == ["reflect"] * 3
    assert "1 of the 2 acceptances it needs are in" in moves[2]


def test_a_reflection_reaches_its_own_move_and_no_other_prompt(reflected):
    run, client = reflected
    tags = [r.tag for r in client.requests]
    assert tags == [REFLECTION_TAG, TABLE_TAG] * 3  # a reflection call before each move
    logged = event_table(run.events, "action", "negotiation_reflection")
    assert len(logged) == 3 and (logged["status"] == "answered").all()
    for request in client.requests:
        text = request.messages[-1]["content"]
        me = re.search(r"You \(([^)]+)\)", text).group(1)
        secrets = re.findall(r"SECRET of (.+?) at turn", text)
        if request.tag == TABLE_TAG:
            turn = int(re.search(r"This is turn (\d+) of", text).group(1))
            assert f"SECRET of {me} at turn {turn}" in text
        assert all(s == me for s in secrets)
    others = [str(r.messages) for r in client.requests]
    for _, row in logged.iterrows():  # each secret in one request only: its author's move
        assert sum(row["text"] in o for o in others) == 1


def test_bilateral_native_reasoning_goes_with_each_move_request(tmp_path):
    llm = {**LLM, "fast_path": False}
    moves = iter(
        [
            json.dumps({"action": "offer", "amount": 70}),
            json.dumps({"action": "accept", "amount": 0}),
        ]
    )
    client = ScriptedClient(lambda r: next(moves))
    run = run_scripted(
        config(tmp_path, size=2, policy="llm", llm=llm, pairs="random", reflection="native",
               reasoning_effort="high"),
        client,
    )  # fmt: skip
    assert [r.extra for r in client.tagged(TAG)] == [{"reasoning_effort": "high"}] * 2
    row = outcomes(run).iloc[0]
    assert row["deal"] and row["outcome_class"] == "authority"  # the opening offer, accepted
    assert row["reflection"] == ["native", "native"]


# --- the replication example ----------------------------------------------------------------
@pytest.mark.slow
def test_replication_example_reports_outcome_classes_in_summary_and_effects(tmp_path):
    from pathlib import Path

    from socialsim.core.yaml_safe import load_yaml_file

    data = load_yaml_file(Path(__file__).parents[2] / "examples" / "replicate_negotiation.yaml")
    data.update(control=True, replicates=3, steps=1, population={"size": 12})
    data["output"] = {"dir": str(tmp_path), "report": False, "formats": ["jsonl"]}
    arms = ss.run(ss.ExperimentConfig.from_dict(data))
    headline = [f"negotiation.outcome_class.overall.{c}.rate" for c in CLASSES]
    effects = arms.effects.set_index("measure")
    assert set(headline) <= set(effects.index)
    checked = 0
    for path in Path(arms.dir).glob("**/summary.json"):
        summary = json.loads(path.read_text(encoding="utf-8"))
        if "measures" not in summary:
            continue
        checked += 1
        cls = summary["measures"]["negotiation"]["outcome_class"]["overall"]
        assert sum(cls[c]["k"] for c in CLASSES) == cls["no_deal"]["answered"] == 4
        assert [h["measure"] for h in summary["headline"]][:3] == headline
    assert checked == 6  # 3 replicates x 2 arms
