import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from socialsim.analysis import measures, spread
from socialsim.core import rundata

from .tables import ev, frame, spread_events

# The record of tests/analysis/tables.py: claim c1 on a path 0-1-2-3; credences per agent and
# step 0..3 (agents table): 0: .9 .9 .9 .9, 1: .2 .8 .8 .8, 2: .1 .1 .7 .7, 3: .0 .0 .0 .3


@pytest.fixture
def events():
    return frame(spread_events())


@pytest.fixture
def run(run_dir):
    return rundata.load_run(run_dir)


def test_adoption_curve_on_five_row_agents_table():
    agents = pd.DataFrame(
        {
            "step": [0, 0, 1, 1, 2],
            "agent": [0, 1, 0, 1, 0],
            "claim": ["c1"] * 5,
            "credence": [0.2, 0.7, 0.6, 0.8, 0.3],
        }
    )
    curve = spread.adoption_curve(agents, "c1")
    assert curve["step"].tolist() == [0, 1, 2]
    # a plain table missing agent 1 at step 2 counts the agents it has at each step
    assert curve["adopted"].tolist() == [1, 2, 0]
    assert curve["n"].tolist() == [2, 2, 1]
    assert curve["share"].tolist() == [0.5, 1.0, 0.0]
    assert curve["probe_manipulated_share"].isna().all()


def test_adoption_curve_threshold_and_n_agents():
    agents = pd.DataFrame(
        {"step": [0, 0], "agent": [0, 1], "claim": ["c1", "c1"], "credence": [0.5, 0.49]}
    )
    assert spread.adoption_curve(agents, "c1")["share"].tolist() == [0.5]
    assert spread.adoption_curve(agents, "c1", threshold=0.4)["share"].tolist() == [1.0]
    assert spread.adoption_curve(agents, "c1", n_agents=4)["share"].tolist() == [0.25]


def test_adoption_curve_refuses_the_event_log(events):
    with pytest.raises(TypeError, match="agents table"):
        spread.adoption_curve(events, "c1")


def test_adoption_curve_of_a_run_with_probe_share(run):
    curve = spread.adoption_curve(run, "c1")
    # agent 0 is removed at step 2 (an attacker leaving): n drops from 4 to 3
    assert curve["n"].tolist() == [4, 4, 3, 3]
    assert curve["adopted"].tolist() == [1, 2, 2, 2]
    assert curve["share"].tolist() == pytest.approx([0.25, 0.5, 2 / 3, 2 / 3])
    assert curve["mean_credence"].iloc[0] == pytest.approx((0.9 + 0.2 + 0.1 + 0.0) / 4)
    probes = curve["probe_manipulated_share"].tolist()
    assert probes[1] == 0.5 and probes[3] == 0.5
    assert math.isnan(probes[0]) and math.isnan(probes[2])


def test_reach_stats(run):
    stats = spread.reach_stats(spread.adoption_curve(run, "c1"))
    assert stats["final_reach"] == pytest.approx(2 / 3) and stats["initial_reach"] == 0.25
    assert stats["peak"] == pytest.approx(2 / 3) and stats["peak_step"] == 2
    assert (stats["time_to_10"], stats["time_to_50"], stats["time_to_90"]) == (0, 1, 2)
    assert stats["n"] == 3


def test_exposures_read_claim_column_and_payload_claims(events):
    exp = spread.exposures(events, "c1")
    assert sorted(zip(exp["step"], exp["sender"].astype(int), exp["recipient"], strict=True)) == [
        (0, 0, 1),
        (1, 1, 0),
        (1, 1, 2),
        (2, 2, 3),
    ]
    assert spread.exposures(events, "c9").empty


def test_exposure_adoption_conversion(run):
    out = spread.exposure_adoption(run, "c1")
    # exposed {0, 1, 2, 3}; final adopters {0, 1, 2}
    assert out["n_exposed"] == 4
    assert out["n_adopters"] == 3
    assert out["conversion_rate"] == 0.75
    assert out["adoption_rate_unexposed"] is None


