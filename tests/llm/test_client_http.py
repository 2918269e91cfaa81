"""LLMClient's direct HTTP path against a loopback OpenAI-compatible stub."""

from __future__ import annotations

import json
import random
import socket

import pytest
from pydantic import BaseModel

from socialsim.llm import LLMClient, LLMConfig, LLMRequest
from socialsim.llm.retry import RetryPolicy


class Vote(BaseModel):
    choice: str
    confidence: float


GOOD = '{"choice": "A", "confidence": 0.9}'


def ask(text: str = "hello", **kw) -> LLMRequest:
    return LLMRequest(messages=[{"role": "user", "content": text}], **kw)


def make_client(stub, tmp_path=None, **cfg) -> LLMClient:
    settings = {
        "model": "openai/stub-model",
        "api_base": stub.api_base,
        "retries": 2,
        "cache": False,
    }
    settings.update(cfg)
    path = tmp_path / "c.sqlite" if tmp_path is not None else None
    retry = RetryPolicy(retries=settings["retries"], base=0.001, cap=0.002, rng=random.Random(0))
    return LLMClient(LLMConfig(**settings), path, retry=retry)


def test_fast_path_sends_an_openai_request(stub, monkeypatch):
    monkeypatch.setenv("STUB_KEY", "sekret")
    with make_client(stub, api_key_env="STUB_KEY") as client:
        [res] = client.run([ask(temperature=0.0, max_tokens=12, seed=5)])
    assert res.ok and res.text == "hello" and res.record.route == "http"
    assert (res.record.prompt_tokens, res.record.completion_tokens) == (7, 3)
    body = stub.bodies[0]
    assert body["model"] == "stub-model"  # provider prefix stripped
    assert (body["temperature"], body["max_tokens"], body["seed"]) == (0.0, 12, 5)
    assert stub.headers[0]["Authorization"] == "Bearer sekret"


@pytest.mark.parametrize("status", [429, 500, 503])
def test_transient_statuses_are_retried(stub, status):
    stub.behaviour = lambda body, n: (status, "busy") if n < 3 else (200, "finally")
    with make_client(stub) as client:
        [res] = client.run([ask()])
    assert res.ok and res.text == "finally" and res.record.attempts == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_permanent_statuses_are_not_retried(stub, status):
    stub.behaviour = lambda body, n: (status, "no")
    with make_client(stub) as client:
        [res] = client.run([ask()])
    assert res.error.startswith("permanent:") and f"HTTP {status}" in res.error
    assert res.record.attempts == 1 and stub.calls == 1


@pytest.mark.slow
def test_malformed_json_is_repaired_once(stub):
    stub.behaviour = lambda body, n: (200, "choice A, pretty sure") if n == 1 else (200, GOOD)
    with make_client(stub) as client:
        [res] = client.run([ask(schema=Vote)])
    assert res.ok and res.value == Vote(choice="A", confidence=0.9)
    assert res.record.repaired and res.record.attempts == 2
    assert res.record.completion_tokens == 6  # both rounds counted
    repair_turn = stub.bodies[1]["messages"]
    assert repair_turn[1] == {"role": "assistant", "content": "choice A, pretty sure"}
    assert "JSON" in repair_turn[2]["content"]


@pytest.mark.slow
def test_two_bad_answers_give_a_typed_failure(stub):
    stub.behaviour = lambda body, n: (200, '{"choice": "A"}')
    with make_client(stub) as client:
        [res] = client.run([ask(schema=Vote)])
    assert not res.ok and res.value is None and res.error.startswith("structured:")
    assert "confidence" in res.error and stub.calls == 2


def test_response_format_falls_back_when_the_server_rejects_it(stub):
    def behaviour(body, n):
        fmt = body.get("response_format")
        if fmt and fmt["type"] == "json_schema":
            return 400, "unsupported response_format"
        return 200, GOOD

    stub.behaviour = behaviour
    with make_client(stub) as client:
        [first] = client.run([ask("a", schema=Vote)])
        [second] = client.run([ask("b", schema=Vote)])
    assert first.ok and second.ok
    assert [b["response_format"]["type"] for b in stub.bodies] == [
        "json_schema",
        "json_object",
        "json_object",  # remembered for this server
    ]
    assert "properties" in stub.bodies[1]["response_format"]["schema"]


