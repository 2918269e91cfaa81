import json
import re

import pandas as pd
import pytest

from socialsim.analysis import report
from socialsim.scenarios.norms import measures as norms

from .tables import action, scenario_events, spread_events, write_run_dir

REMOTE = re.compile(r"""(src|href)\s*=\s*["']?\s*(https?:)?//|@import|url\(\s*["']?https?:""", re.I)
MEASURE = "claims.c1.adoption_benign.final_reach"


def _summary(**over):
    """A hand-built summary.json in the current layout for the tiny run of tables.py."""
    summary = {
        "run": {"id": "r", "name": "tiny", "seed": 1, "steps_run": 3, "agents": 4},
        "scenario": {"kind": "misinformation", "arm": "treatment", "attackers": [0]},
        "populations": {"all": 4, "benign": 3, "attacker": 1},
        "data_quality": {
            "models": ["local/x"],
            "templates": ["decide_v2"],
            "calls": 2,
            "cached": 1,
            "repaired": 0,
            "unusable": 1,
            "by_step": [{"step": 3, "calls": 2, "cached": 1, "repaired": 0, "unusable": 1}],
            "answers": {"probes.c1": {"asked": 4, "answered": 3, "failed": 1}},
        },
        "measures": {"claims": {"c1": {"adoption_benign": {"final_reach": 2 / 3}}}},
        "headline": [
            {
                "measure": MEASURE,
                "label": "Believers of c1 <benign>",
                "value": 2 / 3,
                "figure": "adoption_c1",
            }
        ],
        "effects": [
            {
                "measure": MEASURE,
                "treatment": 2 / 3,
                "control": 0.25,
                "difference": 2 / 3 - 0.25,
                "ci_low": 0.1,
                "ci_high": 0.7,
                "n_replicates": 5,
            },
            {
                "measure": "claims.c1.adoption_all.peak",
                "treatment": 0.9,
                "control": 0.5,
                "difference": 0.4,
                "ci_low": None,
                "ci_high": None,
                "n_replicates": 1,
            },
        ],
    }
    summary.update(over)
    return summary


def _attacker_run(tmp_path, text="hello"):
    """The tiny run of tables.py with agent 0 holding the attacker role."""
    rows = [action(0, 0, "role", role="attacker", placebo=False), *spread_events()]
    return write_run_dir(tmp_path / "run", rows=rows, text=text)


def _section(page, start, end):
    return page[page.index(start) : page.index(end)]


def test_run_report_is_self_contained_and_escaped(tmp_path):
    root = write_run_dir(tmp_path / "run", text="<script>alert(1)</script> & friends")
    path = report.write_report(root)
    page = path.read_text(encoding="utf-8")
    assert path == root / "report.html"
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; friends" in page
    assert "<script" not in page.lower()
    assert not REMOTE.search(page)
    assert "data:image/png;base64," in page
    assert "name: tiny &lt;run&gt;" in page  # the config, escaped
    assert "c1 is true" in page  # the conversation sample
    assert (root / "figures" / "adoption_c1.png").is_file()
    assert "\x00" not in page


@pytest.mark.slow
def test_sections_come_in_order_and_findings_lead_with_the_headline(tmp_path):
    root = _attacker_run(tmp_path)
    page = report.write_report(root, summary=_summary()).read_text(encoding="utf-8")
    order = [
        "<h2>Findings</h2>",
        "<h2>Other figures</h2>",
        "<h2>Data quality</h2>",
        "<h2>All measures</h2>",
        "<h2>Conversation sample",
    ]
    positions = [page.index(h) for h in order]
    assert positions == sorted(positions)
    findings = _section(page, "<h2>Findings</h2>", "<h2>Other figures</h2>")
    assert "Believers of c1 &lt;benign&gt;" in findings
    assert '<span class="value">0.667</span>' in findings
    # an older effect: its interval is shown, its method was not recorded
    assert "difference +0.417, 95% interval 0.1 to 0.7 (method not recorded, n = 5)" in findings
    assert "Treatment 0.667, control 0.25; 5 replicates per arm" in findings
    assert 'id="fig-adoption_c1"' in findings  # the headline's own figure, moved up
    # the effect without a headline goes to its own table, without an interval
    assert "Other effects against the control" in findings
    assert "claims.c1.adoption_all.peak" in findings
    figures = _section(page, "<h2>Other figures</h2>", "<h2>Data quality</h2>")
    assert 'id="fig-adoption_c1"' not in figures
    assert 'id="fig-stance_c1"' in figures and 'id="fig-network_c1"' in figures
    # the attacker is outlined and left out of the benign line
    assert "the benign line leaves out the 1 agent with a scenario role." in findings
    assert "all 4 agents; agents with a role are outlined" in figures
    assert page.count("data:image/png;base64,") >= 4


