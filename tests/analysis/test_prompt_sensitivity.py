"""Prompt sensitivity of a sweep over templates: spread, effect, the flag, summary and page."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import socialsim as ss
from socialsim.analysis import report
from socialsim.analysis.prompt_sensitivity import sweep_sensitivity, template_sensitivity
from socialsim.analysis.summarize import analyze_dir
from socialsim.errors import ConfigError
from socialsim.llm.types import CallRecord, LLMResult

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


def test_spread_and_effect_are_taken_over_per_template_means():
    results = _results(
        {"a": [0.2, 0.4], "b": [0.6, 0.8], "c": [0.5, 0.5]},
        effects={"a": [0.1, 0.1], "b": [0.2, 0.4], "c": [0.0, 0.0]},
    )
    found = template_sensitivity(results, M)
    assert found["templates"] == ["a", "b", "c"]
    assert found["by_template"]["b"] == pytest.approx({"cells": 2, "value": 0.7, "effect": 0.3})
    assert found["spread"] == pytest.approx(0.7 - 0.3)
    assert found["effect"] == pytest.approx((0.1 + 0.3 + 0.0) / 3)
    assert found["effect_spread"] == pytest.approx(0.3)
    assert found["template_sensitive"] is True and found["note"] is None


def test_a_spread_within_the_effect_is_not_flagged():
    results = _results(
        {"a": [0.80, 0.82], "b": [0.85, 0.83]}, effects={"a": [0.5, 0.6], "b": [0.6, 0.6]}
    )
    found = template_sensitivity(results, M)
    assert found["spread"] == pytest.approx(0.03) and found["effect"] == pytest.approx(0.575)
    assert found["template_sensitive"] is False


def test_the_size_of_a_negative_effect_is_what_counts():
    results = _results({"a": [0.1], "b": [0.3]}, effects={"a": [-0.4], "b": [-0.3]})
    assert template_sensitivity(results, M)["template_sensitive"] is False
    flips = _results({"a": [0.1], "b": [0.3]}, effects={"a": [-0.05], "b": [0.1]})
    found = template_sensitivity(flips, M)
    assert found["effect_sign_flips"] is True and found["template_sensitive"] is True


def test_without_a_control_arm_only_the_spread_is_reported():
    found = template_sensitivity(_results({"a": [0.2, 0.4], "b": [0.9, 0.7]}), M)
    assert found["spread"] == pytest.approx(0.5) and found["effect"] is None
    assert found["template_sensitive"] is None and "control" in found["note"]


def test_one_template_has_no_spread_and_no_flag():
    found = template_sensitivity(_results({"a": [0.2, 0.4]}, effects={"a": [0.0, 0.0]}), M)
    assert found["spread"] is None and found["template_sensitive"] is None
    assert "two templates" in found["note"]


def test_failed_cells_are_left_out():
    results = _results({"a": [0.2, 0.4], "b": [0.9, 0.3]}, effects={"a": [0, 0], "b": [0, 0]})
    results.loc[2, "status"] = "failed"  # b's 0.9
    assert template_sensitivity(results, M)["by_template"]["b"]["value"] == pytest.approx(0.3)


def test_a_sweep_that_does_not_vary_the_template_has_no_section():
    results = _results({"a": [0.2, 0.4]}).drop(columns=KEY)
    assert sweep_sensitivity(results, HEADLINE) is None


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
        {"decide_v2": [0.2], "decide_v2_p1": [0.9]},
        effects={"decide_v2": [0.1], "decide_v2_p1": [0.1]},
    )
    root = _sweep_dir(tmp_path / "sweep", results)
    summary = analyze_dir(root)
    assert json.loads((root / "summary.json").read_text()) == summary
    assert summary["kind"] == "sweep" and summary["cells"] == 2 and summary["failed"] == 0
    found = summary["prompt_sensitivity"]
    assert found["template_sensitive"] is True
    assert [m["measure"] for m in found["measures"]] == [M]
    page = report.write_report(root).read_text(encoding="utf-8")
    assert (
        "is template-sensitive:</strong> spread 0.700 across 2 wordings exceeds the effect +0.100"
        in page
    )
    assert page.index("template-sensitive") < page.index("Results per cell")


def test_the_report_says_calmly_when_the_wording_does_not_matter(tmp_path):
    results = _results(
        {"decide_v2": [0.5], "decide_v2_p1": [0.55]},
        effects={"decide_v2": [0.4], "decide_v2_p1": [0.4]},
    )
    root = _sweep_dir(tmp_path / "sweep", results)
    page = report.write_report(root).read_text(encoding="utf-8")
    assert "holds across the wordings: spread 0.050 across 2 wordings does not exceed" in page
    assert "is template-sensitive" not in page
    assert (
        json.loads((root / "summary.json").read_text())["prompt_sensitivity"]["template_sensitive"]
        is False
    )


def test_the_report_says_the_flag_needs_a_control(tmp_path):
    root = _sweep_dir(tmp_path / "sweep", _results({"decide_v2": [0.2], "decide_v2_p1": [0.6]}))
    page = report.write_report(root).read_text(encoding="utf-8")
    assert "spread 0.400 across 2 wordings" in page and "no control arm" in page
    assert "is template-sensitive" not in page


def test_a_sweep_over_something_else_gets_a_summary_without_the_section(tmp_path):
    results = _results({"ring": [0.2], "complete": [0.6]}).rename(columns={KEY: "network.kind"})
    root = _sweep_dir(tmp_path / "sweep", results, grid_key="network.kind")
    page = report.write_report(root).read_text(encoding="utf-8")
    assert "prompt&#x27;s wording" not in page and "Sensitivity to the prompt" not in page
    assert json.loads((root / "summary.json").read_text())["prompt_sensitivity"] is None


# --- end to end: the example, with a scripted model ---------------------------------------------
class WordingClient:
    """Answers offline; how sure agents are depends only on the prompt's wording."""

    SURE = {"talk_v1": 0.9, "talk_v1_p1": 0.1, "talk_v1_p2": 0.8, "talk_v1_p3": 0.2}

    def run(self, requests):
        out = []
        for r in requests:
            props = r.schema.model_json_schema()["properties"]
            if "credence" in props:  # the compact answer of the talk_v1 family
                data = {"credence": self.SURE[r.tag], "message": "Have you heard?", "to": "all"}
            else:  # a probe: one letter
                data = {"answer": "A"}
            record = CallRecord(model="scripted", route="scripted", tag=r.tag)
            out.append(
                LLMResult(text=json.dumps(data), record=record, value=r.schema.model_validate(data))
            )
        return out

    def close(self):
        """Nothing to release."""


