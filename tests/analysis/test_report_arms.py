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
    assert header + "<th>95% CI</th><th>n</th>" in findings
    assert "<td>Believers of c1 (benign)</td><td>0.8333</td><td>0.1667</td><td>0.6667</td>" in (
        findings
    )
    assert "<td>0.5 to 1</td><td>2</td>" in findings
    assert "difference +0.667 (95% CI 0.5 to 1)" in findings
    assert "data:image/png;base64," in findings
    assert (arms_dir / "figures" / "arms_0_adoption_c1.png").is_file()
    assert "mean over replicates (treatment 2, control 2) with a 95% band" in findings


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
    assert "One point per replicate" in page
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
