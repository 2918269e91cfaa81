"""The embedded model through LLMClient vs llama-cpp called directly, same prompts and settings.

    python benchmarks/bench_local_model.py [--max-tokens 64]

Both sides use one Llama instance with n_threads=1, temperature 0 and the same max_tokens,
so the ratio of tokens/s is the cost of the client (routing, litellm provider, threads).
Calls alternate between the two sides (A/B, then B/A) so that load from other processes
on the machine falls on both alike.
A last line shows LLMClient with one instance per core answering the prompts concurrently.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from socialsim.llm import LLMClient, LLMConfig, LLMRequest  # noqa: E402
from socialsim.llm.local import bundled_gguf, close_pools, default_workers  # noqa: E402

PROMPTS = [
    "Describe a quiet morning in a small town.",
    "Should cities ban cars from their centres? Give one reason.",
    "Explain what a rumour is to a child.",
    "Write two sentences about trust between neighbours.",
    "What makes a news source reliable?",
    "Summarise the benefits of walking every day.",
]


def messages(prompt: str) -> list[dict[str, str]]:
    """The chat for one prompt."""
    return [{"role": "user", "content": prompt}]


def compare(max_tokens: int, rounds: int = 2) -> tuple[float, int, float, int]:
    """(direct s, direct tokens, client s, client tokens), prompts interleaved A/B, B/A."""
    from llama_cpp import Llama

    llm = Llama(
        model_path=str(bundled_gguf()),
        n_ctx=2048,
        n_threads=1,
        n_threads_batch=1,
        seed=0,
        verbose=False,
    )
    cfg = LLMConfig(
        model="local/smollm2", temperature=0.0, max_tokens=max_tokens, cache=False, local_workers=1
    )
    client = LLMClient(cfg)
    totals = {"direct": [0.0, 0], "client": [0.0, 0]}

    def run_direct(prompt: str) -> None:
        start = time.perf_counter()
        out = llm.create_chat_completion(messages(prompt), temperature=0.0, max_tokens=max_tokens)
        totals["direct"][0] += time.perf_counter() - start
        totals["direct"][1] += out["usage"]["completion_tokens"]

    def run_client(prompt: str) -> None:
        start = time.perf_counter()
        [res] = client.run([LLMRequest(messages=messages(prompt))])
        totals["client"][0] += time.perf_counter() - start
        assert res.ok, res.error
        totals["client"][1] += res.record.completion_tokens

    try:
        run_direct("Hello")  # warm-up: both load the model and run once
        run_client("Hello")
        totals = {"direct": [0.0, 0], "client": [0.0, 0]}
        for r in range(rounds):
            for i, prompt in enumerate(PROMPTS):
                pair = (run_direct, run_client) if (i + r) % 2 == 0 else (run_client, run_direct)
                for fn in pair:
                    fn(prompt)
    finally:
        client.close()
        close_pools()
        llm.close()
    return totals["direct"][0], totals["direct"][1], totals["client"][0], totals["client"][1]


def concurrent(max_tokens: int, workers: int) -> tuple[float, int]:
    """(seconds, completion tokens) for all prompts at once through LLMClient, `workers` instances."""
    cfg = LLMConfig(
        model="local/smollm2",
        temperature=0.0,
        max_tokens=max_tokens,
        cache=False,
        local_workers=workers,
    )
    client = LLMClient(cfg)
    try:
        client.run([LLMRequest(messages=messages("Hello"), max_tokens=8)] * workers)  # warm-up
        start = time.perf_counter()
        results = client.run([LLMRequest(messages=messages(p)) for p in PROMPTS])
        elapsed = time.perf_counter() - start
    finally:
        client.close()
        close_pools()
    assert all(r.ok for r in results), [r.error for r in results]
    return elapsed, sum(r.record.completion_tokens for r in results)


def main() -> None:
    """Measure and print tokens/s for both sides and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()
    d_time, d_tokens, c_time, c_tokens = compare(args.max_tokens)
    cores = default_workers()
    p_time, p_tokens = concurrent(args.max_tokens, workers=cores)
    d_rate, c_rate, p_rate = d_tokens / d_time, c_tokens / c_time, p_tokens / p_time
    ratio = c_rate / d_rate
    print(
        f"embedded model: SmolLM2-135M Q4_1, {len(PROMPTS)} prompts, "
        f"max_tokens={args.max_tokens}, load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'measure':44} {'tokens':>6} {'seconds':>8} {'tokens/s':>9}")
    print(
        f"{'llama-cpp direct (1 instance, n_threads=1)':44} {d_tokens:6d} {d_time:8.2f} {d_rate:9.1f}"
    )
    print(f"{'LLMClient local/smollm2 (1 instance)':44} {c_tokens:6d} {c_time:8.2f} {c_rate:9.1f}")
    print(
        f"{f'LLMClient, {cores} instances, concurrent':44} {p_tokens:6d} {p_time:8.2f} {p_rate:9.1f}"
    )
    print(
        f"ratio LLMClient / direct: {ratio:.1%}  target >= 90%  {'PASS' if ratio >= 0.9 else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
