"""Prompt sensitivity of a sweep over templates: the wording test, its calibration on real rule
runs, per-agent flip rates, the sweep summary, the report and the CLI line."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import socialsim as ss
from socialsim.analysis import report
from socialsim.analysis.prompt_sensitivity import (
    holm,
    sensitivity_lines,
    sweep_sensitivity,
    template_sensitivity,
    wording_test,
)
from socialsim.analysis.summarize import analyze_dir
from socialsim.analysis.wording_flips import agent_outcomes, flip_rates
from socialsim.core.errors import ConfigError
from socialsim.core.rundata import RunData
from socialsim.simulation.log import InteractionLog
from socialsim.testing import ScriptedClient

from .tables import ev, frame

KEY = "agents.prompt.template"
M = "claims.c1.adoption_benign.final_reach"
HEADLINE = [{"measure": M, "label": "Believers of c1"}]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "prompt_sensitivity.yaml"


def _results(values: dict[str, list[float]], effects: dict[str, list[float]] | None = None):
    """A sweep's results table: one cell per (template, seed); arms columns when `effects`."""
    rows = []
    for template, per_seed in values.items():
        for seed, value in enumerate(per_seed, start=1):
            row = {"cell": len(rows), KEY: template, "seed": seed, "status": "ok", "error": None}
            if effects is None:
                row[M] = value
            else:
                row[f"treatment.{M}"] = value
                row[f"control.{M}"] = value - effects[template][seed - 1]
                row[f"effect.{M}.difference"] = effects[template][seed - 1]
            row["run_dir"] = f"/gone/cells/{len(rows):04d}_{template}-s{seed}"
            rows.append(row)
    return pd.DataFrame(rows)


# --- the test: hand-counted p-values, shares, strata, effects -----------------------------------
def test_the_exact_p_value_counts_every_arrangement_of_the_labels():
    found = wording_test([1.0, 3.0, 5.0, 7.0], ["a", "a", "b", "b"])
    # 6 arrangements; the observed one and its mirror hold the largest between sum of squares
    assert found["exact"] and found["permutations"] == 6
    assert found["p_value"] == pytest.approx(2 / 6)
    # SSB 16, SST 20; MSB 16, MSW 2, 2 cells per template -> component (16 - 2) / 2 = 7
    assert found["eta_squared"] == pytest.approx(0.8)
    assert found["variance_share"] == pytest.approx(7 / 9)


def test_the_exact_p_value_equals_a_brute_force_count_over_all_orderings():
    rng = np.random.default_rng(5)
    values = rng.normal(size=8) + np.repeat([0.0, 1.5, 0.0, 0.5], 2)
    labels = np.repeat(np.arange(4), 2)

    orders = np.array(list(itertools.permutations(range(8))))  # all 8! of them
    means = values[orders].reshape(len(orders), 4, 2).mean(axis=2)  # labels are 0 0 1 1 ...
    null = 2 * ((means - values.mean()) ** 2).sum(axis=1)
    observed = null[0]
    found = wording_test(values, labels)
    assert found["exact"] and found["permutations"] == 2520
    assert found["p_value"] == pytest.approx(np.mean(null >= observed - 1e-12), abs=1e-12)


def test_beyond_the_exact_limit_random_arrangements_give_a_seeded_p_value():
    rng = np.random.default_rng(6)
    values = rng.normal(size=12) + np.repeat([0.0, 0.9, 0.0, 0.0], 3)
    labels = np.repeat(list("abcd"), 3)
    found = wording_test(values, labels)
    assert not found["exact"] and found["permutations"] == 9_999
    assert wording_test(values, labels)["p_value"] == found["p_value"]  # the same every time
    shuffled = np.repeat(np.arange(4), 3)[rng.random((60_000, 12)).argsort(axis=1)]
    centred = values - values.mean()
    null = sum((np.where(shuffled == t, centred, 0).sum(1)) ** 2 / 3 for t in range(4))
    observed = sum(3 * (values[labels == t].mean() - values.mean()) ** 2 for t in "abcd")
    assert found["p_value"] == pytest.approx(np.mean(null >= observed - 1e-12), abs=0.012)


def test_equal_cells_give_p_one_and_no_share():
    found = wording_test([0.3] * 6, list("aabbcc"))
    assert found["p_value"] == 1.0 and found["eta_squared"] is None