@pytest.mark.slow
def test_concurrency_cap_is_respected(stub):
    stub.delay = 0.05
    with make_client(stub, concurrency=4) as client:
        results = client.run([ask(str(i)) for i in range(20)])
    assert all(r.ok for r in results)
    assert stub.max_in_flight == 4


def test_timeout_is_a_transient_error(stub):
    stub.delay = 0.4
    with make_client(stub, timeout=0.05, retries=1) as client:
        [res] = client.run([ask()])
    assert res.error.startswith("transient: timeout") and res.record.attempts == 2


def test_connection_refused_is_reported(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = LLMConfig(
        model="openai/x", api_base=f"http://127.0.0.1:{port}/v1", retries=1, cache=False
    )
    with LLMClient(cfg, retry=RetryPolicy(retries=1, base=0.001, cap=0.001)) as client:
        [res] = client.run([ask()])
    assert res.error.startswith("transient: cannot reach") and res.record.attempts == 2


@pytest.mark.slow
def test_cached_rerun_makes_zero_backend_calls(stub, tmp_path):
    stub.behaviour = lambda body, n: (200, GOOD)
    reqs = [ask(f"q{i}", schema=Vote, seed=i) for i in range(30)]
    with make_client(stub, tmp_path, cache=True) as client:
        first = client.run(reqs)
    assert stub.calls == 30
    with make_client(stub, tmp_path, cache=True) as client:
        second = client.run(reqs)
        stats = client.stats
    assert stub.calls == 30
    assert all(r.record.cached for r in second)
    assert [r.value for r in second] == [r.value for r in first]
    assert stats["cached"] == 30 and stats["model_calls"] == 0


@pytest.mark.slow
def test_an_answer_that_came_after_a_timed_out_attempt_is_replayed_without_a_call(stub, tmp_path):
    stub.behaviour = lambda body, n: (200, GOOD)
    stub.delay_of = lambda body: 5.0 if stub.calls == 1 else 0.0  # the first attempt hangs
    # the worker's start-up (slow on a loaded machine) counts against no call's 0.3 s
    with make_client(stub, tmp_path, cache=True, timeout=0.3, http_worker=True) as client:
        [first] = client.run([ask("q", schema=Vote, seed=1)])
    assert first.ok and first.record.attempts == 2 and stub.calls == 2
    with make_client(stub, tmp_path, cache=True, timeout=0.3) as client:
        [again] = client.run([ask("q", schema=Vote, seed=1)])
        stats = client.stats
    assert stub.calls == 2 and again.record.cached and again.value == first.value
    assert again.record.attempts == 0 and stats["model_calls"] == 0


def test_sessions_are_reused_across_runs(stub):
    with make_client(stub, http_worker=False) as client:
        client.run([ask("1")])
        session = client._http._session
        client.run([ask("2")])
        assert client._http._session is session and not session.closed
    assert session.closed
    assert json.dumps(stub.bodies[1]["messages"]) == '[{"role": "user", "content": "2"}]'


@pytest.mark.slow
def test_unusable_answers_replay_from_the_cache_but_transport_errors_do_not(stub, tmp_path):
    stub.behaviour = lambda body, n: (200, '{"choice": "A"}')
    with make_client(stub, tmp_path, cache=True) as client:
        [first] = client.run([ask("q", schema=Vote, seed=1)])
    assert stub.calls == 2 and first.error.startswith("structured:")
    with make_client(stub, tmp_path, cache=True) as client:
        [again] = client.run([ask("q", schema=Vote, seed=1)])
    assert stub.calls == 2 and again.record.cached and again.error == first.error
    stub.behaviour = lambda body, n: (503, "busy")
    with make_client(stub, tmp_path, cache=True, retries=0) as client:
        [failed] = client.run([ask("other", schema=Vote, seed=2)])
    assert not failed.ok and stub.calls == 3
    stub.behaviour = lambda body, n: (200, GOOD)
    with make_client(stub, tmp_path, cache=True) as client:
        [fresh] = client.run([ask("other", schema=Vote, seed=2)])
    assert fresh.ok and not fresh.record.cached and stub.calls == 4


def test_map_sends_each_request_before_the_next_is_built(stub):
    """Pipelining: early requests are sent and answered while later items are being built."""
    import time

    built_at: dict[int, float] = {}
    handled_at: dict[int, float] = {}
    arrived: list[tuple[str, float]] = []

    def reply(body, n):
        arrived.append((body["messages"][0]["content"], time.perf_counter()))
        return 200, "hello"

    def build(i: int) -> LLMRequest:
        built_at[i] = time.perf_counter()
        time.sleep(0.01)  # a slow prompt builder
        return ask(f"item {i}")

    def handle(i: int, result) -> str:
        handled_at[i] = time.perf_counter()
        return f"{i}:{result.text}"

    stub.behaviour = reply
    with make_client(stub, concurrency=8) as client:
        out = client.map(list(range(20)), build, handle)
    assert out == [f"{i}:hello" for i in range(20)]  # item order, whatever the arrival order
    first_arrival = dict(arrived)["item 0"]
    assert first_arrival < built_at[19] and handled_at[0] < built_at[19]


def test_map_builds_no_more_than_a_window_ahead_of_the_answers(stub):
    """Building is spread over the batch: item i is built only once all but a window of
    the earlier calls ended (window = concurrency + max(8, concurrency // 4) = 12 here)."""
    stub.delay = 0.02
    answered: list[int] = []  # calls the stub has answered (the client reads them after)
    stub.behaviour = lambda body, n: (answered.append(n), (200, "ok"))[1]
    ended_before_build: dict[int, int] = {}

    def build(i: int) -> LLMRequest:
        ended_before_build[i] = len(answered)
        return ask(f"item {i}")

    def handle(i: int, result) -> str:
        return result.text

    with make_client(stub, concurrency=4) as client:
        out = client.map(list(range(40)), build, handle)
    assert out == ["ok"] * 40
    assert all(ended_before_build[i] >= i - 12 for i in range(40))
    assert ended_before_build[39] >= 27  # not all built up front
    assert stub.calls == 40


def test_map_stops_when_handling_an_answer_fails(stub):
    stub.delay = 0.01
    stub.behaviour = lambda body, n: (200, "ok")
    built: list[int] = []

    def build(i: int) -> LLMRequest:
        built.append(i)
        return ask(f"item {i}")

    def handle(i: int, result) -> str:
        if i == 2:
            raise RuntimeError("bad answer handler")
        return result.text

    with make_client(stub, concurrency=2) as client:
        with pytest.raises(RuntimeError, match="bad answer handler"):
            client.map(list(range(200)), build, handle)
        [after] = client.map([0], lambda i: ask("after"), lambda i, r: r)  # still usable
    assert after.ok and len(built) < 200


@pytest.mark.slow
def test_map_replays_cached_answers_without_calls_and_caches_new_ones(stub, tmp_path):
    stub.behaviour = lambda body, n: (200, GOOD)
    reqs = [ask(f"q{i}", schema=Vote, seed=i) for i in range(6)]
    with make_client(stub, tmp_path, cache=True) as client:
        first = client.map(reqs[:3], lambda r: r, lambda r, res: res)
    assert stub.calls == 3 and not any(r.record.cached for r in first)
    with make_client(stub, tmp_path, cache=True) as client:
        second = client.map(reqs, lambda r: r, lambda r, res: res)
        stats = client.stats
    assert stub.calls == 6
    assert [r.record.cached for r in second] == [True] * 3 + [False] * 3
    assert all(r.value == Vote(choice="A", confidence=0.9) for r in second)
    assert stats["calls"] == 6 and stats["cached"] == 3


@pytest.mark.slow
def test_map_stops_cleanly_when_build_fails(stub):
    stub.delay = 0.02

    def build(i: int) -> LLMRequest:
        if i == 3:
            raise ValueError("bad item 3")
        return ask(str(i))

    with make_client(stub) as client:
        with pytest.raises(ValueError, match="bad item 3"):
            client.map(list(range(6)), build, lambda i, r: r)
        [after] = client.map([0], lambda i: ask("after"), lambda i, r: r)  # client still usable
    assert after.ok and stub.calls <= 4


@pytest.mark.slow
def test_fast_path_prices_come_from_the_cost_file_without_importing_litellm():
    import os
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from socialsim.llm.check import validate_model\n"
        "from socialsim.llm.costs import Costs\n"
        "from socialsim.llm.types import LLMConfig\n"
        "validate_model(LLMConfig(model='openai/gpt-4o-mini', api_base='http://127.0.0.1:9/v1'))\n"
        "costs = Costs()\n"
        "print(costs('openai/gpt-4o-mini', 'http', 1000, 100), costs('hosted_vllm/mine', 'http', 9, 9))\n"
        "print('litellm' in sys.modules)\n"
    )
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    ).stdout.split("\n")
    price, unknown = out[0].split()
    assert out[1] == "False" and unknown == "None"
    from socialsim.llm.litellm_route import get_litellm

    prompt, completion = get_litellm().cost_per_token(
        model="openai/gpt-4o-mini", prompt_tokens=1000, completion_tokens=100
    )
    assert float(price) == pytest.approx(prompt + completion)


