"""A feed run at scale: 1,000 claims, 1,000 rule agents, the whole record and summary written.

    python benchmarks/bench_feed.py [--agents 1000] [--claims 1000] [--steps 20] [--k 5]

Writes a claims file of ``--claims`` made-up claims (true and manipulated statements, one
direct probe each), then runs the ``feed`` scenario on it: every claim in three framings
(``--claims`` x 3 items), ``popularity`` ranking, ``k`` items per agent per step, resharing
on a small-world network. Prints the load average before and after, the wall time of the
run (set-up, steps, record, summary; no report) and, as a reference measured in the same
process, the wall time of the same run with 100 agents: the ratio says how the time grows
with the population on this machine, whatever its load.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import yaml

import socialsim as ss


def write_claims(path: Path, n: int) -> Path:
    """A claims file of `n` made-up claims."""
    claims = [
        {
            "id": f"bench{i:05d}",
            "topic": "benchmark",
            "true_statement": f"Lake {i} is fed by {i % 7 + 2} rivers.",
            "manipulated_statement": f"Lake {i} is fed by no river at all.",
            "probes": [
                {
                    "distance": "direct",
                    "question": f"How many rivers feed lake {i}?",
                    "options": ["none", f"{i % 7 + 2}"],
                    "correct": "B",
                    "manipulated": "A",
                }
            ],
        }
        for i in range(n)
    ]
    path.write_text(yaml.safe_dump(claims, sort_keys=False), encoding="utf-8")
    return path


def config(claims_file: Path, agents: int, claims: int, steps: int, k: int) -> ss.ExperimentConfig:
    """The benchmark's config."""
    return ss.ExperimentConfig.from_dict({
        "name": "feed-scale", "seed": 1, "steps": steps, "population": {
            "size": agents,
            "personas": {"fixed": {"framing_susceptibility": 0.6, "source_susceptibility": 0.4}},
        },
        "network": {"kind": "watts_strogatz", "params": {"k": 8, "p": 0.1}},
        "agents": {"policy": "degroot"},
        "scenario": {"kind": "feed", "params": {
            "claims_file": str(claims_file), "builtin": False, "n_items": 3 * claims,
            "framings": ["authoritative", "emotional", "neutral"], "ranking": "popularity",
            "k": k, "repetition": 0.5, "reshare": 0.2, "audience": 0.5}},
        "output": {"report": False},
    })  # fmt: skip


def timed_run(cfg: ss.ExperimentConfig, out: Path) -> tuple[float, dict]:
    """Wall time of one whole run and its summary."""
    t0 = time.perf_counter()
    run = ss.run(cfg, out=out)
    return time.perf_counter() - t0, run.summary


def main() -> None:
    """Run the reference and the full size once each and print where the time went."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--claims", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as d:
        claims_file = write_claims(Path(d) / "claims.yaml", args.claims)
        small, _ = timed_run(
            config(claims_file, 100, args.claims, args.steps, args.k), Path(d) / "ref"
        )
        full, summary = timed_run(
            config(claims_file, args.agents, args.claims, args.steps, args.k), Path(d) / "run"
        )
    feed = summary["measures"]["feed"]
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(
        f"{args.agents} agents, {args.claims} claims ({3 * args.claims} items), {args.steps} "
        f"steps, k={args.k}: wall time {full:.1f} s ({feed['exposures']['asked']:,} exposures)"
    )
    print(f"reference, 100 agents: {small:.1f} s; ratio {full / small:.1f}")
    series = {k: v["rate"] for k, v in feed["by_exposure"].items()}
    print(f"acceptance by exposure: {series}; repetition effect {feed['repetition']['effect']}")


if __name__ == "__main__":
    main()
