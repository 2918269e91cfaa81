"""Rule-policy throughput and memory: independent cascade on a 100,000-node BA graph.

    python benchmarks/bench_rules.py [--nodes 100000] [--steps 20] [--rules all]

Throughput counts every member as one agent-step per step and times `update` plus applying
the update to the credence array, as the model does, over the steps after the first (which
builds cached state and is reported on its own). Memory per agent is what tracemalloc
sees for the credence array, the CSR arrays and the rule's own state, divided by N.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import networkx as nx
import numpy as np

from socialsim.agents.policies import RuleContext, create_rule_policy, rule_policies

TARGET_AGENT_STEPS_PER_S = 200_000
TARGET_BYTES_PER_AGENT = 1024


def build(nodes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR arrays of a Barabasi-Albert graph (m=3)."""
    graph = nx.barabasi_albert_graph(nodes, 3, seed=seed)
    adj = nx.to_scipy_sparse_array(graph, nodelist=range(nodes), format="csr")
    return adj.indptr.copy(), adj.indices.copy()


def bench(
    name: str, params: dict, indptr: np.ndarray, indices: np.ndarray, steps: int, seed: int
) -> dict:
    """Time `steps` steps of one rule; measure the memory of its arrays and state."""
    n = len(indptr) - 1
    rng = np.random.default_rng(seed)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    indptr, indices = indptr.copy(), indices.copy()  # counted: the CSR the rule reads
    rule = create_rule_policy(name, params)
    ctx = RuleContext(
        credence=rule.initial_credences(n, 1, rng),
        indptr=indptr,
        indices=indices,
        members=np.ones(n, dtype=bool),
        active=np.ones(n, dtype=bool),
        rng=rng,
        step=0,
        claim_ids=["c0"],
    )
    t0 = time.perf_counter()
    rule.setup(ctx)
    update = rule.update(ctx)  # the first step builds the rule's cached state
    ctx.credence[update.agents, update.claims] = update.new
    first_s = time.perf_counter() - t0  # traced, so slower than an untraced first step
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    changes = len(update.agents)
    start = time.perf_counter()
    for step in range(1, steps + 1):
        ctx.step = step
        update = rule.update(ctx)
        ctx.credence[update.agents, update.claims] = update.new
        changes += len(update.agents)
    elapsed = time.perf_counter() - start
    return {
        "rule": name,
        "agent_steps_per_s": n * steps / elapsed,
        "bytes_per_agent": held / n,
        "first_step_s": first_s,
        "changes": changes,
        "final_mean": float(ctx.credence.mean()),
    }


def main() -> None:
    """Run the benchmark and print figures against the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--p", type=float, default=0.05, help="cascade activation probability")
    parser.add_argument("--rules", default="independent_cascade", help="comma list, or 'all'")
    args = parser.parse_args()
    t0 = time.perf_counter()
    indptr, indices = build(args.nodes, args.seed)
    print(
        f"graph: barabasi_albert n={args.nodes} m=3, {len(indices)} CSR entries ({time.perf_counter() - t0:.1f}s)"
    )
    names = list(rule_policies()) if args.rules == "all" else args.rules.split(",")
    params = {
        "independent_cascade": {"p": args.p, "initial": "seeded", "seed_fraction": 0.01},
        "linear_threshold": {"threshold": "uniform", "initial": "seeded", "seed_fraction": 0.01},
    }
    for name in names:
        r = bench(name, params.get(name, {}), indptr, indices, args.steps, args.seed)
        print(
            f"{name:20s} {r['agent_steps_per_s']:>14,.0f} agent-steps/s "
            f"({r['agent_steps_per_s'] / TARGET_AGENT_STEPS_PER_S:5.1f}x target {TARGET_AGENT_STEPS_PER_S:,})  "
            f"{r['bytes_per_agent']:7.1f} B/agent "
            f"({r['bytes_per_agent'] / TARGET_BYTES_PER_AGENT:.2f} of target {TARGET_BYTES_PER_AGENT})  "
            f"first step {r['first_step_s']:.2f}s  changes={r['changes']} mean={r['final_mean']:.3f}"
        )


if __name__ == "__main__":
    main()
