import networkx as nx
import numpy as np
import pandas as pd
import pytest

from socialsim.analysis import cascades

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


def test_cascade_tree_from_targets_and_message_fallback():
    events = frame(spread_events())
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


def _random_forest_events(seed: int, n: int) -> list[dict]:
    """Adoptions in steps; each names an earlier adopter (or nobody) as its source."""
    rng = np.random.default_rng(seed)
    rows = []
    for agent in range(n):
        step = agent // 5
        earlier = [a for a in range(agent) if a // 5 < step]
        source = int(rng.choice(earlier)) if earlier and rng.random() < 0.85 else None
        rows.append(ev("belief_change", step, agent, source, "c", old=0.0, new=1.0))
    return rows


@pytest.mark.parametrize("seed", range(4))
def test_forest_table_equals_tree_by_tree(seed):
    events = frame(_random_forest_events(seed, 60 + 40 * seed))
    trees = cascades.cascade_trees(events, "c")
    by_tree = cascades.cascade_table(trees)
    whole = cascades.forest_table(cascades.cascade_parents(events, "c"))
    pd.testing.assert_frame_equal(whole, by_tree, check_dtype=False)
    for tree in trees:
        if tree.number_of_nodes() > 1:
            expected = nx.average_shortest_path_length(tree.to_undirected())
            assert cascades.structural_virality(tree) == pytest.approx(expected)
    assert cascades.forest_summary(cascades.cascade_parents(events, "c")) == (
        cascades.cascade_summary(trees)
    )


def test_forest_table_by_hand():
    # 0 -> 1 -> 2 -> 3 (a path: virality 10/6) and 4 -> {5, 6} (a star: 8/6 = 4/3)
    parents = pd.DataFrame(
        {
            "agent": [0, 1, 2, 3, 4, 5, 6],
            "step": [0, 1, 2, 3, 0, 1, 1],
            "parent": [np.nan, 0, 1, 2, np.nan, 4, 4],
        }
    )
    table = cascades.forest_table(parents)
    assert table["root"].tolist() == [0, 4]
    assert table["size"].tolist() == [4, 3]
    assert table["depth"].tolist() == [3, 1]
    assert table["max_breadth"].tolist() == [1, 2]
    assert table["structural_virality"].tolist() == pytest.approx([10 / 6, 4 / 3])
    summary = cascades.forest_summary(parents)
    assert summary["n_cascades"] == 2 and summary["max_breadth"] == 2
    assert summary["mean_virality_multi"] == pytest.approx((10 / 6 + 4 / 3) / 2)
    assert cascades.forest_summary(parents.iloc[0:0]) == {"n_cascades": 0}
