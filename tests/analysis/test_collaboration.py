"""Collaboration measures on real runs: the BFS baseline, and scripted models with known skills.

In the scripted run three models play: ``big`` reads every map in its prompt and states the
shortest path once the maps connect start and goal; ``small`` shares its map and insists on
the illegal path ``U``; every answer of ``flaky`` is unusable. Which trials succeed, fail
or go unanswered follows from the seats alone (:func:`expected_outcome`), so each measure is
checked against counts made here from the trials' seats.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import socialsim as ss
from socialsim.analysis.stats import newcombe_diff_ci, wilson_ci
from socialsim.core.rundata import load_run
from socialsim.scenarios.collaboration import measures as collaboration
from socialsim.scenarios.collaboration.maze import Maze, bfs_path, moves_text, parse_map
from socialsim.simulation.log import flatten_events, read_events
from socialsim.testing import ScriptedClient, run_scripted

WIDTH, HEIGHT = 4, 3
RANK = {"big": 2, "small": 1, "flaky": 0}


def trials_of(run) -> list[dict]:
    ev = read_events(run.dir / "events.jsonl")
    return [p for p in ev[ev.kind == "action"].payload if p.get("type") == "collab_trial"]


def cell(asked: int, answered: int, k: int) -> dict:
    lo, hi = wilson_ci(k, answered) if answered else (None, None)
    return {
        "asked": asked,
        "answered": answered,
        "failed": asked - answered,
        "k": k,
        "rate": k / answered if answered else None,
        "ci_low": lo,
        "ci_high": hi,
    }


# --- the BFS baseline --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory):
    cfg = ss.ExperimentConfig.from_dict(
        {
            "name": "collab",
            "seed": 5,
            "steps": 2,
            "population": {"size": 8},
            "network": {"kind": "ring"},
            "agents": {"policy": "degroot"},
            "scenario": {
                "kind": "collaboration",
                "params": {"conditions": ["solo", "pair", "relay"], "trials_per_step": 3},
            },
            "output": {
                "dir": str(tmp_path_factory.mktemp("collab")),
                "report": False,
                "formats": ["jsonl"],
            },
        }
    )
    return ss.run(cfg)


@pytest.mark.slow
def test_baseline_solves_everything_and_the_gap_is_zero(baseline_run):
    out = collaboration.collaboration_summary(load_run(baseline_run.dir).events)
    six = cell(6, 6, 6)  # 2 steps x 3 mazes per condition, all solved
    assert out["answers"] == {"asked": 18, "answered": 18, "failed": 0}
    assert out["success"] == {"pair": six, "relay": six, "solo": six}
    assert out["success_by_pairing"]["pair"] == {"baseline + baseline": six}
    assert out["mean_turns"] == {"pair": 3.0, "relay": 3.0, "solo": 1.0}
    zero = newcombe_diff_ci(6, 6, 6, 6)
    gap = out["gap"]["baseline"]
    assert gap["solo"] == six and gap["pair"] == six
    assert (gap["gap"], gap["ci_low"], gap["ci_high"]) == (0.0, zero["ci_low"], zero["ci_high"])
    assert out["relay_minus_pair"]["baseline + baseline"]["diff"] == 0.0
    assert out["starter"] == {"pair": {"equal": six}, "relay": {"equal": six}}


@pytest.mark.slow
def test_raw_and_flat_event_tables_give_the_same_summary(baseline_run):
    raw = flatten_events(read_events(baseline_run.dir / "events.jsonl"))  # the lines, converted
    flat_json = flatten_events(raw)
    arrow = load_run(baseline_run.dir).events
    expected = collaboration.collaboration_summary(raw)
    assert collaboration.collaboration_summary(flat_json) == expected
    assert collaboration.collaboration_summary(arrow) == expected
    assert collaboration.collaboration_summary(raw.iloc[0:0]) == {}


# --- scripted models -----------------------------------------------------------------------------
def own_map(prompt: str) -> str:
    lines = prompt.split("Your map:\n", 1)[1].splitlines()
    return "\n".join(lines[: 2 * HEIGHT + 1])


def turn_text(model: str, prompt: str) -> str | None:
    """What each scripted model says at its turn (None: an unusable answer)."""
    if model == "flaky":
        return None
    known = parse_map(prompt, WIDTH, HEIGHT)
    opened = frozenset(s for s, is_open in known.items() if is_open)
    path = bfs_path(Maze(WIDTH, HEIGHT, opened, (0, 0), (HEIGHT - 1, WIDTH - 1)), opened)
    solo = prompt.startswith("Find a path")
    if model == "big":
        if solo:
            return moves_text(path)
        return "My map:\n" + own_map(prompt) + (f"\n{moves_text(path)}" if path else "")
    return "PATH: U" if solo else "My map:\n" + own_map(prompt) + "\nPATH: U"


def maze_client() -> ScriptedClient:
    """Answers each maze turn by the speaking model's script (``request.model``)."""

    def answer(r):
        if "message" in r.schema.model_fields and r.tag != "collab_turn_v1":
            return {"message": "Hello.", "to": "all", "beliefs": []}
        text = turn_text(str(r.model), r.messages[-1]["content"])
        return None if text is None else r.schema(message=text)

    return ScriptedClient(answer)


