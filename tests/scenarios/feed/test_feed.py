"""Feed runs: the log, determinism, the control arm, LLM agents, rankings and bad params."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import socialsim as ss
from socialsim.core.errors import ConfigError
from socialsim.core.events import check_events
from socialsim.core.rundata import event_table
from socialsim.scenarios.feed import RANKINGS, register_ranking
from socialsim.scenarios.feed.measures import feed_summary
from socialsim.testing import ScriptedClient, clients_for, small_config

SUSCEPTIBLE = {"fixed": {"framing_susceptibility": 0.8, "source_susceptibility": 0.5}}


def config(size=30, steps=4, seed=1, policy="degroot", **params):
    """A small feed config: 30 agents on a ring, 4 steps, framing-susceptible personas."""
    params = {"n_items": 60, "k": 3, **params}
    return small_config(
        size=size, steps=steps, seed=seed, policy=policy, claims=[], scenario="feed",
        params=params, population={"size": size, "personas": SUSCEPTIBLE},
    )  # fmt: skip


def run_in_memory(cfg, client=None):
    model = ss.SocialModel(cfg, clients=clients_for(cfg, client) if client else None)
    model.run_model()
    return model, model.record()


def exposures(run) -> pd.DataFrame:
    return event_table(run.events, "action", "feed_exposure")


def test_every_event_keeps_to_its_type_and_exposures_are_numbered_per_claim():
    cfg = config(ranking="popularity", agent_posts=0.3, audience=0.6, reshare=0.5)
    model, run = run_in_memory(cfg)
    lines = model.log.sink.lines
    assert check_events(json.loads(line) for line in lines) == len(lines)
    table = exposures(run)
    assert len(table) > 0
    # no agent sees an item twice; at most k items per agent and step
    assert not table.duplicated(["agent", "item"]).any()
    assert table.groupby(["step", "agent"]).size().max() <= 3
    # the n-th exposure of an agent to a claim is numbered n, in feed order
    ordered = table.sort_values(["step", "rank"], kind="stable")
    expected = ordered.groupby(["agent", "claim"]).cumcount() + 1
    assert (ordered["exposure"] == expected).all()
    assert ordered["exposure"].max() >= 2
    # posts by agents are attributed to them; reshares happened
    posts = event_table(run.events, "action", "feed_post")
    assert (posts["agent"] >= 0).any() and (posts["agent"] == -1).any()
    assert table["reshared"].any() and not (table["reshared"] & ~table["accepted"]).any()


def test_same_seed_same_log_other_seed_other_log():
    logs = []
    for seed in (1, 1, 2):
        model, _ = run_in_memory(config(seed=seed, ranking="random", reshare=0.5))
        logs.append([json.loads(line) | {"run": None} for line in model.log.sink.lines])
    assert logs[0] == logs[1]
    assert logs[0] != logs[2]


def test_summary_json_holds_the_per_exposure_series_and_headline(tmp_path):
    cfg = config(steps=5, n_items=80, k=4, ranking="recency", repetition=1.0)
    ss.run(cfg, out=tmp_path / "run")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    feed = summary["measures"]["feed"]
    assert list(feed["by_exposure"])[:2] == ["1", "2"]
    first, second = feed["by_exposure"]["1"], feed["by_exposure"]["2"]
    assert first["answered"] > second["answered"] > 0
    assert first["ci_low"] <= first["rate"] <= first["ci_high"]
    assert set(feed["by_framing"]) == set(summary["scenario"]["framings"])
    assert set(feed["by_version"]) <= {"true", "manipulated"}
    assert 0 <= feed["confidence_by_exposure"]["1"]["mean"] <= 1
    assert feed["repetition"]["pairs"] > 0
    heads = {h["measure"]: h["value"] for h in summary["headline"]}
    assert heads["feed.repetition.effect"] == feed["repetition"]["effect"]
    assert (tmp_path / "run" / "tables" / "feed_by_exposure.csv").exists()


def test_framing_moves_rule_agents_as_framing_weight_says():
    cfg = config(size=120, steps=5, n_items=120, k=5, ranking="random", repetition=0.0,
                 source_styles=["plain"], framings=["authoritative", "sensationalist"])  # fmt: skip
    _, run = run_in_memory(cfg)
    rates = {k: v["rate"] for k, v in feed_summary(run.events)["by_framing"].items()}
    # credulity ~ Beta(2, 3): 0.4 x weight (0.2 + 0.8 x 1.6 = 1.48; 0.2 + 0.8 x 0.4 = 0.52)
    assert rates["authoritative"] == pytest.approx(0.4 * 1.48, abs=0.06)
    assert rates["sensationalist"] == pytest.approx(0.4 * 0.52, abs=0.05)


def test_control_arm_shows_every_item_plain_with_the_same_items_and_exposures():
    treat_model, treat = run_in_memory(config(ranking="recency", reshare=0.0))
    cfg = config(ranking="recency", reshare=0.0)
    cfg = cfg.model_copy(update={"scenario": cfg.scenario.model_copy(update={"arm": "control"})})
    control_model, control = run_in_memory(cfg)
    assert control_model.scenario.is_control
    posts = event_table(control.events, "action", "feed_post")
    items = control_model.scenario.items
    assert posts["neutral"].all()
    assert posts["text"].tolist() == [items.statement(int(j)) for j in posts["item"]]
    t, c = exposures(treat), exposures(control)
    same = ["step", "agent", "item", "claim", "framing", "exposure", "rank"]
    assert t[same].reset_index(drop=True).equals(c[same].reset_index(drop=True))
    # the framing the item would have had stays in the log; its weight is gone
    rates = feed_summary(control.events)["by_framing"]
    spread = max(v["rate"] for v in rates.values()) - min(v["rate"] for v in rates.values())
    treat_rates = feed_summary(treat.events)["by_framing"]
    treat_spread = max(v["rate"] for v in treat_rates.values()) - min(
        v["rate"] for v in treat_rates.values()
    )
    assert spread < treat_spread


def test_llm_agents_answer_one_question_per_exposure_never_kept_in_memory():
    def answer(request):
        text = request.messages[-1]["content"]
        if "SHOCKING" in text:
            return None  # a failed call
        return {"accept": "established fact" in text, "confidence": 90}

    client = ScriptedClient(answer)
    cfg = config(size=8, steps=3, policy="llm", n_items=40, k=2,
                 framings=["authoritative", "sensationalist", "neutral"])  # fmt: skip
    model, run = run_in_memory(cfg, client)
    table = exposures(run)
    assert len(client.requests) == len(table) == 8 * 3 * 2
    assert set(client.tags()) == {"feed_exposure_v1"}
    assert all(len(model.agent(i).memory.items) == 0 for i in range(8))
    by = table.set_index("framing")
    assert (by.loc["authoritative", "accepted"] == True).all()  # noqa: E712
    assert (by.loc["neutral", "accepted"] == False).all()  # noqa: E712
    failed = table[table["framing"] == "sensationalist"]
    assert (failed["status"] == "failed").all() and failed["accepted"].isna().all()
    assert failed["error"].notna().all()
    summary = feed_summary(run.events)
    assert summary["exposures"]["failed"] == len(failed)
    assert summary["by_framing"]["sensationalist"]["rate"] is None
    assert summary["by_framing"]["authoritative"]["rate"] == 1.0
    assert summary["confidence"]["mean"] == pytest.approx(0.9)


def test_mixed_population_labels_each_answer_by_its_source():
    client = ScriptedClient(lambda request: {"accept": True, "confidence": 50})
    cfg = config(size=12, steps=2)
    cfg = cfg.model_copy(update={"agents": cfg.agents.model_copy(
        update={"mix": [ss.ExperimentConfig.model_validate(
            {"agents": {"mix": [{"fraction": 0.25, "policy": "llm"}]}}).agents.mix[0]]})})  # fmt: skip
    model, run = run_in_memory(cfg, client)
    table = exposures(run)
    llm = np.array([model.is_llm(int(a)) for a in table["agent"]])
    assert llm.any() and not llm.all()
    assert (table["source"] == np.where(llm, "llm", "rule")).all()
    assert len(client.requests) == llm.sum()


def test_a_registered_ranking_decides_what_agents_see():
    @register_ranking("oldest_first")
    def oldest_first(feed, params, rng):
        """The earliest posted item first."""
        return np.broadcast_to(-10.0 * feed.posted, feed.shape)

    try:
        _, run = run_in_memory(config(ranking="oldest_first", n_items=60, steps=4, k=2))
    finally:
        RANKINGS.remove("oldest_first")
    in_posting_order = (
        exposures(run).groupby("agent")["posted"].apply(lambda p: p.is_monotonic_increasing)
    )
    assert in_posting_order.all()
    _, shuffled = run_in_memory(config(ranking="random", n_items=60, steps=4, k=2))
    any_order = (
        exposures(shuffled).groupby("agent")["posted"].apply(lambda p: p.is_monotonic_increasing)
    )
    assert not any_order.all()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"ranking": "viral"}, "scenario.params.ranking: 'viral' is not one of"),
        ({"claims": ["no_such_claim"]}, "scenario.params.claims: 'no_such_claim' is not in"),
        ({"framings": ["outraged"]}, "'outraged' is not a framing"),
        ({"n_items": 1_000_000}, "scenario.params.n_items: 1,000,000 items x 100 agents"),
        ({"builtin": False}, "scenario.params.builtin: false leaves no claims"),
        ({"claims_file": "missing.yaml"}, "scenario.params.claims_file"),
        ({"ranking_params": {"weight": 2}}, "scenario.params.ranking_params"),
    ],
)
def test_bad_params_are_one_line_config_errors(params, message):
    with pytest.raises(ConfigError, match=message) as err:
        cfg = config(size=100, **params)
        ss.SocialModel(cfg)
    assert "\n" not in str(err.value)
