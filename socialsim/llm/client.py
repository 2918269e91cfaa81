"""LLMClient: the one entry point for model calls, async and sync.

Each call goes over the route its model string takes (:mod:`socialsim.llm.routes`: the
embedded model, direct HTTP or litellm). Around every route: the response cache (each answer
committed as it arrives), a concurrency cap, a per-attempt and a per-call timeout for remote
models, retries on transient errors, a circuit breaker per endpoint
(:mod:`socialsim.llm.breaker`), a deadline per batch (:mod:`socialsim.llm.deadline`),
structured output with one repair round, and a :class:`CallRecord` priced by
:mod:`socialsim.llm.costs`. A call to the embedded model has no wall-clock budget here:
waiting for a free instance must not count against it, and with ``local_timeout`` unset
nothing about its answer depends on the machine's load (:mod:`socialsim.llm.local`). With
several ``api_base`` URLs, each attempt goes to the least-loaded replica that is up
(:mod:`socialsim.llm.endpoints`); the concurrency cap then applies per replica. Error texts
are redacted (:mod:`socialsim.llm.redact`) before anything sees them.

All model calls run on the client's own event loop in a background thread
(:mod:`socialsim.llm.loop_thread`), so the synchronous entry points work from anywhere (a
plain script or inside a running loop such as Jupyter) and HTTP sessions are reused across
calls. Every batch takes one path (:mod:`socialsim.llm.stream`): :meth:`LLMClient.stream`
draws requests on the caller's thread, no more than a window of calls ahead of the answers
(the concurrency plus a quarter), and yields each result there as it arrives, so building a
batch and using its answers both overlap the model's latency, and nothing of the caller's
runs on the loop. :meth:`LLMClient.run`, :meth:`LLMClient.map` and the async
:meth:`LLMClient.complete_many` are built on it. When an answer arrives, the request
waiting for its slot is sent before the answer is parsed.
"""

from __future__ import annotations

import asyncio
import os
import queue
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from socialsim.core.errors import LLMSetupError
from socialsim.llm import litellm_route
from socialsim.llm.breaker import Breakers
from socialsim.llm.cache import DEFAULT_CACHE_PATH, ResponseCache, cache_key
from socialsim.llm.costs import Costs
from socialsim.llm.endpoints import EndpointPool, endpoint_urls
from socialsim.llm.http import FAST_PATH_PREFIXES, HttpBackend, api_key
from socialsim.llm.loop_thread import LoopThread
from socialsim.llm.redact import redact, remember, remember_environment, remember_url_credentials
from socialsim.llm.retry import CallClock, CallFailed, RetryPolicy, TransientError
from socialsim.llm.routes import Routes, route_of
from socialsim.llm.stream import Calls, Deliver, results
from socialsim.llm.structured import parse, repair_messages, schema_text
from socialsim.llm.types import CallRecord, Completion, LLMConfig, LLMRequest, LLMResult, Messages

T = TypeVar("T")
X = TypeVar("X")
Y = TypeVar("Y")

__all__ = ["LLMClient", "route_of"]


