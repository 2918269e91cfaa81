"""Sweep scaling: 24 rule-policy cells, serial vs the process executor on 2 workers.

    python benchmarks/bench_sweep.py [--cells 24] [--workers 2] [--size 3000]

Prints the wall time of each executor and the speed-up (target >= 1.7x on 2 workers),
after checking that both produced the same results table.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

import socialsim as ss


def config(size: int, steps: int, cells: int) -> ss.ExperimentConfig:
    """A misinformation sweep on independent cascade: kinds x seeds = `cells` cells."""
    kinds = ["erdos_renyi", "barabasi_albert", "watts_strogatz", "stochastic_block"]
    seeds = list(range(1, cells // len(kinds) + 1))
    return ss.ExperimentConfig.from_dict({
        "name": "bench-sweep", "steps": steps, "population": {"size": size},
        "network": {"kind": "ring", "params": {"erdos_renyi": {"mean_degree": 4}, "barabasi_albert": {"m": 2},
                                               "watts_strogatz": {"k": 4, "p": 0.1}, "stochastic_block": {"blocks": 4, "p_in": 0.01, "p_out": 0.0005}}},
        "agents": {"policy": "independent_cascade", "params": {"p": 0.2}},
        "scenario": {"kind": "misinformation", "params": {"claim": "australia_capital", "attackers": {"count": 10},
                                                           "probe_steps": [steps], "probe_distances": ["direct"]}},
        "output": {"formats": ["jsonl", "parquet"], "report": False},
        "sweep": {"network.kind": kinds, "seed": seeds},
    })  # fmt: skip


def main() -> None:
    """Time both executors on the same grid."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=24)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--size", type=int, default=3000)
    parser.add_argument("--steps", type=int, default=15)
    args = parser.parse_args()
    cfg = config(args.size, args.steps, args.cells)
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        serial = ss.sweep(cfg, out=Path(d) / "serial", executor="serial", report=False)
        serial_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        procs = ss.sweep(
            cfg, out=Path(d) / "procs", executor="processes", workers=args.workers, report=False
        )
        procs_s = time.perf_counter() - t0
    cols = [c for c in serial.columns if c != "run_dir"]
    pd.testing.assert_frame_equal(serial[cols], procs[cols])
    speedup = serial_s / procs_s
    print(f"{len(serial)} cells ({args.size} agents x {args.steps} steps each), results identical")
    print(f"serial: {serial_s:.1f} s; processes x{args.workers}: {procs_s:.1f} s")
    print(
        f"speed-up {speedup:.2f}x = {speedup / 1.7:.2f} of the 1.7x target ({'PASS' if speedup >= 1.7 else 'FAIL'})"
    )


if __name__ == "__main__":
    main()
