"""Reports of runs the model really produced (rule policies), checked against their files."""

import html
import re

import pandas as pd
import pytest

import socialsim as ss
from socialsim.simulation.config import ExperimentConfig

pytestmark = pytest.mark.slow  # each test writes a whole report

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


@pytest.mark.slow
def test_arms_report_compares_the_arms_and_links_the_replicates(arms):
    page = (arms.dir / "report.html").read_text(encoding="utf-8")
    effect = arms.summary["effects"][0]
    label = arms.summary["headline"][0]["label"]
    assert (
        f'<td>{label}<span class="key">{effect["measure"]}</span></td>'
        f"<td>{effect['treatment']:.3g}</td><td>{effect['control']:.3g}</td>" in page
    )
    links = re.findall(r'<a href="([^"]+)">', page)
    assert sorted(links) == sorted(
        f"{arm}/s{seed}/report.html" for arm in ("treatment", "control") for seed in (3, 4)
    )
    assert all((arms.dir / link).is_file() for link in links)
    assert (arms.dir / "figures" / f"arms_0_adoption_{CLAIM}.png").is_file()


STATEMENTS = ("The capital of Australia is Sydney.", "The capital of Australia is Canberra.")


def _finding(page, label):
    start = page.index(f"<h3>{html.escape(label)}")
    return page[start : page.index("</section>", start)]


@pytest.mark.slow
def test_run_report_shows_the_claim_the_design_and_the_probe_figure(one_run, monkeypatch):
    from socialsim.analysis import report

    captured = []
    original = report.plots.probe_answers

    def spy(table, **kwargs):
        captured.append(table)
        return original(table, **kwargs)

    monkeypatch.setattr(report.plots, "probe_answers", spy)
    page = report.write_report(one_run.dir).read_text(encoding="utf-8")
    claim_part = page[page.index("<h2>The claim</h2>") : page.index("<h2>Findings</h2>")]
    assert all(f"&ldquo;{s}&rdquo;" in claim_part for s in STATEMENTS)
    assert "Design: one run of the misinformation scenario, seed 3, with no control arm." in page
    probe = one_run.summary["headline"][1]
    assert probe["measure"].endswith("probes_benign.direct.manipulated_share")
    finding = _finding(page, probe["label"])
    assert f'id="fig-probes_{CLAIM}"' in finding
    assert "fig-adoption" not in finding
    # the bar over all probe steps is the finding's value
    table = captured[0].set_index(["when", "distance"])
    assert table.loc[("all steps", "direct"), "share"] == pytest.approx(probe["value"])
    assert {"step 1", "step 5"} <= set(captured[0]["when"])
    assert not re.search(r"\b1 (seeds|runs|replicates|rows|values|agents|steps|messages)\b", page)


@pytest.mark.slow
def test_arms_pages_state_the_design_and_the_claim(arms):
    page = (arms.dir / "report.html").read_text(encoding="utf-8")
    assert all(f"&ldquo;{s}&rdquo;" in page for s in STATEMENTS)
    assert "2 replicates per arm (seeds 3, 4): 4 runs in all." in page
    findings = page[page.index("<h2>Findings</h2>") : page.index("<h2>Replicates</h2>")]
    # every effect row leads with a label, the raw key beside it in small type
    rows = re.findall(r"<tr><td>(.*?)</td>", findings)
    assert len(rows) == len(arms.summary["effects"]) >= 3
    for row, effect in zip(rows, arms.summary["effects"], strict=True):
        label, key = re.match(r'(.*)<span class="key">(.*)</span>', row).groups()
        assert key == effect["measure"] and label and not label.startswith("claims.")
    sub = (arms.dir / "treatment" / "s3" / "report.html").read_text(encoding="utf-8")
    assert "Design: the treatment arm (seed 3) of an arms run of the misinformation scenario" in (
        sub
    )
    assert "treatment and control arms, 2 replicates: seeds 3, 4" in sub
    assert f"&ldquo;{STATEMENTS[0]}&rdquo;" in sub


@pytest.mark.slow
def test_one_replicate_arms_page_shows_no_interval(tmp_path):
    arms = ss.run(_cfg(tmp_path, replicates=1, control=True), out=tmp_path / "arms1")
    page = (arms.dir / "report.html").read_text(encoding="utf-8")
    findings = page[page.index("<h2>Findings</h2>") : page.index("<h2>Replicates</h2>")]
    assert "95% interval " not in findings
    assert findings.count("<b>no interval</b>: 1 replicate") == len(arms.summary["headline"])
    assert "1 seed; treatment: 1 run, control: 1 run" in page
    assert "1 replicate per arm (seed 3): 2 runs in all." in page
    assert not re.search(r"\b1 (seeds|runs|replicates|rows|values)\b", page)
