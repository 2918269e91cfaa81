"""The one registry of report parts: every family's tables, figures and headline measures."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from socialsim.analysis import report
from socialsim.analysis.measures import compute_measures
from socialsim.analysis.report.parts import (
    add_report_part,
    figure_for,
    register_report_part,
    remove_report_part,
    report_parts,
)
from socialsim.analysis.summarize import analyze_dir
from socialsim.core.registry import MEASURES, register_measure
from socialsim.core.rundata import load_run

from .tables import scenario_events, write_run_dir


@pytest.fixture
def own_part():
    """A part of a user's own, forgotten after the test."""
    yield "own figures"
    remove_report_part("own figures")


@pytest.mark.slow
def test_the_analysis_loads_the_families_only_through_the_registries():
    code = (
        "import sys, json\n"
        "import socialsim.analysis.summarize, socialsim.analysis.report\n"
        "early = sorted(m for m in sys.modules if m.startswith('socialsim.scenarios.'))\n"
        "from socialsim.analysis.report.parts import report_parts\n"
        "from socialsim.core.registry import MEASURES\n"
        "print(json.dumps([early, [p.name for p in report_parts()], MEASURES.names()]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    early, parts, measures = json.loads(done.stdout.strip().splitlines()[-1])
    assert early == []  # importing the analysis imports no scenario family
    for name in ("norm figures", "collaboration figures", "persuasion figures"):
        assert name in parts
    assert parts.index("persuasion figures") < parts.index("message quality")
    assert {"norms", "collaboration", "persuasion", "donor_game", "claims"} <= set(measures)


def test_the_built_in_families_register_tables_pages_and_figures():
    parts = {p.name: p for p in report_parts()}
    assert all(parts[n].tables and parts[n].page for n in ("norm figures", "persuasion figures"))
    assert parts["collaboration figures"].headline is not None
    assert figure_for("persuasion.debate.mean_shift") == "debate_shift"
    assert figure_for("measures.norms.adherence.overall.rate") == "adherence"
    assert figure_for("persuasion.answers") is None  # no design named


def test_figure_for_takes_the_longest_matching_prefix(own_part):
    add_report_part(own_part, figures={"own": "own_all", "own.deep": "own_deep"})
    assert figure_for("own.deep.value") == "own_deep"
    assert figure_for("own.other") == "own_all"
    assert figure_for("ownership.x") is None  # prefixes match whole dotted parts


def test_a_users_part_adds_tables_figures_and_headline(tmp_path, own_part):
    def tables(run):
        return {"own_counts": pd.DataFrame({"kind": ["a"], "n": [len(run.events)]}),
                "own_empty": pd.DataFrame()}  # fmt: skip

    def headline(measures, kind):
        return [{"measure": "network.n_edges", "label": f"own lead of {kind}",
                 "value": measures["network"]["n_edges"], "figure": "own_figure"}]  # fmt: skip

    @register_report_part(own_part, tables=tables, headline=headline)
    def page(run, figs, tables):
        figs.add("own_figure", report.plots.rate_bars(pd.DataFrame(), "x"), "Own caption.")
        tables.append(("Own table", pd.DataFrame({"x": [1]})))

    root = write_run_dir(tmp_path / "run")
    summary = analyze_dir(root)
    assert summary["headline"][0] == {
        "measure": "network.n_edges", "label": "own lead of none", "value": 3,
        "figure": "own_figure",
    }  # fmt: skip
    written = pd.read_csv(root / "tables" / "own_counts.csv")
    assert written["n"].tolist() == [len(load_run(root).events)]
    assert not (root / "tables" / "own_empty.csv").exists()
    page_text = report.write_report(root).read_text(encoding="utf-8")
    findings = page_text[page_text.index("<h2>Findings</h2>") : page_text.index("Other figures")]
    assert "own lead" in findings and 'id="fig-own_figure"' in findings
    assert "<summary>Own table (1 row)</summary>" in page_text
    # registering the name again replaces the part: one page, no tables
    register_report_part(own_part)(lambda run, figs, tables: None)
    assert [p.tables for p in report_parts() if p.name == own_part] == [None]


def test_measures_come_claims_first_then_the_scenarios_then_the_whole_runs(tmp_path):
    root = write_run_dir(tmp_path / "run", rows=scenario_events())

    @register_measure("own_count")
    def own_count(run, params):
        return {"events": len(run.events)}

    try:
        keys = list(compute_measures(load_run(root)))
    finally:
        MEASURES.remove("own_count")
    assert keys[0] == "claims" and keys[-1] == "own_count"
    families = {"norms", "collaboration", "persuasion", "accumulation"}
    assert set(keys[1:5]) == families and keys[5] == "network"
