"""Simulation speed: LLM mode against a loopback stub, framework overhead, rule mode at scale.

    python benchmarks/bench_simulation.py [--agents 200] [--steps 5] [--rule-agents 100000]

1. LLM mode: `--agents` LLM agents x `--steps` steps against the stub (50 ms, 64 slots)
   through the fast path; the ideal time is calls x latency / slots (target: within 1.5x).
   The same run through litellm is reported beside it.
2. Framework overhead per LLM decision (observe, prompt, schema validation, apply, logging)
   with a client that answers instantly (target: under 1 ms).
3. Rule mode: independent cascade on a barabasi_albert graph of `--rule-agents` nodes:
   agent-steps per second of the step loop (target >= 200,000) and memory per agent
   (target <= 2 KB), split into per-agent state and the network, and again once every
   agent has been created as a mesa Agent (rule runs create them only when asked).
Every figure is printed as a ratio to its target, measured in this one run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import stub_server  # noqa: E402

from socialsim.llm.types import CallRecord, LLMResult  # noqa: E402
from socialsim.simulation.config import ExperimentConfig  # noqa: E402
from socialsim.simulation.model import SocialModel  # noqa: E402

ANSWER = json.dumps(
    {
        "message": "I read that c1 is true; what do you think?",
        "to": "all",
        "beliefs": {"c1": {"reason": "a friend said so", "credence": 0.7}},
    }
)


def llm_config(n: int, steps: int, api_base: str, fast_path: bool) -> ExperimentConfig:
    """LLM agents on a small-world graph talking to the stub."""
    return ExperimentConfig.from_dict({
        "name": "bench", "seed": 1, "steps": steps, "population": {"size": n},
        "network": {"kind": "watts_strogatz", "params": {"k": 4, "p": 0.1}},
        "claims": [{"id": "c1", "text": "The bridge downtown will close next month."}],
        "agents": {"policy": "llm", "llm": {"model": "openai/stub", "api_base": api_base,
                   "cache": False, "concurrency": 64, "fast_path": fast_path, "retries": 0}},
        "output": {"report": False},
    })  # fmt: skip


def timed_steps(cfg: ExperimentConfig) -> tuple[float, int]:
    """Seconds for the step loop (model built beforehand) and the number of LLM calls."""
    with tempfile.TemporaryDirectory() as d:
        model = SocialModel(cfg, d)
        start = time.perf_counter()
        for _ in range(cfg.steps):
            model.step()
        elapsed = time.perf_counter() - start
        calls = model.llm_totals["calls"]
        errors = model.llm_totals["errors"]
        model.close()
    if errors:
        print(f"  warning: {errors} failed calls")
    return elapsed, calls


class InstantClient:
    """Answers every request at once with ANSWER, validated against the request's schema."""

    def run(self, requests):
        out = []
        for r in requests:
            value = r.schema.model_validate_json(ANSWER) if r.schema else None
            out.append(
                LLMResult(
                    text=ANSWER, value=value, record=CallRecord(model="instant", route="http")
                )
            )
        return out

    def close(self) -> None:
        """Nothing to release."""


def overhead_per_decision(n: int, steps: int) -> float:
    """Milliseconds of framework time per LLM decision, model time excluded."""
    cfg = llm_config(n, steps, "http://127.0.0.1:9/v1", True)
    key = cfg.agents.llm.model_dump_json()
    with tempfile.TemporaryDirectory() as d:
        model = SocialModel(cfg, d, clients={key: InstantClient()})
        start = time.perf_counter()
        for _ in range(steps):
            model.step()
        elapsed = time.perf_counter() - start
        decisions = model.llm_totals["calls"]
        model.close()
    return 1000 * elapsed / decisions


