"""The debate as a persuasion RCT: roles tied to design cells, opponents on the other side,
binary and ordinal outcomes checked against hand computation and statsmodels."""

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from statsmodels.miscmodels.ordinal_model import OrderedModel
from typer.testing import CliRunner

import socialsim as ss
from socialsim.cli import app
from socialsim.core.errors import ConfigError
from socialsim.scenarios.persuasion.debate_ordinal import CELL_TERMS, design_matrix, ordinal_effect
from socialsim.scenarios.persuasion.debate_ordinal import separated as is_separated
from socialsim.scenarios.persuasion.measures import debate_pairs
from socialsim.scenarios.propositions import opposite
from socialsim.simulation.log import flatten_events, read_events
from socialsim.simulation.world import create_scenario
from socialsim.testing import ScriptedClient, fitted, run_scripted

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FIELDS = {"message": "I see it differently.", "to": "all", "beliefs": [], "agreement": 4}
SIDE = re.compile(r"In this debate you argue (FOR|AGAINST) the statement\.")
DEBATE_WITH = re.compile(r"You are in a short online debate with (.+?) about:")


def cfg(tmp_path, size, policy="llm", seed=11, **params):
    data = {
        "name": "rct",
        "seed": seed,
        "steps": 1,
        "population": {"size": size},
        "network": {"kind": "watts_strogatz", "params": {"k": 4, "p": 0.1}},
        "agents": {"policy": policy},
        "scenario": {"kind": "debate", "params": {"pairs": {"source": "random"}, **params}},
        "output": {"dir": str(tmp_path / "runs"), "report": False, "formats": ["jsonl"]},
    }
    return ss.ExperimentConfig.from_dict(data)


def script(pre, post=lambda position: 4):
    """Answers by tag: the targets' agreement before and after from the batch position."""

    def answer(request):
        if request.tag == "debate_stance":
            return {"agreement": pre(client.position)}
        if request.tag == "debate_stance_after":
            return {"agreement": post(client.position)}
        return fitted(FIELDS)(request)

    client = ScriptedClient(answer)
    return client


def pair_events(run):
    events = read_events(run.path / "events.jsonl")
    return [p for p in events[events.kind == "action"].payload if p["type"] == "debate_pair"]


def opponent_batches(client):
    """The debate-turn batches the opponents were asked (every other turn batch)."""
    turns = [b for b in client.batches if b and b[0].tag == "debate_turn"]
    return turns[0::2]


def names(run):
    return pd.read_csv(run.path / "personas.csv").set_index("agent")["name"].to_dict()


# --- opponents argue the other side ----------------------------------------------------------------
def test_every_opponent_is_told_to_argue_against_the_targets_stance(tmp_path):
    client = script(pre=lambda i: [1, 2, 3, 4, 5][i % 5])
    run = run_scripted(cfg(tmp_path, 24, rounds=1), client)
    pairs = pair_events(run)
    assert len(pairs) == 12 and all(p["status"] == "answered" for p in pairs)
    assert {(p["persuader_kind"], p["personalised"]) for p in pairs} == {
        ("persuader", True), ("persuader", False), ("peer", True), ("peer", False)
    }  # fmt: skip
    who = names(run)
    batches = opponent_batches(client)
    assert len(batches) == 1  # one opponent batch per round
    for batch in batches:
        assert len(batch) == len(pairs)
        for request, pair in zip(batch, pairs, strict=True):  # both in pair order
            prompt = request.messages[-1]["content"]
            assert DEBATE_WITH.search(prompt).group(1) == who[pair["target"]]
            argued = SIDE.search(prompt).group(1).lower()
            pre = pair["pre_agreement"]
            assert argued == pair["side"]
            if pre != 3:
                assert argued == opposite("for" if pre > 3 else "against")
            assert pair["side_drawn"] is (pre == 3)
            assert pair["pre"] == (pre if argued == "for" else 6 - pre) <= 3
    replies = [b for b in client.batches if b and b[0].tag == "debate_turn"][1::2]
    assert not any(SIDE.search(r.messages[-1]["content"]) for b in replies for r in b)


@pytest.mark.slow
def test_a_neutral_targets_side_is_drawn_from_the_seed(tmp_path):
    def sides(seed):
        client = script(pre=lambda i: 3)
        run = run_scripted(cfg(tmp_path / str(seed), 32, seed=seed, rounds=1), client)
        pairs = pair_events(run)
        assert all(p["side_drawn"] and p["pre"] == 3 for p in pairs)
        return [p["side"] for p in pairs]

    first = sides(5)
    assert first == sides(5)
    assert 0 < first.count("for") < len(first)  # both sides drawn
    assert first != sides(6)


