"""Sweeps on a real Ray cluster: a head and a second node started here, joined by --address."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest

import socialsim as ss

needs_ray = [
    pytest.mark.ray,
    pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="needs the ray extra"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="starts Ray nodes as here"),
]


def on_ray(test):
    """Mark `test` as needing Ray (and Linux, where the nodes are started as here)."""
    for mark in needs_ray:
        test = mark(test)
    return test


CONFIG = """
name: on-ray
steps: 40
population: {size: 1500}
network: {kind: watts_strogatz, params: {watts_strogatz: {k: 4, p: 0.1}}}
agents: {policy: degroot}
claims: [{id: c1, text: The river is poisoned.}]
output: {formats: [jsonl], report: false}
sweep: {seed: [1, 2, 3, 4]}
"""
CELLS = 4
# A loopback cluster without tokens, which notices a lost node within seconds (not half a minute).
CLUSTER_ENV = {
    **os.environ,
    "RAY_AUTH_MODE": "disabled",
    "RAY_health_check_initial_delay_ms": "0",
    "RAY_health_check_period_ms": "500",
    "RAY_health_check_failure_threshold": "4",
}


_HANDED_OUT: set[int] = set()  # ports given to a node of this module: never twice


def free_ports(count: int) -> list[int]:
    """`count` TCP ports that nothing listens on now, all different and none handed out
    before (the sockets are held open together, so the system cannot give one port twice)."""
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < count:
            s = socket.socket()
            held.append(s)
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            if port not in _HANDED_OUT:
                ports.append(port)
                _HANDED_OUT.add(port)
    finally:
        for s in held:
            s.close()
    return ports


def free_port() -> int:
    """A TCP port nothing listens on now, not handed out before."""
    return free_ports(1)[0]


def start_node(temp_dir: Path, *args: str) -> subprocess.Popen:
    """`ray start --block` with one CPU and its own ports and temp dir, in its own session."""
    names = (
        "--dashboard-agent-listen-port",
        "--dashboard-agent-grpc-port",
        "--metrics-export-port",
        "--runtime-env-agent-port",
    )
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    command = [
        sys.executable, "-m", "ray.scripts.scripts", "start", "--block", "--num-cpus=1",
        "--disable-usage-stats", "--node-ip-address=127.0.0.1", f"--temp-dir={temp_dir}",
        f"--object-store-memory={100 * 2**20}", *(f"{k}={v}" for k, v in ports.items()), *args,
    ]  # fmt: skip
    log = open(temp_dir.with_suffix(".log"), "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env=CLUSTER_ENV,
    )  # fmt: skip


def started(node: subprocess.Popen, temp_dir: Path) -> subprocess.Popen:
    """`node` once `ray start` says the node runs (it stays in the foreground: --block)."""
    log = temp_dir.with_suffix(".log")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and "Ray runtime started" not in log.read_text():
        assert node.poll() is None, log.read_text()[-2000:]
        time.sleep(0.5)
    assert "Ray runtime started" in log.read_text(), log.read_text()[-2000:]
    return node


def stop_node(node: subprocess.Popen) -> None:
    """Kill the node's whole process group (never `ray stop`, which ends every Ray here)."""
    try:
        os.killpg(node.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    node.wait(timeout=30)


def alive_nodes(address: str) -> int:
    """How many nodes the cluster at `address` counts as alive (from a short-lived driver)."""
    code = (
        f"import ray; ray.init(address={address!r}, log_to_driver=False, "
        "configure_logging=False); print(sum(n['Alive'] for n in ray.nodes()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=CLUSTER_ENV
    )
    return int(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else 0


@pytest.fixture(scope="module")
def cluster():
    """A head node and a second node on this machine, one CPU each; yields (address, nodes)."""
    root = Path(tempfile.mkdtemp(prefix="ss-ray-", dir="/tmp"))  # short: socket path limit
    port = free_port()
    address = f"127.0.0.1:{port}"
    head = start_node(root / "head", "--head", f"--port={port}", "--include-dashboard=false")
    nodes = {"head": head}
    try:
        started(head, root / "head")
        nodes["second"] = started(
            start_node(root / "second", f"--address={address}"), root / "second"
        )
        assert alive_nodes(address) == 2
        yield address, nodes
    finally:
        for node in nodes.values():
            stop_node(node)
        shutil.rmtree(root, ignore_errors=True)


def sweep_cli(tmp_path: Path, *args: str, executor: str = "ray") -> subprocess.Popen:
    """`socialsim sweep on-ray.yaml --executor EXECUTOR ...` in `tmp_path`, as a process."""
    (tmp_path / "on-ray.yaml").write_text(CONFIG)
    code = "import sys; from socialsim.cli import main; sys.argv = ['socialsim', *sys.argv[1:]]; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "sweep", "on-ray.yaml", "--executor", executor, "-q", *args],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=CLUSTER_ENV,
    )  # fmt: skip


def serial_results(tmp_path: Path) -> pd.DataFrame:
    """The results table of the same grid run serially in this process."""
    (tmp_path / "on-ray.yaml").write_text(CONFIG)
    cfg = ss.ExperimentConfig.from_yaml(tmp_path / "on-ray.yaml")
    ss.sweep(cfg, out=tmp_path / "serial", executor="serial", report=False)
    return pd.read_csv(tmp_path / "serial" / "results.csv")  # read back as the others are


def same_results(expected: pd.DataFrame, got: pd.DataFrame) -> None:
    """Equal tables apart from where each cell's run directory is."""
    cols = [c for c in expected.columns if c != "run_dir"]
    pd.testing.assert_frame_equal(expected[cols], got[cols])


@on_ray
@pytest.mark.slow
def test_sweep_joins_a_cluster_by_address_and_matches_serial(cluster, tmp_path):
    address, _ = cluster
    proc = sweep_cli(tmp_path, "--out", "s", "--address", address)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-2000:]
    got = pd.read_csv(tmp_path / "s" / "results.csv")
    assert list(got["status"]) == ["ok"] * CELLS
    same_results(serial_results(tmp_path), got)


