"""Sweep scaling: rule-policy cells, serial vs the process executor on 2 workers.

    python benchmarks/bench_sweep.py                  # 24 cells x 3,000 agents (target 1.7x)
    python benchmarks/bench_sweep.py --preset small   # 12 cells x 200 agents (target 1.8x)
    python benchmarks/bench_sweep.py --cells 24 --workers 2 --size 3000 --steps 15 --repeat 3

Prints the wall time of each executor and the speed-up, after checking that both produced
the same results table. The benchmark's process imports what a cell needs before timing
either executor, so neither pays for it and the figure is the executors' own.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

import socialsim as ss
from socialsim.experiments.sweep_workers import warm_imports


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


PRESETS = {
    "default": {"cells": 24, "workers": 2, "size": 3000, "steps": 15, "target": 1.7},
    "small": {"cells": 12, "workers": 2, "size": 200, "steps": 15, "target": 1.8},
}


def main() -> None:
    """Time both executors on the same grid."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="default")
    for name in ("cells", "workers", "size", "steps"):
        parser.add_argument(f"--{name}", type=int, help="overrides the preset")
    parser.add_argument("--target", type=float, help="speed-up to pass (overrides the preset)")
    parser.add_argument("--repeat", type=int, default=1, help="time both executors this often")
    args = parser.parse_args()
    chosen = {
        k: v if getattr(args, k) is None else getattr(args, k)
        for k, v in PRESETS[args.preset].items()
    }
    cfg = config(chosen["size"], chosen["steps"], chosen["cells"])
    warm_imports([])
    ratios = [once(cfg, chosen) for _ in range(args.repeat)]
    if len(ratios) > 1:
        print(
            f"speed-ups: {', '.join(f'{r:.2f}x' for r in ratios)}; median {statistics.median(ratios):.2f}x"
        )


def once(cfg: ss.ExperimentConfig, args: dict) -> float:
    """Run the grid serially, then on the worker processes; print and return the speed-up."""
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        serial = ss.sweep(cfg, out=Path(d) / "serial", executor="serial", report=False)
        serial_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        procs = ss.sweep(
            cfg, out=Path(d) / "procs", executor="processes", workers=args["workers"], report=False
        )
        procs_s = time.perf_counter() - t0
    cols = [c for c in serial.columns if c != "run_dir"]
    pd.testing.assert_frame_equal(serial[cols], procs[cols])
    speedup = serial_s / procs_s
    target = args["target"]
    print(
        f"{len(serial)} cells ({args['size']} agents x {args['steps']} steps each), results identical"
    )
    print(f"serial: {serial_s:.1f} s; processes x{args['workers']}: {procs_s:.1f} s")
    print(
        f"speed-up {speedup:.2f}x = {speedup / target:.2f} of the {target}x target ({'PASS' if speedup >= target else 'FAIL'})"
    )
    return speedup


if __name__ == "__main__":
    main()
