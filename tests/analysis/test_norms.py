import networkx as nx
import pytest

from socialsim.analysis import norms
from socialsim.simulation.log import flatten_events

from .tables import action, frame


def choice(agent, label, culture="X", pressure=False, share=None):
    return action(
        0,
        agent,
        "norm_choice",
        frame_id="f",
        setting="restaurant",
        culture=culture,
        category="politeness",
        role="guest",
        behaviour="b",
        label=label,
        social_pressure=pressure,
        neighbours_violating=share,
        violator=False,
    )


def choices_events():
    return frame(
        [
            choice(0, "expected", "X"),
            choice(1, "okay", "X"),
            choice(2, "unexpected", "Y"),
            choice(3, "expected", "Y", pressure=True, share=0.0),
            choice(4, "unexpected", "Y", pressure=True, share=1.0),
            choice(5, "unexpected", "Y", pressure=True, share=0.75),
            action(
                1,
                0,
                "norm_judgement",
                frame_id="f",
                judged_agent=1,
                behaviour="b",
                judged_label="expected",
                true_label="expected",
            ),
            action(
                1,
                1,
                "norm_judgement",
                frame_id="f",
                judged_agent=2,
                behaviour="b",
                judged_label="okay",
                true_label="okay",
            ),
            action(
                1,
                2,
                "norm_judgement",
                frame_id="f",
                judged_agent=3,
                behaviour="b",
                judged_label="expected",
                true_label="unexpected",
            ),
            action(
                1,
                3,
                "norm_judgement",
                frame_id="f",
                judged_agent=4,
                behaviour="b",
                judged_label="unexpected",
                true_label="unexpected",
            ),
            action(
                1,
                4,
                "norm_judgement",
                frame_id="f",
                judged_agent=5,
                behaviour="b",
                judged_label="okay",
                true_label="unexpected",
            ),
        ]
    )


@pytest.mark.parametrize("flat", [False, True])
def test_adherence_overall_and_by_culture(flat):
    events = choices_events()
    events = flatten_events(events) if flat else events
    table = norms.norm_choices(events)
    assert table["adherent"].tolist() == [1, 1, 0, 1, 0, 0]
    assert norms.adherence(table)["rate"].iloc[0] == 0.5
    by = norms.adherence(table, "culture").set_index("culture")
    assert by.loc["X", "rate"] == 1.0 and by.loc["Y", "rate"] == 0.25
    assert by.loc["Y", "n"] == 4


def test_pressure_split_by_what_neighbours_did():
    out = norms.pressure_effect(norms.norm_choices(choices_events())).set_index("condition")
    assert out.loc["no_pressure", "rate"] == pytest.approx(2 / 3)
    assert out.loc["pressure_neighbours_followed", "rate"] == 1.0
    assert out.loc["pressure_neighbours_broke", "rate"] == 0.0
    assert out.loc["pressure_neighbours_broke", "n"] == 2


def test_adherence_by_persona_attribute():
    graph = nx.path_graph(6)
    nx.set_node_attributes(graph, {i: ("young" if i < 3 else "old") for i in range(6)}, "age")
    out = norms.adherence_by_attribute(norms.norm_choices(choices_events()), graph, "age")
    rates = dict(zip(out["age"], out["rate"], strict=True))
    assert rates == {"old": pytest.approx(1 / 3), "young": pytest.approx(2 / 3)}


def test_violation_clustering_on_two_camps():
    # 0-1-2 adhere, 3-4-5 violate; a path 0..5 puts violators next to violators
    rows = [choice(i, "expected" if i < 3 else "unexpected") for i in range(6)]
    out = norms.violation_clustering(norms.norm_choices(frame(rows)), nx.path_graph(6))
    assert out["n_agents"] == 6
    assert out["correlation"] > 0.5
    assert out["assortativity"] > 0.5


def test_judge_accuracy_reports_following_and_breaking_separately():
    out = norms.judge_accuracy(choices_events()).set_index("truth")
    assert out.loc["overall", "rate"] == pytest.approx(3 / 5)
    assert out.loc["norm_following", "rate"] == 1.0 and out.loc["norm_following", "n"] == 2
    assert out.loc["norm_breaking", "rate"] == pytest.approx(1 / 3)


def test_norms_summary():
    out = norms.norms_summary(choices_events(), nx.path_graph(6))
    assert out["adherence"]["overall"] == 0.5
    assert out["adherence"]["culture"] == {"X": 1.0, "Y": 0.25}
    assert out["judge_accuracy"]["norm_breaking"] == pytest.approx(1 / 3)
    assert norms.norms_summary(frame([])) == {}
