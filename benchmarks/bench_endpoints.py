"""Throughput of LLMClient over three replicas against one, measured in the same run.

    python benchmarks/bench_endpoints.py [--n 3000] [--latency 0.05] [--slots 16]

Three loopback stubs (:mod:`stub_server`, each in its own process) answer after `latency`
seconds with at most `slots` requests at once; the client's concurrency is `slots`, which
with a list of ``api_base`` URLs applies per URL. The same `n` requests go to one stub
(``api_base`` a string) and then to all three (a list); the ratio of the throughputs is
printed against the target of 2.7x (ideal: 3x).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import stub_server  # noqa: E402

from socialsim.llm import LLMClient, LLMConfig, LLMRequest  # noqa: E402


def requests(n: int, offset: int = 0) -> list[LLMRequest]:
    """`n` distinct small requests."""
    return [
        LLMRequest(messages=[{"role": "user", "content": f"Question {offset + i}: A or B?"}])
        for i in range(n)
    ]


def throughput(cfg: LLMConfig, n: int) -> tuple[float, float, int, list[dict]]:
    """(calls/s, client CPU ms/call, errors, per-replica health) for `n` calls via LLMClient.run."""
    client = LLMClient(cfg)
    try:
        client.run(requests(cfg.concurrency * 3, offset=10**6))  # warm-up: connections
        reqs = requests(n)
        start, cpu = time.perf_counter(), stub_server.cpu_seconds(client)
        results = client.run(reqs)
        wall, cpu = time.perf_counter() - start, stub_server.cpu_seconds(client) - cpu
        health = client.endpoint_health
    finally:
        client.close()
    return n / wall, cpu / n * 1e3, sum(not r.ok for r in results), health


def main() -> None:
    """Measure one stub, then three, and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="requests per measurement")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--slots", type=int, default=16, help="requests each stub serves at once")
    args = parser.parse_args()
    stubs = [stub_server.start(args.latency, args.slots) for _ in range(3)]
    try:
        urls = [base for _, base in stubs]
        one = LLMConfig(model="openai/stub", api_base=urls[0], concurrency=args.slots, cache=False)
        three = one.model_copy(update={"api_base": tuple(urls)})
        single, single_cpu, single_err, _ = throughput(one, args.n)
        pooled, pooled_cpu, pooled_err, health = throughput(three, args.n)
    finally:
        for proc, _ in stubs:
            stub_server.stop(proc)
    ideal = args.slots / args.latency
    ratio = pooled / single
    print(f"replicas benchmark: n={args.n}, each stub {args.latency * 1e3:.0f} ms x {args.slots} "
          f"slots (ideal {ideal:,.0f} calls/s per stub), load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    for name, rate, per, cpu, errors in (
        ("1 stub", single, ideal, single_cpu, single_err),
        ("3 stubs", pooled, 3 * ideal, pooled_cpu, pooled_err),
    ):
        print(f"{name:8} {rate:8,.0f} calls/s ({rate / per:.1%} of ideal), "
              f"client CPU {cpu:.3f} ms/call, errors={errors}")  # fmt: skip
    print("answered per stub: " + ", ".join(str(row["answered"]) for row in health))
    print(
        f"ratio 3 stubs / 1 stub: {ratio:.2f}x (target >= 2.7x) {'PASS' if ratio >= 2.7 else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