def test_other_grid_values_are_strata_the_labels_are_shuffled_within():
    rng = np.random.default_rng(7)
    rows = []
    for kind, offset in (("ring", 0.0), ("complete", 100.0)):
        for t, shift in zip(["a", "b", "c", "d"], [0.0, 0.1, 0.2, 0.3], strict=True):
            for seed in range(3):
                value = offset + shift + rng.normal(0, 0.03)
                rows.append({KEY: t, "network.kind": kind, "seed": seed, "status": "ok", M: value})
    results = pd.DataFrame(rows)
    grid = {KEY: list("abcd"), "network.kind": ["ring", "complete"], "seed": [0, 1, 2]}
    within = sweep_sensitivity(results, HEADLINE, grid=grid)
    assert within["strata"] == ["network.kind"]
    assert within["measures"][0]["test"]["p_value"] < 0.001 and within["template_sensitive"]
    pooled = sweep_sensitivity(results, HEADLINE)  # the ring/complete gap drowns the wording
    assert pooled["strata"] == [] and pooled["template_sensitive"] is False


def test_per_template_means_spread_and_effect_stay_as_description():
    results = _results(
        {"a": [0.2, 0.4], "b": [0.6, 0.8], "c": [0.5, 0.5]},
        effects={"a": [0.1, 0.1], "b": [0.2, 0.4], "c": [0.0, 0.0]},
    )
    found = template_sensitivity(results, M)
    assert found["templates"] == ["a", "b", "c"]
    assert found["by_template"]["b"] == pytest.approx(
        {"cells": 2, "value": 0.7, "sd": 0.1414213562, "effect": 0.3}
    )
    assert found["spread"] == pytest.approx(0.7 - 0.3)
    assert found["effect"] == pytest.approx((0.1 + 0.3 + 0.0) / 3)
    assert found["effect_spread"] == pytest.approx(0.3)
    assert found["spread_exceeds_effect"] is True
    # 3 templates x 2 cells: the smallest attainable p is 3! / (6! / 2!^3) = 6 / 90, so no
    # result could reach alpha: the test is reported, with no flag and a note saying why
    assert found["test"]["min_p"] == pytest.approx(6 / 90)
    assert found["test"]["p_value"] > 0.05 and found["template_sensitive"] is None
    assert "smallest p-value the test can give is 0.0667" in found["note"]
    apart = template_sensitivity(
        _results({"a": [0.2, 0.21], "b": [0.9, 0.91], "c": [0.5, 0.51]}), M
    )
    assert apart["test"]["p_value"] == pytest.approx(6 / 90) and apart["template_sensitive"] is None
    four = template_sensitivity(_results({t: [0.2, 0.4] for t in "abcd"}), M)  # 4 x 2: reachable
    assert four["test"]["min_p"] < 0.05 and four["template_sensitive"] is False
    assert "little power" in four["note"]


def test_a_design_that_cannot_reach_alpha_gets_no_flag_and_says_so():
    apart = {"a": [0.10, 0.11, 0.12], "b": [0.90, 0.91, 0.92]}  # 2 x 3: at best p = 2 / 20
    found = sweep_sensitivity(_results(apart), HEADLINE)
    m = found["measures"][0]
    assert m["test"]["p_value"] == pytest.approx(0.1) and m["test"]["min_p"] == pytest.approx(0.1)
    assert m["template_sensitive"] is None and found["template_sensitive"] is None
    assert "cannot flag" in m["note"] and "add seeds" in m["note"]
    assert "undecided" in sensitivity_lines(found)[0]
    five = {"a": [0.10, 0.11, 0.12, 0.13, 0.14], "b": [0.90, 0.91, 0.92, 0.93, 0.94]}
    assert sweep_sensitivity(_results(five), HEADLINE)["template_sensitive"] is True


def test_the_effect_itself_is_tested_across_wordings():
    values = {"a": [0.50, 0.52, 0.48], "b": [0.49, 0.51, 0.50], "c": [0.52, 0.48, 0.50]}
    effects = {"a": [0.30, 0.31, 0.29], "b": [-0.10, -0.11, -0.09], "c": [0.01, 0.0, 0.02]}
    found = sweep_sensitivity(_results(values, effects), HEADLINE)
    m = found["measures"][0]
    assert m["template_sensitive"] is False and found["template_sensitive"] is False
    assert m["effect_test"]["p_value"] < 0.01 and m["effect_template_sensitive"] is True
    assert found["effect_template_sensitive"] is True and m["effect_sign_flips"] is True