def _example(tmp_path: Path, **sweep) -> ss.ExperimentConfig:
    cfg = ss.ExperimentConfig.from_yaml(EXAMPLE, overrides=[f"output.dir={tmp_path / 'runs'}"])
    return cfg.with_overrides({"sweep": sweep}) if sweep else cfg


def test_the_example_sweeps_four_wordings_and_flags_a_wording_effect(tmp_path, monkeypatch):
    from socialsim.simulation import policies

    monkeypatch.setattr(policies, "_make_client", lambda llm: WordingClient())
    cfg = _example(tmp_path)
    grid = {KEY: cfg.sweep[KEY], "seed": cfg.sweep["seed"][:1]}
    table = ss.sweep(cfg, grid=grid, out=tmp_path / "sweep", executor="serial")
    assert list(table[KEY]) == ["talk_v1", "talk_v1_p1", "talk_v1_p2", "talk_v1_p3"]
    assert (table["status"] == "ok").all(), table["error"].tolist()
    names = [Path(d).name for d in table["run_dir"]]
    assert len(set(names)) == 4 and "template-talk_v1_p3" in names[3]
    summary = json.loads((tmp_path / "sweep" / "summary.json").read_text())
    found = summary["prompt_sensitivity"]
    assert found["templates"] == list(table[KEY]) and found["template_sensitive"] is True
    reach = next(m for m in found["measures"] if m["measure"].endswith(".final_reach"))
    assert reach["spread"] == pytest.approx(1.0)  # everyone believes at 0.9, nobody at 0.1
    assert reach["effect"] == pytest.approx(0.0)  # the attackers change nothing here
    page = (tmp_path / "sweep" / "report.html").read_text(encoding="utf-8")
    assert "is template-sensitive" in page
    (tmp_path / "sweep" / "summary.json").unlink()
    from typer.testing import CliRunner

    from socialsim.cli import app

    result = CliRunner().invoke(app, ["analyze", str(tmp_path / "sweep")])
    assert result.exit_code == 0, result.output
    assert "summary.json" in result.output and "template-sensitive" in result.output
    again = json.loads((tmp_path / "sweep" / "summary.json").read_text())
    assert again["kind"] == "sweep" and again["prompt_sensitivity"]["template_sensitive"] is True


def test_a_bad_template_in_the_sweep_fails_before_anything_is_written(tmp_path):
    cfg = _example(tmp_path, **{KEY: ["decide_v2", "decide_v9"]})
    with pytest.raises(ConfigError, match=r"'decide_v9' is not one of .*decide_v2_p1") as err:
        ss.sweep(cfg, out=tmp_path / "sweep", executor="serial")
    assert "\n" not in str(err.value)
    assert not (tmp_path / "sweep").exists() and not (tmp_path / "runs").exists()