@on_ray
@pytest.mark.slow
def test_cells_of_a_killed_node_run_again_and_the_sweep_completes(cluster, tmp_path):
    address, nodes = cluster
    proc = sweep_cli(tmp_path, "--out", "s", "--address", address)
    cells = tmp_path / "s" / "cells"
    running = lambda: [  # noqa: E731
        d
        for d in cells.glob("*")
        if (d / "events.jsonl").exists() and not (d / "cell.json").exists()
    ]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(running()) < 2 and proc.poll() is None:
        time.sleep(0.2)
    assert len(running()) == 2, "both nodes should be running a cell"  # one CPU each
    stop_node(nodes.pop("second"))  # mid-cell
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-2000:]
    got = pd.read_csv(tmp_path / "s" / "results.csv")
    assert list(got["status"]) == ["ok"] * CELLS
    for cell in sorted(cells.iterdir()):
        assert json.loads((cell / "cell.json").read_text())["status"] == "ok"
    same_results(serial_results(tmp_path), got)


@on_ray
@pytest.mark.slow
def test_an_unreachable_address_is_one_line_and_writes_nothing(tmp_path):
    proc = sweep_cli(tmp_path, "--out", "s", "--address", f"127.0.0.1:{free_port()}")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert err.strip().count("\n") == 0 and "cannot reach the Ray cluster" in err
    assert not (tmp_path / "s").exists()


@pytest.mark.slow
def test_address_needs_the_ray_executor(tmp_path):
    proc = sweep_cli(tmp_path, "--out", "s", "--address", "auto", executor="serial")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert "--address joins a Ray cluster; use it with --executor ray" in err
    assert not (tmp_path / "s").exists()