def test_without_a_control_arm_there_is_no_effect_test():
    found = template_sensitivity(_results({"a": [0.2, 0.4, 0.3], "b": [0.9, 0.7, 0.8]}), M)
    assert found["effect"] is None and found["effect_test"] is None
    assert found["test"]["p_value"] == pytest.approx(2 / 20)  # perfectly apart: 2 of C(6, 3)
    assert found["spread"] == pytest.approx(0.5) and found["spread_exceeds_effect"] is None


def test_one_template_or_one_seed_gives_no_test_and_says_what_is_needed():
    one = template_sensitivity(_results({"a": [0.2, 0.4]}, effects={"a": [0.0, 0.0]}), M)
    assert one["test"] is None and one["template_sensitive"] is None
    assert "two templates" in one["note"]
    seedless = template_sensitivity(_results({"a": [0.2], "b": [0.9]}), M)
    assert seedless["test"] is None and seedless["template_sensitive"] is None
    assert "two cells" in seedless["note"] and "seed" in seedless["note"]
    assert (
        sweep_sensitivity(_results({"a": [0.2], "b": [0.9]}), HEADLINE)["template_sensitive"]
        is None
    )


def test_failed_cells_are_left_out():
    results = _results({"a": [0.2, 0.4], "b": [0.9, 0.3, 0.5]}, effects=None)
    results.loc[2, "status"] = "failed"  # b's 0.9
    found = template_sensitivity(results, M)
    assert found["by_template"]["b"]["value"] == pytest.approx(0.4)
    assert found["test"]["cells"] == 4


def test_holm_adjusts_in_step_down_order():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.001]) == pytest.approx([0.5, 0.002])


def test_several_headline_measures_share_alpha():
    # two templates x four seeds, perfectly apart: p = 2 / C(8, 4) = 0.0286 for each measure
    apart = {"a": [0.1, 0.2, 0.3, 0.4], "b": [0.6, 0.7, 0.8, 0.9]}
    alone = sweep_sensitivity(_results(apart), HEADLINE)
    assert alone["measures"][0]["test"]["p_adjusted"] == pytest.approx(2 / 70)
    assert alone["template_sensitive"] is True
    both = _results(apart).assign(other=lambda t: t[M] * 2)
    found = sweep_sensitivity(both, [*HEADLINE, {"measure": "other", "label": "twice"}])
    assert [m["test"]["p_adjusted"] for m in found["measures"]] == pytest.approx([4 / 70] * 2)
    # two measures: Holm doubles the smallest attainable p (2 / 70) past alpha, so these cells
    # could flag neither however far apart: no flag, and the note says so
    assert found["template_sensitive"] is None
    assert all(m["template_sensitive"] is None and "Holm" in m["note"] for m in found["measures"])
    five = _results({"a": [0.1, 0.2, 0.3, 0.4, 0.45], "b": [0.6, 0.7, 0.8, 0.9, 0.95]})
    found = sweep_sensitivity(
        five.assign(other=lambda t: t[M] * 2), [*HEADLINE, {"measure": "other", "label": "x"}]
    )
    assert [m["test"]["p_adjusted"] for m in found["measures"]] == pytest.approx([4 / 252] * 2)
    assert found["template_sensitive"] is True


def test_a_sweep_that_does_not_vary_the_template_has_no_section():
    results = _results({"a": [0.2, 0.4]}).drop(columns=KEY)
    assert sweep_sensitivity(results, HEADLINE) is None


# --- calibration on real rule runs (a rule policy never reads the template) ---------------------
REACH = "claims.australia_capital.adoption_benign.final_reach"
BELIEF = "claims.australia_capital.adoption_benign.mean_credence"


