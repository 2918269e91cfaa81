"""Routes: which path a model string takes, and one attempt of a call sent over it.

``local/...`` goes to the embedded model's pool of instances in this process
(:mod:`socialsim.llm.local`); ``openai/...`` or ``hosted_vllm/...`` with an ``api_base`` and
``fast_path`` on goes straight over HTTP (:mod:`socialsim.llm.http`); everything else through
litellm (:mod:`socialsim.llm.litellm_route`). Retries and the cache are the client's, and so
are the time limits of remote routes; the embedded model's only limit,
``agents.llm.local_timeout``, is applied inside the generating thread.
"""

from __future__ import annotations

from typing import Any

from socialsim.core.errors import LLMSetupError
from socialsim.llm import litellm_route, local
from socialsim.llm.http import FAST_PATH_PREFIXES, HttpBackend
from socialsim.llm.retry import PermanentError, TransportError
from socialsim.llm.structured import response_format
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
                model,
                api_base,
                messages,
                temperature,
                max_tokens,
                req.seed,
                req.sent_schema(),
                logprobs=req.logprobs,
            )
        if route == "local":
            return await self.send_local(req, messages, model, temperature, max_tokens)
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
            extra=req.extra,
            logprobs=req.logprobs,
        )

    async def send_local(
        self, req: LLMRequest, messages: Messages, model: str, temperature: float, max_tokens: int
    ) -> Completion:
        """One generation on the embedded model: waits for a free instance with no clock running."""
        cfg = self.config
        if req.extra:  # litellm arguments (e.g. mock_response in tests): through litellm
            local.register()
            return await litellm_route.complete(
                model, messages, temperature, max_tokens, req.seed, req.sent_schema(),
                api_base=None, api_key=None, timeout=cfg.timeout, extra=req.extra,
                logprobs=req.logprobs,
            )  # fmt: skip
        self.check_local(model)
        pool = local.get_pool(model.removeprefix("local/"), cfg.local_n_ctx, cfg.local_workers)
        sent = req.sent_schema()
        schema = local.schema_of(response_format(sent)) if sent is not None else None
        try:
            return await pool.agenerate(
                messages,
                temperature=temperature,
                max_tokens=max_tokens,
                seed=req.seed,
                schema=schema,
                budget=cfg.local_timeout,
                logprobs=req.logprobs,
            )
        except local.GenerationTimeout as exc:
            raise TransportError(f"{exc} (agents.llm.local_timeout)") from None