def rss_bytes() -> int:
    """Resident memory of this process now."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def rule_mode(n: int, steps: int) -> dict[str, float]:
    """Agent-steps per second and bytes per agent for independent cascade at scale."""
    from socialsim.simulation.network import build_graph

    cfg = ExperimentConfig.from_dict({
        "name": "ic", "seed": 1, "steps": steps, "population": {"size": n},
        "network": {"kind": "barabasi_albert", "params": {"m": 2}},
        "agents": {"policy": "independent_cascade", "params": {"p": 0.1, "initial": "seeded", "seed_fraction": 0.01}},
        "output": {"report": False},
    })  # fmt: skip
    gc.collect()
    base = rss_bytes()
    graph = build_graph("barabasi_albert", n, {"m": 2}, seed=1)
    graph_bytes = rss_bytes() - base
    del graph
    gc.collect()
    base = rss_bytes()
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        model = SocialModel(cfg, d)
        init_s = time.perf_counter() - t0
        gc.collect()
        total = rss_bytes() - base
        t0 = time.perf_counter()
        for _ in range(steps):
            model.step()
        step_s = time.perf_counter() - t0
        reach = float(model.beliefs.credence[:, 0].mean())
        after_steps = rss_bytes() - base
        t0 = time.perf_counter()
        assert len(model.agents) == n  # every agent as a mesa agent on its Network cell
        create_s = time.perf_counter() - t0
        gc.collect()
        with_agents = rss_bytes() - base
        model.close()
    return {"init_s": init_s, "agent_steps_per_s": n * steps / step_s, "bytes_total": total / n,
            "bytes_network": graph_bytes / n, "reach": reach, "bytes_after_steps": after_steps / n,
            "bytes_with_agents": with_agents / n, "create_s": create_s}  # fmt: skip


def main() -> None:
    """Run the three measurements and print them against their targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--rule-agents", type=int, default=100_000)
    parser.add_argument("--rule-steps", type=int, default=10)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")

    latency, slots = 0.05, 64
    proc, base = stub_server.start(latency=latency, slots=slots, answer=ANSWER)
    try:
        fast_s, calls = timed_steps(llm_config(args.agents, args.steps, base, True))
        slow_s, _ = timed_steps(llm_config(args.agents, args.steps, base, False))
    finally:
        stub_server.stop(proc)
    ideal = calls * latency / slots
    per_step_ideal = args.steps * -(-args.agents // slots) * latency
    print(
        f"\n1. LLM mode: {args.agents} agents x {args.steps} steps = {calls} calls, stub {latency * 1000:.0f} ms x {slots} slots"
    )
    print(
        f"   ideal (calls x latency / slots): {ideal:.2f} s; whole waves per step: {per_step_ideal:.2f} s"
    )
    print(
        f"   fast path: {fast_s:.2f} s = {fast_s / ideal:.2f}x ideal (target <= 1.5x: {'PASS' if fast_s / ideal <= 1.5 else 'FAIL'})"
    )
    print(
        f"   through litellm: {slow_s:.2f} s = {slow_s / ideal:.2f}x ideal ({fast_s / slow_s:.0%} of its time on the fast path)"
    )

    ms = overhead_per_decision(args.agents, args.steps)
    print(
        f"\n2. Framework overhead per LLM decision: {ms:.3f} ms (target < 1 ms: {'PASS' if ms < 1 else 'FAIL'})"
    )

    r = rule_mode(args.rule_agents, args.rule_steps)
    rate = r["agent_steps_per_s"]
    state = r["bytes_total"] - r["bytes_network"]
    print(
        f"\n3. Rule mode: independent cascade, barabasi_albert n={args.rule_agents} m=2, {args.rule_steps} steps (final reach {r['reach']:.1%})"
    )
    print(f"   model set-up: {r['init_s']:.1f} s")
    print(
        f"   {rate:,.0f} agent-steps/s = {rate / 200_000:.1f}x target (>= 200,000: {'PASS' if rate >= 200_000 else 'FAIL'})"
    )
    print(
        f"   memory per agent, all in: {r['bytes_total']:,.0f} B = {r['bytes_total'] / 2048:.2f}x the 2 KB target"
    )
    print(
        f"     of which the networkx graph: {r['bytes_network']:,.0f} B; persona columns, beliefs, policy state: {state:,.0f} B"
        f" ({'PASS' if r['bytes_total'] <= 2048 else 'FAIL'} all in)"
    )
    print(f"   after {args.rule_steps} steps: {r['bytes_after_steps']:,.0f} B per agent")
    print(
        f"   once every agent exists as a mesa Agent on its Network cell (model.agents, {r['create_s']:.1f} s): "
        f"{r['bytes_with_agents']:,.0f} B per agent = {r['bytes_with_agents'] / 2048:.2f}x the target"
    )


if __name__ == "__main__":
    main()
