"""Reports of runs the model really produced (rule policies), checked against their files."""

import re

import pandas as pd
import pytest

import socialsim as ss
from socialsim.simulation.config import ExperimentConfig

CLAIM = "australia_capital"


def _cfg(tmp_path, **over):
    data = {
        "name": "rep",
        "seed": 3,
        "steps": 5,
        "population": {"size": 40},
        "network": {"kind": "watts_strogatz", "params": {"k": 4, "p": 0.2}},
        "agents": {"policy": "independent_cascade", "params": {"p": 0.5}},
        "scenario": {
            "kind": "misinformation",
            "params": {"claim": CLAIM, "attackers": {"count": 2, "strategy": "highest_degree"}},
        },
        "output": {"dir": str(tmp_path / "runs"), "report": True},
    }
    data.update(over)
    return ExperimentConfig.from_dict(data)


@pytest.fixture(scope="module")
def one_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("one")
    return ss.run(_cfg(tmp), out=tmp / "run")


@pytest.fixture(scope="module")
def arms(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("arms")
    return ss.run(_cfg(tmp, replicates=2, control=True), out=tmp / "arms")


def test_run_report_leads_with_the_benign_share_it_draws(one_run):
    page = (one_run.dir / "report.html").read_text(encoding="utf-8")
    findings = page[page.index("<h2>Findings</h2>") : page.index("<h2>Other figures</h2>")]
    # the headline value, recomputed from agents.csv: benign agents believing at the last step
    agents = pd.read_csv(one_run.dir / "agents.csv")
    attackers = set(one_run.summary["scenario"]["attackers"])
    last = agents[(agents["step"] == agents["step"].max()) & ~agents["agent"].isin(attackers)]
    share = float((last["credence"] >= 0.5).mean())
    assert f'<span class="value">{share:.3g}</span>' in findings
    label = one_run.summary["headline"][0]["label"]
    assert label == f"Share of benign agents believing the false claim ({CLAIM}) at the end"
    assert f"<h3>{label}</h3>" in findings
    assert f'id="fig-adoption_{CLAIM}"' in findings
    assert "the benign line leaves out the 2 agents with a scenario role." in findings
    panel = page[page.index("<h2>Data quality</h2>") : page.index("<h2>All measures</h2>")]
    asked = one_run.summary["data_quality"]["answers"][f"probes.{CLAIM}"]["asked"]
    assert f"<tr><td>probes.{CLAIM}</td><td>{asked}</td>" in panel
    assert "none (rule policies)" in panel
    assert len(page.encode()) < 2_000_000


def test_arms_report_compares_the_arms_and_links_the_replicates(arms):
    page = (arms.dir / "report.html").read_text(encoding="utf-8")
    effect = arms.summary["effects"][0]
    label = arms.summary["headline"][0]["label"]
    assert (
        f"<td>{label}</td><td>{effect['treatment']:.4g}</td><td>{effect['control']:.4g}</td>"
        in (page)
    )
    links = re.findall(r'<a href="([^"]+)">', page)
    assert sorted(links) == sorted(
        f"{arm}/s{seed}/report.html" for arm in ("treatment", "control") for seed in (3, 4)
    )
    assert all((arms.dir / link).is_file() for link in links)
    assert (arms.dir / "figures" / f"arms_0_adoption_{CLAIM}.png").is_file()
