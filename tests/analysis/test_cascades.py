import networkx as nx
import pytest

from socialsim.analysis import cascades
from socialsim.simulation.log import flatten_events

from .tables import ev, frame, spread_events


def test_structural_virality_star_and_path():
    star = nx.DiGraph([(0, 1), (0, 2), (0, 3)])
    assert cascades.structural_virality(star) == pytest.approx(1.5)
    path = nx.DiGraph([(0, 1), (1, 2), (2, 3)])
    assert cascades.structural_virality(path) == pytest.approx(10 / 6)
    single = nx.DiGraph()
    single.add_node(7)
    assert cascades.structural_virality(single) == 0.0


def test_structural_virality_matches_networkx_on_random_tree():
    tree = nx.random_labeled_tree(40, seed=3)
    expected = nx.average_shortest_path_length(tree)
    assert cascades.structural_virality(tree) == pytest.approx(expected)


@pytest.mark.parametrize("flat", [False, True])
def test_cascade_tree_from_targets_and_message_fallback(flat):
    events = frame(spread_events())
    events = flatten_events(events) if flat else events
    trees = cascades.cascade_trees(events, "c1")
    assert len(trees) == 1
    tree = trees[0]
    # 0 -> 1 through the belief_change target, 1 -> 2 through the first message from an adopter
    assert sorted(tree.edges) == [(0, 1), (1, 2)]
    assert tree.graph["root"] == 0
    stats = cascades.cascade_stats(tree)
    assert stats == {
        "root": 0,
        "size": 3,
        "depth": 2,
        "max_breadth": 1,
        "structural_virality": pytest.approx(4 / 3),
    }


def test_forest_sizes_breadth_and_summary():
    rows = [
        ev("belief_change", 0, 0, None, "c", old=0, new=1),
        ev("belief_change", 1, 1, 0, "c", old=0, new=1),
        ev("belief_change", 1, 2, 0, "c", old=0, new=1),
        ev("belief_change", 1, 3, 0, "c", old=0, new=1),
        ev("belief_change", 2, 4, 1, "c", old=0, new=1),
        ev("belief_change", 0, 5, None, "c", old=0, new=1),
        ev("belief_change", 3, 6, 9, "c", old=0, new=0.2),  # not an adoption
    ]
    trees = cascades.cascade_trees(frame(rows), "c")
    assert [t.number_of_nodes() for t in trees] == [5, 1]
    table = cascades.cascade_table(trees)
    assert table["depth"].tolist() == [2, 0]
    assert table["max_breadth"].tolist() == [3, 1]
    summary = cascades.cascade_summary(trees)
    assert summary["n_cascades"] == 2 and summary["largest_size"] == 5
    assert summary["mean_size"] == 3.0


def test_parent_must_have_adopted_first():
    rows = [
        ev("belief_change", 0, 1, 2, "c", old=0, new=1),  # names 2, who adopts later
        ev("belief_change", 1, 2, 1, "c", old=0, new=1),
    ]
    trees = cascades.cascade_trees(frame(rows), "c")
    assert [sorted(t.edges) for t in trees] == [[(1, 2)]]


def test_seeded_source_without_adoption_event_is_a_root():
    rows = [ev("belief_change", 1, 4, 7, "c", old=0, new=1)]
    trees = cascades.cascade_trees(frame(rows), "c")
    assert sorted(trees[0].edges) == [(7, 4)] and trees[0].graph["root"] == 7


def test_no_adoptions_no_trees():
    assert cascades.cascade_trees(frame([ev("probe", 0, 1, None, "c")]), "c") == []
    assert cascades.cascade_summary([]) == {"n_cascades": 0}
