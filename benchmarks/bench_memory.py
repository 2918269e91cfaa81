"""Agent memory at scale: bytes per remembered item, and the time to store and to retrieve.

    python benchmarks/bench_memory.py                       # 4,000 agents, 50 items each
    python benchmarks/bench_memory.py --impl old_memory.py  # the same, another Memory module

A population of `agents` memories (capacity 50) is filled as a run fills it: every step each
agent posts one message of ``--words`` words (40) drawn from a 5,000-word vocabulary, and each message is
remembered by the sender ("I said: ...") and by 6 random recipients ("NAME said: ..."),
delivered in a shuffled order, as inboxes are read through a step. Three kinds of text:

- ``english``: every message is new, sentences of socialsim's own data (claims, probes,
  propositions, questions) strung together (an LLM's messages on a run's topics);
- ``random``: every message is new, words drawn at random (the most distinct terms);
- ``repeated``: every agent posts the same message (a stub server's fixed answer).

Printed for each: the bytes the memories hold per item (``tracemalloc``, message strings
built before counting start excluded, so only what memory keeps is counted), over the
figure the run's memory estimate assumes (``MEMORY_ITEM_BYTES``); microseconds per stored
item; and microseconds per retrieval with a query of 4 messages and a claim (as an agent's
observation makes one), with ``k`` = 3. The machine is shared: compare figures of one run,
and the load average printed beside them.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import random
import sys
import time
import tracemalloc

from socialsim.experiments.memory import MEMORY_ITEM_BYTES

CAPACITY, DEGREE, VOCABULARY = 50, 6, 5000
CLAIM = "The capital of Australia is Sydney, not Canberra."


def memory_class(impl: str | None):
    """The Memory class of socialsim, or of the module file `impl`."""
    if impl is None:
        from socialsim.agents.memory import Memory

        return Memory
    spec = importlib.util.spec_from_file_location("memory_impl", impl)
    module = importlib.util.module_from_spec(spec)
    sys.modules["memory_impl"] = module
    spec.loader.exec_module(module)
    return module.Memory


def sentences() -> list[str]:
    """English sentences of socialsim's own data: claims, probes, propositions, questions."""
    from socialsim.core.claims import builtin_claims
    from socialsim.scenarios.persuasion.authority_questions import builtin_questions
    from socialsim.scenarios.propositions import builtin_propositions

    out = [p.text for p in builtin_propositions()]
    out += [q.question for q in builtin_questions().values()]
    for claim in builtin_claims():
        out += [claim.true_statement, claim.manipulated_statement]
        out += [probe.question for probe in claim.probes]
    return out


def messages(rng: random.Random, agents: int, steps: int, kind: str, words: int) -> list[list[str]]:
    """Each step's message of each agent (built before memory is counted)."""
    vocab = [f"word{i}" for i in range(VOCABULARY)]
    pool = sentences()

    def english() -> str:
        said: list[str] = []
        while sum(len(x.split()) for x in said) < words:
            said.append(rng.choice(pool))
        return " ".join(said)

    def random_words() -> str:
        return " ".join(rng.choice(vocab) for _ in range(words))

    same = english()
    make = {"english": english, "random": random_words, "repeated": lambda: same}[kind]
    return [[make() for _ in range(agents)] for _ in range(steps)]


def fill(
    memory_cls, agents: int, steps: int, kind: str, words: int, seed: int, count: bool
) -> dict:
    """Fill the memories; with `count`, the bytes they hold (tracemalloc, which slows every
    allocation: the times come from a second fill without it)."""
    rng = random.Random(seed)
    posts = messages(rng, agents, steps, kind, words)
    names = [f"Agent {i}" for i in range(agents)]
    plan = []
    for step in range(steps):
        deliveries = [(i, i, step) for i in range(agents)]
        for i in range(agents):
            deliveries += [(r, i, step) for r in rng.sample(range(agents), DEGREE)]
        rng.shuffle(deliveries)
        plan.append(deliveries)
    gc.collect()
    if count:
        tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0] if count else 0
    memories = [memory_cls(CAPACITY) for _ in range(agents)]
    stored, started = 0, time.perf_counter()
    for deliveries in plan:
        for recipient, sender, step in deliveries:
            text = posts[step][sender]
            said = f"I said: {text}" if recipient == sender else f"{names[sender]} said: {text}"
            memories[recipient].add(said, step, "read", sender)
            stored += 1
    store_s = time.perf_counter() - started
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before if count else 0
    tracemalloc.stop()
    items = sum(len(m) for m in memories)
    query = " ".join(posts[-1][rng.randrange(agents)] for _ in range(4)) + " " + CLAIM
    started = time.perf_counter()
    for memory in memories:
        memory.retrieve(query, 3, now=steps)
    retrieve_s = time.perf_counter() - started
    return {
        "items": items,
        "bytes_per_item": held / items,
        "store_us": 1e6 * store_s / stored,
        "retrieve_us": 1e6 * retrieve_s / len(memories),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=4000)
    parser.add_argument("--steps", type=int, default=10, help="steps (50 items each by step 8)")
    parser.add_argument("--impl", help="a memory module file to measure instead of socialsim's")
    parser.add_argument("--words", type=int, default=40, help="words of each message")
    parser.add_argument("--seed", type=int, default=0)
    opts = parser.parse_args()
    memory_cls = memory_class(opts.impl)
    print(f"{opts.agents} agents x {opts.steps} steps, capacity {CAPACITY}, {opts.words} words, "
          f"{opts.impl or 'socialsim.agents.memory'}; load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    for kind in ("english", "random", "repeated"):
        args = (memory_cls, opts.agents, opts.steps, kind, opts.words, opts.seed)
        r = fill(*args, count=True)
        timed = fill(*args, count=False)
        r["store_us"], r["retrieve_us"] = timed["store_us"], timed["retrieve_us"]
        print(
            f"{kind:>8} texts: {r['bytes_per_item']:,.0f} B per item "
            f"({r['bytes_per_item'] / MEMORY_ITEM_BYTES:.2f}x the estimate's "
            f"{MEMORY_ITEM_BYTES:,}), {r['items']:,} items; store {r['store_us']:.1f} us per "
            f"item; retrieve {r['retrieve_us']:.1f} us"
        )


if __name__ == "__main__":
    main()
