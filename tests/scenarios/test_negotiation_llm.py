"""Negotiation with LLM agents: prompts, moves, unusable answers failed and never filled in."""

from __future__ import annotations

import importlib.util
import json
import re

import numpy as np
import pytest

import socialsim as ss
import socialsim.scenarios.negotiation.measures  # noqa: F401 - registers the measure
import socialsim.scenarios.negotiation.scenario  # noqa: F401 - registers the scenario
from socialsim.analysis.stats import clustered_share_ci
from socialsim.core.rundata import event_table
from socialsim.scenarios.negotiation.prompts import TAG
from socialsim.testing import ScriptedClient, run_scripted
from tests.simulation.test_llm_run import ANSWER


def move(action: str, amount: float = 0.0) -> str:
    return json.dumps({"action": action, "amount": amount})


#: per negotiation (in the order of the batch) and turn: the scripted answer (None: HTTP 503)
SCRIPT = {
    0: {1: move("offer", 60), 2: move("accept")},  # a deal: the proposer keeps 60
    1: {1: move("offer", 150)},  # outside 0..100
    2: {1: move("accept")},  # nothing to accept yet
    3: {1: None},  # the provider fails
    4: {1: move("offer", 70), 2: move("offer", 40), 3: move("offer", 55)},  # offer on last turn
    5: {1: move("walk_away")},  # answered, no deal
}


def turn_of(request) -> int | None:
    """The turn a negotiation request asks for (None: another request)."""
    if request.tag != TAG:
        return None
    return int(re.search(r"This is turn (\d+) of", request.messages[-1]["content"]).group(1))


def negotiators() -> ScriptedClient:
    """Answers negotiation turns from SCRIPT by batch position; step decisions with ANSWER."""
    live: dict[int, list[int]] = {}  # turn -> the SCRIPT keys of the negotiations still running
    seen: dict[int, int] = {}

    def answer(request):
        if client.position == 0:  # a new batch
            turns = [turn_of(r) for r in client.batches[-1]]
            live.update({t: [k for k in sorted(SCRIPT) if t in SCRIPT[k]][: turns.count(t)]
                         for t in set(turns) if t is not None})  # fmt: skip
            seen.clear()
        turn = turn_of(request)
        if turn is None:
            return ANSWER
        k = seen.get(turn, 0)
        seen[turn] = k + 1
        return SCRIPT[live[turn][k]][turn]

    client = ScriptedClient(answer)
    return client


def turn_prompts(client: ScriptedClient) -> list[tuple[int, str]]:
    """(turn, prompt) of every negotiation request, in order."""
    return [(turn_of(r), r.messages[-1]["content"]) for r in client.tagged(TAG)]


def config(tmp_path, arm="treatment", size=12):
    return ss.ExperimentConfig.from_dict(
        {
            "name": "nego-llm",
            "seed": 2,
            "steps": 1,
            "population": {"size": size},
            "network": {"kind": "complete"},
            "agents": {
                "policy": "llm",
                "llm": {"model": "openai/x", "api_base": "http://127.0.0.1:9/v1"},
            },
            "scenario": {
                "kind": "negotiation",
                "arm": arm,
                "params": {"pairs": "random", "max_turns": 3},
            },
            "output": {"dir": str(tmp_path), "report": False, "formats": ["jsonl"]},
        }
    )


def scripted_run(tmp_path, arm="treatment"):
    cfg = config(tmp_path, arm)
    client = negotiators()
    run = run_scripted(cfg, client)
    table = event_table(run.events, "action", "negotiation_outcome").set_index("negotiation")
    return run, table, client


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    return scripted_run(tmp_path_factory.mktemp("nego_llm"))


def test_usable_moves_are_played_and_logged(scripted):
    run, table, _ = scripted
    deal = table.loc[1]
    assert deal["status"] == "answered" and deal["deal"] and deal["turns"] == 2
    assert deal["proposer_amount"] == 60.0 and deal["responder_amount"] == 40.0
    assert deal["ender"] == deal["responder"] and deal["ended_by"] == "accept"
    assert deal["surplus_proposer"] == pytest.approx(60.0 - deal["reservation_proposer"])
    walked = table.loc[6]
    assert walked["status"] == "answered" and not walked["deal"]
    assert walked["ended_by"] == "walk_away" and walked["turns"] == 1
    offers = event_table(run.events, "action", "negotiation_offer")
    assert sorted(offers.groupby("negotiation").size().items()) == [(1, 1), (5, 2)]
    counter = offers[(offers["negotiation"] == 5) & (offers["turn"] == 2)].iloc[0]
    assert (counter["amount"], counter["y"], counter["role"]) == (40.0, 60.0, "responder")
    assert set(offers["source"]) == {"llm"}


@pytest.mark.parametrize(
    ("negotiation", "turn", "error"),
    [
        (2, 1, "outside 0..100"),
        (3, 1, "accept with no offer on the table"),
        (4, 1, "503"),
        (5, 3, "an offer on the last turn"),
    ],
)
def test_unusable_answers_fail_the_negotiation_and_nothing_is_filled_in(
    scripted, negotiation, turn, error
):
    _, table, _ = scripted
    row = table.loc[negotiation]
    assert row["status"] == "failed" and error in row["error"] and row["failed_turn"] == turn
    assert row["turns"] == turn - 1
    for field in ("deal", "y", "position", "surplus_proposer", "ended_by", "proposer_amount"):
        assert row[field] is None or row[field] != row[field]  # None or NaN