# --- roles tied to design cells ----------------------------------------------------------------------
def test_each_roles_model_prompt_and_settings_go_on_its_requests(tmp_path):
    roles = {
        "persuader": {
            "label": "strong model",
            "llm": {"model": "scripted/strong", "temperature": 0.3, "max_tokens": 77},
            "prompt": {"system": "You are an AI assistant.", "instruction": "Win {name} over."},
        },
        "peer": {"llm": {"model": "scripted/weak"}},
    }
    client = script(pre=lambda i: [1, 2, 4, 5][i % 4])
    run = run_scripted(cfg(tmp_path, 24, rounds=1, roles=roles), client)
    pairs = pair_events(run)
    (batch,) = opponent_batches(client)
    for request, pair in zip(batch, pairs, strict=True):
        system, prompt = request.messages[0]["content"], request.messages[-1]["content"]
        if pair["persuader_kind"] == "persuader":
            assert request.model == "scripted/strong" == pair["opponent_model"]
            assert (request.temperature, request.max_tokens) == (0.3, 77)
            assert system == "You are an AI assistant."
            assert f"Win {DEBATE_WITH.search(prompt).group(1)} over." in prompt
        else:
            assert request.model == "scripted/weak" == pair["opponent_model"]
            assert (request.temperature, request.max_tokens) == (None, None)
            assert system != "You are an AI assistant." and "ordinary person" in prompt
        assert ("What you know about" in prompt) is pair["personalised"]
    targets = {p["target"] for p in pairs}
    assert all(r.model is None for r in client.tagged("debate_stance"))  # the population's
    facts = run.summary["scenario"]["roles"]
    assert facts["persuader"] == {"label": "strong model", "model": "scripted/strong"}
    assert facts["peer"] == {"label": "human-like peer", "model": "scripted/weak"}
    assert len(targets) == len(pairs)


def test_a_roles_instruction_names_only_known_placeholders(tmp_path):
    bad = {"peer": {"prompt": {"instruction": "Tell {target} off."}}}
    with pytest.raises(ConfigError, match=r"roles\.peer\.prompt\.instruction.*\{target\}"):
        create_scenario("debate", {"roles": bad})
    with pytest.raises(ConfigError, match="roles.persuader.llm.temperature"):
        create_scenario("debate", {"roles": {"persuader": {"llm": {"temperature": 5}}}})


# --- outcomes ----------------------------------------------------------------------------------------
def test_odds_ratios_match_a_hand_count_on_a_scripted_run(tmp_path):
    """Every target starts at 2 (the opponent argues for); after: 3 (increased) or 2 by script.

    With one pre value and two outcomes, the proportional-odds model is a saturated logistic
    model of the cells, so its odds ratios are the sample odds ratios too.
    """
    client = script(pre=lambda i: 2, post=lambda i: 3 if (i * 7) % 11 < 5 else 2)
    run = run_scripted(cfg(tmp_path, 64, rounds=1), client)
    pairs = pair_events(run)
    assert all(p["side"] == "for" and p["pre"] == 2 for p in pairs)

    def counts(kind, pers):
        mine = [
            p["post"] > p["pre"]
            for p in pairs
            if (p["persuader_kind"], p["personalised"]) == (kind, pers)
        ]
        return sum(mine), len(mine) - sum(mine)

    c, d = counts("peer", False)
    measured = run.summary["measures"]["persuasion"]["debate"]
    ordinal = measured["ordinal"]
    assert ordinal["estimable"] and ordinal["adjusted_for_pre"] is False
    for term in CELL_TERMS:
        kind, pers = term.split("|")
        a, b = counts(kind, pers == "personalised")
        assert min(a, b, c, d) > 0  # no correction: the plain Woolf formulas apply
        hand = (a * d) / (b * c)
        se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
        got = measured["odds_ratio"][term]
        assert got["table"] == [[a, b], [c, d]] and got["corrected"] is False
        assert got["odds_ratio"] == pytest.approx(hand)
        assert got["ci_low"] == pytest.approx(hand * math.exp(-1.959964 * se), rel=1e-5)
        assert got["ci_high"] == pytest.approx(hand * math.exp(1.959964 * se), rel=1e-5)
        assert ordinal["terms"][term]["odds_ratio"] == pytest.approx(hand, rel=1e-4)
        assert ordinal["terms"][term]["se"] == pytest.approx(se, rel=1e-3)


def test_ordinal_model_matches_statsmodels_fitted_by_hand(tmp_path):
    run = ss.run(
        cfg(tmp_path, 120, policy="degroot", pairs={"source": "random", "count": 60},
            baseline={"noise": 0.3})
    )  # fmt: skip
    pairs = pair_events(run)
    rows = [p for p in pairs if p["status"] == "answered"]
    y = np.array([p["post"] for p in rows])
    X = pd.DataFrame(
        {
            term: [
                float(
                    f"{p['persuader_kind']}|{'personalised' if p['personalised'] else 'plain'}"
                    == term
                )
                for p in rows
            ]
            for term in CELL_TERMS
        }
    )
    X["pre"] = [float(p["pre"]) for p in rows]
    fit = OrderedModel(y, X, distr="logit").fit(method="bfgs", disp=False, maxiter=1000)
    out = run.summary["measures"]["persuasion"]["debate"]["ordinal"]
    assert out["estimable"] and out["n"] == len(rows) == 60 and out["adjusted_for_pre"]
    assert out["levels"] == sorted(set(y.tolist()))
    ci = fit.conf_int()
    for term in (*CELL_TERMS, "pre"):
        got = out["terms"][term]
        assert got["coef"] == pytest.approx(fit.params[term], rel=1e-4, abs=1e-6)
        assert got["se"] == pytest.approx(fit.bse[term], rel=1e-3)
        assert got["odds_ratio"] == pytest.approx(math.exp(fit.params[term]), rel=1e-4)
        assert got["ci_low"] == pytest.approx(math.exp(ci.loc[term, 0]), rel=1e-3)
        assert got["ci_high"] == pytest.approx(math.exp(ci.loc[term, 1]), rel=1e-3)
        assert got["p"] == pytest.approx(fit.pvalues[term], rel=1e-3, abs=1e-9)
    cuts = fit.model.transform_threshold_params(fit.params)[1:-1]
    assert out["thresholds"] == pytest.approx(list(cuts), rel=1e-4)
    assert out["terms"]["pre"]["coef"] > 0  # who agreed more before agrees more after


