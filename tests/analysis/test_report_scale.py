"""The report stays small and its figures stay cheap however large the run."""

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from socialsim.analysis import report
from socialsim.core.rundata import RunData


def _record(root, n_agents, n_steps, graph=None, claims=("c1",)):
    """A run record in memory: credences rising from a seeded start, agents 0-1 attackers."""
    rng = np.random.default_rng(0)
    start = rng.random(n_agents) * 0.4
    frames = [
        pd.DataFrame(
            {
                "step": s,
                "agent": np.arange(n_agents),
                "claim": claim,
                "credence": np.minimum(1.0, start + s / max(n_steps, 1)),
            }
        )
        for claim in claims
        for s in range(n_steps + 1)
    ]
    roles = [
        {"run": "r", "step": 0, "kind": "action", "agent": a, "payload.type": "role"}
        for a in (0, 1)
    ]
    message = {
        "run": "r",
        "step": 1,
        "kind": "message",
        "agent": 0,
        "payload.text": "<b>x</b>",
        "payload.recipients": list(range(50)),
    }
    events = pd.DataFrame([*roles, message])
    for col in ("time", "target", "claim"):
        events[col] = None
    return RunData(
        path=root,
        events=events,
        agents=pd.concat(frames, ignore_index=True),
        graph=graph,
        config={"name": "scale", "seed": 3},
    )


@pytest.mark.slow
def test_a_large_network_is_drawn_as_a_seeded_sample(tmp_path):
    n = 100_000
    data = _record(tmp_path, n, 2, graph=nx.cycle_graph(n))
    summary = {"run": {"seed": 3, "agents": n}, "populations": {"all": n, "benign": n - 2}}
    page = report.write_report(tmp_path, data=data, summary=summary).read_text(encoding="utf-8")
    assert len(page.encode()) < report.MAX_PAGE_BYTES
    assert "seeded sample of 2,000 of 100,000 agents; agents with a role are outlined." in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 ..." in page


@pytest.mark.slow
def test_long_runs_many_claims_and_many_measures_stay_under_the_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "MAX_CLAIMS", 2)
    steps = 800
    claims = [f"claim_{i}" for i in range(report.MAX_CLAIMS + 1)]
    data = _record(tmp_path, 12, steps, graph=nx.path_graph(12), claims=claims)
    by_step = [
        {"step": s, "calls": 12, "cached": 0, "repaired": s % 2, "unusable": s % 3}
        for s in range(steps + 1)
    ]
    measures = {"claims": {c: {f"m{i}": i / 7 for i in range(1000)} for c in claims}}
    summary = {"data_quality": {"calls": 12 * steps, "by_step": by_step}, "measures": measures}
    page = report.write_report(tmp_path, data=data, summary=summary).read_text(encoding="utf-8")
    assert len(page.encode()) < report.MAX_PAGE_BYTES
    assert f"({len(claims) * 1000 - report.MEASURE_ROWS} more values)" in page
    assert f"({report.STEP_ROWS} of {steps + 1} steps, evenly spaced)" in page
    drawn = {p.stem for p in (tmp_path / "figures").glob("adoption_*.png")}
    assert drawn == {f"adoption_{c}" for c in claims[: report.MAX_CLAIMS]}
