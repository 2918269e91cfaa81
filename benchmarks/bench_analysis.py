"""Time `summarize_run(load_run(dir))` on a synthetic run of 1,000,000 events.

    python benchmarks/bench_analysis.py [--events 1000000] [--agents 10000] [--steps 50]

Builds a run directory (events.jsonl, agents.parquet, graph.graphml, config.yaml) with
messages, belief changes, probes and LLM calls on a small-world network, then reports the
load and summary times and the peak memory of the process.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd


def build_run(root: Path, n_events: int, n_agents: int, n_steps: int, seed: int = 0) -> None:
    """Write a synthetic run directory with about `n_events` events."""
    rng = np.random.default_rng(seed)
    graph = nx.watts_strogatz_graph(n_agents, 6, 0.1, seed=seed)
    countries = np.array(["A", "B", "C", "D"])
    for node in graph.nodes:
        graph.nodes[node]["country"] = str(countries[node % 4])
        graph.nodes[node]["age"] = int(18 + node % 60)
    nbrs = [list(graph.neighbors(i)) for i in range(n_agents)]

    # credence trajectories: each agent's credence in c1 rises at a random step
    start = rng.uniform(0.0, 0.4, n_agents)
    rise = rng.integers(1, n_steps * 2, n_agents)
    cred = np.empty((n_steps, n_agents))
    for s in range(n_steps):
        cred[s] = np.where(s >= rise, np.minimum(1.0, start + 0.6), start)
    steps = np.repeat(np.arange(n_steps), n_agents)
    agents = pd.DataFrame(
        {
            "step": steps,
            "agent": np.tile(np.arange(n_agents), n_steps),
            "claim": "c1",
            "credence": cred.ravel(),
        }
    )
    agents.to_parquet(root / "agents.parquet", index=False)

    n_msg, n_bc, n_probe = int(n_events * 0.5), int(n_events * 0.4), int(n_events * 0.08)
    n_llm = n_events - n_msg - n_bc - n_probe
    lines: list[tuple[int, str]] = []
    senders = rng.integers(0, n_agents, n_msg)
    msg_steps = np.sort(rng.integers(0, n_steps, n_msg))
    for i, (s, a) in enumerate(zip(msg_steps.tolist(), senders.tolist(), strict=True)):
        rec = nbrs[a][:3]
        lines.append(
            (
                s,
                json.dumps(
                    {
                        "run": "bench",
                        "step": s,
                        "time": float(s),
                        "kind": "message",
                        "agent": a,
                        "target": None,
                        "claim": "c1",
                        "payload": {
                            "id": f"m{i}",
                            "text": "I read that c1 is true.",
                            "recipients": rec,
                            "claims": ["c1"],
                            "reply_to": None,
                            "channel": "post",
                        },
                    }
                ),
            )
        )
    bc_agents = rng.integers(0, n_agents, n_bc)
    bc_steps = rng.integers(0, n_steps, n_bc)
    for a, s in zip(bc_agents.tolist(), bc_steps.tolist(), strict=True):
        src = nbrs[a][s % len(nbrs[a])] if s % 2 else None
        lines.append(
            (
                s,
                json.dumps(
                    {
                        "run": "bench",
                        "step": s,
                        "time": float(s),
                        "kind": "belief_change",
                        "agent": a,
                        "target": src,
                        "claim": "c1",
                        "payload": {
                            "old": float(cred[max(s - 1, 0), a]),
                            "new": float(cred[s, a]),
                            "cause": "rule",
                            "ref": src,
                            "reason": None,
                        },
                    }
                ),
            )
        )
    distances = ("direct", "indirect", "peripheral")
    for i in range(n_probe):
        a, s = int(rng.integers(n_agents)), int(rng.integers(n_steps))
        manip = bool(cred[s, a] >= 0.5)
        lines.append(
            (
                s,
                json.dumps(
                    {
                        "run": "bench",
                        "step": s,
                        "time": float(s),
                        "kind": "probe",
                        "agent": a,
                        "target": None,
                        "claim": "c1",
                        "payload": {
                            "probe_id": f"p{i % 30}",
                            "distance": distances[i % 3],
                            "question": "q?",
                            "answer": "a",
                            "correct": not manip,
                            "manipulated": manip,
                            "credence": float(cred[s, a]),
                            "source": "rule",
                        },
                    }
                ),
            )
        )
    for i in range(n_llm):
        s = int(rng.integers(n_steps))
        lines.append(
            (
                s,
                json.dumps(
                    {
                        "run": "bench",
                        "step": s,
                        "time": float(s),
                        "kind": "llm_call",
                        "agent": i % n_agents,
                        "target": None,
                        "claim": None,
                        "payload": {
                            "model": "local/smollm2",
                            "route": "local",
                            "latency_s": 0.2,
                            "prompt_tokens": 300,
                            "completion_tokens": 40,
                            "cost": 0.0,
                            "cached": i % 3 == 0,
                            "attempts": 1,
                            "repaired": False,
                            "error": None,
                            "prompt_id": "decide",
                        },
                    }
                ),
            )
        )
    lines.sort(key=lambda t: t[0])
    with open(root / "events.jsonl", "w", encoding="utf-8") as fh:
        fh.write("\n".join(line for _, line in lines) + "\n")
    nx.write_graphml(graph, root / "graph.graphml")
    (root / "config.yaml").write_text(f"name: bench\nseed: 0\nsteps: {n_steps}\n")


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def analyze(root: Path) -> None:
    """Time load_run and summarize_run on `root` (run in a fresh process for honest memory)."""
    from socialsim.analysis import load_run, summarize_run

    base = peak_rss_mb()
    t1 = time.perf_counter()
    run = load_run(root)
    t2 = time.perf_counter()
    summary = summarize_run(run)
    t3 = time.perf_counter()
    c1 = summary["measures"]["claims"]["c1"]
    print(f"load_run:      {t2 - t1:6.2f} s  ({len(run.events):,} events)")
    print(f"summarize_run: {t3 - t2:6.2f} s")
    print(f"total:         {t3 - t1:6.2f} s  (target 30 s)")
    print(f"peak RSS:      {peak_rss_mb():.0f} MiB (interpreter and imports: {base:.0f} MiB)")
    print(
        f"reach.c1 = {c1['adoption_all']['final_reach']:.3f}, cascades = {c1['cascades']['n_cascades']:,}, "
        f"largest = {c1['cascades']['largest_size']:,}"
    )


def main() -> None:
    """Build the synthetic run, then time the analysis in a fresh process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--dir", type=Path, default=None, help="build (or reuse) the run here")
    parser.add_argument("--analyze", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.analyze is not None:
        analyze(args.analyze)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = args.dir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        if not (root / "events.jsonl").is_file():
            t0 = time.perf_counter()
            build_run(root, args.events, args.agents, args.steps)
            print(f"built the run in {time.perf_counter() - t0:.1f} s")
        size = (root / "events.jsonl").stat().st_size / 1e6
        print(f"events.jsonl: {size:.0f} MB; agents: {args.agents:,}; steps: {args.steps}")
        subprocess.run([sys.executable, __file__, "--analyze", str(root)], check=True)


if __name__ == "__main__":
    main()