@pytest.mark.slow
def test_measures_and_facts_are_collapsed(tmp_path):
    root = _attacker_run(tmp_path)
    page = report.write_report(root, summary=_summary()).read_text(encoding="utf-8")
    measures = _section(page, "<h2>All measures</h2>", "<h2>Conversation sample")
    assert "<details><summary>Measures table (1 value)</summary>" in measures
    label = "Share believing at the end (benign agents) \u2014 claim c1"
    assert f"<td>{label}</td><td>{MEASURE}</td><td>0.6667</td>" in measures
    assert "<summary>Scenario facts</summary>" in measures
    assert "<td>attackers</td><td>[0]</td>" in measures
    assert "<summary>Configuration</summary>" in measures


@pytest.mark.slow
def test_data_quality_panel(tmp_path):
    root = _attacker_run(tmp_path)
    page = report.write_report(root, summary=_summary()).read_text(encoding="utf-8")
    panel = _section(page, "<h2>Data quality</h2>", "<h2>All measures</h2>")
    assert "<td>models</td><td>local/x</td>" in panel
    assert "<td>prompt templates</td><td>decide_v2</td>" in panel
    assert "<td>unusable</td><td>1</td>" in panel
    assert "<tr><td>probes.c1</td><td>4</td><td>3</td><td>1</td></tr>" in panel
    assert 'id="fig-data_quality"' in panel
    assert (root / "figures" / "data_quality.png").is_file()


@pytest.mark.slow
def test_rule_run_has_no_call_figure(tmp_path):
    root = write_run_dir(tmp_path / "run")
    quality = {"calls": 0, "cached": 0, "repaired": 0, "unusable": 0, "by_step": []}
    page = report.write_report(root, summary=_summary(data_quality=quality)).read_text()
    assert "<td>models</td><td>none (rule policies)</td>" in page
    assert "fig-data_quality" not in page


@pytest.mark.slow
def test_long_by_step_table_is_capped(tmp_path):
    root = write_run_dir(tmp_path / "run")
    by_step = [
        {"step": s, "calls": 10, "cached": 1, "repaired": 0, "unusable": s % 3} for s in range(500)
    ]
    quality = {"calls": 5000, "by_step": by_step}
    page = report.write_report(root, summary=_summary(data_quality=quality)).read_text()
    assert f"Model calls by step ({report.STEP_ROWS} of 500 steps, evenly spaced)" in page
    assert "<tr><td>499</td>" in page  # the last step is kept


@pytest.mark.slow
def test_missing_and_empty_sections_do_not_fail(tmp_path):
    root = write_run_dir(tmp_path / "run")
    for summary in (
        {},
        {"measures": {}, "headline": [], "effects": [], "data_quality": {}},
        {"headline": [{"measure": "norms.nothing_here", "label": "Gone"}]},
        {"headline": [{"measure": MEASURE}], "effects": None, "populations": None},
    ):
        page = report.write_report(root, summary=summary).read_text(encoding="utf-8")
        assert page.index("<h2>Findings</h2>") < page.index("<h2>Data quality</h2>")
    assert "n/a" in page or "0.667" not in page


