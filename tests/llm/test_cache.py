"""The SQLite response cache: keys, round trips, several processes writing at once."""

from __future__ import annotations

import multiprocessing as mp

import pytest

from socialsim.llm.cache import ResponseCache, cache_key
from socialsim.llm.types import Completion

MSGS = [{"role": "user", "content": "hi"}]


def test_key_depends_on_every_part_of_the_request():
    base = cache_key("m", MSGS, 0.7, 100, 1, None)
    assert base == cache_key("m", [{"content": "hi", "role": "user"}], 0.7, 100, 1, None)
    variants = [
        cache_key("m2", MSGS, 0.7, 100, 1, None),
        cache_key("m", [{"role": "user", "content": "hi!"}], 0.7, 100, 1, None),
        cache_key("m", MSGS, 0.0, 100, 1, None),
        cache_key("m", MSGS, 0.7, 101, 1, None),
        cache_key("m", MSGS, 0.7, 100, 2, None),
        cache_key("m", MSGS, 0.7, 100, None, None),
        cache_key("m", MSGS, 0.7, 100, 1, '{"type":"object"}'),
    ]
    assert len({base, *variants}) == len(variants) + 1


def test_round_trip_and_batch_lookup(cache_file):
    cache = ResponseCache(cache_file)
    cache.put("k1", "m", Completion("one", 3, 1))
    cache.put_many([("k2", "m", Completion("two", 4, 2)), ("k3", "m", Completion("three", 5, 3))])
    assert cache.get("k1") == Completion("one", 3, 1)
    assert cache.get("missing") is None
    found = cache.get_many(["k2", "k3", "nope"])
    assert found == {"k2": Completion("two", 4, 2), "k3": Completion("three", 5, 3)}
    cache.close()
    reopened = ResponseCache(cache_file)
    assert len(reopened) == 3
    reopened.close()


def _writer(path: str, worker: int, n: int) -> None:
    cache = ResponseCache(path)
    for i in range(n):
        cache.put(f"{worker}-{i}", "m", Completion(f"answer {worker} {i}", i, worker))
        cache.get(f"{(worker + 1) % 4}-{i}")
    cache.close()


@pytest.mark.slow
def test_several_processes_write_at_once(cache_file):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(cache_file, w, 150)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    cache = ResponseCache(cache_file)
    assert len(cache) == 600
    assert cache.get("3-149") == Completion("answer 3 149", 149, 3)
    cache.close()


def test_a_cache_damaged_inside_is_a_one_line_setup_error_and_left_as_it_is(cache_file):
    """A file that opens but whose pages are damaged fails on read with LLMSetupError (exit 2
    at the command line, naming the file and the fix), never a bare sqlite3 error."""
    from pathlib import Path

    from socialsim.core.errors import LLMSetupError

    cache = ResponseCache(cache_file)
    keys = [f"k{i}" for i in range(400)]
    cache.put_many([(k, "m", Completion("x" * 200, 1, 1)) for k in keys])
    cache.close()
    path = Path(cache_file)
    with path.open("r+b") as f:  # past the header and the schema page
        f.seek(8192)
        f.write(b"\xa5" * 4096)
    damaged = path.read_bytes()
    cache = ResponseCache(cache_file)
    with pytest.raises(LLMSetupError, match="cannot be used .*give another cache_path"):
        cache.get_many(keys)
    with pytest.raises(LLMSetupError, match="cannot be used"):
        cache.put_many([("new", "m", Completion("y", 1, 1))])
    cache.close()
    assert path.read_bytes() == damaged
