import os
import re
import signal
import subprocess
import sys

import pytest

from tests.dashboard.browser import chromium, free_port, rendered, wait_for_http

pytest.importorskip("solara")  # the dashboard extra serves the page
# a served page in a real browser: in the marked (slow) set; the browser is checked before
# the server starts, so a machine without one skips at once
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(chromium() is None, reason="chromium is not on PATH"),
]


@pytest.fixture
def server(config_path):
    """`socialsim dashboard CONFIG` on a free port (stopped at the end)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", "from socialsim.cli import main; main()", "dashboard"]
        + [str(config_path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", timeout=120)
        yield f"http://127.0.0.1:{port}/", lambda: _stop(process)
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> str:
    """Stop the server (its whole group) and return what it printed."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.stdout.read().decode("utf-8", "replace") if process.stdout else ""


def test_dashboard_page_shows_the_network_and_the_adoption_curve(server):
    url, stop = server
    dom, resources = rendered(url, "Adoption over time", timeout=120)
    assert "Adoption over time" in dom
    # everything the page loads comes from the dashboard itself, and the server is never asked
    # for what it would have to fetch from a CDN (solara's Markdown asks for KaTeX)
    assert resources and all(r.startswith(url) for r in resources), resources
    said = stop()
    assert "Could not load URL" not in said and "katex" not in said.lower(), said[-500:]
    assert "Network: credence in" in dom
    assert dom.count("widget-image") >= 2  # the network and the curve, as images
    assert "Model Parameters" in dom and "population size" in dom
    assert "Reset" in dom and "Step: 0" in dom
    # every slider's value is on the page (play interval, seed, size, k, steps) and no tab
    values = re.findall(r'<span[^>]*class="control-value"[^>]*>([^<]*)</span>', dom)
    assert values == ["200", "3", "12", "4", "4"], values
    assert "Page 0" not in dom and "v-tab" not in dom
