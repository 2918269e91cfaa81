"""Mazes: seeded generation, views and text maps, the grader, path extraction, the BFS baseline."""

from __future__ import annotations

import numpy as np
import pytest

from socialsim.core.errors import ConfigError
from socialsim.scenarios.collaboration.maze import (
    MOVES,
    Maze,
    baseline_message,
    bfs_path,
    extract_path,
    generate_maze,
    grade,
    optimal_path,
    parse_map,
    segment,
    solo_view,
    split_views,
)


def corridor() -> Maze:
    """A hand-built 3x2 maze: S at (0,0), G at (1,2); open: (0,0)-(0,1)-(0,2)-(1,2), (1,0)-(1,1)."""
    passages = frozenset(
        {
            segment((0, 0), (0, 1)),
            segment((0, 1), (0, 2)),
            segment((0, 2), (1, 2)),
            segment((1, 0), (1, 1)),
            segment((0, 0), (1, 0)),
        }
    )
    return Maze(3, 2, passages, (0, 0), (1, 2))


def test_same_seed_same_maze_and_seeds_differ():
    a = generate_maze(7, 5, 42)
    b = generate_maze(7, 5, np.random.default_rng(42))
    assert a == b
    others = {generate_maze(7, 5, s).passages for s in range(5)}
    assert len(others) > 1


@pytest.mark.parametrize("width,height", [(2, 1), (1, 5), (3, 3), (8, 4), (12, 12)])
def test_generated_mazes_are_perfect_and_solvable(width, height):
    for seed in range(20):
        maze = generate_maze(width, height, seed)
        assert len(maze.passages) == width * height - 1  # a spanning tree
        path = optimal_path(maze)
        assert grade(maze, path).success


def test_extra_openings_add_passages_and_keep_bfs_optimal():
    plain = generate_maze(8, 8, 3)
    loose = generate_maze(8, 8, 3, extra_openings=0.5)
    assert len(loose.passages) > len(plain.passages)
    assert len(optimal_path(loose)) <= len(optimal_path(plain))


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        ({"width": 1, "height": 1}, "fewer than 2 cells"),
        ({"width": 3, "height": 3, "start": (1, 1), "goal": (1, 1)}, "same cell"),
    ],
)
def test_too_small_or_degenerate_maze_is_a_one_line_config_error(kwargs, needle):
    with pytest.raises(ConfigError) as err:
        generate_maze(rng=0, **kwargs)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_render_and_parse_round_trip_full_map():
    maze = generate_maze(6, 4, 9)
    known = parse_map("Here it is:\n" + maze.render() + "\nthanks", 6, 4)
    assert known == {s: s in maze.passages for s in maze.segments()}


def test_region_views_split_left_right_and_together_know_every_wall():
    maze = generate_maze(6, 5, 1)
    a, b = split_views(maze, "region")
    assert {c for r, c in a.visible} == {0, 1, 2} and {c for r, c in b.visible} == {3, 4, 5}
    assert set(a.known()) | set(b.known()) == set(maze.segments())
    assert set(a.known()) != set(maze.segments())
    assert "?" in a.render()
    assert parse_map(a.render(), 6, 5) == a.known()


def test_mask_views_are_complementary_and_seeded():
    maze = generate_maze(5, 5, 2)
    a1, b1 = split_views(maze, "mask", np.random.default_rng(7))
    a2, _ = split_views(maze, "mask", np.random.default_rng(7))
    assert a1.visible == a2.visible
    assert a1.visible and b1.visible and not (a1.visible & b1.visible)
    assert set(a1.known()) | set(b1.known()) == set(maze.segments())


def test_grader_accepts_valid_paths_in_both_forms():
    maze = corridor()
    assert grade(maze, ["R", "R", "D"]).success
    by_cells = grade(maze, [(0, 0), (0, 1), (0, 2), (1, 2)])
    assert by_cells.success and by_cells.length == 3 and by_cells.optimal_length == 3
    # the start cell may be left out of a cell list
    assert grade(maze, [(0, 1), (0, 2), (1, 2)]).success


