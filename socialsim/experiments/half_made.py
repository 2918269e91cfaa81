"""Directories a command creates, so that a command that fails removes those it left half-made.

A run directory is whole once its ``config.yaml`` is written (from then on it can be
resumed or analysed); a sweep directory once its ``sweep.json`` is. The command line
notes every directory it is about to create (:func:`note_new_dir`, called by the code that
creates one) while :func:`tracking_new_dirs` is active; when the command fails,
:func:`remove_half_made` removes each noted directory that lacks its marker file, and the
parent folders created with it when they are left empty. A directory that existed before
(an empty ``--out``) is emptied, not removed. Outside the command line nothing is noted.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from socialsim.simulation.log import being_written


@dataclass(frozen=True)
class NewDir:
    """A directory a command was about to create: where, its marker file, what was there."""

    path: Path
    marker: str
    existed: bool
    created_parents: tuple[Path, ...]  # the missing parents, nearest first


_noted: list[NewDir] | None = None


@contextmanager
def tracking_new_dirs() -> Iterator[list[NewDir]]:
    """Note the directories created inside the block (the list it yields grows as they are)."""
    global _noted
    previous, _noted = _noted, []
    try:
        yield _noted
    finally:
        _noted = previous


def note_new_dir(path: str | Path, marker: str) -> None:
    """Note `path` before creating it: whole once it holds `marker` (no-op when not tracking)."""
    if _noted is None:
        return
    path = Path(path).absolute()
    missing = []
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    _noted.append(NewDir(path, marker, path.exists(), tuple(missing)))


def remove_half_made(noted: list[NewDir]) -> list[Path]:
    """Remove (or empty, when it existed) each noted directory without its marker; those removed."""
    removed = []
    for entry in reversed(noted):
        path = entry.path
        if not path.is_dir() or (path / entry.marker).exists():
            continue
        if being_written(path / "events.jsonl"):  # another run's, begun beside this one
            continue
        if entry.existed:
            children = list(path.iterdir())
            if not children:
                continue
            for child in children:
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        else:
            shutil.rmtree(path, ignore_errors=True)
            for parent in entry.created_parents:
                try:
                    parent.rmdir()  # only when left empty
                except OSError:
                    break
        removed.append(path)
    return removed