@pytest.mark.slow
def test_the_breaker_stops_calls_to_an_endpoint_that_keeps_failing(stub):
    stub.behaviour = lambda body, n: (503, "overloaded")
    with make_client(stub, retries=5, concurrency=1, breaker_failures=3) as client:
        [first] = client.run([ask("a")])
        [second] = client.run([ask("b")])
        down = client.endpoint_down
    expected = (
        f"model endpoint {stub.api_base} failed 3 requests in a row (HTTP 503); "
        "check the server's own log; it answers with server errors"
    )
    assert down == expected and first.error == f"unavailable: {expected}"
    assert first.record.attempts == 3 and second.record.attempts == 0 and stub.calls == 3
    assert second.error == first.error


def test_an_answer_closes_the_breaker_count(stub):
    stub.behaviour = lambda body, n: (503, "busy") if n % 3 else (200, "fine")
    with make_client(stub, retries=2, breaker_failures=3) as client:
        results = [client.run([ask(str(i))])[0] for i in range(4)]  # 503, 503, then an answer
        assert client.endpoint_down is None
    assert all(r.ok for r in results) and stub.calls == 12


@pytest.mark.parametrize("how", ["map", "run"])
@pytest.mark.slow
def test_calls_running_past_the_step_deadline_fail_and_the_others_come_back(stub, how):
    stub.behaviour = lambda body, n: (200, body["messages"][0]["content"])
    stub.delay_of = lambda body: 30.0 if body["messages"][0]["content"] == "3" else 0.0
    # the HTTP worker's start-up (about 0.6 s on a loaded 2-core machine) counts against no
    # deadline: the batch waits for it before its 0.5 s begin
    cfg = {"timeout": 60, "call_timeout": 60, "step_deadline": 0.5, "http_worker": True}
    with make_client(stub, **cfg) as client:
        reqs = [ask(str(i)) for i in range(6)]
        if how == "map":
            out = client.map(reqs, lambda r: r, lambda r, res: res)
        else:
            out = client.run(reqs)
        stats = client.stats
    assert [r.text for r in out] == ["0", "1", "2", "", "4", "5"]
    late = out[3]
    assert not late.ok and late.error.startswith("deadline: no answer within the step deadline")
    assert late.record.attempts == 1 and late.record.error == late.error
    assert stats["calls"] == 6 and stats["errors"] == 1


