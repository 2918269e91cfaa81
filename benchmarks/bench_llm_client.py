"""Throughput and client CPU of LLMClient against a loopback stub (50 ms x 64 slots).

    python benchmarks/bench_llm_client.py [--n 2000] [--latency 0.05] [--slots 64]

Compares (a) a bare ``litellm.acompletion`` loop, (b) LLMClient's direct HTTP path,
(c) LLMClient through litellm and (d) a fully cached rerun. The stub runs in another
process, so the client's CPU is this process's plus its HTTP worker's (when it has one).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import stub_server  # noqa: E402

from socialsim.llm import LLMClient, LLMConfig, LLMRequest  # noqa: E402
from socialsim.llm.litellm_route import get_litellm  # noqa: E402


def requests(n: int, offset: int = 0) -> list[LLMRequest]:
    """`n` distinct small requests."""
    return [
        LLMRequest(messages=[{"role": "user", "content": f"Question {offset + i}: A or B?"}])
        for i in range(n)
    ]


def bare_litellm(api_base: str, n: int, concurrency: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) for `n` calls through litellm.acompletion directly."""
    litellm = get_litellm()

    async def go(count: int, offset: int) -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with gate:
                await litellm.acompletion(
                    model="openai/stub",
                    api_base=api_base,
                    api_key="none",
                    messages=[{"role": "user", "content": f"Question {offset + i}: A or B?"}],
                    max_tokens=160,
                    temperature=0.7,
                    num_retries=0,
                )

        await asyncio.gather(*(one(i) for i in range(count)))

    async def measured() -> tuple[float, float]:
        await go(concurrency, 10**6)  # warm-up: connections, imports
        wall, cpu = time.perf_counter(), time.process_time()
        await go(n, 0)
        return time.perf_counter() - wall, time.process_time() - cpu

    return asyncio.run(measured())


def with_client(cfg: LLMConfig, n: int, cache_path: str | None = None) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, errors) for `n` calls through LLMClient.run."""
    client = LLMClient(cfg, cache_path)
    try:
        client.run(requests(cfg.concurrency, offset=10**6))  # warm-up
        reqs = requests(n)
        wall, cpu = time.perf_counter(), stub_server.cpu_seconds(client)
        results = client.run(reqs)
        wall, cpu = time.perf_counter() - wall, stub_server.cpu_seconds(client) - cpu
    finally:
        client.close()
    return wall, cpu, sum(not r.ok for r in results)


def main() -> None:
    """Run the four measurements and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="requests per measurement")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--slots", type=int, default=64)
    args = parser.parse_args()
    n, conc = args.n, args.slots
    ideal = args.slots / args.latency
    proc, base = stub_server.start(args.latency, args.slots)
    try:
        fast = LLMConfig(model="openai/stub", api_base=base, concurrency=conc, cache=False)
        via_litellm = fast.model_copy(update={"fast_path": False, "api_key_env": "BENCH_KEY"})
        os.environ.setdefault("BENCH_KEY", "none")
        a_wall, a_cpu = bare_litellm(base, n, conc)
        b_wall, b_cpu, b_err = with_client(fast, n)
        c_wall, c_cpu, c_err = with_client(via_litellm, n)
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "responses.sqlite")
            cached_cfg = fast.model_copy(update={"cache": True})
            u_wall, _, u_err = with_client(cached_cfg, n, path)
            d_wall, d_cpu, d_err = with_client(cached_cfg, n, path)
    finally:
        stub_server.stop(proc)
    errors = b_err + c_err + u_err + d_err
    rows = [
        ("(a) bare litellm.acompletion", f"{n / a_wall:,.0f} calls/s", f"{a_cpu / n * 1e3:.2f}", "-", None),
        ("(b) LLMClient fast path: % of ideal", f"{n / b_wall / ideal:.1%} ({n / b_wall:,.0f}/s)", f"{b_cpu / n * 1e3:.2f}", ">= 80%", n / b_wall / ideal >= 0.80),
        ("(b) LLMClient fast path: CPU ms/call", f"{b_cpu / n * 1e3:.3f} ms", f"{b_cpu / n * 1e3:.2f}", "<= 1 ms", b_cpu / n * 1e3 <= 1.0),
        ("(c) LLMClient via litellm: % of (a)", f"{a_wall / c_wall:.1%} ({n / c_wall:,.0f}/s)", f"{c_cpu / n * 1e3:.2f}", ">= 90%", a_wall / c_wall >= 0.90),
        ("(d) cached rerun: % of uncached time", f"{d_wall / u_wall:.2%} ({d_wall * 1e3:.1f} ms vs {u_wall:.2f} s)", f"{d_cpu / n * 1e3:.3f}", "< 2%", d_wall / u_wall < 0.02),
    ]  # fmt: skip
    print(f"LLM client benchmark: n={n}, stub {args.latency * 1e3:.0f} ms x {args.slots} slots "
          f"(ideal {ideal:,.0f} calls/s), errors={errors}, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"{'measure':40} {'result':34} {'CPU ms/call':>11}  {'target':8} verdict")
    for name, result, cpu, target, ok in rows:
        verdict = "" if ok is None else ("PASS" if ok else "FAIL")
        print(f"{name:40} {result:34} {cpu:>11}  {target:8} {verdict}")


if __name__ == "__main__":
    main()
