import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from socialsim.analysis import spread
from socialsim.simulation.log import flatten_events

from .tables import ev, frame, spread_events


@pytest.fixture(params=["raw", "flat"])
def events(request):
    table = frame(spread_events())
    return table if request.param == "raw" else flatten_events(table)


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
    # agent 1 keeps 0.8 at step 2 (carried forward)
    assert curve["adopted"].tolist() == [1, 2, 1]
    assert curve["share"].tolist() == [0.5, 1.0, 0.5]
    assert curve["probe_manipulated_share"].isna().all()


def test_adoption_curve_threshold_and_n_agents():
    agents = pd.DataFrame(
        {"step": [0, 0], "agent": [0, 1], "claim": ["c1", "c1"], "credence": [0.5, 0.49]}
    )
    assert spread.adoption_curve(agents, "c1")["share"].tolist() == [0.5]
    assert spread.adoption_curve(agents, "c1", threshold=0.4)["share"].tolist() == [1.0]
    assert spread.adoption_curve(agents, "c1", n_agents=4)["share"].tolist() == [0.25]


def test_adoption_curve_from_events_with_probe_share(events):
    curve = spread.adoption_curve(events, "c1")
    assert curve["share"].tolist() == [0.25, 0.5, 0.75, 0.75]
    probes = curve["probe_manipulated_share"].tolist()
    assert probes[1] == 0.5 and probes[3] == 0.5
    assert math.isnan(probes[0]) and math.isnan(probes[2])


def test_reach_stats(events):
    stats = spread.reach_stats(spread.adoption_curve(events, "c1"))
    assert stats["final_reach"] == 0.75
    assert stats["peak"] == 0.75 and stats["peak_step"] == 2
    assert (stats["time_to_10"], stats["time_to_50"], stats["time_to_90"]) == (0, 1, 2)


def test_exposures_read_claim_column_and_payload_claims(events):
    exp = spread.exposures(events, "c1")
    assert sorted(zip(exp["step"], exp["sender"].astype(int), exp["recipient"], strict=True)) == [
        (0, 0, 1),
        (1, 1, 0),
        (1, 1, 2),
        (2, 2, 3),
    ]
    assert spread.exposures(events, "c9").empty


def test_exposure_adoption_conversion(events):
    out = spread.exposure_adoption(events, "c1")
    assert out["n_exposed"] == 4
    assert out["n_adopters"] == 3
    assert out["conversion_rate"] == 0.75
    assert out["adoption_rate_unexposed"] is None


def test_conversion_with_unexposed_agents():
    rows = [
        ev("belief_change", 0, 0, None, "c1", old=0.0, new=0.9),
        ev("belief_change", 0, 1, None, "c1", old=0.0, new=0.1),
        ev("belief_change", 0, 2, None, "c1", old=0.0, new=0.6),
        ev("belief_change", 0, 3, None, "c1", old=0.0, new=0.2),
        ev("message", 0, 9, 0, "c1", recipients=[0, 1], claims=["c1"]),
    ]
    out = spread.exposure_adoption(frame(rows), "c1")
    assert out["conversion_rate"] == 0.5  # exposed {0, 1}, adopted {0}
    assert out["adoption_rate_unexposed"] == 0.5  # unexposed {2, 3}, adopted {2}


def test_persistence_after_removal(events):
    out = spread.persistence(events, "c1")
    assert out["removal_step"] == 2
    assert out["reach_at_removal"] == 0.75 and out["reach_final"] == 0.75
    assert out["probe_manipulated_before"] == 0.5 and out["probe_manipulated_after"] == 0.5


def test_persistence_without_removal_reports_none():
    assert spread.persistence(frame([ev("probe", 0, 1, None, "c1", manipulated=True)]), "c1") == {
        "removal_step": None
    }


def test_disagreement_over_edges(events):
    dis = spread.disagreement(events, "c1", nx.path_graph(4))
    assert dis["disagreement"].iloc[0] == pytest.approx(0.9 / 3)
    assert dis["disagreement"].iloc[-1] == pytest.approx(0.6 / 3)


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


def test_polarization_per_step(events):
    pol = spread.polarization(events, "c1")
    assert pol["step"].tolist() == [0, 1, 2, 3]
    assert pol["mean"].iloc[-1] == pytest.approx((0.9 + 0.8 + 0.7 + 0.3) / 4)


def test_probe_accuracy_by_distance(events):
    table = spread.probe_accuracy(events, "c1")
    assert table["distance"].tolist() == ["direct", "indirect"]
    assert table["n"].tolist() == [2, 2]
    assert table["accuracy"].tolist() == [0.5, 0.5]


def test_credence_probe_gap(events):
    gap = spread.credence_probe_gap(events, "c1")
    assert gap["n"] == 4
    assert gap["disagreement"] == 0.25
    assert gap["mean_abs_gap"] == pytest.approx(1.3 / 4)


def test_adoption_by_group_and_attribute(events):
    graph = nx.path_graph(4)
    nx.set_node_attributes(graph, {0: "A", 1: "A", 2: "B", 3: "B"}, "country")
    table = spread.adoption_by_attribute(events, "c1", graph, "country")
    assert dict(zip(table["group"], table["share"], strict=True)) == {"A": 1.0, "B": 0.5}
    nx.set_node_attributes(graph, {0: 0, 1: 0, 2: 0, 3: 1}, "community")
    assert spread.communities(graph) == {0: 0, 1: 0, 2: 0, 3: 1}
    by_comm = spread.adoption_by_group(events, "c1", spread.communities(graph))
    assert by_comm["share"].tolist() == [1.0, 0.0]


def test_communities_by_modularity_when_no_attribute():
    graph = nx.barbell_graph(5, 0)
    parts = spread.communities(graph)
    assert parts[0] == parts[4] and parts[5] == parts[9] and parts[0] != parts[9]