@pytest.mark.slow
def test_the_call_timeout_bounds_every_attempt_together(stub):
    stub.delay = 0.3
    with make_client(stub, timeout=0.2, retries=10, call_timeout=0.5) as client:
        [res] = client.run([ask()])
    assert res.error == "transient: timeout after 0.5s in all (agents.llm.call_timeout)"
    assert res.record.attempts == 3


def test_the_call_timeout_runs_from_the_calls_own_slot_not_from_the_queue(stub):
    # one slot, 6 calls of 0.15 s each: the last waits 0.75 s for its slot, longer than its
    # 0.5 s budget, and still gets its answer (the wait behind other calls is not its own)
    stub.delay = 0.15
    stub.behaviour = lambda body, n: (200, body["messages"][0]["content"])
    with make_client(stub, concurrency=1, timeout=0.4, call_timeout=0.5, retries=0) as client:
        out = client.run([ask(str(i)) for i in range(6)])
    assert [r.error for r in out] == [None] * 6
    assert [r.text for r in out] == [str(i) for i in range(6)]


@pytest.mark.slow
def test_answers_are_cached_while_later_calls_still_wait(stub, tmp_path):
    from socialsim.llm.cache import ResponseCache

    seen: list[int] = []

    def reply(body, n):
        if body["messages"][0]["content"] == "slow":  # answered last: the others are committed
            cache = ResponseCache(tmp_path / "c.sqlite")
            seen.append(len(cache))
            cache.close()
        return 200, GOOD

    stub.behaviour = reply
    stub.delay_of = lambda body: 0.0 if body["messages"][0]["content"] != "slow" else 1.0
    with make_client(stub, tmp_path, cache=True) as client:
        client.map(
            [ask("a", seed=1), ask("b", seed=2), ask("slow", seed=3)],
            lambda r: r,
            lambda r, res: res,
        )
        cache = ResponseCache(tmp_path / "c.sqlite")  # every answer committed once map returns
        seen.append(len(cache))
        cache.close()
    assert seen == [2, 3]


