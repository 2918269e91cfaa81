"""Fixtures for the analysis tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from .tables import write_run_dir


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return write_run_dir(tmp_path / "run")