def expected_outcome(condition: str, models: list[str]) -> bool | None:
    """Success of a trial from its seats (starter first); None when it cannot be answered."""
    if condition == "solo":
        return {"big": True, "small": False, "flaky": None}[models[0]]
    first, second = models
    if condition == "relay":
        leader = max(models, key=RANK.get) if first != second else first
        if leader != "big":
            return False  # the leader states U for both seats at once: agreed, illegal
        # big writes both opening turns (map, then the path); the first seat speaks last
        return {"big": True, "small": False, "flaky": None}[first]
    if "flaky" in models:
        return None
    if first == second:
        return first == "big"
    # big + small in three turns: the path big states last stands only when big started
    return first == "big"


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    root = tmp_path_factory.mktemp("scripted")
    names = ["big", "small", "flaky"]
    personas = root / "personas.jsonl"
    personas.write_text(
        "\n".join(
            json.dumps({"id": i, "name": f"Agent {i}", "model": names[i % 3]}) for i in range(9)
        )
    )
    cfg = ss.ExperimentConfig.from_dict(
        {
            "name": "collab-models",
            "seed": 8,
            "steps": 2,
            "population": {"size": 9, "personas": str(personas)},
            "network": {"kind": "ring"},
            "agents": {"policy": "llm", "llm": {"model": "openai/x", "api_base": "http://x/v1"}},
            "scenario": {
                "kind": "collaboration",
                "params": {
                    "conditions": ["solo", "pair", "heterogeneous", "relay"],
                    "trials_per_step": 4,
                    "max_turns": 3,
                    "relay_k": 2,
                    "model_rank": ["big", "small", "flaky"],
                    "maze": {"width": WIDTH, "height": HEIGHT, "split": "region"},
                },
            },
            "output": {"dir": str(root / "runs"), "report": False, "formats": ["jsonl"]},
        }
    )
    run = run_scripted(cfg, maze_client())
    trials = pd.DataFrame(trials_of(run))
    trials["expected"] = [
        expected_outcome(c, m) for c, m in zip(trials["condition"], trials["models"], strict=True)
    ]
    trials["pairing"] = trials["models"].map(lambda m: " + ".join(sorted(m)))
    return run, trials, collaboration.collaboration_summary(load_run(run.dir).events)


def expected_cell(rows: pd.DataFrame) -> dict:
    answered = rows["expected"].notna()
    return cell(len(rows), int(answered.sum()), int((rows["expected"] == True).sum()))  # noqa: E712


@pytest.mark.slow
def test_trials_come_out_as_the_seats_predict(scripted):
    _, trials, _ = scripted
    assert len(trials) == 2 * 4 * 4
    outcome = trials["success"].where(trials["status"] == "answered", None)
    assert list(outcome) == list(trials["expected"])
    failed = trials[trials["status"] == "failed"]
    assert len(failed) > 0 and failed["error"].str.contains("overloaded").all()
    assert failed["success"].isna().all() and failed["path"].isna().all()


def test_success_by_condition_counts_failed_trials_apart(scripted):
    _, trials, out = scripted
    for condition, rows in trials.groupby("condition"):
        assert out["success"][condition] == pytest.approx(expected_cell(rows))
    answered = int(trials["expected"].notna().sum())
    assert out["answers"] == {"asked": 32, "answered": answered, "failed": 32 - answered}


def test_gap_is_solo_minus_same_model_pairs_per_model(scripted):
    _, trials, out = scripted
    for model in sorted({m[0] for m in trials.loc[trials.condition == "solo", "models"]}):
        solo = trials[(trials.condition == "solo") & (trials.pairing == model)]
        pair = trials[(trials.condition == "pair") & (trials.pairing == f"{model} + {model}")]
        s, p = expected_cell(solo), expected_cell(pair)
        got = out["gap"][model]
        assert got["solo"] == pytest.approx(s) and got["pair"] == pytest.approx(p)
        if s["answered"] and p["answered"]:
            d = newcombe_diff_ci(s["k"], s["answered"], p["k"], p["answered"])
            assert got["gap"] == pytest.approx(d["diff"])
            assert (got["ci_low"], got["ci_high"]) == pytest.approx((d["ci_low"], d["ci_high"]))
        else:
            assert got["gap"] is None
    assert out["gap"]["big"]["gap"] is not None  # big plays alone and with itself


def test_relay_minus_free_dialogue_per_pairing(scripted):
    _, trials, out = scripted
    relay = trials[trials.condition == "relay"]
    free = trials[trials.condition.isin(["pair", "heterogeneous"])]
    compared = 0
    for pairing in sorted(relay["pairing"].unique()):
        r = expected_cell(relay[relay.pairing == pairing])
        p_rows = free[free.pairing == pairing]
        if p_rows.empty:
            assert pairing not in out.get("relay_minus_pair", {})
            continue
        p = expected_cell(p_rows)
        got = out["relay_minus_pair"][pairing]
        assert got["relay"] == pytest.approx(r) and got["pair"] == pytest.approx(p)
        if r["answered"] and p["answered"]:
            d = newcombe_diff_ci(r["k"], r["answered"], p["k"], p["answered"])
            assert got["diff"] == pytest.approx(d["diff"])
            compared += 1
    assert compared > 0


def test_who_starts(scripted):
    _, trials, out = scripted
    two = trials[trials.condition != "solo"]
    for (condition, role), rows in two.groupby(["condition", "starter_role"]):
        assert out["starter"][condition][role] == pytest.approx(expected_cell(rows))
    # the role follows model_rank: big over small over flaky
    for models, role in zip(two["models"], two["starter_role"], strict=True):
        first, second = (RANK[m] for m in models)
        assert role == ("equal" if first == second else "stronger" if first > second else "weaker")