@pytest.mark.slow
def test_headline_without_value_or_effect(tmp_path):
    root = write_run_dir(tmp_path / "run")
    summary = {
        "headline": [{"measure": "norms.adherence", "label": "Norm adherence"}],
        "measures": {"norms": {"adherence": 0.8}},
    }
    page = report.write_report(root, summary=summary).read_text(encoding="utf-8")
    findings = _section(page, "<h2>Findings</h2>", "<h2>Other figures</h2>")
    assert '<span class="value">0.8</span>' in findings  # read from the measures
    assert "No control arm in this run" in findings


def test_without_headline_the_main_figures_lead(tmp_path):
    root = write_run_dir(tmp_path / "run")
    page = report.write_report(root, summary={}).read_text(encoding="utf-8")
    findings = _section(page, "<h2>Findings</h2>", "<h2>Other figures</h2>")
    assert "names no headline measure" in findings
    assert 'id="fig-adoption_c1"' in findings


def test_older_summary_layout_is_read(tmp_path):
    root = write_run_dir(tmp_path / "run")
    old = {
        "run": "r",
        "name": "old",
        "seed": 1,
        "analysis": {"claims": {"c1": {"final_reach": 0.75}}, "llm": {"calls": 2, "errors": 1}},
    }
    (root / "summary.json").write_text(json.dumps(old), encoding="utf-8")
    page = report.write_report(root).read_text(encoding="utf-8")
    assert "<td>claims.c1.final_reach</td><td>0.75</td>" in page
    assert "Model calls (older summary layout)" in page and "<td>errors</td><td>1</td>" in page


@pytest.mark.slow
def test_report_with_scenario_sections(tmp_path):
    root = write_run_dir(tmp_path / "run", rows=scenario_events())
    page = report.write_report(root, summary={}).read_text(encoding="utf-8")
    names = ["adherence", "norm_pressure", "collaboration_success", "collaboration_gap"]
    for name in [*names, "debate_shift", "debate_stance", "authority", "stance_by_exposure"]:
        assert f'id="fig-{name}"' in page
        assert (root / "figures" / f"{name}.png").is_file()
    for title in ("Norm adherence", "Collaboration gap", "Debate agreement shift"):
        assert f"<summary>{title} (" in page
    assert "<b>because</b>" not in page


@pytest.mark.slow
def test_a_failing_part_is_named_not_fatal(tmp_path, monkeypatch):
    root = write_run_dir(tmp_path / "run", rows=scenario_events())

    def broken(*args, **kwargs):
        raise KeyError("label")

    monkeypatch.setattr(norms, "norm_choices", broken)
    page = report.write_report(root, summary={}).read_text(encoding="utf-8")
    assert "norm figures: not drawn (KeyError: &#x27;label&#x27;)" in page
    # the other parts are still drawn
    assert 'id="fig-collaboration_success"' in page and 'id="fig-debate_shift"' in page
    assert 'id="fig-adherence"' not in page


@pytest.mark.slow
def test_figures_past_the_budget_are_linked(tmp_path, monkeypatch):
    root = write_run_dir(tmp_path / "run")
    full = report.write_report(root, summary={}).read_text(encoding="utf-8")
    embedded = full.count("data:image/png;base64,")
    assert embedded >= 3
    monkeypatch.setattr(report, "MAX_PAGE_BYTES", len(full.encode()) - 30_000)
    page = report.write_report(root, summary={}).read_text(encoding="utf-8")
    assert len(page.encode()) <= report.MAX_PAGE_BYTES
    assert 0 < page.count("data:image/png;base64,") < embedded
    assert 'href="figures/' in page and "stays under 2 MB" in page
    # the findings come first, so they keep their image
    findings = _section(page, "<h2>Findings</h2>", "<h2>Other figures</h2>")
    assert "data:image/png;base64," in findings


def test_long_agent_text_is_clipped_and_escaped(tmp_path):
    root = write_run_dir(tmp_path / "run", text="<i>" + "x" * 5000)
    page = report.write_report(root, summary={}).read_text(encoding="utf-8")
    assert "&lt;i&gt;" + "x" * (report.MAX_TEXT - 3) + " ..." in page
    assert "x" * (report.MAX_TEXT + 1) not in page


