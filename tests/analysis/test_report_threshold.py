"""The report's adoption figures count belief at the configured threshold."""

from __future__ import annotations

import pytest
import yaml

import socialsim as ss
from socialsim.analysis.report import arms_page

CLAIM = "australia_capital"


def _cfg(tmp_path, threshold: float) -> ss.ExperimentConfig:
    return ss.ExperimentConfig.from_dict(
        {
            "name": "threshold",
            "seed": 3,
            "steps": 3,
            "replicates": 1,
            "control": True,
            "population": {"size": 14},
            "network": {"kind": "watts_strogatz", "params": {"k": 4, "p": 0.2}},
            "agents": {"policy": "degroot"},
            "scenario": {
                "kind": "misinformation",
                "params": {"claim": CLAIM, "attackers": {"count": 2}, "initial_credence": 0.1},
            },
            "analysis": {"measures": {"claims": {"threshold": threshold}}},
            "output": {"dir": str(tmp_path / "runs"), "report": True, "formats": ["jsonl"]},
        }
    )


@pytest.mark.slow
def test_run_and_arms_reports_draw_adoption_at_the_configured_threshold(tmp_path):
    arms = ss.run(_cfg(tmp_path, 0.8), out=tmp_path / "arms")
    run_page = (arms.dir / "treatment" / "s3" / "report.html").read_text(encoding="utf-8")
    assert f"credence in {CLAIM} is at least 0.8 after each step" in run_page
    assert "is at least 0.5 after each step" not in run_page
    # the arms page's curves: the configured threshold, read from the arms' config
    config = yaml.safe_load((arms.dir / "config.yaml").read_text(encoding="utf-8"))
    threshold = arms_page._belief_threshold(config)
    assert threshold == 0.8
    sub = arms.dir / "treatment" / "s3"
    curve = arms_page._benign_adoption(sub, CLAIM, "benign", threshold)
    reach = arms.runs["treatment"][0].summary["measures"]["claims"][CLAIM]["adoption_benign"]
    assert curve["share"].iloc[-1] == reach["final_reach"]
    at_half = arms_page._benign_adoption(sub, CLAIM, "benign", 0.5)["share"].iloc[-1]
    assert at_half != reach["final_reach"]  # the two thresholds differ in this run
