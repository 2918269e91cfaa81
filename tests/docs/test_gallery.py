"""The gallery script makes every figure that docs/gallery/index.md shows."""

import re
import runpy
from pathlib import Path

import pytest

GALLERY = Path(__file__).resolve().parents[2] / "docs" / "gallery"


def load_script() -> dict:
    """The gallery script's namespace, without running its main."""
    return runpy.run_path(str(GALLERY / "make_gallery.py"), run_name="gallery")


def test_index_shows_every_figure_the_script_makes_and_stored_pngs_are_small():
    """index.md and the script list the same figures; the stored PNGs stay small."""
    figures = set(load_script()["FIGURES"])
    shown = set(re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", (GALLERY / "index.md").read_text()))
    assert shown == figures
    stored = [GALLERY / name for name in figures]
    assert all(path.is_file() for path in stored)
    assert all(path.stat().st_size < 150_000 for path in stored)
    assert sum(path.stat().st_size for path in stored) < 1_000_000


@pytest.mark.slow
def test_gallery_script_makes_every_figure(tmp_path):
    """Running the script into a temp folder writes each listed figure as a real PNG."""
    script = load_script()
    made = script["make_gallery"](tmp_path / "out", tmp_path / "work")
    names = sorted(path.name for path in made)
    assert names == sorted(script["FIGURES"])
    for path in made:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert 5_000 < path.stat().st_size < 150_000
