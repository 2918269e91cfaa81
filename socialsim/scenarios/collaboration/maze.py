"""Mazes for the collaboration scenario: generator, views, text maps, grader, path extraction.

Cells are ``(row, col)`` with ``(0, 0)`` top left; moves are ``U D L R``. A maze is a grid of
cells with walls between neighbouring cells; ``passages`` holds the open ones. Views give
each agent the walls of some cells (all of them when solo; a region or a random mask of
cells when paired); a wall is known to an agent when it borders one of its cells, so the two
halves of a pair together know every wall. :func:`extract_path` reads the last path-like
statement from free text and :func:`grade` checks it move by move. :func:`baseline_message`
is the BFS baseline agent: it shares its partial map and states a path once the maps it has
(its own plus its partner's, parsed from the messages) connect start and goal.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel

from socialsim.core.errors import ConfigError

Cell = tuple[int, int]
Segment = tuple[Cell, Cell]
MOVES: dict[str, Cell] = {"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1)}


def segment(a: Cell, b: Cell) -> Segment:
    """The wall/passage between two neighbouring cells, in a canonical order."""
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True)
class Maze:
    """A grid maze: size, open passages between neighbouring cells, start and goal."""

    width: int
    height: int
    passages: frozenset[Segment]
    start: Cell
    goal: Cell

    def inside(self, cell: Cell) -> bool:
        """True when the cell lies on the grid."""
        return 0 <= cell[0] < self.height and 0 <= cell[1] < self.width

    def is_open(self, a: Cell, b: Cell) -> bool:
        """True when a and b are neighbours with no wall between them."""
        return segment(a, b) in self.passages

    def segments(self) -> list[Segment]:
        """Every interior wall position (open or closed), row by row."""
        out = []
        for r in range(self.height):
            for c in range(self.width):
                if c + 1 < self.width:
                    out.append(((r, c), (r, c + 1)))
                if r + 1 < self.height:
                    out.append(((r, c), (r + 1, c)))
        return out

    def render(self, visible: Iterable[Cell] | None = None) -> str:
        """The maze as a text map; walls not bordering a `visible` cell show as '?'."""
        return render_map(self, None if visible is None else frozenset(visible))


def check_size(
    width: int, height: int, start: Cell | None = None, goal: Cell | None = None
) -> None:
    """ConfigError (one line) for a maze too small to need a path, or bad start/goal cells."""
    if width < 1 or height < 1 or width * height < 2:
        raise ConfigError(
            f"maze: a {width}x{height} maze has fewer than 2 cells; use e.g. width: 5, height: 5"
        )
    start = start or (0, 0)
    goal = goal or (height - 1, width - 1)
    for name, cell in (("start", start), ("goal", goal)):
        if not (0 <= cell[0] < height and 0 <= cell[1] < width):
            raise ConfigError(
                f"maze.{name}: cell {list(cell)} is outside the {width}x{height} grid"
            )
    if tuple(start) == tuple(goal):
        raise ConfigError(
            f"maze: start and goal are the same cell {list(start)}; give different cells"
        )


def generate_maze(
    width: int,
    height: int,
    rng: np.random.Generator | int,
    extra_openings: float = 0.0,
    start: Cell | None = None,
    goal: Cell | None = None,
) -> Maze:
    """A perfect maze by randomized depth-first search, plus a share of walls opened at random."""
    check_size(width, height, start, goal)
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    start = tuple(start) if start else (0, 0)
    goal = tuple(goal) if goal else (height - 1, width - 1)
    visited = np.zeros((height, width), dtype=bool)
    first = (int(rng.integers(height)), int(rng.integers(width)))
    visited[first] = True
    stack = [first]
    passages: set[Segment] = set()
    while stack:
        r, c = stack[-1]
        options = [
            (r + dr, c + dc)
            for dr, dc in MOVES.values()
            if 0 <= r + dr < height and 0 <= c + dc < width and not visited[r + dr, c + dc]
        ]
        if not options:
            stack.pop()
            continue
        nxt = options[int(rng.integers(len(options)))]
        visited[nxt] = True
        passages.add(segment((r, c), nxt))
        stack.append(nxt)
    if extra_openings > 0:
        maze = Maze(width, height, frozenset(passages), start, goal)
        walls = [s for s in maze.segments() if s not in passages]
        k = min(len(walls), int(round(extra_openings * len(walls))))
        for i in rng.choice(len(walls), size=k, replace=False) if k else []:
            passages.add(walls[int(i)])
    return Maze(width, height, frozenset(passages), start, goal)


def bfs_path(
    maze: Maze, open_segments: set[Segment] | frozenset[Segment] | None = None
) -> list[str] | None:
    """Shortest move list from start to goal through `open_segments` (default: the maze's)."""
    opened = maze.passages if open_segments is None else open_segments
    came: dict[Cell, tuple[Cell, str] | None] = {maze.start: None}
    queue = deque([maze.start])
    while queue:
        cell = queue.popleft()
        if cell == maze.goal:
            moves = []
            while came[cell] is not None:
                cell, move = came[cell][0], came[cell][1]
                moves.append(move)
            return moves[::-1]
        for move, (dr, dc) in MOVES.items():
            nxt = (cell[0] + dr, cell[1] + dc)
            if nxt not in came and maze.inside(nxt) and segment(cell, nxt) in opened:
                came[nxt] = (cell, move)
                queue.append(nxt)
    return None


def optimal_path(maze: Maze) -> list[str]:
    """The shortest path (a generated maze is always connected)."""
    path = bfs_path(maze)
    if path is None:  # pragma: no cover - generated mazes are connected
        raise ValueError("maze has no path from start to goal")
    return path


# --- views and text maps -------------------------------------------------------------------
@dataclass(frozen=True)
class View:
    """What one agent sees: the walls bordering its `visible` cells."""

    maze: Maze
    visible: frozenset[Cell]

    def known(self) -> dict[Segment, bool]:
        """Known wall positions: segment -> True when open, False when walled."""
        return {
            s: s in self.maze.passages
            for s in self.maze.segments()
            if s[0] in self.visible or s[1] in self.visible
        }

    def render(self) -> str:
        """The agent's partial map as text."""
        return render_map(self.maze, self.visible)


def solo_view(maze: Maze) -> View:
    """The full maze."""
    return View(maze, frozenset((r, c) for r in range(maze.height) for c in range(maze.width)))


def split_views(
    maze: Maze, split: Literal["region", "mask"] = "region", rng: np.random.Generator | None = None
) -> tuple[View, View]:
    """Two complementary partial views: left/right halves (top/bottom if 1 wide) or a random mask."""
    cells = [(r, c) for r in range(maze.height) for c in range(maze.width)]
    if split == "region":
        if maze.width >= 2:
            mine = {cell for cell in cells if cell[1] < maze.width // 2}
        else:
            mine = {cell for cell in cells if cell[0] < maze.height // 2}
    elif split == "mask":
        if rng is None:
            raise ValueError("split='mask' needs a seeded rng")
        draw = rng.random(len(cells)) < 0.5
        if draw.all() or not draw.any():
            draw[0] = not draw[0]
        mine = {cell for cell, d in zip(cells, draw, strict=True) if d}
    else:
        raise ConfigError(f"maze.split: {split!r} is not one of region, mask")
    return View(maze, frozenset(mine)), View(maze, frozenset(cells) - frozenset(mine))


def render_map(maze: Maze, visible: frozenset[Cell] | None = None) -> str:
    """Text map: '+---+' walls, '|' walls, blanks open, '?' unknown, S start, G goal."""

    def known(a: Cell, b: Cell) -> bool:
        return visible is None or a in visible or b in visible

    lines = ["+" + "---+" * maze.width]
    for r in range(maze.height):
        row = "|"
        for c in range(maze.width):
            cell = (r, c)
            row += " S " if cell == maze.start else " G " if cell == maze.goal else "   "
            if c + 1 < maze.width:
                nxt = (r, c + 1)
                row += ("|" if not maze.is_open(cell, nxt) else " ") if known(cell, nxt) else "?"
        lines.append(row + "|")
        if r + 1 < maze.height:
            line = "+"
            for c in range(maze.width):
                a, b = (r, c), (r + 1, c)
                line += (
                    ("---" if not maze.is_open(a, b) else "   ") if known(a, b) else "???"
                ) + "+"
            lines.append(line)
    lines.append("+" + "---+" * maze.width)
    return "\n".join(lines)


def parse_map(text: str, width: int, height: int) -> dict[Segment, bool]:
    """Known walls from every text map of this size found in `text` (as :func:`render_map` writes)."""
    hline = re.compile(r"^\+(?:(?:---|   |\?\?\?)\+){" + str(width) + "}$")
    cline = re.compile(r"^\|(?:[ SG.]{3}[| ?]){" + str(width - 1) + r"}[ SG.]{3}\|$")
    lines = [ln.strip() for ln in text.splitlines()]
    known: dict[Segment, bool] = {}
    i = 0
    while i + 2 * height < len(lines):
        block = lines[i : i + 2 * height + 1]
        shape_ok = all((hline if k % 2 == 0 else cline).match(ln) for k, ln in enumerate(block))
        if not shape_ok:
            i += 1
            continue
        for r in range(height):
            row = block[2 * r + 1]
            for c in range(1, width):
                mark = row[4 * c]
                if mark != "?":
                    known[segment((r, c - 1), (r, c))] = mark == " "
            if r + 1 < height:
                line = block[2 * r + 2]
                for c in range(width):
                    mark = line[4 * c + 1 : 4 * c + 4]
                    if mark != "???":
                        known[segment((r, c), (r + 1, c))] = mark == "   "
        i += 2 * height + 1
    return known


# --- grading ---------------------------------------------------------------------------------
class Grade(BaseModel):
    """The verdict on a stated path: every move legal, and whether it ends at the goal."""

    valid: bool
    reaches_goal: bool
    length: int
    optimal_length: int
    error: str | None = None

    @property
    def success(self) -> bool:
        """A valid path that ends at the goal."""
        return self.valid and self.reaches_goal


def grade(maze: Maze, path: list[str] | list[Cell] | None) -> Grade:
    """Check a path of moves (U/D/L/R) or cells from the start; every step must pass a gap."""
    optimal = len(optimal_path(maze))

    def verdict(
        length: int, error: str | None, valid: bool = False, reaches: bool = False
    ) -> Grade:
        return Grade(
            valid=valid, reaches_goal=reaches, length=length, optimal_length=optimal, error=error
        )

    if not path:
        return verdict(0, "no path was stated")
    if isinstance(path[0], str):
        cells = [maze.start]
        for k, move in enumerate(path, start=1):
            step = MOVES.get(str(move).upper())
            if step is None:
                return verdict(len(path), f"move {k} ({move!r}) is not one of U, D, L, R")
            cells.append((cells[-1][0] + step[0], cells[-1][1] + step[1]))
    else:
        cells = [tuple(int(v) for v in cell) for cell in path]
        if cells[0] != maze.start:
            cells.insert(0, maze.start)
    for k in range(1, len(cells)):
        a, b = cells[k - 1], cells[k]
        if not maze.inside(b):
            return verdict(len(cells) - 1, f"step {k} from {a} to {b} leaves the maze")
        if abs(a[0] - b[0]) + abs(a[1] - b[1]) != 1:
            return verdict(
                len(cells) - 1, f"step {k} from {a} to {b} is not between neighbouring cells"
            )
        if not maze.is_open(a, b):
            return verdict(len(cells) - 1, f"step {k} from {a} to {b} goes through a wall")
    if cells[-1] == maze.goal:
        return verdict(len(cells) - 1, None, valid=True, reaches=True)
    return verdict(
        len(cells) - 1, f"the path ends at {cells[-1]}, not at the goal {maze.goal}", valid=True
    )


# --- path extraction -------------------------------------------------------------------------
_WORDS = {
    "up": "U",
    "down": "D",
    "left": "L",
    "right": "R",
    "north": "U",
    "south": "D",
    "west": "L",
    "east": "R",
}
_MOVE_TOKEN = re.compile(
    r"(?<![A-Za-z0-9])(?:(?P<pre>\d+)\s*[x×*]?\s*)?"
    r"(?P<move>(?i:up|down|left|right|north|south|east|west)|[UDLR]+)"
    r"(?:\s*[x×*]\s*(?P<post>\d+))?(?![A-Za-z])"
)
_COORD = re.compile(r"[(\[]\s*(\d+)\s*,\s*(\d+)\s*[)\]]")
_SEP = re.compile(r"^\s*(?:,|;|->|=>|→|-|–|—|\.|\+|(?i:then|and then|and))?\s*(?:(?i:then)\s*)?$")
_ARROW = re.compile(r"->|=>|→")
_KEYWORD = re.compile(r"(?i:path|route|moves|answer|solution)\s*(?:is)?\s*[:=]?\s*$")


def extract_path(text: str) -> list[str] | list[Cell] | None:
    """The last path-like statement in free text: moves (U/D/L/R) or a list of (row, col) cells.

    Accepts forms such as "PATH: R R D L", "RRDL", "right, right, down", "2 right then down",
    "(0,0) -> (0,1) -> (1,1)". A run of direction words counts when it has at least three
    moves, or two after a word like "path:"; single letters and cell lists need two moves or
    an arrow. Returns None when the text states no path.
    """
    candidates: list[tuple[int, list]] = []
    for run in _runs(list(_MOVE_TOKEN.finditer(text)), text):
        moves: list[str] = []
        letters = True
        for m in run:
            token = m.group("move")
            count = int(m.group("pre") or m.group("post") or 1)
            if token.lower() in _WORDS:
                letters = False
                moves.extend([_WORDS[token.lower()]] * count)
            else:
                moves.extend(list(token) * count if len(token) == 1 else list(token))
        keyword = bool(_KEYWORD.search(text[max(0, run[0].start() - 24) : run[0].start()]))
        if len(moves) >= 3 or (len(moves) >= 2 and (letters or keyword)) or (moves and keyword):
            candidates.append((run[0].start(), moves))
    for run in _runs(list(_COORD.finditer(text)), text, coords=True):
        cells = [(int(m.group(1)), int(m.group(2))) for m in run]
        arrows = any(
            _ARROW.search(text[a.end() : b.start()]) for a, b in zip(run, run[1:], strict=False)
        )
        if len(cells) >= 3 or (len(cells) == 2 and arrows):
            candidates.append((run[0].start(), cells))
    if not candidates:
        return None
    return max(candidates, key=lambda c: c[0])[1]


def _runs(matches: list[re.Match], text: str, coords: bool = False) -> list[list[re.Match]]:
    runs: list[list[re.Match]] = []
    for m in matches:
        gap = text[runs[-1][-1].end() : m.start()] if runs else None
        joined = gap is not None and (
            _SEP.match(gap)
            if not coords
            else re.match(r"^\s*(?:,|;|->|=>|→|-|–|to|then)?\s*$", gap)
        )
        if joined:
            runs[-1].append(m)
        else:
            runs.append([m])
    return runs


def moves_text(moves: list[str]) -> str:
    """Moves as the canonical 'PATH: R R D' statement."""
    return "PATH: " + " ".join(moves)


# --- the BFS baseline agent ------------------------------------------------------------------
def baseline_message(view: View, partner_texts: list[str], own_texts: list[str]) -> str:
    """The BFS baseline's next message: its map (until shared) and the path once it is known."""
    maze = view.maze
    known = view.known()
    for text in partner_texts:
        known.update(parse_map(text, maze.width, maze.height))
    path = bfs_path(maze, {s for s, is_open in known.items() if is_open})
    shared = any(parse_map(t, maze.width, maze.height) for t in own_texts)
    parts = []
    if not shared or path is None:
        parts.append("My part of the maze ('?' marks walls I cannot see):\n" + view.render())
    if path is not None:
        parts.append(moves_text(path))
    else:
        parts.append("I cannot connect S and G yet; please share your part of the map.")
    return "\n".join(parts)
