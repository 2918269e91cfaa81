"""Lean aiohttp path to OpenAI-compatible servers (vLLM, llama.cpp server, OpenAI itself).

One POST to ``{api_base}/chat/completions`` per attempt over one shared ``ClientSession``
whose connector allows `concurrency` connections and gives up connecting after
`connect_timeout` seconds. HTTP statuses map to the retry classes: 5xx, timeouts and
connection errors are transport failures (transient, and counted by the circuit breaker);
429, 408 and malformed bodies are transient; other 4xx are permanent.

Structured output: the first request to a server sends the OpenAI/vLLM form
``{"type": "json_schema", "json_schema": {"name", "schema"}}``. A server that rejects it
(400 or 422, or a 5xx naming response_format, as llama-cpp-python's server answers) is
asked again with llama.cpp's form ``{"type": "json_object", "schema": ...}``, then with no
``response_format`` at all (the answer is then checked by parse + repair). The form that
worked is remembered per server.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import orjson

from socialsim.llm.http_process import HttpProcess
from socialsim.llm.http_worker import Unreachable, post, session
from socialsim.llm.logprobs import from_openai
from socialsim.llm.retry import PermanentError, TransientError, TransportError
from socialsim.llm.structured import JSON_OBJECT, JSON_SCHEMA, response_format
from socialsim.llm.types import Completion, Messages

FAST_PATH_PREFIXES = ("openai/", "hosted_vllm/")
_STYLES: tuple[str | None, ...] = (JSON_SCHEMA, JSON_OBJECT, None)
_TRANSIENT_STATUS = frozenset({408, 409, 425, 429})


def strip_provider(model: str) -> str:
    """The model name the server knows: the model string without its provider prefix."""
    for prefix in FAST_PATH_PREFIXES:
        if model.startswith(prefix):
            return model[len(prefix) :]
    return model


def api_key(api_key_env: str | None) -> str | None:
    """The API key from `api_key_env`, else from OPENAI_API_KEY, else None."""
    if api_key_env:
        return os.environ.get(api_key_env) or None
    return os.environ.get("OPENAI_API_KEY") or None


def completions_url(api_base: str) -> str:
    """The chat completions URL of an endpoint: ``/chat/completions`` added to its path, its
    query (``?api-version=...``) kept after it."""
    parts = urlsplit(api_base)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/chat/completions"))


class HttpBackend:
    """Chat completions by direct HTTP; create and use it inside one event loop."""

    def __init__(
        self,
        concurrency: int,
        api_key_env: str | None = None,
        connect_timeout: float = 10.0,
        worker: bool = False,
    ) -> None:
        self._concurrency = concurrency
        self._connect_timeout = connect_timeout
        self._session: aiohttp.ClientSession | None = None
        self._headers = {"Content-Type": "application/json"}
        key = api_key(api_key_env)
        if key:
            self._headers["Authorization"] = f"Bearer {key}"
        self._worker = HttpProcess(concurrency, connect_timeout, self._headers) if worker else None
        self._style: dict[str, int] = {}  # api_base -> index into _STYLES that the server takes
        self._no_logprobs: set[str] = set()  # servers that refused log-probabilities

    @property
    def worker_pid(self) -> int | None:
        """The process id of the HTTP worker while one runs, else None."""
        return self._worker.pid if self._worker is not None else None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = session(self._concurrency, self._connect_timeout, self._headers)
        return self._session

    async def complete(
        self,
        model: str,
        api_base: str,
        messages: Messages,
        temperature: float,
        max_tokens: int,
        seed: int | None,
        schema: Any = None,
        logprobs: int | None = None,
    ) -> Completion:
        """One attempt; raises TransientError or PermanentError on failure."""
        url = completions_url(api_base)
        body: dict[str, Any] = {
            "model": strip_provider(model),
            "messages": messages,
            "temperature": temperature,
            "max_tokens": max_tokens,
        }
        if seed is not None:
            body["seed"] = seed
        if logprobs is not None and api_base not in self._no_logprobs:
            body["logprobs"] = True
            body["top_logprobs"] = logprobs
        try:
            return await self._structured(url, api_base, body, schema)
        except _LogprobsRefused:  # answered without them from now on: the caller reads none
            self._no_logprobs.add(api_base)
            del body["logprobs"], body["top_logprobs"]
            return await self._structured(url, api_base, body, schema)

    async def _structured(
        self, url: str, api_base: str, body: dict[str, Any], schema: Any
    ) -> Completion:
        """POST `body`, with the response-format style this server takes where `schema`."""
        if schema is None:
            return await self._post(url, body)
        style_index = self._style.get(api_base, 0)
        while True:
            style = _STYLES[style_index]
            if style is None:
                body.pop("response_format", None)
            else:
                body["response_format"] = response_format(schema, style)
            try:
                result = await self._post(url, body)
            except _Rejected as exc:
                if style_index + 1 >= len(_STYLES):
                    raise PermanentError(str(exc)) from None
                style_index += 1
                continue
            self._style[api_base] = style_index
            return result

    async def ready(self) -> None:
        """Start the HTTP worker if it is not running (inline from now on where it cannot)."""
        if self._worker is not None:
            try:
                await self._worker.start()
            except OSError:  # no child process can be started here
                self._worker = None

    async def _send(self, url: str, body: bytes) -> tuple[int, bytes]:
        """(status, body) of one POST: through the worker, or inline where it cannot start."""
        if self._worker is not None:
            try:
                return await self._worker.post(url, body)
            except OSError:  # no child process can be started here: inline from now on
                self._worker = None
        return await post(self._get_session(), url, body, self._connect_timeout)

    async def _post(self, url: str, body: dict[str, Any]) -> Completion:
        try:
            status, raw = await self._send(url, orjson.dumps(body))
        except Unreachable as exc:
            raise TransportError(str(exc)) from None
        if status != 200:
            detail = raw[:300].decode("utf-8", "replace")
            message = f"HTTP {status} from {url}: {detail}"
            if "logprobs" in body and status in (400, 422) and b"logprob" in raw.lower():
                raise _LogprobsRefused(message)
            if "response_format" in body and (
                status in (400, 422) or (status >= 500 and b"response_format" in raw)
            ):
                raise _Rejected(message)  # llama-cpp-python's server answers 500 here
            if status >= 500:
                raise TransportError(message)
            if status in _TRANSIENT_STATUS:
                raise TransientError(message)
            raise PermanentError(message)
        try:
            data = orjson.loads(raw)
            choice = data["choices"][0]
            text = choice["message"]["content"] or ""
        except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
            raise TransientError(f"malformed response from {url}: {raw[:200]!r}") from None
        usage = data.get("usage") or {}
        tokens = None
        if "logprobs" in body:
            tokens = from_openai((choice.get("logprobs") or {}).get("content"))
        return Completion(
            text, usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0, tokens
        )

    async def close(self) -> None:
        """Close the session and stop the worker (call inside the loop that used them)."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
        if self._worker is not None:
            await self._worker.close()


class _LogprobsRefused(Exception):
    """The server refused the request's log-probabilities (asked again without them)."""


class _Rejected(Exception):
    """A 400/422 answer to a request that carried response_format."""