@pytest.fixture(scope="session")
def rule_pool() -> np.ndarray:
    """Final reach and mean credence of the benign agents in 32 misinformation rule runs."""
    from socialsim.analysis import spread

    out = []
    for seed in range(1, 33):
        cfg = ss.ExperimentConfig.from_dict(
            {
                "name": "null",
                "seed": seed,
                "steps": 4,
                "population": {"size": 30},
                "network": {"kind": "watts_strogatz", "params": {"k": 4, "p": 0.1}},
                "agents": {"policy": "independent_cascade", "params": {"p": 0.3}},
                "scenario": {
                    "kind": "misinformation",
                    "params": {
                        "claim": "australia_capital",
                        "attackers": {"count": 2, "strategy": "highest_degree"},
                    },
                },
                "output": {"report": False},
            }
        )
        with ss.SocialModel(cfg) as model:
            model.run_model()
            record = model.record()
        last = spread.adoption_curve(record, "australia_capital", population="benign").iloc[-1]
        out.append((last["share"], last["mean_credence"]))
    return np.array(out)


def _flag_rate(pool, seeds, draws, shift=0.0, headline=None, seed=0) -> float:
    """How often a sweep of 4 templates x `seeds` cells drawn from `pool` is flagged."""
    rng = np.random.default_rng(seed)
    headline = headline or [{"measure": REACH}, {"measure": BELIEF}]
    templates = np.repeat(["v", "v_p1", "v_p2", "v_p3"], seeds)
    flags = 0
    for _ in range(draws):
        picked = pool[rng.choice(len(pool), len(templates), replace=False)]
        results = pd.DataFrame(
            {
                KEY: templates,
                "seed": np.tile(np.arange(seeds), 4),
                "status": "ok",
                REACH: picked[:, 0] + np.where(templates == "v_p1", shift, 0.0),
                BELIEF: picked[:, 1],
            }
        )
        flags += bool(sweep_sensitivity(results, headline)["template_sensitive"])
    return flags / draws


@pytest.mark.slow
def test_the_flag_keeps_its_false_alarm_rate_when_wording_has_no_effect(rule_pool):
    assert rule_pool[:, 0].std() > 0.05  # the seeds do vary
    for seeds, draws in ((2, 200), (3, 120)):
        rate = _flag_rate(rule_pool, seeds, draws)
        assert rate <= 0.10, f"false alarms {rate:.3f} with {seeds} seeds per template"


@pytest.mark.slow
def test_the_flag_fires_on_a_wording_effect_of_three_seed_sds(rule_pool):
    shift = 3 * rule_pool[:, 0].std(ddof=1)
    power = _flag_rate(rule_pool, 3, 100, shift, headline=[{"measure": REACH}], seed=1)
    assert power >= 0.6, f"the flag fired in {power:.2f} of the sweeps with a real effect"


# --- flip rates on hand-built runs ----------------------------------------------------------------
def _run(final: dict[int, float], answers: dict[int, str | None], attackers=(), threshold=0.5):
    """A run record: each agent's final credence in c1, probe p1's answers, attacker roles."""
    agents = pd.DataFrame(
        [(s, a, "c1", 0.1 if s == 0 else c) for a, c in final.items() for s in (0, 2)],
        columns=["step", "agent", "claim", "credence"],
    )
    rows = [ev("action", 0, a, type="role", role="attacker", placebo=False) for a in attackers]
    for agent, letter in answers.items():
        status = "answered" if letter else "failed"
        rows.append(ev("probe", 2, agent, None, "c1", probe_id="p1", answer=letter, status=status))
    config = {"analysis": {"measures": {"claims": {"threshold": threshold}}}}
    return RunData(events=frame(rows), agents=agents, config=config)


def test_agent_outcomes_read_final_belief_and_answers_of_agents_without_a_role():
    run = _run({0: 0.65, 1: 0.55, 2: 0.9}, {0: "A", 1: None, 2: "B"}, attackers=[2], threshold=0.6)
    found = agent_outcomes(run).sort_values(["kind", "agent"])
    assert found[["kind", "item", "agent", "outcome"]].values.tolist() == [
        ["belief", "final", 0, "believes"],
        ["belief", "final", 1, "does not"],  # 0.55 < the run's threshold 0.6
        ["probe", "2:p1", 0, "A"],  # agent 1's failed answer and the attacker are left out
    ]


