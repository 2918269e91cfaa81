"""A million LLM agents in one run: memory per agent, throughput against a bare loop, set-up time.

    python benchmarks/bench_llm_million.py                  # 1,000,000 agents (about 8 minutes)
    python benchmarks/bench_llm_million.py --size 100000    # a smaller run of the same design

A misinformation run of `size` agents, every one on the ``llm`` policy (``openai/stub`` over
the direct HTTP path, cache off), on a Barabasi-Albert graph (m=3), activation fraction 0.1,
2 steps (about 0.2 x size calls), against the loopback stub (:mod:`stub_server`, 50 ms x 64
slots). The run goes through the same code as ``socialsim run`` (the model, then
``finish_run``: the steps, the log, the record, the summary and tables; no report), into a
run directory that is checked afterwards: one ``llm_call`` per call in the log, one row per
agent in the agents table. A bare aiohttp loop then sends as many requests to the same stub
at the same concurrency.

Printed, as ratios to the targets: the peak resident memory of this process (its exact
peak) plus that of its HTTP worker (read from /proc every 0.05 s; the stub left out) over
the agents (target at most
12 KiB per agent), the simulation's throughput over the bare loop's (at least 90%), and the
set-up time (building the model: network, personas, policies; at most 60 s). The load
average is printed beside them: the machine is shared, so compare figures of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import stub_server  # noqa: E402
from bench_end_to_end import TreeMemory  # noqa: E402
from bench_llm_scale import DECISION, bare_loop  # noqa: E402

import socialsim as ss  # noqa: E402
from socialsim.experiments.memory import memory_needed  # noqa: E402

KIB = 1024
TARGET_KIB, TARGET_RATIO, TARGET_SETUP = 12.0, 0.90, 60.0


def config(size: int, api_base: str, slots: int, steps: int = 2) -> ss.ExperimentConfig:
    """The benchmark run: `size` LLM agents on Barabasi-Albert, a tenth active per step."""
    return ss.ExperimentConfig.from_dict({
        "name": "llm-million", "seed": 1, "steps": steps, "population": {"size": size},
        "network": {"kind": "barabasi_albert", "params": {"m": 3}},
        "agents": {"policy": "llm", "inbox_limit": 4, "memory_k": 3,
                   "activation": "fraction", "activation_fraction": 0.1,
                   "llm": {"model": "openai/stub", "api_base": api_base, "cache": False,
                           "concurrency": slots, "max_tokens": 128}},
        "scenario": {"kind": "misinformation", "params": {
            "claim": "australia_capital",
            "attackers": {"count": 10, "strategy": "highest_degree"}, "probe_steps": []}},
        "output": {"report": False, "graphml_max_agents": 0},
    })  # fmt: skip


class Children(TreeMemory):
    """The peak resident memory of this process's children (its HTTP worker), the stub left out."""

    def __init__(self, pid: int, stub_pid: int) -> None:
        super().__init__(pid, every=0.05)
        self.stub_pid = stub_pid

    def _tree(self) -> list[int]:
        return [p for p in super()._tree() if p not in (self.pid, self.stub_pid)]


class Plan:
    """What ``finish_run`` reads of a run plan: no report, a clock at each step's end."""

    report = False
    in_arms = False

    def __init__(self) -> None:
        self.ends: list[float] = []

    def on_step(self, model: object) -> None:
        """Note when a step ended."""
        self.ends.append(time.perf_counter())


def simulate(cfg: ss.ExperimentConfig, out: Path) -> dict:
    """Build the model, run it through ``finish_run``; times, calls and what was written."""
    from socialsim.experiments.runner import finish_run
    from socialsim.simulation.model import SocialModel

    out.mkdir(parents=True)
    start = time.perf_counter()
    model = SocialModel(cfg, out)
    built = time.perf_counter()
    plan = Plan()
    run = finish_run(model, out, plan)
    done = time.perf_counter()
    quality = run.summary["data_quality"]
    return {
        "setup_s": built - start,
        "steps_s": plan.ends[-1] - built,
        "finish_s": done - plan.ends[-1],
        "calls": int(model.llm_totals["calls"]),
        "errors": int(model.llm_totals["errors"]),
        "run": run,
        "quality": quality,
    }


def check_record(out: Path, size: int, calls: int) -> str:
    """'complete' when the log has one llm_call per call and the agents table a row per agent
    at every recorded step."""
    import pyarrow.parquet as pq

    table = pq.read_table(out / "agents.parquet", columns=["step", "agent"])
    steps = len(table.column("step").unique())
    agents = table.num_rows // max(steps, 1) if table.num_rows % max(steps, 1) == 0 else -1
    logged = 0
    with open(out / "events.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if '"llm_call"' in line:
                logged += json.loads(line)["kind"] == "llm_call"
    if agents == size and logged == calls:
        return "complete"
    return f"INCOMPLETE: {agents:,} agent rows of {size:,}, {logged:,} llm_call events of {calls:,}"


def main() -> None:
    """Run the simulation, then the bare loop, and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--slots", type=int, default=64)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="write the run here (default: a temp dir)")
    args = parser.parse_args()
    proc, base = stub_server.start(args.latency, args.slots, answer=DECISION)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = args.keep or Path(tmp) / "run"
            with Children(os.getpid(), proc.pid) as children:
                sim = simulate(config(args.size, base, args.slots, args.steps), out)
            record = check_record(out, args.size, sim["calls"])
        bare_s = bare_loop(base, sim["calls"], args.slots)
    finally:
        stub_server.stop(proc)
    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * KIB
    peak = own_peak + children.peak  # each one's peak, added: at most what they held at once
    per_agent = peak / args.size / KIB
    sim_rate, bare_rate = sim["calls"] / sim["steps_s"], sim["calls"] / bare_s
    ratio = sim_rate / bare_rate
    print(f"{args.size:,} LLM agents, Barabasi-Albert m=3, activation 0.1, {args.steps} steps; stub "
          f"{args.latency * 1e3:.0f} ms x {args.slots} slots; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    print(f"set-up {sim['setup_s']:.1f} s = {sim['setup_s'] / TARGET_SETUP:.2f}x of "
          f"{TARGET_SETUP:.0f} s  {'PASS' if sim['setup_s'] <= TARGET_SETUP else 'FAIL'}")  # fmt: skip
    print(f"simulation: {sim['calls']:,} calls ({sim['errors']} failed) in {sim['steps_s']:.1f} s "
          f"= {sim_rate:,.0f} calls/s; record and summary {sim['finish_s']:.1f} s; {record}")  # fmt: skip
    print(f"bare aiohttp loop: {sim['calls']:,} calls in {bare_s:.1f} s = {bare_rate:,.0f} calls/s")
    print(f"simulation / bare loop: {ratio:.1%} (target >= {TARGET_RATIO:.0%}) "
          f"{'PASS' if ratio >= TARGET_RATIO else 'FAIL'}")  # fmt: skip
    print(f"peak RSS {peak / 2**30:.2f} GiB (this process {own_peak / 2**30:.2f} GiB + its HTTP "
          f"worker {children.peak / 2**30:.2f} GiB) = {per_agent:.1f} KiB per LLM agent = "
          f"{per_agent / TARGET_KIB:.2f}x of {TARGET_KIB:.0f} KiB  "
          f"{'PASS' if per_agent <= TARGET_KIB else 'FAIL'}")  # fmt: skip
    estimate = memory_needed(config(args.size, base, args.slots, args.steps))
    print(f"the refusal's memory estimate {estimate / 2**30:.2f} GiB = measured "
          f"{estimate / peak - 1:+.0%}")  # fmt: skip


if __name__ == "__main__":
    main()
