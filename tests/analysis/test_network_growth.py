"""Network growth measures on a hand-built five-agent follow log, power-law fits, the report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import socialsim.scenarios.network_growth.measures  # noqa: F401 - registers the measure and report part
from socialsim.analysis.power_law import power_law_alpha, power_law_fit
from socialsim.core.rundata import RunData
from socialsim.scenarios.network_growth.measures import (
    choice_counts,
    follow_graph,
    friendship_paradox_in,
    growth_series,
    in_degrees,
    network_growth_part,
    network_growth_summary,
    out_degrees,
    reciprocity,
)

from .tables import frame


def action(step, agent, type_, target=None, **more):
    return {"step": step, "kind": "action", "agent": agent, "target": target,
            "payload": {"type": type_, **more}}  # fmt: skip


def five_agent_log() -> pd.DataFrame:
    """0->1, 0->2, 1->2, 2->0, 3->2, 4->3 at step 0; 4->2 at step 1; 4 unfollows 3 at step 2."""
    rows = [action(0, a, "joined") for a in range(5)]
    rows += [action(0, a, "follow_choice", status="answered", by="rule") for a in range(4)]
    rows += [action(0, 4, "follow_choice", status="failed", by="llm")]
    rows += [action(0, a, "follow", t) for a, t in [(0, 1), (0, 2), (1, 2), (2, 0), (3, 2), (4, 3)]]
    rows += [action(1, 4, "follow", 2), action(2, 4, "unfollow", 3)]
    return frame(rows)


PERSONAS = pd.DataFrame({"agent": range(5), "political_leaning": ["L", "L", "R", "R", "L"]})


def test_the_follow_graph_is_rebuilt_at_any_step():
    events = five_agent_log()
    final = follow_graph(events, 5)
    assert sorted(zip(final.src, final.dst, strict=True)) == [
        (0, 1), (0, 2), (1, 2), (2, 0), (3, 2), (4, 2)
    ]  # fmt: skip
    assert follow_graph(events, 5, step=1).n_edges == 7
    assert in_degrees(final).tolist() == [1, 1, 4, 0, 0]
    assert out_degrees(final).tolist() == [2, 1, 1, 1, 1]


def test_friendship_paradox_on_followers_by_hand():
    # followees' mean followers: 0: (1 + 4) / 2, 1: 4, 2: 1, 3: 4, 4: 4; own: 1, 1, 4, 0, 0
    fp = friendship_paradox_in(follow_graph(five_agent_log(), 5))
    assert fp["agents"] == 5
    assert fp["share"] == pytest.approx(4 / 5)
    assert fp["mean_degree"] == pytest.approx(6 / 5)
    assert fp["mean_neighbour_degree"] == pytest.approx(15.5 / 5)
    assert fp["gap"] == pytest.approx(15.5 / 5 - 6 / 5)


def test_reciprocity_by_hand():
    assert reciprocity(follow_graph(five_agent_log(), 5)) == pytest.approx(2 / 6)
    assert reciprocity(follow_graph(five_agent_log(), 5, step=-1)) is None


def test_summary_homophily_answers_and_series():
    run = RunData(events=five_agent_log(), personas=PERSONAS)
    out = network_growth_summary(run, attributes=["political_leaning"], max_points=10)
    # edge ends (follower, followee): LL LR LR RL RR LR -> same 2/6; margins a = (4/6, 2/6),
    # b = (2/6, 4/6); r = (1/3 - 4/9) / (1 - 4/9) = -0.2
    assert out["homophily"] == {"political_leaning": pytest.approx(-0.2)}
    assert out["answers"]["asked"] == 5 and out["answers"]["failed"] == 1
    assert out["answers"]["by"]["llm"] == {"asked": 1, "answered": 0, "failed": 1}
    assert (out["follows"], out["unfollows"], out["edges"], out["agents_joined"]) == (7, 1, 6, 5)
    assert out["in_degree"]["mean"] == pytest.approx(1.2) and out["in_degree"]["max"] == 4
    assert out["series"]["step"] == [0, 1, 2]
    assert out["series"]["edges"] == [6, 7, 6]
    # step 1: 4 follows 3 (1 follower) and 2 (4): 2.5 -> (2.5 + 4 + 1 + 4 + 2.5) / 5
    assert out["series"]["mean_neighbour_degree"][1] == pytest.approx(14 / 5)
    assert out["series"]["agents"] == [5, 5, 5]


def test_summary_is_empty_without_growth_events():
    assert network_growth_summary(RunData()) == {}
    assert choice_counts(five_agent_log().iloc[:0])["asked"] == 0


def test_series_keeps_at_most_max_points_steps():
    rows = [action(s, s, "joined") for s in range(100)]
    rows += [action(s, s, "follow", 0) for s in range(1, 100)]
    series = growth_series(frame(rows), 100, max_points=7)
    assert len(series) == 7 and series["step"].iloc[0] == 0 and series["step"].iloc[-1] == 99
    assert series["edges"].tolist() == series["step"].tolist()


def discrete_power_law(rng, alpha, k_min, size):
    """Clauset et al. (2009, appendix D): floor((k_min - 1/2)(1 - u)^(-1/(alpha-1)) + 1/2)."""
    u = rng.random(size)
    return np.floor((k_min - 0.5) * (1 - u) ** (-1 / (alpha - 1)) + 0.5).astype(int)


@pytest.mark.parametrize("alpha", [2.2, 2.5, 3.0])
def test_power_law_fit_recovers_a_known_exponent(alpha):
    sample = discrete_power_law(np.random.default_rng(7), alpha, 10, 20_000)
    fit = power_law_fit(sample, k_min=10)
    # standard error (alpha - 1) / sqrt(n) <= 0.015; the discrete approximation's bias at
    # k_min = 10 is well under 1%
    assert fit["alpha"] == pytest.approx(alpha, abs=4 * fit["sigma"] + 0.01 * alpha)
    assert fit["n_tail"] == 20_000 and fit["k_min"] == 10
    assert power_law_alpha(sample, 10) == pytest.approx(fit["alpha"])


def test_power_law_fit_finds_where_the_tail_starts():
    rng = np.random.default_rng(3)
    tail = discrete_power_law(rng, 2.5, 10, 20_000)
    head = rng.integers(1, 10, size=8_000)  # flat below 10: not a power law
    fit = power_law_fit(np.concatenate([tail, head]))
    assert 8 <= fit["k_min"] <= 16
    assert fit["alpha"] == pytest.approx(2.5, abs=0.1)


def test_power_law_fit_needs_a_tail():
    assert power_law_fit(np.array([1, 2, 3]))["alpha"] is None
    assert power_law_fit(np.array([0, 0, 0] * 10))["alpha"] is None


class Figures:
    """Collects what a report part adds."""

    def __init__(self):
        self.names: list[str] = []

    def add(self, name, fig, caption=""):
        assert fig.axes and caption
        self.names.append(name)


def test_report_part_draws_the_paradox_and_the_degree_distributions():
    figs, tables = Figures(), []
    network_growth_part(RunData(events=five_agent_log(), personas=PERSONAS), figs, tables)
    assert figs.names == ["growth_paradox", "growth_degrees"]
    assert [t for t, _ in tables] == ["Follow network over time", "Power-law fits"]
    empty = Figures()
    network_growth_part(RunData(), empty, [])
    assert empty.names == []
