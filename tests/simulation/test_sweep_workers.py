"""Sweep worker processes end with the sweep, however it ends: nothing is orphaned."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

LONG = """
name: long
steps: 4000
population: {size: 3000}
network: {kind: ring}
agents: {policy: degroot}
claims: [{id: c1, text: The river is poisoned.}]
output: {formats: [jsonl], report: false}
sweep: {seed: [1, 2, 3, 4]}
"""


def children(pid: int) -> set[int]:
    """Every live descendant of `pid` (read from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {c for c, p in parents.items() if p in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads the process table from /proc")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
@pytest.mark.slow
def test_workers_die_with_the_sweep(tmp_path, how):
    (tmp_path / "long.yaml").write_text(LONG)
    code = "import sys; from socialsim.cli import main; sys.argv = ['socialsim', *sys.argv[1:]]; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "sweep", "long.yaml", "--out", "s", "--workers", "2", "-q"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    started = lambda: list((tmp_path / "s" / "cells").glob("*/events.jsonl"))  # noqa: E731
    while time.monotonic() < deadline and len(started()) < 2:
        time.sleep(0.3)
    workers = children(proc.pid)
    assert len(workers) >= 2, "the workers did not start"
    os.kill(proc.pid, how)
    proc.communicate(timeout=60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(alive(p) for p in workers):
        time.sleep(0.3)
    left = [p for p in workers if alive(p)]
    for p in left:  # do not leave them behind even when the test fails
        os.kill(p, signal.SIGKILL)
    assert left == [], f"orphaned after {signal.Signals(how).name}: {left}"
    if how == signal.SIGINT:
        assert proc.returncode == 130
