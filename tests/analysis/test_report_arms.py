"""The arms report: treatment vs control replicates of one config."""

import json
import re

import pandas as pd
import pytest

from socialsim.analysis import report
from socialsim.simulation.log import InteractionLog

MEASURE = "claims.c1.adoption_benign.final_reach"
# credence of agents 0..3 at steps 0, 1, 2; agent 0 holds the attacker role in both arms
CREDENCES = {
    ("treatment", 1): [[1.0, 0.1, 0.1, 0.1], [1.0, 0.9, 0.1, 0.1], [1.0, 0.9, 0.9, 0.1]],
    ("treatment", 2): [[1.0, 0.1, 0.1, 0.1], [1.0, 0.9, 0.9, 0.1], [1.0, 0.9, 0.9, 0.9]],
    ("control", 1): [[0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1], [0.1, 0.9, 0.1, 0.1]],
    ("control", 2): [[0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1]],
}


def _sub_run(path, arm, seed, fmt):
    path.mkdir(parents=True)
    log = InteractionLog(path / "events.jsonl", run=f"{arm}-{seed}")
    payload = {"type": "role", "role": "attacker", "placebo": arm == "control"}
    log.emit("action", step=0, agent=0, payload=payload)
    log.close()
    rows = [
        (s, a, "c1", c)
        for s, creds in enumerate(CREDENCES[(arm, seed)])
        for a, c in enumerate(creds)
    ]
    agents = pd.DataFrame(rows, columns=["step", "agent", "claim", "credence"])
    if fmt == "parquet":
        agents.to_parquet(path / "agents.parquet", index=False)
    else:
        agents.to_csv(path / "agents.csv", index=False)
    final = sum(c >= 0.5 for c in CREDENCES[(arm, seed)][-1][1:]) / 3
    summary = {
        "run": {"seed": seed},
        "scenario": {"kind": "misinformation", "arm": arm},
        "data_quality": {"calls": 0, "unusable": 0, "answers": {"x": {"failed": seed}}},
        "measures": {
            "claims": {"c1": {"adoption_benign": {"final_reach": final}}},
            "norms": {"adherence": 0.1 * seed + (0.5 if arm == "treatment" else 0.0)},
        },
    }
    (path / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    if arm == "treatment":
        (path / "report.html").write_text("<html></html>", encoding="utf-8")


@pytest.fixture(params=["csv", "parquet"])
def arms_dir(tmp_path, request):
    root = tmp_path / "arms"
    for arm, seed in CREDENCES:
        _sub_run(root / arm / f"s{seed}", arm, seed, request.param)
    headline = [{"measure": MEASURE, "label": "Believers of c1 (benign)", "figure": "adoption_c1"}]
    summary = {
        "kind": "arms",
        "name": "demo <arms>",
        "seeds": [1, 2],
        "arms": {
            "treatment": ["treatment/s1", "treatment/s2"],
            "control": ["control/s1", "control/s2"],
        },
        "headline": headline,
        "effects": [
            {
                "measure": MEASURE,
                "treatment": 5 / 6,
                "control": 1 / 6,
                "difference": 2 / 3,
                "ci_low": 0.5,
                "ci_high": 1.0,
                "n_replicates": 2,
            }
        ],
    }
    (root / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    pd.DataFrame(
        {"arm": ["treatment", "control"], "seed": [1, 1], "run_dir": ["treatment/s1", "control/s1"]}
    ).to_csv(root / "results.csv", index=False)
    return root


def test_arms_report_opens_with_the_effects(arms_dir):
    page = report.write_report(arms_dir).read_text(encoding="utf-8")
    assert "<title>socialsim arms: demo &lt;arms&gt;</title>" in page
    findings = page[page.index("<h2>Findings</h2>") : page.index("<h2>Replicates</h2>")]
    header = "<th>measure</th><th>treatment mean</th><th>control mean</th><th>difference</th>"
    assert header + "<th>95% interval</th><th>method (n)</th>" in findings
    row = (
        f'<td>Believers of c1 (benign)<span class="key">{MEASURE}</span></td>'
        "<td>0.833</td><td>0.167</td><td>+0.667</td><td>0.5 to 1</td>"
    )
    assert row in findings
    # an older summary: the interval is shown, its method was not recorded
    assert "<td>method not recorded (2)</td><td></td><td>2</td>" in findings
    assert "difference +0.667, 95% interval 0.5 to 1 (method not recorded, n = 2)" in findings
    assert "data:image/png;base64," in findings
    assert (arms_dir / "figures" / "arms_0_adoption_c1.png").is_file()
    assert "mean over replicates (treatment 2, control 2) (no band below 3 replicates)" in findings
    assert "2 seeds; treatment: 2 runs, control: 2 runs" in page
    assert "2 replicates per arm (seeds 1, 2): 4 runs in all." in page


def test_arms_report_links_every_sub_run(arms_dir):
    page = report.write_report(arms_dir).read_text(encoding="utf-8")
    runs = page[page.index("<h2>Replicates</h2>") :]
    assert '<a href="treatment/s1/report.html">treatment/s1</a> (report)' in runs
    assert '<a href="control/s2/">control/s2</a> (directory)' in runs
    assert "<td>control</td><td>2</td>" in runs
    assert "<summary>results.csv (2 rows)</summary>" in runs
    assert not re.search(r"(src|href)\s*=\s*[\"']?https?:", page)


def test_sub_run_curve_leaves_out_the_role_agents(arms_dir):
    curve = report._benign_adoption(arms_dir / "treatment" / "s1", "c1")
    assert curve["step"].tolist() == [0, 1, 2]
    assert curve["n"].tolist() == [3, 3, 3]
    assert curve["share"].tolist() == pytest.approx([0, 1 / 3, 2 / 3])
    control = report._benign_adoption(arms_dir / "control" / "s1", "c1")
    assert control["share"].tolist() == pytest.approx([0, 0, 1 / 3])


def test_arms_figure_mean_over_replicates(arms_dir):
    from matplotlib.figure import Figure

    captured = []
    original = report.plots.adoption_curves

    def spy(curves, **kwargs):
        captured.append(curves)
        fig = original(curves, **kwargs)
        assert isinstance(fig, Figure)
        return fig

    report.plots.adoption_curves = spy
    try:
        report.write_report(arms_dir)
    finally:
        report.plots.adoption_curves = original
    curves = captured[0]
    means = curves.groupby(["arm", "step"])["share"].mean()
    assert means["treatment"].tolist() == pytest.approx([0, 0.5, 5 / 6])
    assert means["control"].tolist() == pytest.approx([0, 0, 1 / 6])


def _set_headline(arms_dir, item):
    summary = json.loads((arms_dir / "summary.json").read_text())
    summary["headline"] = [item]
    (arms_dir / "summary.json").write_text(json.dumps(summary))
    return report.write_report(arms_dir).read_text(encoding="utf-8")


def test_a_claim_measure_gets_its_curve_whatever_the_figure_name(arms_dir):
    _set_headline(arms_dir, {"measure": "measures." + MEASURE, "figure": "other"})
    assert (arms_dir / "figures" / "arms_0_adoption_c1.png").is_file()


def test_other_measures_draw_one_point_per_replicate(arms_dir):
    captured = []
    original = report.plots.arm_values

    def spy(values, **kwargs):
        captured.append(values)
        return original(values, **kwargs)

    report.plots.arm_values = spy
    try:
        page = _set_headline(arms_dir, {"measure": "norms.adherence", "label": "Adherence"})
    finally:
        report.plots.arm_values = original
    assert (arms_dir / "figures" / "arms_0_values.png").is_file()
    assert "Adherence: one point per replicate" in page
    values = captured[0].set_index(["arm", "seed"])["value"]
    assert values[("treatment", 2)] == pytest.approx(0.7)
    assert values[("control", 1)] == pytest.approx(0.1)
    page = _set_headline(arms_dir, {"measure": "norms.missing", "label": "Missing"})
    assert "No sub-run records this measure." in page


def test_arms_report_with_missing_parts(tmp_path):
    root = tmp_path / "arms"
    root.mkdir()
    (root / "summary.json").write_text(json.dumps({"kind": "arms"}))
    page = report.write_report(root).read_text(encoding="utf-8")
    assert "summary.json holds no effect estimate" in page


def _set_effects(arms_dir, effects, **over):
    summary = json.loads((arms_dir / "summary.json").read_text())
    summary.update(effects=effects, **over)
    (arms_dir / "summary.json").write_text(json.dumps(summary))
    page = report.write_report(arms_dir).read_text(encoding="utf-8")
    return page[page.index("<h2>Findings</h2>") : page.index("<h2>Replicates</h2>")]


EFFECT = {"measure": MEASURE, "treatment": 0.8, "control": 0.2, "difference": 0.6}


def test_an_interval_is_shown_with_its_method_n_and_detectable_effect(arms_dir):
    interval = {"method": "paired t", "level": 0.95, "n": 3}
    effect = {**EFFECT, "ci_low": 0.3, "ci_high": 0.9, "n_replicates": 3, "interval": interval}
    findings = _set_effects(
        arms_dir, [{**effect, "no_interval": None, "sd_difference": 0.1, "mde": 0.25}]
    )
    assert "<td>0.3 to 0.9</td><td>paired t (3)</td><td>0.25</td><td>3</td>" in findings
    text = "difference +0.6, 95% interval 0.3 to 0.9 (paired t, n = 3)."
    assert text in findings
    assert "minimum detectable effect 0.25 (80% power, 5% two-sided" in findings
    assert "no interval" not in findings


def test_one_replicate_has_no_interval_and_says_why(arms_dir):
    reason = "1 replicate; an interval needs at least 3 (--replicates 3)"
    # bounds on one replicate (a malformed or older summary) are never shown as an interval
    effect = {**EFFECT, "ci_low": 0.1, "ci_high": 0.9, "n_replicates": 1}
    findings = _set_effects(
        arms_dir,
        [{**effect, "interval": None, "no_interval": reason, "sd_difference": None, "mde": None}],
    )
    assert "0.1 to 0.9" not in findings
    assert "95% interval 0" not in findings
    assert "difference +0.6 &mdash; <b>no interval</b>: 1 replicate; an interval needs" in (
        findings
    )
    assert "(<code>--replicates 3</code>)" in findings
    assert "<td>no interval<sup>1</sup></td><td></td><td>none</td><td>1</td>" in findings
    assert "no minimum detectable effect without an interval" in findings
    assert "1 replicate per arm" in findings


def test_an_old_agent_level_range_is_not_shown_as_an_effect_interval(arms_dir):
    effect = {**EFFECT, "ci_low": 0.4, "ci_high": 0.8, "n_replicates": 1, "n_agents": 18}
    findings = _set_effects(arms_dir, [{**effect, "interval": "agents"}])
    assert "<b>no interval</b>: 1 replicate; the stored range 0.4 to 0.8 is over the 18 agents" in (
        findings
    )
    assert "not an effect interval" in findings
    assert "95% interval" not in findings.replace("<th>95% interval</th>", "")
    assert "minimum detectable effect" not in findings.replace(
        "<th>minimum detectable effect</th>", ""
    )


def test_effects_carry_readable_labels_with_the_claim_statement(arms_dir):
    claim = {
        "id": "c1",
        "true_statement": "Water boils at 100 C at sea level.",
        "manipulated_statement": "Water boils at 50 C at sea level.",
        "probes": [
            {
                "distance": "direct",
                "question": "At what temperature does water boil at sea level?",
                "options": ["50 C", "100 C"],
                "correct": "B",
                "manipulated": "A",
            }
        ],
    }
    config = {"scenario": {"kind": "misinformation", "params": {"custom_claims": [claim]}}}
    (arms_dir / "config.yaml").write_text(json.dumps(config), encoding="utf-8")
    peak = "claims.c1.adoption_all.peak"
    findings = _set_effects(arms_dir, [{**EFFECT, "n_replicates": 2}, {**EFFECT, "measure": peak}])
    page = (arms_dir / "report.html").read_text(encoding="utf-8")
    label = "Peak share believing (all agents) \u2014 \u201cWater boils at 50 C at sea level.\u201d"
    assert f'<td>{label}<span class="key">{peak}</span></td>' in findings
    claim_part = page[page.index("<h2>The claim</h2>") : page.index("<h2>Findings</h2>")]
    assert "&ldquo;Water boils at 50 C at sea level.&rdquo;" in claim_part
    assert "&ldquo;Water boils at 100 C at sea level.&rdquo;" in claim_part
    assert "Design: the misinformation scenario in a treatment arm and a matched control arm" in (
        page
    )
    # no raw key stands alone as a row's label
    assert not re.search(r"<td>claims\.", findings)


def test_a_probe_finding_draws_the_probe_measure_not_the_adoption_curve(arms_dir):
    probe = "claims.c1.probes_benign.direct.manipulated_share"
    for arm, seed in CREDENCES:
        path = arms_dir / arm / f"s{seed}" / "summary.json"
        summary = json.loads(path.read_text())
        share = 0.1 * seed + (0.4 if arm == "treatment" else 0.0)
        summary["measures"]["claims"]["c1"]["probes_benign"] = {
            "direct": {"manipulated_share": share}
        }
        path.write_text(json.dumps(summary))
    captured = []
    original = report.plots.arm_values

    def spy(values, **kwargs):
        captured.append((values, kwargs))
        return original(values, **kwargs)

    report.plots.arm_values = spy
    try:
        item = {"measure": probe, "label": "Direct probe answers", "figure": "adoption_c1"}
        page = _set_headline(arms_dir, item)
    finally:
        report.plots.arm_values = original
    assert (arms_dir / "figures" / "arms_0_values.png").is_file()
    assert not (arms_dir / "figures" / "arms_0_adoption_c1.png").exists()
    finding = page[page.index('<section class="finding">') : page.index("</section>")]
    assert 'id="fig-arms_0_values"' in finding and "adoption" not in finding
    values, kwargs = captured[0]
    values = values.set_index(["arm", "seed"])["value"]
    assert values[("treatment", 2)] == pytest.approx(0.6)
    assert values[("control", 1)] == pytest.approx(0.1)
    assert kwargs["ylabel"] == "share following the false claim"


def test_one_seed_pages_use_singulars(arms_dir):
    summary = json.loads((arms_dir / "summary.json").read_text())
    summary.update(seeds=[1], arms={"treatment": ["treatment/s1"], "control": ["control/s1"]})
    (arms_dir / "summary.json").write_text(json.dumps(summary))
    page = report.write_report(arms_dir).read_text(encoding="utf-8")
    assert "1 seed; treatment: 1 run, control: 1 run" in page
    assert "1 replicate per arm (seed 1): 2 runs in all." in page
    assert not re.search(r"\b1 (seeds|runs|replicates|rows|values|agents|steps)\b", page)
