"""Setup checks: is a model string usable (offline), and does one round trip work.

:func:`validate_model` looks only at the model string, the environment and the disk; it
never touches the network. :func:`run_check` makes one short call and reports its speed.
Both raise :class:`~socialsim.core.errors.LLMSetupError` with one line naming the fix.
"""

from __future__ import annotations

import os
import socket
from typing import Any
from urllib.parse import urlsplit

from socialsim.core.errors import LLMSetupError
from socialsim.llm import local
from socialsim.llm.endpoints import endpoint_urls
from socialsim.llm.http import FAST_PATH_PREFIXES
from socialsim.llm.litellm_route import get_litellm
from socialsim.llm.redact import redact
from socialsim.llm.types import LLMConfig, LLMRequest

CHECK_PROMPT = "Say hello in five words."


def validate_model(config: LLMConfig, model: str | None = None) -> None:
    """Raise LLMSetupError when `model` (default: config.model) cannot work as configured."""
    model = model or config.model
    if model.startswith("local/"):
        local.resolve_gguf(model.removeprefix("local/"))
        if not local.llama_cpp_installed():
            raise LLMSetupError(f"{model} needs llama-cpp-python: {local.INSTALL_HINT}")
        return
    direct = config.fast_path and config.api_base and model.startswith(FAST_PATH_PREFIXES)
    if direct:  # the direct HTTP path: no litellm needed
        _check_key_variable(config.api_key_env)
        return
    litellm = get_litellm()
    try:
        _, provider, _, _ = litellm.get_llm_provider(
            model, api_base=(endpoint_urls(config.api_base) or (None,))[0]
        )
    except Exception:
        raise LLMSetupError(
            f"cannot route model {model!r}: use a litellm model string such as "
            "openai/gpt-4o-mini, openai/<name> with api_base for a local server, or local/smollm2"
        ) from None
    if config.api_key_env:
        _check_key_variable(config.api_key_env)
        return
    if config.api_base:  # self-hosted OpenAI-compatible servers usually need no key
        return
    try:
        missing = litellm.validate_environment(model=model).get("missing_keys") or []
    except Exception:
        missing = []
    if missing:
        raise LLMSetupError(
            f"{model} ({provider}) needs {', '.join(missing)} set in the environment with "
            "your key (or another variable named in agents.llm.api_key_env)"
        )


def _check_key_variable(api_key_env: str | None) -> None:
    """Raise LLMSetupError when the named key variable is not set."""
    if api_key_env and not os.environ.get(api_key_env):
        raise LLMSetupError(f"API key variable {api_key_env} is not set: export {api_key_env}=...")


def _reachable(api_base: str, timeout: float = 3.0) -> None:
    parts = urlsplit(api_base)
    host = parts.hostname
    if not host:
        raise LLMSetupError(
            f"api_base {redact(api_base)!r} is not a URL: use e.g. http://127.0.0.1:8000/v1"
        )
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError:
        raise LLMSetupError(f"cannot reach {redact(api_base)}; is the server running?") from None


def run_check(
    model: str | None, api_base: str | None, config: LLMConfig | None = None
) -> dict[str, Any]:
    """One short round trip; returns model, answer, latency_s, completion_tokens, tokens_per_s."""
    from socialsim.llm.client import LLMClient

    base = config or LLMConfig()
    cfg = base.model_copy(
        update={
            "model": base.model if model is None else model,  # "" is refused, not defaulted
            "api_base": base.api_base if api_base is None else api_base,
            "retries": min(base.retries, 1),
            "timeout": min(base.timeout, 60.0),
            "cache": False,
            "concurrency": 1,
        }
    )
    validate_model(cfg)
    if cfg.api_base and not cfg.model.startswith("local/"):
        for url in endpoint_urls(cfg.api_base):
            _reachable(url)
    client = LLMClient(cfg)
    try:
        if cfg.model.startswith("local/"):  # load the model outside the measured call
            client.run([LLMRequest(messages=[{"role": "user", "content": "Hi"}], max_tokens=1)])
        res = client.run(
            [LLMRequest(messages=[{"role": "user", "content": CHECK_PROMPT}], max_tokens=24)]
        )[0]
    finally:
        client.close()
    if not res.ok:
        error = res.error or ""
        if "cannot reach" in error or "Connection" in error:
            where = redact(", ".join(endpoint_urls(cfg.api_base))) or cfg.model
            raise LLMSetupError(f"cannot reach {where}; is the server running?")
        if "Authentication" in error or "HTTP 401" in error or "HTTP 403" in error:
            raise LLMSetupError(f"{cfg.model}: the API key was rejected; check the key variable")
        raise LLMSetupError(f"{cfg.model}: the test call failed: {error[:200]}")
    latency = res.record.latency_s
    tokens = res.record.completion_tokens
    return {
        "model": cfg.model,
        "route": res.record.route,
        "answer": res.text.strip(),
        "latency_s": round(latency, 3),
        "completion_tokens": tokens,
        "tokens_per_s": round(tokens / latency, 1) if latency > 0 else None,
    }