def test_flip_rates_count_differing_pairs_of_wordings_per_agent_and_seed():
    runs = {  # (seed, template) -> run
        (1, "a"): _run({0: 0.9, 1: 0.1}, {0: "A"}),
        (1, "b"): _run({0: 0.2, 1: 0.3}, {0: "B"}),
        (1, "c"): _run({0: 0.7, 1: 0.0}, {0: "C"}),
        (2, "a"): _run({0: 0.8, 1: 0.9}, {}),
        (2, "b"): _run({0: 0.6}, {}),  # agent 1 missing: no comparison for it in seed 2
    }
    outcomes = pd.concat(
        [agent_outcomes(r).assign(unit=f"s{s}", template=t) for (s, t), r in runs.items()]
    )
    found = flip_rates(outcomes).set_index("kind")
    # belief: seed 1 agent 0 yes/no/yes -> 2 of 3, agent 1 no/no/no -> 0 of 3; seed 2 agent 0
    # yes/yes -> 0 of 1. probe: seed 1 agent 0 A/B/C -> 3 of 3
    assert found.loc["belief", ["comparisons", "flips"]].tolist() == [7, 2]
    assert found.loc["belief", "flip_rate"] == pytest.approx(2 / 7)
    assert found.loc["probe", ["comparisons", "flips", "flip_rate"]].tolist() == [3, 3, 1.0]


def _write_run(folder: Path, final: dict[int, float], answers: dict[int, str]) -> None:
    """A run directory that load_run reads: agents.csv, events.jsonl, config.yaml."""
    folder.mkdir(parents=True)
    run = _run(final, answers)
    run.agents.to_csv(folder / "agents.csv", index=False)
    log = InteractionLog(folder / "events.jsonl", run="r")
    for _, e in run.events.iterrows():
        payload = {
            k[len("payload.") :]: v
            for k, v in e.items()
            if k.startswith("payload.") and v is not None and not (isinstance(v, float) and v != v)
        }
        log.emit(e["kind"], step=e["step"], agent=e["agent"], claim=e["claim"], payload=payload)
    log.close()
    (folder / "config.yaml").write_text("seed: 1\n", encoding="utf-8")


def test_the_sweep_summary_reads_each_cells_treatment_runs_for_flip_rates(tmp_path):
    results = _results({"a": [0.5, 0.5], "b": [0.5, 0.5]}, effects={"a": [0, 0], "b": [0, 0]})
    root = _sweep_dir(tmp_path / "sweep", results)
    cells = sorted((root / "cells").iterdir())
    finals = {"a": [0.9, 0.9], "b": [0.1, 0.9]}  # agent 0: believes under a, not under b
    for cell, (template, seed) in zip(cells, [("a", 1), ("a", 2), ("b", 1), ("b", 2)], strict=True):
        run = cell / "treatment" / f"s{seed}"
        _write_run(run, {0: finals[template][seed - 1], 1: 0.2}, {0: template.upper()})
        _write_run(cell / "control" / f"s{seed}", {0: 0.9, 1: 0.9}, {0: "Z"})  # never read
    flips = analyze_dir(root)["prompt_sensitivity"]["flips"]
    assert flips["runs"] == 4 and flips["unread"] == 0
    rates = {r["kind"]: r for r in flips["rates"]}
    # belief: seed 1 agent 0 flips, agent 1 not; seed 2 neither -> 1 of 4; probes A/B: 2 of 2
    assert (rates["belief"]["comparisons"], rates["belief"]["flips"]) == (4, 1)
    assert (rates["probe"]["comparisons"], rates["probe"]["flips"]) == (2, 2)


# --- hand-made sweep directories --------------------------------------------------------------
def _sweep_dir(root: Path, results: pd.DataFrame, grid_key: str = KEY) -> Path:
    """A sweep directory: sweep.json, results.csv and each cell's summary.json."""
    (root / "cells").mkdir(parents=True)
    grid = {grid_key: sorted(set(results[grid_key]))} if grid_key in results else {}
    (root / "sweep.json").write_text(json.dumps({"grid": grid, "config": {"name": "ps"}}))
    results.to_csv(root / "results.csv", index=False)
    for run_dir in results["run_dir"]:  # the recorded paths are stale: found under cells/
        cell = root / "cells" / Path(run_dir).name
        cell.mkdir()
        (cell / "summary.json").write_text(json.dumps({"kind": "arms", "headline": HEADLINE}))
    return root