@pytest.mark.parametrize(
    "path,error",
    [
        (["D", "R", "R"], "wall"),  # (1,1)-(1,2) is walled
        (["U"], "leaves the maze"),
        ([(0, 0), (0, 2), (1, 2)], "not between neighbouring cells"),
        (["R", "X"], "not one of U, D, L, R"),
        (None, "no path"),
    ],
)
def test_grader_rejects_illegal_moves(path, error):
    verdict = grade(corridor(), path)
    assert not verdict.valid and not verdict.success and error in verdict.error


def test_grader_marks_a_legal_path_that_stops_short():
    verdict = grade(corridor(), ["R", "R"])
    assert verdict.valid and not verdict.reaches_goal and "not at the goal" in verdict.error


@pytest.mark.parametrize(
    "text,expected",
    [
        ("PATH: R R D L", ["R", "R", "D", "L"]),
        ("We should go right, right, down.", ["R", "R", "D"]),
        ("RRDDL", ["R", "R", "D", "D", "L"]),
        ("go 2 right then down then left", ["R", "R", "D", "L"]),
        ("Down x2, right", ["D", "D", "R"]),
        ("(0,0)->(0,1)->(1,1)", [(0, 0), (0, 1), (1, 1)]),
        ("cells (0, 0), (1, 0), (2, 0)", [(0, 0), (1, 0), (2, 0)]),
        ("path: down", ["D"]),
    ],
)
def test_extract_path_reads_free_text_forms(text, expected):
    assert extract_path(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I see walls on the left side.",
        "Right, right, I agree with you.",
        "S is at (0,0) and G at (4,4).",
        "",
    ],
)
def test_extract_path_ignores_text_without_a_path(text):
    assert extract_path(text) is None


def test_extract_path_takes_the_last_statement():
    text = "First I thought R R D D. Then I saw the wall, so the path is D D R R."
    assert extract_path(text) == ["D", "D", "R", "R"]


def test_bfs_on_known_segments_only():
    maze = corridor()
    assert bfs_path(maze) == ["R", "R", "D"]
    assert bfs_path(maze, {segment((0, 0), (0, 1))}) is None


def play_baselines(maze: Maze, split: str, seed: int, max_turns: int = 6) -> tuple[list[str], int]:
    views = split_views(maze, split, np.random.default_rng(seed))
    dialogue: list[tuple[int, str]] = []
    for turn in range(max_turns):
        seat = turn % 2
        mine = [t for s, t in dialogue if s == seat]
        theirs = [t for s, t in dialogue if s != seat]
        dialogue.append((seat, baseline_message(views[seat], theirs, mine)))
        if len(dialogue) >= 2 and extract_path(dialogue[-1][1]) is not None:
            if extract_path(dialogue[-1][1]) == extract_path(dialogue[-2][1]):
                break
    final = next(p for _, t in reversed(dialogue) if (p := extract_path(t)) is not None)
    return final, len(dialogue)


@pytest.mark.parametrize("split", ["region", "mask"])
def test_two_bfs_baselines_always_solve_split_mazes(split):
    for seed in range(40):
        width, height = 2 + seed % 9, 1 + (seed * 7) % 10
        maze = generate_maze(width, height, seed, extra_openings=0.2 * (seed % 2))
        path, turns = play_baselines(maze, split, seed)
        verdict = grade(maze, path)
        assert verdict.success, (width, height, seed, verdict.error)
        assert verdict.length == verdict.optimal_length
        assert turns <= 3


def test_baseline_shares_its_map_and_waits_when_it_cannot_connect():
    maze = generate_maze(6, 3, 5)
    left, right = split_views(maze, "region")
    first = baseline_message(left, [], [])
    assert parse_map(first, 6, 3) == left.known()
    if bfs_path(maze, {s for s, o in left.known().items() if o}) is None:
        assert extract_path(first) is None and "share" in first


def test_moves_table_is_the_four_directions():
    assert set(MOVES) == {"U", "D", "L", "R"}
    assert solo_view(corridor()).known() == {
        s: s in corridor().passages for s in corridor().segments()
    }
