"""The dashboard's server ends with the `socialsim dashboard` process, however that ends."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.dashboard.browser import free_port, wait_for_http

pytest.importorskip("solara")
pytestmark = pytest.mark.slow  # each test starts dashboard servers


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _start(config_path, port: int, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "from socialsim.cli import main; main()", "dashboard"]
        + [str(config_path), "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # a group of its own, cleaned up whatever the test finds
    )


def _stops_listening(port: int, within: float = 30.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not _listening(port):
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_the_server_dies_with_the_dashboard_process(config_path, sig):
    port = free_port()
    process = _start(config_path, port)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", timeout=120)
        os.kill(process.pid, sig)  # the parent alone, as a service manager or `kill` does
        process.wait(timeout=30)
        assert _stops_listening(port), f"something still listens on {port} after {sig!r}"
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def test_a_host_beyond_this_machine_is_served_only_with_a_warning(config_path):
    port = free_port()
    process = _start(config_path, port, "--host", "0.0.0.0")
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", timeout=120)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    err = process.stderr.read().decode()
    assert "warning: --host 0.0.0.0 serves the dashboard beyond this machine" in err