def test_sweep_report_has_cells_and_sweep_plots(tmp_path):
    root = tmp_path / "sweep"
    root.mkdir()
    (root / "config.yaml").write_text(
        "name: s\nsweep:\n  network.kind: [ring, complete]\n  seed: [1, 2]\n"
    )
    pd.DataFrame(
        {
            "network.kind": ["ring", "ring", "complete", "complete"],
            "seed": [1, 2, 1, 2],
            "reach.c1": [0.2, 0.3, 0.8, 0.9],
            "run_dir": ["a", "b", "c", "d"],
        }
    ).to_csv(root / "results.csv", index=False)
    page = report.write_report(root).read_text(encoding="utf-8")
    assert "Results per cell (4 runs)" in page
    assert "reach.c1" in page and "complete" in page
    assert (root / "figures" / "sweep_network.kind_reach.c1.png").is_file()
    assert not REMOTE.search(page)


def test_sweep_intervals_are_over_seeds_of_one_setting(tmp_path):
    """Two swept parameters: each row of the table holds one setting's seeds, never the other
    parameter's values; one seed gives no interval."""
    root = tmp_path / "sweep"
    root.mkdir()
    grid = {"agents.params.p": [0.1, 0.5], "population.size": [20, 200], "seed": [1, 2]}
    (root / "sweep.json").write_text(json.dumps({"config": {"name": "s"}, "grid": grid}))
    rows = [
        {"agents.params.p": p, "population.size": n, "seed": seed, "reach.c1": value}
        for (p, n), (a, b) in {
            (0.1, 20): (0.10, 0.20),
            (0.1, 200): (0.50, 0.70),
            (0.5, 20): (0.30, 0.40),
            (0.5, 200): (0.90, 0.95),
        }.items()
        for seed, value in ((1, a), (2, b))
    ]
    results = pd.DataFrame(rows).assign(run_dir=lambda t: [f"c{i}" for i in range(len(t))])
    results.to_csv(root / "results.csv", index=False)
    page = report.write_report(root).read_text(encoding="utf-8")
    table = _section(page, "<h3>agents.params.p</h3>", "<h3>population.size</h3>")
    assert table.count("<tr>") == 5  # a header and one row per (p, size) setting
    half = 12.706205 * 0.1414214 / 2**0.5  # t(0.975, 1) x sd(0.5, 0.7) / sqrt(2)
    assert f"{0.6 - half:.4g}" in table and f"{0.6 + half:.4g}" in table
    assert "one seed gives no interval" in page
    assert "mean over the seeds of each setting, one line per setting of population.size" in page
    one = results[results["seed"] == 1]
    one.to_csv(root / "results.csv", index=False)
    page = report.write_report(root).read_text(encoding="utf-8")
    table = _section(page, "<h3>agents.params.p</h3>", "<h3>population.size</h3>")
    assert table.count("<tr>") == 5 and "0.5" in table
    # each mean stands alone, its interval cells blank (not a zero-width interval)
    assert table.count("<td></td><td></td><td>1</td></tr>") == 4


def test_html_table_escapes_and_clips_cells():
    html = report.html_table(pd.DataFrame({"<b>": ["<i>x</i>", "y" * 1000]}))
    assert "&lt;b&gt;" in html and "&lt;i&gt;x&lt;/i&gt;" in html
    assert "y" * report.MAX_CELL + " ..." in html and "y" * (report.MAX_CELL + 1) not in html


def test_lookup_reads_dotted_keys_that_hold_dots():
    tree = {"claims": {"c.1": {"adoption_all": {"final_reach": 0.5}}}}
    assert report._lookup(tree, "claims.c.1.adoption_all.final_reach") == 0.5
    assert report._lookup(tree, "measures.claims.c.1.adoption_all.final_reach") == 0.5
    assert report._lookup(tree, "claims.c2.adoption_all") is None