def test_analyze_writes_the_sweep_summary_and_the_report_warns(tmp_path):
    results = _results(
        {"decide_v2": [0.1, 0.2, 0.3, 0.4], "decide_v2_p1": [0.6, 0.7, 0.8, 0.9]},
        effects={"decide_v2": [0.1] * 4, "decide_v2_p1": [0.1] * 4},
    )
    root = _sweep_dir(tmp_path / "sweep", results)
    summary = analyze_dir(root)
    assert json.loads((root / "summary.json").read_text()) == summary
    assert summary["kind"] == "sweep" and summary["cells"] == 8 and summary["failed"] == 0
    found = summary["prompt_sensitivity"]
    assert found["template_sensitive"] is True and found["effect_template_sensitive"] is False
    assert [m["measure"] for m in found["measures"]] == [M]
    assert found["flips"]["rates"] == [] and "no agent" in found["flips"]["note"]
    page = report.write_report(root).read_text(encoding="utf-8")
    assert (
        "is template-sensitive:</strong> the wording of the prompt moves it beyond seed-to-seed "
        "variation (permutation test p = 0.0286, alpha 0.05, 8 cells, exact over 70 "
        "arrangements; wording's share of the variance 88% (eta squared 0.83))" in page
    )
    assert "effect holds across the wordings (every one of its 8 cells has the same value" in page
    assert page.index("template-sensitive") < page.index("Results per cell")


def test_the_report_says_calmly_when_the_wording_does_not_matter(tmp_path):
    results = _results(
        {"decide_v2": [0.5, 0.6, 0.4, 0.5, 0.5], "decide_v2_p1": [0.55, 0.45, 0.5, 0.5, 0.5]},
        effects={"decide_v2": [0.4, 0.3, 0.5, 0.4, 0.4], "decide_v2_p1": [0.4, 0.5, 0.3, 0.4, 0.4]},
    )
    root = _sweep_dir(tmp_path / "sweep", results)
    page = report.write_report(root).read_text(encoding="utf-8")
    assert "holds across the wordings: no wording effect beyond seed-to-seed variation" in page
    assert "Spread of the per-template means 0.000 across 2 wordings, effect +0.400." in page
    assert "is template-sensitive" not in page
    summary = json.loads((root / "summary.json").read_text())
    assert summary["prompt_sensitivity"]["template_sensitive"] is False


def test_the_report_says_when_the_cells_cannot_decide(tmp_path):
    results = _results({"decide_v2": [0.1, 0.11, 0.12], "decide_v2_p1": [0.9, 0.91, 0.92]})
    page = report.write_report(_sweep_dir(tmp_path / "sweep", results)).read_text("utf-8")
    assert "undecided, these cells cannot reach the test's alpha" in page
    assert "smallest p-value the test can give is 0.1" in page
    assert "is template-sensitive" not in page and "holds across the wordings" not in page


def test_the_report_says_what_the_test_needs(tmp_path):
    root = _sweep_dir(tmp_path / "sweep", _results({"decide_v2": [0.2], "decide_v2_p1": [0.6]}))
    page = report.write_report(root).read_text(encoding="utf-8")
    assert "no test" in page and "at least two cells (seeds)" in page
    assert "Spread of the per-template means 0.400 across 2 wordings." in page
    assert "is template-sensitive" not in page


def test_a_sweep_over_something_else_gets_a_summary_without_the_section(tmp_path):
    results = _results({"ring": [0.2], "complete": [0.6]}).rename(columns={KEY: "network.kind"})
    root = _sweep_dir(tmp_path / "sweep", results, grid_key="network.kind")
    page = report.write_report(root).read_text(encoding="utf-8")
    assert "prompt&#x27;s wording" not in page and "Sensitivity to the prompt" not in page
    assert json.loads((root / "summary.json").read_text())["prompt_sensitivity"] is None


# --- end to end: the example, with a scripted model ---------------------------------------------
#: How sure agents are depends only on the prompt's wording (the template id).
SURE = {"talk_v1": 0.9, "talk_v1_p1": 0.1, "talk_v1_p2": 0.8, "talk_v1_p3": 0.2}


def wording_answer(r):
    """The compact answer of the talk_v1 family from SURE; a probe: always 'A'."""
    if "credence" in r.schema.model_json_schema()["properties"]:
        return {"credence": SURE[r.tag], "message": "Have you heard?", "to": "all"}
    return {"answer": "A"}