def test_measures_count_failed_negotiations_and_rate_only_answered_ones(scripted):
    run, _, _ = scripted
    m = run.summary["measures"]["negotiation"]
    assert m["answers"] == {"asked": 6, "answered": 2, "failed": 4}
    assert (m["agreement"]["overall"]["k"], m["agreement"]["overall"]["rate"]) == (1, 0.5)
    assert m["diversity"]["overall"]["deals"] == 1
    assert m["diversity"]["overall"]["entropy_bits"] == 0.0
    assert m["agreement"]["by_pairing"]["openai/x + openai/x"]["failed"] == 4
    assert run.summary["data_quality"]["answers"]["negotiation"]["failed"] == 4


def test_outcome_classes_of_scripted_negotiations(scripted):
    run, table, _ = scripted
    # negotiation 1: the opening offer of 60 accepted unchanged; 6: walked away; 2-5 failed
    assert table.loc[1, "outcome_class"] == "authority"
    assert table.loc[6, "outcome_class"] == "no_deal"
    assert table.loc[1, "adopted_from"] == table.loc[1, "proposer"]
    assert table.loc[[2, 3, 4, 5], "outcome_class"].isna().all()
    cls = run.summary["measures"]["negotiation"]["outcome_class"]["overall"]
    assert [(cls[c]["k"], cls[c]["answered"], cls[c]["failed"]) for c in cls] == [
        (1, 2, 4),
        (0, 2, 4),
        (1, 2, 4),
    ]  # authority, compromise, no_deal
    assert cls["authority"]["rate"] == 0.5
    # 1 of 2: Wilson's 0.5 - 1.96 * sqrt(0.125 + 1.96**2 / 16) / (1 + 1.96**2 / 2) when the
    # two negotiations share no agent; counted as correlated (Korn-Graubard) when they do
    two = table.loc[[1, 6], ["proposer", "responder"]].to_numpy()
    low = clustered_share_ci([1.0, 0.0], two)[0]
    assert cls["authority"]["ci_low"] == pytest.approx(low, abs=1e-9)
    if len(np.unique(two)) == 4:
        assert low == pytest.approx(0.0945312, abs=1e-6)


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def test_prompt_shows_own_reservation_value_and_the_offers_but_not_the_other_value(scripted):
    _, table, client = scripted
    deal = table.loc[1]
    first = [p for t, p in turn_prompts(client) if t == 1]
    opening = next(p for p in first if f"value is {_fmt(deal['reservation_proposer'])}" in p)
    assert "You make the first offer." in opening and "This is turn 1 of 3." in opening
    assert _fmt(deal["reservation_responder"]) not in opening
    reply = next(p for t, p in turn_prompts(client) if t == 2 and "offered to keep 60" in p)
    assert f"value is {_fmt(deal['reservation_responder'])}" in reply
    assert "If you accept" in reply and "you keep 40" in reply
    last = [p for t, p in turn_prompts(client) if t == 3]
    assert len(last) == 1 and "This is the last turn" in last[0]


def test_control_arm_shows_the_other_sides_reservation_value(tmp_path):
    _, table, client = scripted_run(tmp_path, arm="control")
    deal = table.loc[1]
    assert deal["public"]
    opening = next(
        p
        for t, p in turn_prompts(client)
        if t == 1 and f"value is {_fmt(deal['reservation_proposer'])}" in p
    )
    assert f"reservation value is {_fmt(deal['reservation_responder'])}" in opening


@pytest.mark.integration
@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="needs llama-cpp-python")
def test_embedded_model_negotiates(tmp_path):
    from socialsim.llm.local import bundled_gguf

    if bundled_gguf() is None:
        pytest.skip("needs the bundled SmolLM2 GGUF")
    cfg = ss.ExperimentConfig.from_dict(
        {
            "name": "nego-local",
            "seed": 1,
            "steps": 1,
            "population": {"size": 4},
            "network": {"kind": "complete"},
            "agents": {
                "policy": "llm",
                "activation": "fraction",
                "activation_fraction": 0.01,
                "llm": {"model": "local/smollm2", "max_tokens": 128, "cache": False},
            },
            "scenario": {"kind": "negotiation", "params": {"pairs": "random", "max_turns": 3}},
            "output": {"dir": str(tmp_path), "report": False, "formats": ["jsonl"]},
        }
    )
    run = ss.run(cfg)
    table = event_table(run.events, "action", "negotiation_outcome")
    assert len(table) == 2 and set(table["status"]) <= {"answered", "failed"}
    for _, row in table.iterrows():
        if row["status"] == "answered":
            assert row["ended_by"] in ("accept", "walk_away") and 1 <= row["turns"] <= 3
        else:
            assert isinstance(row["error"], str) and row["error"]
    answers = run.summary["measures"]["negotiation"]["answers"]
    assert answers["asked"] == 2 == answers["answered"] + answers["failed"]


def test_each_arm_says_truly_who_knows_whose_reservation_value(tmp_path, scripted):
    """Private values (treatment): the other side does not know yours. Public values
    (control): each side is told the other's, so no prompt says yours is unknown to it."""
    _, _, client = scripted
    treated = [p for _, p in turn_prompts(client)]
    assert treated and all("does not know this number" in p for p in treated)
    assert not any("is told this number too" in p for p in treated)
    _, _, client = scripted_run(tmp_path, arm="control")
    public = [p for _, p in turn_prompts(client)]
    assert public and all("is told this number too" in p for p in public)
    assert not any("does not know this number" in p for p in public)