def test_ordinal_model_says_why_it_has_no_estimate():
    base = {"status": "answered", "persuader_kind": "peer", "personalised": False}
    same = pd.DataFrame([{**base, "pre": 2.0, "post": 2.0}] * 6)
    out = ordinal_effect(same)
    assert not out["estimable"] and "fewer than two values" in out["reason"]
    assert out["terms"]["persuader|personalised"]["odds_ratio"] is None
    no_reference = same.assign(persuader_kind="persuader", post=[2.0, 3.0] * 3)
    assert "reference cell" in ordinal_effect(no_reference)["reason"]
    # the rule baseline without noise: post is pre or pre + 1, so pre predicts it perfectly
    rng = np.random.default_rng(0)
    pre = rng.integers(1, 5, 80).astype(float)
    separated = pd.DataFrame(
        {
            "status": "answered",
            "persuader_kind": np.where(np.arange(80) % 2, "peer", "persuader"),
            "personalised": np.arange(80) % 4 < 2,
            "pre": pre,
            "post": pre + (rng.random(80) < 0.4),
        }
    )
    out = ordinal_effect(separated)
    assert not out["estimable"] and "separation" in out["reason"]
    # a 2x2 table with no empty cell has a finite maximum; one with an empty cell has none
    two = pd.DataFrame({"cell": ["peer|plain"] * 4 + ["persuader|plain"] * 4, "pre": 2.0})
    assert not is_separated(np.array([2, 3, 2, 2, 3, 3, 3, 2]), design_matrix(two))
    assert is_separated(np.array([2, 2, 2, 2, 3, 3, 3, 2]), design_matrix(two))


@pytest.mark.slow
def test_rule_baseline_answer_noise_is_one_point_in_both_arms(tmp_path):
    config = cfg(tmp_path, 40, policy="degroot", baseline={"noise": 0.5})
    arms = ss.run(config.with_overrides({"control": True}))
    treated = pair_events(arms.runs["treatment"][0])
    control = pair_events(arms.runs["control"][0])
    off = [p["post_agreement"] - p["pre_agreement"] for p in control]
    assert set(off) <= {-1, 0, 1} and 3 <= sum(x != 0 for x in off) <= 17
    # the same pairs, sides and draws in both arms: the debate adds its one point or nothing
    for t, c in zip(treated, control, strict=True):
        assert (t["pair"], t["side"], t["pre"]) == (c["pair"], c["side"], c["pre"])
        assert t["post"] - c["post"] in (0, 1)
    assert sum(t["post"] - c["post"] for t, c in zip(treated, control, strict=True)) > 0


# --- the replication example ---------------------------------------------------------------------------
@pytest.mark.slow
def test_replication_example_reports_the_headline_odds_ratio_and_its_effect(tmp_path):
    out = tmp_path / "runs"
    result = CliRunner().invoke(
        app,
        ["run", str(EXAMPLES / "replicate_persuasion_rct.yaml"), "--control", "--replicates", "3",
         "--set", "population.size=80", "--set", "scenario.params.pairs.count=40",
         "--set", "scenario.params.rounds=1", "--set", "output.report=false",
         "--set", f"output.dir={out}"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (arms,) = out.glob("replicate_persuasion_rct-*-arms")
    summary = yaml.safe_load((arms / "summary.json").read_text())
    headline = [h["measure"] for h in summary["headline"]]
    assert headline[0] == "persuasion.debate.odds_ratio.persuader|personalised.odds_ratio"
    effects = {e["measure"]: e for e in summary["effects"]}
    assert set(headline) <= set(effects)
    assert effects[headline[0]]["n_replicates"] == 3
    one = yaml.safe_load((arms / "treatment" / "s1" / "summary.json").read_text())
    debate = one["measures"]["persuasion"]["debate"]
    assert debate["answers"]["answered"] == 40
    assert debate["odds_ratio"]["persuader|personalised"]["odds_ratio"] > 0
    assert set(debate["ordinal"]["terms"]) == {*CELL_TERMS, "pre"}
    events = flatten_events(read_events(arms / "treatment" / "s1" / "events.jsonl"))
    assert len(debate_pairs(events)) == 40