def _example(tmp_path: Path, **sweep) -> ss.ExperimentConfig:
    cfg = ss.ExperimentConfig.from_yaml(EXAMPLE, overrides=[f"output.dir={tmp_path / 'runs'}"])
    return cfg.with_overrides({"sweep": sweep}) if sweep else cfg


@pytest.mark.slow
def test_the_example_sweeps_four_wordings_and_flags_a_wording_effect(tmp_path, monkeypatch):
    from socialsim.simulation import policies

    monkeypatch.setattr(policies, "_make_client", lambda llm: ScriptedClient(wording_answer))
    cfg = _example(tmp_path)
    assert len(cfg.sweep["seed"]) == 3  # three seeds per wording give the test its power
    assert cfg.sweep[KEY] == ["chat_v1", "chat_v1_p1", "chat_v1_p2", "chat_v1_p3"]
    # the stated design, where the wording of the decision prompt sets the credence directly
    talk = ["talk_v1", "talk_v1_p1", "talk_v1_p2", "talk_v1_p3"]
    cfg = cfg.with_overrides(
        {
            "control": False,  # plain cells: half the runs
            "scenario.params.elicitation": "stated",
            "agents.prompt.template": "talk_v1",
            "sweep": {**cfg.sweep, KEY: talk},
        }
    )
    table = ss.sweep(cfg, out=tmp_path / "sweep", executor="serial")
    assert list(pd.unique(table[KEY])) == ["talk_v1", "talk_v1_p1", "talk_v1_p2", "talk_v1_p3"]
    assert (table["status"] == "ok").all(), table["error"].tolist()
    summary = json.loads((tmp_path / "sweep" / "summary.json").read_text())
    found = summary["prompt_sensitivity"]
    assert found["templates"] == list(pd.unique(table[KEY])) and found["template_sensitive"]
    reach = next(m for m in found["measures"] if m["measure"].endswith(".final_reach"))
    assert reach["spread"] == pytest.approx(1.0)  # everyone believes at 0.9, nobody at 0.1
    # six cells at 1 and six at 0, each template's three alike: 6 of C(12, 6) arrangements
    assert reach["test"]["p_value"] == pytest.approx(6 / 924, abs=0.003)
    assert reach["test"]["eta_squared"] == pytest.approx(1.0) and reach["effect_test"] is None
    rates = {r["kind"]: r for r in found["flips"]["rates"]}
    assert found["flips"]["runs"] == 12
    # each benign agent believes under 2 of the 4 wordings: 4 of 6 pairs differ, every seed
    benign = 12 - 2
    assert rates["belief"]["comparisons"] == benign * 6 * 3
    assert rates["belief"]["flip_rate"] == pytest.approx(4 / 6)
    assert rates["probe"]["flips"] == 0 and rates["probe"]["comparisons"] > 0  # always "A"
    page = (tmp_path / "sweep" / "report.html").read_text(encoding="utf-8")
    assert "is template-sensitive" in page and "Agents answering otherwise" in page
    (tmp_path / "sweep" / "summary.json").unlink()
    from typer.testing import CliRunner

    from socialsim.cli import app

    result = CliRunner().invoke(app, ["analyze", str(tmp_path / "sweep")])
    assert result.exit_code == 0, result.output
    assert "summary.json" in result.output and "template-sensitive" in result.output
    assert "-> template-sensitive" in result.output and "belief australia_capital 66.7%" in (
        result.output
    )
    again = json.loads((tmp_path / "sweep" / "summary.json").read_text())
    assert again["kind"] == "sweep" and again["prompt_sensitivity"]["template_sensitive"] is True


def test_a_bad_template_in_the_sweep_fails_before_anything_is_written(tmp_path):
    cfg = _example(tmp_path, **{KEY: ["decide_v2", "decide_v9"]})
    with pytest.raises(
        ConfigError, match=r"'decide_v9' is not one of .*\(did you mean 'decide_v\d'\?\)"
    ) as err:
        ss.sweep(cfg, out=tmp_path / "sweep", executor="serial")
    assert "\n" not in str(err.value)
    assert not (tmp_path / "sweep").exists() and not (tmp_path / "runs").exists()
