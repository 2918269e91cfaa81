"""Routes: which path a model string takes, and one attempt of a call sent over it.

``local/...`` goes to the embedded model (litellm provider ``local``); ``openai/...`` or
``hosted_vllm/...`` with an ``api_base`` and ``fast_path`` on goes straight over HTTP
(:mod:`socialsim.llm.http`); everything else through litellm
(:mod:`socialsim.llm.litellm_route`). Timeouts, retries and the cache are the client's.
"""

from __future__ import annotations

from typing import Any

from socialsim.errors import LLMSetupError
from socialsim.llm import litellm_route, local
from socialsim.llm.http import FAST_PATH_PREFIXES, HttpBackend
from socialsim.llm.retry import PermanentError
from socialsim.llm.types import Completion, LLMConfig, LLMRequest, Messages

_UNKNOWN = object()


def route_of(model: str, api_base: str | None, fast_path: bool) -> str:
    """The route a model string takes: "local", "http" or "litellm"."""
    if model.startswith("local/"):
        return "local"
    if fast_path and api_base and model.startswith(FAST_PATH_PREFIXES):
        return "http"
    return "litellm"


class Routes:
    """One attempt of a model call over its route: direct HTTP, embedded model or litellm."""

    def __init__(self, config: LLMConfig, http: HttpBackend) -> None:
        self.config = config
        self.http = http
        self._local_checked: dict[str, Any] = {}

    def check_local(self, model: str) -> None:
        """Raise PermanentError when the embedded model cannot run (checked once per model)."""
        problem = self._local_checked.get(model, _UNKNOWN)
        if problem is _UNKNOWN:
            try:
                local.resolve_gguf(model.removeprefix("local/"))
                if not local.llama_cpp_installed():
                    raise LLMSetupError(
                        f"the embedded model needs llama-cpp-python: {local.INSTALL_HINT}"
                    )
                local.register()
                problem = None
            except LLMSetupError as exc:
                problem = str(exc)
            self._local_checked[model] = problem
        if problem is not None:
            raise PermanentError(problem)

    async def send(
        self,
        req: LLMRequest,
        messages: Messages,
        model: str,
        route: str,
        api_base: str | None,
        temperature: float,
        max_tokens: int,
        api_key: str | None,
    ) -> Completion:
        """One attempt of `req` with `messages` over `route`; `api_key` is litellm's key."""
        cfg = self.config
        if route == "http":
            return await self.http.complete(
                model, api_base, messages, temperature, max_tokens, req.seed, req.sent_schema()
            )
        extra = req.extra
        if route == "local":
            self.check_local(model)
            extra = {
                "local_n_ctx": cfg.local_n_ctx,
                "local_workers": cfg.local_workers,
                **req.extra,
            }
        return await litellm_route.complete(
            model,
            messages,
            temperature,
            max_tokens,
            req.seed,
            req.sent_schema(),
            api_base=api_base,
            api_key=api_key,
            timeout=cfg.timeout,
            extra=extra,
        )