def test_conversion_with_unexposed_agents():
    agents = pd.DataFrame(
        {"step": [0] * 4, "agent": [0, 1, 2, 3], "claim": ["c1"] * 4,
         "credence": [0.9, 0.1, 0.6, 0.2]}
    )  # fmt: skip
    events = frame([ev("message", 0, 9, 0, "c1", recipients=[0, 1], claims=["c1"])])
    out = spread.exposure_adoption(rundata.RunData(events=events, agents=agents), "c1")
    assert out["conversion_rate"] == 0.5  # exposed {0, 1}, adopted {0}
    assert out["adoption_rate_unexposed"] == 0.5  # unexposed {2, 3}, adopted {2}


def test_persistence_after_removal(run):
    out = spread.persistence(run, "c1")
    assert out["removal_step"] == 2
    # before step 2 (after step 1): 0 and 1 of 4 believe; at the end 1 and 2 of the 3 left
    assert out["reach_at_removal"] == 0.5 and out["reach_final"] == pytest.approx(2 / 3)
    # one direct probe of two manipulated before; one indirect of two after
    assert out["probe_manipulated_before"] == {"direct": 0.5}
    assert out["probe_manipulated_after"] == {"indirect": 0.5}


def test_persistence_reports_probes_per_distance_never_pooled(run):
    # agents 1 and 2 answer the direct probe the manipulated way before and after the
    # attackers leave; their peripheral answers (not about the claim) never are
    rows = [ev("action", 2, 0, None, None, type="removed", role="attacker")]
    for step in (1, 3):
        for agent in (1, 2):
            for distance, manipulated in (("direct", True), ("peripheral", False)):
                rows.append(
                    ev("probe", step, agent, None, "c1", distance=distance, status="answered",
                       correct=not manipulated, manipulated=manipulated, credence=0.8)
                )  # fmt: skip
    run.events = frame(rows)
    run.cache.clear()
    out = spread.persistence(run, "c1")
    assert out["probe_manipulated_before"] == {"direct": 1.0, "peripheral": 0.0}
    assert out["probe_manipulated_after"] == {"direct": 1.0, "peripheral": 0.0}


def test_persistence_without_removal_reports_none():
    data = rundata.RunData(events=frame([ev("probe", 0, 1, None, "c1", manipulated=True)]))
    assert spread.persistence(data, "c1") == {"removal_step": None}


def test_disagreement_over_edges_between_present_agents(run):
    dis = spread.disagreement(run, "c1", nx.path_graph(4))
    assert dis["disagreement"].iloc[0] == pytest.approx((0.7 + 0.1 + 0.1) / 3)
    assert dis["disagreement"].iloc[1] == pytest.approx((0.1 + 0.7 + 0.1) / 3)
    # agent 0 left at step 2: its edge 0-1 no longer counts (its frozen 0.9 would add 0.1)
    assert dis["disagreement"].iloc[2] == pytest.approx((0.1 + 0.7) / 2)
    assert dis["disagreement"].iloc[-1] == pytest.approx((0.1 + 0.4) / 2)
    # a plain agents table knows nothing of removals: every edge counts
    plain = spread.disagreement(run.agents, "c1", nx.path_graph(4))
    assert plain["disagreement"].iloc[-1] == pytest.approx((0.1 + 0.1 + 0.4) / 3)


def test_bimodality_coefficient():
    assert math.isnan(spread.bimodality_coefficient([0.1, 0.9, 0.5]))
    assert math.isnan(spread.bimodality_coefficient([0.5] * 10))
    two_camps = [0.0] * 10 + [1.0] * 10
    assert spread.bimodality_coefficient(two_camps) > 5 / 9
    unimodal = np.random.default_rng(0).normal(0.5, 0.1, 500)
    assert spread.bimodality_coefficient(unimodal) < 5 / 9


def test_bimodality_matches_hand_formula():
    x = np.array([0.0, 0.1, 0.2, 0.9, 1.0, 1.0])
    n = x.size
    m = x.mean()
    m2, m3, m4 = ((x - m) ** 2).mean(), ((x - m) ** 3).mean(), ((x - m) ** 4).mean()
    g1 = m3 / m2**1.5
    g = g1 * math.sqrt(n * (n - 1)) / (n - 2)
    g2 = m4 / m2**2 - 3
    k = ((n + 1) * g2 + 6) * (n - 1) / ((n - 2) * (n - 3))
    expected = (g**2 + 1) / (k + 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))
    assert spread.bimodality_coefficient(x) == pytest.approx(expected)


