"""A misinformation run at scale: 1,000 agents, 950 on a rule policy and 50 on the embedded model.

    python benchmarks/bench_misinformation_scale.py [--size 1000] [--llm 50] [--steps 3]

Attackers and guardians are placed by strategy; every present agent is probed at the last
step in one batch. Prints the wall time of set-up, the steps and the outputs, and the
number of model calls. The response cache is a fresh temporary file, so every call is real.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import socialsim as ss


def main() -> None:
    """Run once and print where the time went."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--llm", type=int, default=50)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        cfg = ss.ExperimentConfig.from_dict({
            "name": "misinfo-scale", "seed": 1, "steps": args.steps, "population": {"size": args.size},
            "network": {"kind": "watts_strogatz", "params": {"k": 6, "p": 0.1}},
            "agents": {"policy": "degroot", "params": {"initial": 0.1},
                       "mix": [{"fraction": args.llm / args.size, "policy": "llm"}],
                       "llm": {"model": "local/smollm2", "max_tokens": 120, "cache_path": str(Path(d) / "c.sqlite")},
                       "inbox_limit": 4, "memory_k": 3},
            "scenario": {"kind": "misinformation", "params": {
                "claim": "australia_capital", "attackers": {"count": 10, "strategy": "highest_degree"},
                "guardians": {"count": 5, "strategy": "random"}, "remove_attackers_at": args.steps,
                "probe_steps": [args.steps], "probe_distances": ["direct"]}},
            "output": {"dir": d, "report": True},
        })  # fmt: skip
        print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        t0 = time.perf_counter()
        run = ss.run(cfg, out=Path(d) / "run")
        total = time.perf_counter() - t0
        s = run.summary
    print(
        f"{args.size} agents ({args.llm} LLM, {args.size - args.llm} DeGroot), {args.steps} steps"
    )
    print(f"wall time {total:.1f} s for {s['llm']['calls']} LLM calls ({s['llm']['errors']} failed), "
          f"{sum(s['events'].values())} events, report included")  # fmt: skip
    print(
        f"final reach {s['scenario'].get('final_reach')}, probes: {s['scenario'].get('probe_manipulated_share')}"
    )


if __name__ == "__main__":
    main()
