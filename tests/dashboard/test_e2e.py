import os
import signal
import subprocess
import sys

import pytest

from tests.dashboard.browser import chromium, free_port, rendered_dom, wait_for_http


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
        yield f"http://127.0.0.1:{port}/"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_dashboard_page_shows_the_network_and_the_adoption_curve(server):
    if chromium() is None:
        pytest.skip("chromium is not on PATH")
    dom = rendered_dom(server, "Adoption over time", timeout=120)
    assert "Adoption over time" in dom
    assert "Network: credence in" in dom
    assert dom.count("widget-image") >= 2  # the network and the curve, as images
    assert "Model Parameters" in dom and "population size" in dom
    assert "Reset" in dom and "Step: 0" in dom
