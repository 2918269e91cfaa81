"""The embedded model through LLMClient vs llama-cpp called directly, same prompts and settings.

    python benchmarks/bench_local_model.py [--max-tokens 64]

Both sides use one Llama instance with n_threads=1, temperature 0 and the same max_tokens,
so the ratio of tokens/s is the cost of the client (routing, litellm provider, threads).
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


def direct(max_tokens: int) -> tuple[float, int]:
    """(seconds, completion tokens) for the prompts on llama-cpp directly."""
    from llama_cpp import Llama

    llm = Llama(
        model_path=str(bundled_gguf()),
        n_ctx=2048,
        n_threads=1,
        n_threads_batch=1,
        seed=0,
        verbose=False,
    )
    llm.create_chat_completion(messages("Hello"), temperature=0.0, max_tokens=8)  # warm-up
    tokens = 0
    start = time.perf_counter()
    for prompt in PROMPTS:
        out = llm.create_chat_completion(messages(prompt), temperature=0.0, max_tokens=max_tokens)
        tokens += out["usage"]["completion_tokens"]
    elapsed = time.perf_counter() - start
    llm.close()
    return elapsed, tokens


def through_client(max_tokens: int, workers: int) -> tuple[float, int]:
    """(seconds, completion tokens) for the prompts through LLMClient (sequential if workers=1)."""
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
        reqs = [LLMRequest(messages=messages(p)) for p in PROMPTS]
        start = time.perf_counter()
        if workers == 1:
            results = [client.run([r])[0] for r in reqs]
        else:
            results = client.run(reqs)
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
    d_time, d_tokens = direct(args.max_tokens)
    c_time, c_tokens = through_client(args.max_tokens, workers=1)
    cores = default_workers()
    p_time, p_tokens = through_client(args.max_tokens, workers=cores)
    d_rate, c_rate, p_rate = d_tokens / d_time, c_tokens / c_time, p_tokens / p_time
    ratio = c_rate / d_rate
    print(
        f"embedded model: SmolLM2-135M Q4_1, {len(PROMPTS)} prompts, max_tokens={args.max_tokens}"
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
