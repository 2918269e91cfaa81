"""Belief-behaviour consistency: probes, message stance and persona traits against credences."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

import socialsim as ss
from socialsim.analysis import consistency as cs
from socialsim.analysis import stance as st
from socialsim.analysis.consistency import consistency_part
from socialsim.analysis.consistency_report import consistency_table
from socialsim.analysis.measures import compute_measures
from socialsim.analysis.report.html import html_table
from socialsim.core.errors import ConfigError
from socialsim.core.rundata import RunData
from socialsim.testing import Failure, ScriptedClient, run_scripted

from .tables import ev, frame

CLAIM = "australia_capital"
MISINFO = {"kind": "misinformation", "params": {"claim": CLAIM}}

# --- a scripted LLM run whose answers have known stances and credences ---------------------------
PERSONAS = [
    {"id": 0, "name": "Ada", "credulity": 0.2, "stubbornness": 0.1, "big_five": {"extraversion": 0.9}},
    {"id": 1, "name": "Bo", "credulity": 0.4, "stubbornness": 0.2, "big_five": {"extraversion": 0.7}},
    {"id": 2, "name": "Cy", "credulity": 0.6, "stubbornness": 0.9, "big_five": {"extraversion": 0.1}},
    {"id": 3, "name": "Di", "credulity": 0.8, "stubbornness": 0.7, "big_five": {"extraversion": 0.3}},
    {"id": 4, "name": "Ed", "credulity": 0.1, "stubbornness": 0.3, "big_five": {"extraversion": 0.5}},
]  # fmt: skip
# per agent, its decision at step 1 and step 2: (message, credence); None = a failed answer
DECISIONS = {
    "Ada": [("Sydney is the capital.", 0.9), ("Sydney, surely.", 0.8)],
    "Bo": [("Canberra is the capital.", 0.8), ("I think Canberra.", 0.7)],
    "Cy": [("", 0.2), ("", 0.2)],  # silent
    "Di": [("Sydney or Canberra?", 0.4), None],
    "Ed": [("Nice weather.", 0.5), ("Sydney!", 0.5)],
}
# probe answers in order (step 1 direct, indirect, step 2 direct, indirect); None = failed
PROBES = {
    "Ada": ["manipulated"] * 4,
    "Bo": ["true"] * 4,
    "Cy": ["manipulated", "true"] * 2,
    "Di": [None, "true", "true", "true"],
    "Ed": ["other"] * 4,  # neither the true nor the manipulated option
}
LETTERS = {
    "What is the capital of Australia?": {"true": "C", "manipulated": "A", "other": "D"},
    "In which city does the Parliament of Australia sit?": {
        "true": "A", "manipulated": "B", "other": "C"
    },
}  # fmt: skip


def scripted() -> ScriptedClient:
    """Answers each agent (found by its persona name) from the scripts above, in call order."""
    calls: dict[tuple[str, str], int] = {}

    def answer(r):
        text = " ".join(m["content"] for m in r.messages)
        name = re.search(r"\b(Ada|Bo|Cy|Di|Ed)\b", text).group(1)
        kind = "probe" if "answer" in r.schema.model_fields else "decide"
        k = calls.get((name, kind), 0)
        calls[(name, kind)] = k + 1
        if kind == "probe":
            pick = PROBES[name][k]
            question = next(q for q in LETTERS if q in r.messages[-1]["content"])
            data = None if pick is None else {"answer": LETTERS[question][pick]}
        else:
            step = DECISIONS[name][k]
            data = step and {
                "message": step[0],
                "to": "all",
                "beliefs": {CLAIM: {"reason": "scripted", "credence": step[1]}},
            }
        return Failure("invalid JSON", text="{oops") if data is None else data

    return ScriptedClient(answer)


@pytest.fixture(scope="module")
def llm_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("consistency")
    (tmp / "personas.jsonl").write_text("\n".join(json.dumps(p) for p in PERSONAS))
    params = {
        "claim": CLAIM,
        "attackers": {"count": 0},
        "probe_distances": ["direct", "indirect"],
        "elicitation": "stated",  # credences stated in the decisions, checked against probes
    }
    config = ss.ExperimentConfig.from_dict(
        {
            "name": "consistency",
            "seed": 1,
            "steps": 2,
            "population": {"size": 5, "personas": str(tmp / "personas.jsonl")},
            "network": {"kind": "complete"},
            "agents": {"policy": "llm"},
            "scenario": {"kind": "misinformation", "params": params},
            "output": {"dir": str(tmp / "runs"), "report": False},
        }
    )
    return run_scripted(config, scripted())


def test_probe_block_equals_the_hand_count(llm_run):
    probes = llm_run.summary["measures"]["consistency"][CLAIM]["probes"]
    # contradicts = (credence >= 0.5) != (answer is the manipulated option); per agent:
    # Ada believes (0.9, 0.8), answers manipulated: 0 of 4. Bo believes (0.8, 0.7), answers
    # true: 4 of 4. Cy does not (0.2), manipulated direct / true indirect: 2 of 4. Di does not
    # (0.4) at step 1, one failed probe, answers true: 0 of 1; its step-2 decision failed, so
    # its step-2 credence is unknown and its two step-2 answers are not scored (not compared
    # with the step-1 credence). Ed at 0.5 believes, answers a distractor (not manipulated):
    # 4 of 4.
    table = llm_run.agents.pivot(index="step", columns="agent", values="credence")
    di = int(np.flatnonzero(llm_run.personas["name"].to_numpy() == "Di")[0])
    assert table.loc[1, di] == pytest.approx(0.4) and np.isnan(table.loc[2, di])
    assert table.drop(columns=di).notna().all().all()
    assert probes["answers"] == {"asked": 20, "answered": 19, "failed": 1}
    assert probes["n"] == 17 and probes["contradicting"] == 0 + 4 + 2 + 0 + 4
    assert probes["share"] == pytest.approx(10 / 17)
    assert probes["by_step"] == {
        "1": pytest.approx((0 + 2 + 1 + 0 + 2) / 9),
        "2": pytest.approx((0 + 2 + 1 + 2) / 8),
    }
    assert probes["ci_low"] <= probes["share"] <= probes["ci_high"]
    gap = ss.analysis.spread.credence_probe_gap(llm_run, CLAIM)  # one rule, defined once
    assert gap["disagreement"] == probes["share"] and gap["n"] == probes["n"]


def test_stance_block_equals_the_hand_count(llm_run):
    stance = llm_run.summary["measures"]["consistency"][CLAIM]["stance"]
    assert stance["keywords"] == {"true": ["canberra"], "manipulated": ["sydney"]}
    # messages: Ada +1 +1 (believes: agree), Bo -1 -1 (believes: disagree), Di 0 (both words),
    # Ed 0 then +1 at 0.5 (believes: agree); Cy is silent and Di's second answer failed
    assert stance["messages"] == 7 and stance["stanced"] == 5 and stance["n"] == 5
    assert stance["supports_manipulated"] == 3 and stance["supports_true"] == 2
    assert stance["disagreeing"] == 2 and stance["share"] == pytest.approx(2 / 5)
    table = cs.message_stances(llm_run, CLAIM, st.StanceKeywords(**stance["keywords"]))
    names = llm_run.personas.set_index("agent")["name"]
    bo = table[table["agent"].map(names) == "Bo"]
    assert bo["stance"].tolist() == [-1, -1] and bo["credence"].tolist() == [0.8, 0.7]
    assert bo["disagrees"].tolist() == [1.0, 1.0]


def _pearson(a, b):
    a, b = np.asarray(a, float) - np.mean(a), np.asarray(b, float) - np.mean(b)
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def test_persona_block_equals_the_hand_spearman(llm_run):
    persona = llm_run.summary["measures"]["consistency"][CLAIM]["persona"]
    assert persona["agents"] == 5 and persona["failed_decisions"] == 1
    # order Ada, Bo, Cy, Di, Ed; messages sent 2, 2, 0, 1, 2 (ties share the mean rank 4)
    extraversion_ranks, message_ranks = [5, 4, 1, 2, 3], [4, 4, 1, 2, 4]
    cell = persona["extraversion_vs_messages_sent"]
    assert cell["n"] == 5 and cell["rho"] == pytest.approx(8 / np.sqrt(80))
    assert cell["rho"] == pytest.approx(_pearson(extraversion_ranks, message_ranks))
    # stated credences: step 0 is 0.1; Di's step 2 failed, so its series is 0.1, 0.4
    change = [0.7, 0.6, 0.1, 0.3, 0.4]
    credulity_ranks, change_ranks = [2, 3, 4, 5, 1], [5, 4, 1, 2, 3]
    assert np.argsort(np.argsort(change)).tolist() == [r - 1 for r in change_ranks]
    cell = persona["credulity_vs_belief_change"]
    assert cell["rho"] == pytest.approx(_pearson(credulity_ranks, change_ranks)) == -0.6
    variance = [np.var([0.1, 0.9, 0.8]), np.var([0.1, 0.8, 0.7]), np.var([0.1, 0.2, 0.2]),
                np.var([0.1, 0.4]), np.var([0.1, 0.5, 0.5])]  # fmt: skip
    assert np.argsort(np.argsort(variance)).tolist() == [4, 3, 0, 1, 2]
    cell = persona["stubbornness_vs_credence_variance"]  # stubbornness ranks 1, 2, 5, 4, 3
    assert cell["rho"] == pytest.approx(-1.0)  # a perfect rank correlation: a point interval
    assert cell["ci_low"] == pytest.approx(-1.0, abs=1e-4)
    assert cell["ci_high"] == pytest.approx(-1.0, abs=1e-4)
    assert cell["interval"] == {"method": "fisher_z_bonett_wright", "level": 0.95, "n": 5}
    openness = persona["openness_vs_credence_variance"]  # every persona has the default 0.5
    assert openness["rho"] is None and openness["reason"] == "openness is constant"
    table = cs.persona_behaviour(llm_run, CLAIM)
    di = table[table["agent"] == int(llm_run.personas.set_index("name").loc["Di", "agent"])]
    assert di["stated_steps"].item() == 2 and di["belief_change"].item() == pytest.approx(0.3)


def test_report_table_has_the_three_blocks_and_escapes_text(llm_run):
    tables: list = []
    consistency_part(llm_run, None, tables)
    titles = [t for t, _ in tables]
    assert titles[0] == "Belief-behaviour consistency"
    summary = tables[0][1]
    assert summary["block"].tolist() == ["probes", "stance"] + ["persona"] * 4
    assert summary["value"].iloc[0] == pytest.approx(10 / 17)
    messages = tables[1][1]
    assert messages["text"].tolist() == ["Canberra is the capital.", "I think Canberra."]
    rendered = html_table(messages.assign(text="<script>x</script>"))
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered


# --- hand-built records: edge cases ------------------------------------------------------------
def _run(events, agents, personas=None, scenario=MISINFO, measures=None) -> RunData:
    config = {"scenario": scenario, "analysis": {"measures": measures or {}}}
    return RunData(
        events=frame(events),
        agents=pd.DataFrame(agents, columns=["step", "agent", "claim", "credence"]),
        personas=pd.DataFrame(personas) if personas is not None else None,
        config=config,
    )


def test_no_probes_no_messages_one_agent():
    run = _run([], [(0, 0, CLAIM, 0.1), (1, 0, CLAIM, 0.6)], [{"agent": 0, "credulity": 0.3}])
    out = cs.consistency_summary(run)[CLAIM]
    assert out["probes"]["answers"] == {"asked": 0, "answered": 0, "failed": 0}
    assert out["probes"]["share"] is None and out["probes"]["reason"]
    assert out["stance"]["messages"] == 0 and out["stance"]["share"] is None
    assert out["stance"]["reason"] == "no messages from the population"
    cell = out["persona"]["credulity_vs_belief_change"]
    assert cell["n"] == 1 and cell["rho"] is None and cell["reason"] == "fewer than 3 agents"


def test_probes_without_answers_are_counted_failed():
    probe = {"distance": "direct", "status": "failed", "credence": 0.9}
    run = _run([ev("probe", 1, 0, None, CLAIM, **probe)], [(0, 0, CLAIM, 0.9)])
    out = cs.consistency_summary(run)[CLAIM]["probes"]
    assert out["answers"] == {"asked": 1, "answered": 0, "failed": 1} and out["share"] is None


def test_keyword_stance_rules():
    keys = st.stance_keywords(
        "The capital of Australia is Canberra.", "The capital of Australia is Sydney."
    )
    assert keys.true == ["canberra"] and keys.manipulated == ["sydney"]
    texts = ["SYDNEY it is", "canberra.", "Sydney or Canberra", "hello", "a Sydneysider"]
    assert st.message_stance(texts, keys).tolist() == [1, -1, 0, 0, 0]
    phrases = st.StanceKeywords(true=["Mount Everest"], manipulated=["K2"])
    assert st.message_stance(["mount  everest!", "everest", "K2 wins"], phrases).tolist() == [
        -1, 0, 1
    ]  # fmt: skip


def test_stance_without_statements_has_a_reason_and_keywords_param_fill_it():
    events = [ev("message", 1, 0, None, "c1", text="the river is poisoned", recipients=[1])]
    agents = [(0, 0, "c1", 0.2), (0, 1, "c1", 0.2), (1, 0, "c1", 0.2), (1, 1, "c1", 0.2)]
    run = _run(events, agents, scenario={})
    stance = cs.consistency_summary(run)["c1"]["stance"]
    assert stance["share"] is None and "set keywords" in stance["reason"]
    params = cs.ConsistencyParams(keywords={"c1": {"true": ["clean"], "manipulated": ["poisoned"]}})
    stance = cs.consistency_summary(run, params)["c1"]["stance"]
    assert stance["n"] == 1 and stance["share"] == 1.0  # +1 while credence 0.2 < 0.5
    with pytest.raises(ConfigError, match="analysis.measures.consistency"):
        compute_measures(run, {"consistency": {"resamples": 3}})


@pytest.mark.slow
def test_rule_policy_run_has_no_stance_base_and_does_not_crash(tmp_path):
    config = ss.ExperimentConfig.from_dict(
        {
            "name": "rule",
            "seed": 3,
            "steps": 3,
            "population": {"size": 10},
            "network": {"kind": "ring"},
            "agents": {"policy": "degroot"},
            "scenario": {"kind": "misinformation", "params": {"claim": CLAIM}},
            "output": {"dir": str(tmp_path / "runs"), "report": False},
        }
    )
    run = ss.run(config)
    out = run.summary["measures"]["consistency"][CLAIM]
    assert out["population"] == "benign"
    assert out["stance"]["share"] is None
    assert out["stance"]["reason"] == "no messages from the population"  # only attackers post
    # rule agents answer by their credence with a decay (a believer picks the manipulated option
    # with probability credence x decay^k): the share is the contradictions in the probe events
    e = run.events
    probes = e[(e.kind == "probe") & (e["payload.status"] == "answered")]
    probes = probes[probes["payload.role"].fillna("benign") == "benign"]
    believes = probes["payload.credence"] >= 0.5
    picked = probes["payload.manipulated"].astype(bool)
    far = probes["payload.distance"] == "peripheral"
    contradicts = ((believes != picked) & ~far) | (far & picked & ~believes)
    assert out["probes"]["share"] == pytest.approx(contradicts.mean())
    cell = out["persona"]["extraversion_vs_messages_sent"]
    assert cell["rho"] is None and cell["reason"] == "messages_sent is constant"
    table = consistency_table({CLAIM: out})
    assert "undefined: no messages from the population" in table["note"].iloc[1]


def _fisher_bonett_wright(rho, n):
    half = 1.959963984540054 * np.sqrt((1 + rho**2 / 2) / (n - 3))
    return np.tanh(np.arctanh(rho) - half), np.tanh(np.arctanh(rho) + half)


def test_spearman_interval_is_fisher_z_and_undefined_when_constant_or_tiny():
    x, y = [1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5]
    cell = cs.spearman_ci(x, y)
    assert cell["rho"] == pytest.approx(1 - 6 * 6 / (6 * 35))  # 1 - 6 sum d^2 / (n(n^2-1))
    assert (cell["ci_low"], cell["ci_high"]) == pytest.approx(_fisher_bonett_wright(cell["rho"], 6))
    assert cell["ci_low"] < 0 < cell["rho"] < cell["ci_high"]
    assert cell["interval"] == {"method": "fisher_z_bonett_wright", "level": 0.95, "n": 6}
    narrow = cs.spearman_ci(x, y, level=0.5)
    assert cell["ci_low"] < narrow["ci_low"] < narrow["ci_high"] < cell["ci_high"]
    assert narrow["interval"]["level"] == 0.5
    with pytest.raises(ConfigError, match="interval level 95"):
        cs.spearman_ci(x, y, level=95)
    # ties take average ranks: 0, 0, 1, 0, 2, 0 ranks 2.5, 2.5, 5, 2.5, 6, 2.5
    tied = cs.spearman_ci(x, [0, 0, 1, 0, 2, 0])
    assert tied["rho"] == pytest.approx(_pearson(x, [2.5, 2.5, 5, 2.5, 6, 2.5]))
    assert cs.spearman_ci(x, [1] * 6, names=("a", "b"))["reason"] == "b is constant"
    four = cs.spearman_ci([1, 2, 3, 4], [1, 2, 4, 3])  # 1 in 12 null orderings is perfect
    assert four["rho"] == pytest.approx(0.8) and four["ci_low"] is None
    assert (
        four["interval"] is None and four["no_interval"] == "4 agents; an interval needs at least 5"
    )
    row = consistency_table({CLAIM: {"persona": {"a_vs_b": four}}}).iloc[-1]
    assert row["value"] == pytest.approx(0.8) and "no interval: 4 agents" in row["note"]
    # 1 of 2 and 0 of 2: two agents, t with 1 df, an effective size of 0.071 items
    assert cs.cluster_share_ci([1, 0], [2, 2]) == pytest.approx((0.0, 0.99999), abs=1e-4)
    assert cs.cluster_share_ci([3], [4]) == (None, None)  # one agent: no interval


def test_average_ranks_equal_scipys_with_many_ties():
    from scipy.stats import rankdata

    rng = np.random.default_rng(5)
    for v in (rng.integers(0, 7, 500).astype(float), rng.normal(size=300), np.array([3.0])):
        assert cs._average_ranks(v).tolist() == rankdata(v, method="average").tolist()


def test_negation_or_doubt_turns_a_stance_round():
    keys = st.StanceKeywords(true=["canberra"], manipulated=["sydney"])
    texts = [
        "I doubt that the capital of Australia is Sydney.",
        "I am fairly sure the capital of Australia is Sydney.",
        "It isn’t Sydney, trust me.",
        "Canberra is not the capital.",
        "Canberra or Sydney, who knows.",
    ]
    assert st.message_stance(texts, keys).tolist() == [-1, 1, -1, 1, 0]
    # statements that differ by the negation itself: the rule stays off
    negated = st.stance_keywords("The moon landing happened.", "The moon landing did not happen.")
    assert "not" in negated.manipulated
    assert st.message_stance(["It did not happen."], negated).tolist() == [1]


def test_many_agents_get_closed_form_intervals():
    rng = np.random.default_rng(3)
    x = rng.normal(size=5_001)
    y = x + rng.normal(size=x.size)
    big = cs.spearman_ci(x, y)
    assert big["interval"]["n"] == x.size and big["ci_low"] < big["rho"] < big["ci_high"]
    assert (big["ci_low"], big["ci_high"]) == pytest.approx(
        _fisher_bonett_wright(big["rho"], x.size)
    )
    small = cs.spearman_ci(x[:2000], y[:2000])
    # the half-widths in z scale as 1/sqrt(n - 3)
    ratio = (np.arctanh(big["ci_high"]) - np.arctanh(big["ci_low"])) / (
        np.arctanh(small["ci_high"]) - np.arctanh(small["ci_low"])
    )
    assert ratio == pytest.approx(np.sqrt(1997 / (x.size - 3)), rel=0.02)
    k = rng.integers(0, 3, size=x.size)
    n = np.full(x.size, 2)
    low, high = cs.cluster_share_ci(k, n)
    share = k.sum() / n.sum()
    se = np.sqrt(((k - share * n) ** 2).sum() / (k.size - 1) / k.size) / 2
    # with many agents Korn-Graubard's interval is the cluster-robust normal one
    assert (low, high) == pytest.approx((share - 1.96 * se, share + 1.96 * se), abs=5e-4)
