"""The LLM path at scale: 10,000 LLM agents x 3 steps against a stub, beside a bare aiohttp loop.

    python benchmarks/bench_llm_scale.py [--size 10000] [--steps 3] [--latency 0.05] [--slots 64]

A loopback stub (:mod:`stub_server`, its own process) answers every request with a valid
decision after `latency` seconds, `slots` at a time. A misinformation run of `size` agents,
every one on the ``llm`` policy (``openai/stub`` over the direct HTTP path, cache off,
concurrency `slots`), is stepped by hand and timed over its steps; then a bare aiohttp loop
sends as many requests at the same concurrency to the same stub. Prints both throughputs,
their ratio (target >= 90%), the peak RSS and the memory per LLM agent (what the model
added, plus its HTTP worker process when it has one).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from pathlib import Path

import aiohttp
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

import stub_server  # noqa: E402

import socialsim as ss  # noqa: E402

CLAIM = "australia_capital"
DECISION = json.dumps(
    {"message": "I read that the capital is Canberra.", "to": "all",
     "beliefs": {CLAIM: {"reason": "what my neighbours say", "credence": 0.4}}}
)  # fmt: skip


def config(size: int, steps: int, api_base: str, slots: int) -> ss.ExperimentConfig:
    """A misinformation run of `size` LLM agents talking to the stub, cache off."""
    return ss.ExperimentConfig.from_dict({
        "name": "llm-scale", "seed": 1, "steps": steps, "population": {"size": size},
        "network": {"kind": "watts_strogatz", "params": {"k": 6, "p": 0.1}},
        "agents": {"policy": "llm", "inbox_limit": 4, "memory_k": 3,
                   "llm": {"model": "openai/stub", "api_base": api_base, "cache": False,
                           "concurrency": slots, "max_tokens": 128}},
        "scenario": {"kind": "misinformation", "params": {
            "claim": CLAIM, "attackers": {"count": 10, "strategy": "highest_degree"},
            "probe_steps": []}},
        "output": {"report": False},
    })  # fmt: skip


def simulation(cfg: ss.ExperimentConfig, stub_pid: int) -> tuple[float, int, int, float, float]:
    """(seconds of the steps, model calls, failed calls, RSS bytes added by the model,
    RSS bytes of the HTTP worker process, 0 without one)."""
    me = psutil.Process()
    before = me.memory_info().rss
    with ss.SocialModel(cfg) as model:
        start = time.perf_counter()
        for _ in range(cfg.steps):
            model.step()
        wall = time.perf_counter() - start
        totals = dict(model.llm_totals)
        added = me.memory_info().rss - before
        worker = sum(c.memory_info().rss for c in me.children() if c.pid != stub_pid)
    return wall, totals["calls"], totals["errors"], added, worker


def bare_loop(api_base: str, n: int, concurrency: int) -> float:
    """Seconds for `n` chat requests sent by a plain aiohttp loop, `concurrency` at a time."""
    url = api_base + "/chat/completions"

    async def go() -> float:
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            gate = asyncio.Semaphore(concurrency)

            async def one(i: int) -> None:
                body = {"model": "stub", "max_tokens": 128, "temperature": 0.7, "seed": i,
                        "messages": [{"role": "user", "content": f"Agent {i}: what now?"}]}  # fmt: skip
                async with gate, session.post(url, data=json.dumps(body)) as resp:
                    json.loads(await resp.read())

            await asyncio.gather(*(one(i) for i in range(concurrency)))  # warm-up
            start = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(n)))
            return time.perf_counter() - start

    return asyncio.run(go())


def main() -> None:
    """Run the simulation, then the bare loop, and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--slots", type=int, default=64)
    args = parser.parse_args()
    proc, base = stub_server.start(args.latency, args.slots, answer=DECISION)
    try:
        cfg = config(args.size, args.steps, base, args.slots)
        sim_wall, calls, errors, added, worker = simulation(cfg, proc.pid)
        bare_wall = bare_loop(base, calls, args.slots)
    finally:
        stub_server.stop(proc)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    sim_rate, bare_rate = calls / sim_wall, calls / bare_wall
    ratio = sim_rate / bare_rate
    ideal = args.slots / args.latency
    print(f"LLM path at scale: {args.size:,} LLM agents x {args.steps} steps, stub "
          f"{args.latency * 1e3:.0f} ms x {args.slots} slots (ideal {ideal:,.0f} calls/s), "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    print(
        f"simulation: {calls:,} calls ({errors} failed) in {sim_wall:.1f} s = {sim_rate:,.0f} calls/s"
    )
    print(f"bare aiohttp loop: {calls:,} calls in {bare_wall:.1f} s = {bare_rate:,.0f} calls/s")
    print(
        f"simulation / bare loop: {ratio:.1%} (target >= 90%) {'PASS' if ratio >= 0.9 else 'FAIL'}"
    )
    print(f"peak RSS {peak / 2**20:,.0f} MiB; the model added {added / 2**20:,.0f} MiB "
          f"and its HTTP worker process holds {worker / 2**20:,.0f} MiB: "
          f"{(added + worker) / args.size / 1024:.1f} KiB per LLM agent")  # fmt: skip


if __name__ == "__main__":
    main()