def test_polarization_per_step_over_present_agents(run):
    pol = spread.polarization(run, "c1")
    assert pol["step"].tolist() == [0, 1, 2, 3]
    assert pol["mean"].iloc[1] == pytest.approx((0.9 + 0.8 + 0.1 + 0.0) / 4)
    # agent 0 left at step 2: its credence is out of the last step's camps
    assert pol["mean"].iloc[-1] == pytest.approx((0.8 + 0.7 + 0.3) / 3)
    assert pol["std"].iloc[-1] == pytest.approx(np.std([0.8, 0.7, 0.3]))


def test_final_disagreement_and_bimodality_leave_removed_agents_out():
    # six agents on a path; agent 0 (credence 1, an attacker) leaves at step 1
    steps = {0: [1.0, 0.0, 1.0, 0.0, 1.0, 0.0], 1: [1.0, 0.1, 0.9, 0.1, 0.9, 0.2]}
    agents = pd.DataFrame(
        [(s, a, "c1", c) for s, row in steps.items() for a, c in enumerate(row)],
        columns=["step", "agent", "claim", "credence"],
    )
    events = frame([ev("action", 1, 0, None, None, type="removed", role="attacker")])
    data = rundata.RunData(events=events, agents=agents, graph=nx.path_graph(6))
    m = measures.claim_measures(data, "c1", rundata.populations(data))
    left = steps[1][1:]
    assert m["disagreement_final"] == pytest.approx(np.mean(np.abs(np.diff(left))))
    assert m["bimodality_final"] == pytest.approx(spread.bimodality_coefficient(left))
    assert m["bimodality_final"] != pytest.approx(spread.bimodality_coefficient(steps[1]))


def test_probe_accuracy_by_distance(events):
    table = spread.probe_accuracy(events, "c1")
    assert table["distance"].tolist() == ["direct", "indirect"]
    assert table["asked"].tolist() == [2, 2] and table["failed"].tolist() == [0, 0]
    assert table["accuracy"].tolist() == [0.5, 0.5]


def test_failed_probes_are_counted_not_scored():
    rows = [
        ev("probe", 1, 0, None, "c1", distance="direct", status="answered", answer="A",
           correct=True, manipulated=False, credence=0.1),
        ev("probe", 1, 1, None, "c1", distance="direct", status="failed", answer=None,
           correct=None, manipulated=None, credence=0.9, error="invalid JSON"),
    ]  # fmt: skip
    table = frame(rows)
    out = spread.probe_accuracy(table, "c1")
    assert out[["asked", "answered", "failed"]].iloc[0].tolist() == [2, 1, 1]
    assert out["accuracy"].iloc[0] == 1.0 and out["manipulated_share"].iloc[0] == 0.0
    assert spread.credence_probe_gap(table, "c1")["n"] == 1


def test_credence_probe_gap(events):
    gap = spread.credence_probe_gap(events, "c1")
    assert gap["n"] == 4
    assert gap["disagreement"] == 0.25
    assert gap["mean_abs_gap"] == pytest.approx(1.3 / 4)


def test_adoption_by_group_and_attribute(run):
    graph = nx.path_graph(4)
    nx.set_node_attributes(graph, {0: "A", 1: "A", 2: "B", 3: "B"}, "country")
    table = spread.adoption_by_attribute(run, "c1", graph, "country")
    assert dict(zip(table["group"], table["share"], strict=True)) == {"A": 1.0, "B": 0.5}
    nx.set_node_attributes(graph, {0: 0, 1: 0, 2: 0, 3: 1}, "community")
    assert spread.communities(graph) == {0: 0, 1: 0, 2: 0, 3: 1}
    by_comm = spread.adoption_by_group(run, "c1", spread.communities(graph))
    assert by_comm["share"].tolist() == [1.0, 0.0]


def test_communities_by_modularity_when_no_attribute():
    graph = nx.barbell_graph(5, 0)
    parts = spread.communities(graph)
    assert parts[0] == parts[4] and parts[5] == parts[9] and parts[0] != parts[9]
