"""Every provider litellm knows, through ``litellm.acompletion``.

litellm's own retries are off (retrying is :mod:`socialsim.llm.retry`'s job) and its
debug banners are silenced. litellm exceptions are translated into the retry classes
(connection errors, timeouts and 5xx are transport failures, counted by the circuit breaker).
Extra request kwargs pass through unchanged, so tests can use litellm's offline
``mock_response=`` (a string, an Exception instance, or "litellm.RateLimitError").
"""

from __future__ import annotations

import os
from typing import Any

from socialsim.llm.logprobs import from_openai
from socialsim.llm.retry import PermanentError, TransientError, TransportError
from socialsim.llm.structured import response_format
from socialsim.llm.types import Completion, Messages

_litellm: Any = None


def get_litellm() -> Any:
    """The litellm module, imported on first use with the local cost map and no debug banners."""
    global _litellm
    if _litellm is None:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm

        litellm.suppress_debug_info = True
        litellm.telemetry = False
        _litellm = litellm
    return _litellm


def classify(exc: BaseException) -> Exception:
    """The retry class (TransportError, TransientError or PermanentError) for an exception."""
    lt = get_litellm()
    message = f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}"
    message = " ".join(message.split())[:400]
    if isinstance(exc, lt.RateLimitError):
        return TransientError(message)
    transport = (
        lt.Timeout,
        lt.APIConnectionError,
        lt.ServiceUnavailableError,
        lt.InternalServerError,
        TimeoutError,
        ConnectionError,
    )
    if isinstance(exc, transport):
        return TransportError(message)
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and status >= 500:
        return TransportError(message)
    if status == 429:
        return TransientError(message)
    return PermanentError(message)


async def complete(
    model: str,
    messages: Messages,
    temperature: float,
    max_tokens: int,
    seed: int | None,
    schema: Any = None,
    api_base: str | None = None,
    api_key: str | None = None,
    timeout: float | None = None,
    extra: dict[str, Any] | None = None,
    logprobs: int | None = None,
) -> Completion:
    """One attempt through litellm; raises TransientError or PermanentError on failure."""
    lt = get_litellm()
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "temperature": temperature,
        "max_tokens": max_tokens,
        "num_retries": 0,
        "drop_params": True,
    }
    if seed is not None:
        kwargs["seed"] = seed
    if schema is not None:
        kwargs["response_format"] = response_format(schema)
    if api_base:
        kwargs["api_base"] = api_base
    if api_key:
        kwargs["api_key"] = api_key
    if timeout is not None:
        kwargs["timeout"] = timeout
    if logprobs is not None:
        kwargs["logprobs"] = True
        kwargs["top_logprobs"] = logprobs
    if extra:
        kwargs.update(extra)
    try:
        resp = await lt.acompletion(**kwargs)
    except (TransientError, PermanentError):
        raise
    except Exception as exc:
        raise classify(exc) from None
    try:
        choice = resp.choices[0]
        text = choice.message.content or ""
    except (AttributeError, IndexError) as exc:
        raise TransientError(f"malformed response from {model}: {exc}") from None
    usage = getattr(resp, "usage", None)
    return Completion(
        text,
        getattr(usage, "prompt_tokens", 0) or 0,
        getattr(usage, "completion_tokens", 0) or 0,
        _logprobs_of(choice) if logprobs is not None else None,
    )


def _logprobs_of(choice: Any) -> list[dict[str, Any]] | None:
    """The choice's token log-probabilities, normalised; None where the provider gave none."""
    found = getattr(choice, "logprobs", None)
    if found is None and isinstance(choice, dict):
        found = choice.get("logprobs")
    content = found.get("content") if isinstance(found, dict) else getattr(found, "content", None)
    return from_openai(content)
