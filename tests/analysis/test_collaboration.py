import pytest

from socialsim.analysis import collaboration, stats

from .tables import action, frame


def trial(condition, models, success, starter=None):
    return action(
        0,
        None,
        "collab_trial",
        trial=0,
        condition=condition,
        models=models,
        starter=starter or models[0],
        success=success,
        turns=4,
        messages=4,
        path_length=5,
        optimal_length=5,
        maze_size=4,
    )


def trials_events():
    rows = []
    rows += [trial("solo", ["big"], s) for s in (True, True, True, False)]  # 3/4
    rows += [trial("solo", ["small"], s) for s in (True, False, False, False)]  # 1/4
    rows += [trial("pair", ["big", "big"], s) for s in (True, False, False, False)]  # 1/4
    rows += [
        trial("pair", ["big", "small"], True, "big"),
        trial("pair", ["big", "small"], True, "big"),
        trial("pair", ["big", "small"], False, "small"),
        trial("pair", ["big", "small"], False, "small"),
    ]
    rows += [trial("relay", ["big", "small"], s, "big") for s in (True, True, True, False)]
    return frame(rows)


def test_success_by_condition_with_wilson():
    table = collaboration.success_by_condition(collaboration.collab_trials(trials_events()))
    table = table.set_index("condition")
    assert table.loc["solo", "k"] == 4 and table.loc["solo", "n"] == 8
    assert table.loc["pair", "rate"] == pytest.approx(3 / 8)
    assert table.loc["relay", "ci_low"] == pytest.approx(stats.wilson_ci(3, 4)[0])


def test_success_by_pairing():
    table = collaboration.success_by_pairing(collaboration.collab_trials(trials_events()))
    rates = {
        (c, p): r
        for c, p, r in zip(table["condition"], table["pairing"], table["rate"], strict=True)
    }
    assert rates[("pair", "big + big")] == 0.25
    assert rates[("pair", "big + small")] == 0.5
    assert rates[("solo", "small")] == 0.25


def test_collaboration_gap_with_newcombe():
    gap = collaboration.collaboration_gap(collaboration.collab_trials(trials_events())).set_index(
        "model"
    )
    assert gap.loc["big", "gap"] == pytest.approx(0.5)
    assert gap.loc["big", "pair_kind"] == "self"
    expected = stats.newcombe_diff_ci(3, 4, 1, 4)
    assert gap.loc["big", "ci_low"] == pytest.approx(expected["ci_low"])
    # "small" never paired with itself: compared with every pair trial it joined (2/4)
    assert gap.loc["small", "pair_kind"] == "any"
    assert gap.loc["small", "pair_rate"] == 0.5


def test_starter_effect_and_relay():
    trials = collaboration.collab_trials(trials_events())
    starter = collaboration.starter_effect(trials).set_index("starter_role")
    # stronger starts: 2/2 pairs + 3/4 relays; weaker starts: 0/2
    assert starter.loc["stronger", "rate"] == pytest.approx(5 / 6)
    assert starter.loc["weaker", "rate"] == 0.0
    relay = collaboration.relay_vs_pair(trials).set_index("pairing")
    assert relay.loc["big + small", "diff"] == pytest.approx(0.25)


def test_gap_matrix_and_summary():
    trials = collaboration.collab_trials(trials_events())
    matrix = collaboration.gap_matrix(trials)
    assert matrix.loc["big", "small"] == 0.5 and matrix.loc["big", "big"] == 0.25
    summary = collaboration.collaboration_summary(trials_events())
    assert summary["n_trials"] == 20
    assert summary["gap"]["big"] == pytest.approx(0.5)
    assert collaboration.collaboration_summary(frame([])) == {}
