"""Drop of Ink: contaminable probes at three distances, the rule agents' decay, and framing.

Rule agents answer a probe at distance k (0 direct, 1 indirect, 2 peripheral) with the
manipulated option with probability ``credence * decay**k`` when they believe the claim; rule
policies weigh a claim sent in a framed message by the persona's susceptibilities.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest
import yaml

import socialsim as ss
from socialsim.agents.sampling import sample_population
from socialsim.analysis.consistency import probe_contradictions
from socialsim.analysis.probes import contradicts, credence_probe_gap
from socialsim.core.claims import (
    DISTANCES,
    PROBE_DECAY,
    framing_weight,
    manipulated_probability,
    parse_claims,
    rule_answer,
)
from socialsim.experiments.arms import effect_measures
from socialsim.experiments.sweep_cell import cell_metrics
from socialsim.simulation.model import SocialModel

CLAIM = "australia_capital"


def builtin_counterfactuals():
    text = resources.files("socialsim.scenarios").joinpath("data/claims.yaml").read_text("utf-8")
    return parse_claims(yaml.safe_load(text), "claims.yaml")


def config(n=200, steps=1, policy="degroot", personas=None, seed=5, **params):
    return ss.ExperimentConfig.from_dict(
        {
            "name": "ink",
            "seed": seed,
            "steps": steps,
            "population": {"size": n, "personas": personas or {}},
            "network": {"kind": "watts_strogatz", "params": {"k": 6, "p": 0.1}},
            "agents": {
                "policy": policy,
                "params": {"p": 0.08} if policy == "independent_cascade" else {},
            },
            "scenario": {"kind": "misinformation", "params": {"claim": CLAIM, **params}},
        }
    )


def probe_table(model: SocialModel) -> pd.DataFrame:
    events = model.record().events
    probes = events[events["kind"] == "probe"]
    return probes.rename(columns=lambda c: c.removeprefix("payload.")).reset_index(drop=True)


def test_every_builtin_claim_has_a_contaminable_first_peripheral_probe():
    claims = builtin_counterfactuals()
    assert len(claims) == 22
    for claim in claims:
        peripheral = claim.probes_at(["peripheral"])
        assert peripheral and peripheral[0].id == f"{claim.id}.peripheral"
        for probe in peripheral:
            assert probe.manipulated in probe.letters and probe.manipulated != probe.correct
        # the direct and indirect probes keep their ids
        assert [p.id for p in claim.probes_at(["direct", "indirect"])] == [
            f"{claim.id}.direct",
            f"{claim.id}.indirect",
        ]


def test_rule_answers_follow_credence_times_decay_to_the_distance():
    claim = next(c for c in builtin_counterfactuals() if c.id == CLAIM)
    rng = np.random.default_rng(7)
    credences = rng.uniform(0.5, 1.0, 20_000)
    for k, distance in enumerate(DISTANCES):
        probe = claim.probes_at([distance])[0]
        for decay in (PROBE_DECAY, 0.3):
            draws = rng.random(len(credences))
            answers = [
                rule_answer(probe, c, decay=decay, draw=u)
                for c, u in zip(credences, draws, strict=True)
            ]
            p = credences * decay**k
            share = np.mean([a == probe.manipulated for a in answers])
            sd = np.sqrt((p * (1 - p)).sum()) / len(p)
            assert abs(share - p.mean()) < 4 * sd, (distance, decay, share, p.mean())
            assert all(a in (probe.manipulated, probe.correct) for a in answers)
        # non-believers never pick the manipulated option
        assert manipulated_probability(probe, 0.49) == 0.0
        assert rule_answer(probe, 0.49, draw=0.0) == probe.correct


def test_a_rule_run_matches_the_closed_form_per_distance_and_repeats_by_seed():
    cfg = config(n=400, initial_credence=0.8, attackers={"count": 1}, probe_decay=0.5)
    with SocialModel(cfg) as model:
        model.run_model()
        table = probe_table(model)
    benign = table[table["role"].fillna("benign") == "benign"]
    for k, distance in enumerate(DISTANCES):
        rows = benign[benign["distance"] == distance]
        believers = rows["credence"] >= 0.5
        p = np.where(believers, rows["credence"] * 0.5**k, 0.0)
        sd = np.sqrt((p * (1 - p)).sum()) / len(p)
        share = rows["manipulated"].astype(float).mean()
        assert abs(share - p.mean()) < 4 * sd + 1e-12, (distance, share, p.mean())
    shares = [benign[benign["distance"] == d]["manipulated"].mean() for d in DISTANCES]
    assert shares[0] > shares[1] > shares[2] > 0
    with SocialModel(cfg) as again:
        again.run_model()
        assert probe_table(again)["answer"].tolist() == table["answer"].tolist()
    with SocialModel(config(n=400, seed=6, initial_credence=0.8, probe_decay=0.5)) as other:
        other.run_model()
        assert probe_table(other)["answer"].tolist() != table["answer"].tolist()


def test_peripheral_probes_count_one_way_in_the_consistency_check():
    distance = np.array(["direct", "direct", "peripheral", "peripheral", "peripheral"])
    believes = np.array([True, False, True, False, False])
    manipulated = np.array([0.0, 1.0, 0.0, 1.0, 0.0])
    assert contradicts(distance, believes, manipulated).tolist() == [1, 1, 0, 1, 0]
    events = pd.DataFrame(
        [
            {"kind": "probe", "step": 1, "agent": a, "claim": "c", "payload": pl}
            for a, pl in enumerate(
                [
                    {"distance": "peripheral", "status": "answered", "correct": False,
                     "manipulated": True, "credence": 0.2, "answer": "B"},
                    {"distance": "peripheral", "status": "answered", "correct": True,
                     "manipulated": False, "credence": 0.9, "answer": "A"},
                    {"distance": "direct", "status": "answered", "correct": True,
                     "manipulated": False, "credence": 0.9, "answer": "A"},
                ]
            )
        ]
    )  # fmt: skip
    events = pd.concat(
        [
            events.drop(columns="payload"),
            pd.json_normalize(events["payload"]).add_prefix("payload."),
        ],
        axis=1,
    )
    table = probe_contradictions(events, "c")
    assert table["distance"].tolist() == ["peripheral", "peripheral", "direct"]
    assert table["contradicts"].tolist() == [1.0, 0.0, 1.0]
    gap = credence_probe_gap(events, "c")
    assert gap["n"] == 3 and gap["disagreement"] == pytest.approx(2 / 3)
    assert gap["mean_abs_gap"] == pytest.approx(0.9)  # direct and indirect only


def test_per_distance_probe_columns_reach_sweeps_and_arm_effects(tmp_path):
    cfg = config(n=60, steps=2, attackers={"count": 3}, initial_credence=0.6)
    cfg.output.dir = str(tmp_path / "runs")
    cfg.output.report = False
    run = ss.run(cfg)
    metrics = cell_metrics(run.summary)
    for distance in DISTANCES:
        for what in ("manipulated_share", "accuracy"):
            assert f"claims.{CLAIM}.probes_benign.{distance}.{what}" in metrics
    results = pd.DataFrame([metrics])
    chosen = effect_measures(run.summary, results)
    for distance in DISTANCES:
        assert f"claims.{CLAIM}.probes_benign.{distance}.manipulated_share" in chosen


def test_susceptibilities_are_drawn_without_moving_the_other_draws():
    plain = sample_population(80, np.random.default_rng(3), {})
    spec = {"framing_susceptibility": {"beta": [2, 2]}, "source_susceptibility": 0.4}
    drawn = sample_population(80, np.random.default_rng(3), spec)
    for field in ("name", "age", "credulity", "stubbornness", "activity_rate", "country"):
        assert plain.column(field) == drawn.column(field)
    assert set(plain.column("framing_susceptibility")) == {0.0}
    assert len(set(drawn.column("framing_susceptibility"))) == 80
    assert drawn[5].source_susceptibility == 0.4


def _reach(policy, framing, style, susceptibility):
    personas = {
        "framing_susceptibility": susceptibility,
        "source_susceptibility": susceptibility,
    }
    cfg = config(
        n=300,
        steps=6,
        policy=policy,
        personas=personas,
        attackers={"count": 30},
        framing=framing,
        source_style=style,
        probe_steps=[6],
    )
    with SocialModel(cfg) as model:
        model.run_model()
        events = model.record().events
        moved = events[events["kind"] == "belief_change"]
        changes = list(zip(moved["step"], moved["agent"], moved["payload.new"], strict=True))
        benign = np.array([model.roles.get(i, "benign") == "benign" for i in range(300)])
        return float((model.beliefs.credence[benign, 0] >= 0.5).mean()), changes


@pytest.mark.parametrize("policy", ["independent_cascade", "degroot", "linear_threshold"])
def test_framing_and_source_style_move_susceptible_rule_agents_only(policy):
    weak = ("sensationalist", "social_post")
    strong = ("authoritative", "research_paper")
    assert framing_weight(*weak, 1.0, 1.0) < 1.0 < framing_weight(*strong, 1.0, 1.0)
    reach_weak, changes_weak = _reach(policy, *weak, 0.0)
    reach_strong, changes_strong = _reach(policy, *strong, 0.0)
    assert changes_weak == changes_strong and reach_weak == reach_strong
    reach_weak, _ = _reach(policy, *weak, 1.0)
    reach_strong, _ = _reach(policy, *strong, 1.0)
    assert reach_strong > reach_weak + 0.1