def test_an_api_base_with_a_query_keeps_it_after_the_completions_path(stub):
    """Azure-style ``?api-version=`` endpoints: the query goes after ``/chat/completions``."""
    with make_client(stub, api_base=f"{stub.api_base}?api-version=2024-06-01") as client:
        [res] = client.run([ask()])
    assert res.ok and res.text == "hello" and stub.calls == 1


def test_a_password_in_the_url_beside_an_api_key_is_refused_in_one_line(stub, monkeypatch):
    """One Authorization header cannot carry both; the message hides the password."""
    from socialsim.core.errors import LLMSetupError

    monkeypatch.setenv("STUB_KEY", "sk-abcdefghijklmnopqrstuv")
    url = stub.api_base.replace("http://", "http://bob:hunter2secret@")
    with pytest.raises(LLMSetupError, match="carries a user and password") as caught:
        make_client(stub, api_base=url, api_key_env="STUB_KEY")
    assert "hunter2secret" not in str(caught.value) and "$STUB_KEY" in str(caught.value)
    monkeypatch.delenv("STUB_KEY")
    with make_client(stub, api_base=url, api_key_env="STUB_KEY") as client:  # no key: basic auth
        [res] = client.run([ask()])
    assert res.ok and stub.headers[-1]["Authorization"].startswith("Basic ")


def test_a_request_aiohttp_refuses_is_an_unreachable_endpoint_not_a_crash(stub):
    """aiohttp refuses a URL with a password when the session sends an Authorization header
    (a ValueError): the call fails as unreachable, so the worker replies and nothing hangs."""
    import asyncio

    from socialsim.llm.http_worker import Unreachable, post, session

    async def once() -> None:
        client = session(1, 2.0, {"Authorization": "Bearer k"})
        try:
            url = stub.api_base.replace("http://", "http://bob:pw@") + "/chat/completions"
            await post(client, url, b"{}", 2.0)
        finally:
            await client.close()

    with pytest.raises(Unreachable, match="ValueError from"):
        asyncio.run(once())
    assert stub.calls == 0


def test_the_breaker_message_never_shows_a_password_or_key_in_the_url(monkeypatch):
    from socialsim.llm.breaker import Breaker

    breaker = Breaker("http://bob:hunter2secret@127.0.0.1:9/v1?api_key=qsKEYvalue987654", 2)
    breaker.failure("cannot reach http://127.0.0.1:9/v1: [Errno 111] Connection refused")
    breaker.failure("cannot reach http://127.0.0.1:9/v1: [Errno 111] Connection refused")
    assert breaker.tripped is not None and "connection refused" in breaker.tripped
    assert "hunter2secret" not in breaker.tripped and "qsKEYvalue987654" not in breaker.tripped


@pytest.mark.parametrize(
    ("message", "reason", "fix"),
    [
        ("cannot reach http://x.invalid/v1: Name or service not known", "host not found",
         "host name"),
        ("HTTP 429 from http://h/v1: slow down", "HTTP 429", "agents.llm.concurrency"),
        ("litellm.InternalServerError: OpenAIException - Connection error.", "cannot connect",
         "server is running"),
    ],
)  # fmt: skip
def test_failures_are_named_with_their_own_fix(message, reason, fix):
    from socialsim.llm.breaker import fix_for, short_reason

    assert short_reason(message) == reason
    assert fix in fix_for(message, "http://h/v1", None)