class LLMClient:
    """Model calls with caching, a concurrency cap, timeouts, retries and structured output."""

    def __init__(
        self,
        config: LLMConfig,
        cache_path: str | Path | None = None,
        *,
        retry: RetryPolicy | None = None,
        probe_after: float = 2.0,
    ) -> None:
        self.config = config
        self._probe_after = probe_after  # seconds before a failed replica gets a trial call
        self._pools: dict[tuple[str, ...], EndpointPool] = {}
        self._width = config.concurrency * max(1, len(endpoint_urls(config.api_base)))
        self.retry = retry or RetryPolicy(retries=config.retries)
        self._cache: ResponseCache | None = None
        if config.cache:
            self._cache = ResponseCache(cache_path or config.cache_path or DEFAULT_CACHE_PATH)
        self._api_key = api_key(config.api_key_env)
        remember(self._api_key)
        remember_environment()
        _check_url_credentials(config, self._api_key)
        remember_url_credentials(endpoint_urls(config.api_base))
        worker = config.http_worker
        if worker is None:  # a second core to use, and fork/exec with inherited sockets
            worker = (os.cpu_count() or 1) >= 2 and os.name == "posix"
        self._http = HttpBackend(
            self._width, config.api_key_env, config.connect_timeout, worker=worker
        )
        self._breakers = Breakers(config.breaker_failures, config.api_key_env)
        self._unsaved: list[tuple[str, str, Completion]] = []  # answers not yet committed
        self._routes = Routes(config, self._http)
        self._costs = Costs()
        self._loop_thread = LoopThread("socialsim-llm")
        self._sem: asyncio.Semaphore | None = None
        self._closed = False
        self._stats: dict[str, float] = {
            "calls": 0,
            "cached": 0,
            "errors": 0,
            "model_calls": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "cost": 0.0,
            "latency_s": 0.0,
        }

    # ----------------------------------------------------------------- public API

    @property
    def stats(self) -> dict[str, float]:
        """Cumulative counts: calls, cached, errors, model_calls, tokens, cost, latency_s."""
        return dict(self._stats)

    @property
    def http_worker_pid(self) -> int | None:
        """The process id of the HTTP worker (:mod:`socialsim.llm.http_worker`) while one runs."""
        return self._http.worker_pid

    @property
    def endpoint_down(self) -> str | None:
        """One line naming an endpoint whose circuit breaker opened (no answer since), or None."""
        return self._breakers.tripped

    @property
    def endpoint_health(self) -> list[dict[str, Any]]:
        """Per replica of a list of ``api_base`` URLs used so far: url, up, in_flight, answered, failed."""
        return [row for pool in self._pools.values() for row in pool.health()]

    async def complete(self, req: LLMRequest) -> LLMResult:
        """One request; failures come back as `result.error`, never as exceptions."""
        results = await self._on_own_loop(self._complete_many([req]))
        return results[0]

    async def complete_many(self, reqs: list[LLMRequest]) -> list[LLMResult]:
        """Many requests at once (up to `config.concurrency` in flight), results in order."""
        return await self._on_own_loop(self._complete_many(list(reqs)))

    def run(self, reqs: list[LLMRequest]) -> list[LLMResult]:
        """Synchronous :meth:`complete_many`: safe to call from inside a running event loop."""
        out: list[Any] = [None] * len(reqs)
        for i, result in self.stream(reqs):
            out[i] = result
        return out

    def stream(self, requests: Iterable[LLMRequest]) -> Iterator[tuple[int, LLMResult]]:
        """Send each request as `requests` yields it; yield ``(index, result)`` as answers come.

        Everything but the calls runs on the caller's thread: `requests` is drawn there, only
        while fewer than a window of calls (the concurrency plus a quarter) are running, so
        the work of building a request spreads over the batch; each result is yielded there as
        soon as it arrives (in the order they come), while the client's loop thread keeps the
        other calls in flight. Calls still running at `config.step_deadline` are cancelled
        and yielded as failed results; requests drawn after it fail without being sent.
        Leaving the loop early (a break, an exception) cancels the calls still running.
        Not for the client's own loop thread, nor for code that `requests` runs.
        """
        loop = self._ensure_loop()
        if self._loop_thread.is_current():
            raise RuntimeError("LLMClient.stream cannot be called from the client's own loop")
        arrived: queue.SimpleQueue = queue.SimpleQueue()
        calls = asyncio.run_coroutine_threadsafe(
            self._open(lambda i, result: arrived.put((i, result))), loop
        ).result()
        yield from results(loop, calls, arrived, requests, self._window)

    def map(
        self,
        items: Sequence[X],
        build: Callable[[X], LLMRequest],
        handle: Callable[[X, LLMResult], Y],
    ) -> list[Y]:
        """Build, send and handle one request per item, pipelined; results in item order.

        :meth:`stream` with ``build(item)`` as the requests: `build` runs in item order, only
        while fewer than a window of calls are running, and `handle` as each answer arrives,
        both on the caller's thread.
        """
        items = list(items)
        out: list[Any] = [None] * len(items)
        for i, result in self.stream(build(item) for item in items):
            out[i] = handle(items[i], result)
        return out

    def close(self) -> None:
        """Close HTTP sessions, stop the loop thread and close the cache."""
        if self._closed:
            return
        self._closed = True
        self._loop_thread.stop(self._shutdown)
        if self._cache is not None:
            self._cache.close()

    async def _shutdown(self) -> None:
        await self._http.close()
        me = asyncio.current_task()
        others = [t for t in asyncio.all_tasks() if t is not me]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- the loop thread

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        if self._closed:
            raise RuntimeError("LLMClient is closed")
        return self._loop_thread.loop()

    async def _on_own_loop(self, coro: Coroutine[Any, Any, T]) -> T:
        self._ensure_loop()
        return await self._loop_thread.run(coro)

    # ----------------------------------------------------------------- calls

    @property
    def _window(self) -> int:
        """Calls of a batch running or waiting for a slot: the concurrency plus a quarter."""
        return self._width + max(8, self._width // 4)

    async def _open(self, deliver: Deliver) -> Calls:
        """A new batch on this loop: the HTTP worker ready, then its deadline started."""
        await self._http_ready()
        if self._sem is None:
            self._sem = asyncio.Semaphore(self._width)
        return Calls(self, deliver, self._batch_deadline())

    async def _complete_many(self, reqs: list[LLMRequest]) -> list[LLMResult]:
        """Every request in one batch, on this loop; results in order."""
        out: list[Any] = [None] * len(reqs)
        done = asyncio.get_running_loop().create_future()
        left = [len(reqs)]

        def deliver(i: int, result: LLMResult | BaseException) -> None:
            if done.done():
                return
            if isinstance(result, BaseException):
                done.set_exception(result)
                return
            out[i] = result
            left[0] -= 1
            if not left[0]:
                done.set_result(None)

        calls = await self._open(deliver)
        try:
            if reqs:
                calls.add(0, reqs)
                await done
        except BaseException:
            await calls.close(cancel=True)
            raise
        await calls.close(cancel=False)
        return out

    async def _http_ready(self) -> None:
        """Start the HTTP worker before a batch's deadline runs when the config's route is the
        direct HTTP path: its start-up counts against no deadline or budget."""
        cfg = self.config
        if route_of(cfg.model, cfg.api_base, cfg.fast_path) == "http":
            await self._http.ready()

    def _batch_deadline(self) -> float | None:
        """The ``time.monotonic()`` instant at which this batch's calls are cut off, or None."""
        seconds = self.config.step_deadline
        return None if seconds is None else time.monotonic() + seconds

    def _late(self, record: CallRecord, started: float) -> LLMResult:
        """The failed result of a call cancelled at the batch deadline."""
        record.error = (
            f"deadline: no answer within the step deadline of {self.config.step_deadline:g}s "
            "(agents.llm.step_deadline)"
        )
        record.latency_s = time.perf_counter() - started
        self._account(record)
        return LLMResult(text="", record=record, value=None, error=record.error)

    def _plan(
        self, req: LLMRequest
    ) -> tuple[str, str, str | tuple[str, ...] | None, float, int, str]:
        cfg = self.config
        model = req.model or cfg.model
        api_base = req.api_base or cfg.api_base
        temperature = cfg.temperature if req.temperature is None else req.temperature
        max_tokens = req.max_tokens or cfg.max_tokens
        key = ""
        if self._cache is not None:
            sent = req.sent_schema()
            schema = schema_text(sent) if sent is not None else None
            extra = req.extra if req.logprobs is None else {**req.extra, "logprobs": req.logprobs}
            key = cache_key(model, req.messages, temperature, max_tokens, req.seed, schema, extra)
        return (
            model,
            route_of(model, api_base, cfg.fast_path),
            api_base,
            temperature,
            max_tokens,
            key,
        )

    def _from_cache(self, req: LLMRequest, plan: tuple, hit: Completion) -> LLMResult | None:
        model, route = plan[0], plan[1]
        value = None
        error = None
        if req.schema is not None:
            value, problem = parse(hit.text, req.schema)
            if problem is not None:  # the model's answer was unusable then too: replay that
                error = redact(f"structured: {problem} (after one repair round)")
        record = CallRecord(
            model=model,
            route=route,
            prompt_tokens=hit.prompt_tokens,
            completion_tokens=hit.completion_tokens,
            cost=0.0,
            cached=True,
            tag=req.tag,
            error=error,
        )
        return LLMResult(
            text=hit.text, record=record, value=value, error=error, logprobs=hit.logprobs
        )

    async def _call(self, req: LLMRequest, plan: tuple, record: CallRecord) -> LLMResult:
        """One call: attempts, the repair round, accounting; the answer cached at once."""
        model, route, _, _, _, key = plan
        if route == "litellm":
            litellm_route.get_litellm()  # first import (seconds) stays out of the latency
        elif route == "http":
            await self._routes.http.ready()  # the worker's start counts against no budget
        start = time.perf_counter()
        # a remote call's budget runs from when it first gets a concurrency slot: time spent
        # waiting behind other calls is not its own (the embedded model's limit runs from
        # when an instance is free)
        deadline = None if route == "local" else CallClock(self.config.call_timeout)
        text, value, error, tokens = "", None, None, None
        prompt_tokens = completion_tokens = 0
        try:
            done = await self._attempts(req, plan, req.messages, record, deadline)
            # One loop turn before the answer is read: the request waiting for the slot this
            # call just freed is sent first, so the endpoint's slot does not idle meanwhile.
            await asyncio.sleep(0)
            prompt_tokens, completion_tokens, text, tokens = (
                done.prompt_tokens,
                done.completion_tokens,
                done.text,
                done.logprobs,
            )
            if req.schema is not None:
                value, problem = parse(text, req.schema)
                if problem is not None:
                    fix = repair_messages(req.messages, text, problem, req.sent_schema())
                    done = await self._attempts(req, plan, fix, record, deadline)
                    prompt_tokens += done.prompt_tokens
                    completion_tokens += done.completion_tokens
                    text, tokens = done.text, done.logprobs
                    value, problem2 = parse(text, req.schema)
                    if problem2 is None:
                        record.repaired = True
                    else:
                        error = redact(f"structured: {problem2} (after one repair round)")
        except CallFailed as exc:
            error = redact(str(exc))
        record.latency_s = time.perf_counter() - start
        record.prompt_tokens, record.completion_tokens = prompt_tokens, completion_tokens
        if record.attempts:
            record.cost = self._costs(model, route, prompt_tokens, completion_tokens)
        record.error = error
        self._account(record)
        if key and self._cache is not None and (error is None or error.startswith("structured:")):
            # a model's answer is data even when unusable; transport failures are never cached
            self._keep(key, model, Completion(text, prompt_tokens, completion_tokens, tokens))
        if error is None:
            return LLMResult(text=text, record=record, value=value, logprobs=tokens)
        return LLMResult(text=text, record=record, value=None, error=error, logprobs=tokens)

    def _keep(self, key: str, model: str, completion: Completion) -> None:
        """Cache an answer: committed on the next loop turn with the others that arrived in this one.

        One transaction per loop turn: under load many answers share a commit, and a process
        killed at any moment loses only answers that arrived in the turn it was killed in.
        """
        if not self._unsaved:
            asyncio.get_running_loop().call_soon(self._save)
        self._unsaved.append((key, model, completion))

    def _save(self) -> None:
        """Commit the answers kept since the last commit."""
        rows, self._unsaved = self._unsaved, []
        if rows and self._cache is not None:
            self._cache.put_many(rows)

    def _litellm_key(self, model: str, api_base: str | None) -> str | None:
        """The key for litellm: the configured one; a placeholder for a keyless local server."""
        if self.config.api_key_env:
            return self._api_key
        if api_base and model.startswith(FAST_PATH_PREFIXES) and self._api_key is None:
            return "no-key"  # OpenAI-compatible servers without auth accept any key
        return None

    def _account(self, record: CallRecord) -> None:
        stats = self._stats
        stats["calls"] += 1
        stats["errors"] += record.error is not None
        stats["model_calls"] += record.attempts
        stats["prompt_tokens"] += record.prompt_tokens
        stats["completion_tokens"] += record.completion_tokens
        stats["cost"] += record.cost or 0.0
        stats["latency_s"] += record.latency_s

    async def _attempts(
        self,
        req: LLMRequest,
        plan: tuple,
        messages: Messages,
        record: CallRecord,
        deadline: CallClock | None,
    ) -> Completion:
        attempt = lambda: self._attempt(req, plan, messages, record, deadline)  # noqa: E731
        done, _ = await self.retry.run(attempt, None if deadline is None else deadline.ends)
        return done

    async def _attempt(
        self,
        req: LLMRequest,
        plan: tuple,
        messages: Messages,
        record: CallRecord,
        deadline: CallClock | None,
    ) -> Completion:
        """One attempt: past the breaker, within the attempt timeout and the call's budget.

        An attempt on the embedded model (no `deadline`) has neither: its generation's own
        budget, ``local_timeout``, starts when an instance is free.
        """
        model, route, api_base, temperature, max_tokens, _ = plan
        cfg = self.config
        urls = endpoint_urls(api_base)

        async def send(url: str | None) -> Completion:
            record.attempts += 1
            key = self._litellm_key(model, url)
            return await self._routes.send(
                req, messages, model, route, url, temperature, max_tokens, api_key=key
            )

        def budget() -> tuple[float, str]:
            assert deadline is not None
            left = deadline.left()
            if left <= 0:
                raise TransientError(
                    f"no time left of the call's {cfg.call_timeout:g}s (agents.llm.call_timeout)"
                )
            if left < cfg.timeout:
                return left, f"timeout after {cfg.call_timeout:g}s in all (agents.llm.call_timeout)"
            return cfg.timeout, f"timeout after {cfg.timeout:g}s (agents.llm.timeout)"

        assert self._sem is not None
        async with self._sem:
            if deadline is not None:
                deadline.start()
            if route == "local":
                record.attempts += 1
                return await self._routes.send_local(req, messages, model, temperature, max_tokens)
            if len(urls) > 1:
                return await self._pool_of(urls).attempt(send, budget)
            url = urls[0] if urls else None
            breaker = self._breakers.of(model, route, url)
            return await breaker.attempt(lambda: send(url), *budget())

    def _pool_of(self, urls: tuple[str, ...]) -> EndpointPool:
        """The pool of these replicas (one per list of URLs), made on first use."""
        pool = self._pools.get(urls)
        if pool is None:
            breaker = self._breakers.of_pool(urls)
            pool = EndpointPool(urls, self.config.concurrency, breaker, self._probe_after)
            self._pools[urls] = pool
        return pool


def _check_url_credentials(config: LLMConfig, key: str | None) -> None:
    """LLMSetupError for an endpoint URL with a user and password while an API key is set
    too: a request carries one Authorization header, so the two cannot both be sent."""
    if not key:
        return
    for url in endpoint_urls(config.api_base):
        if urlsplit(url).username is not None:
            variable = config.api_key_env or "OPENAI_API_KEY"
            raise LLMSetupError(
                f"agents.llm.api_base {redact(url)} carries a user and password, and "
                f"${variable} holds an API key: a request can send only one of them; remove "
                f"the user:password@ from the URL, or unset ${variable} (agents.llm.api_key_env "
                "names the variable)"
            )
