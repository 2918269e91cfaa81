"""Plain records shared by the LLM layer: settings, requests, per-call accounting, results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from socialsim.core.validation import BoolsAreNotNumbers, shown
from socialsim.llm.cache_path import cache_path_problem
from socialsim.llm.redact import redact

T = TypeVar("T", bound=BaseModel)

Messages = list[dict[str, str]]


class LLMConfig(BoolsAreNotNumbers):
    """How to reach a model: the `agents.llm` section of an experiment config."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    model: str = Field(
        "local/smollm2", description="any litellm model string, or local/<name|path.gguf>"
    )
    api_base: str | tuple[str, ...] | None = Field(
        None,
        description=(
            "endpoint URL, e.g. http://127.0.0.1:8000/v1, or a list of URLs of replicas "
            "serving the same model: each call goes to the one with the fewest calls in "
            "flight; one that fails is left out and tried again a few seconds later"
        ),
    )
    api_key_env: str | None = Field(
        None, description="name of the environment variable holding the API key (never the key)"
    )
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(160, ge=1, le=32768)
    concurrency: int = Field(
        64,
        ge=1,
        le=100_000,
        description="requests in flight at once, per endpoint when api_base lists several",
    )
    timeout: float = Field(
        60.0,
        gt=0,
        description=(
            "seconds per call attempt (connect, wait and read together) to a remote model; "
            "the embedded model (local/...) has local_timeout instead"
        ),
    )
    connect_timeout: float = Field(
        10.0, gt=0, description="seconds to open a connection (a dead host fails fast)"
    )
    call_timeout: float = Field(
        90.0,
        gt=0,
        description=(
            "seconds per call to a remote model in all: every attempt and the waits between "
            "them, from when the call first gets a concurrency slot; the embedded model "
            "(local/...) has local_timeout instead"
        ),
    )
    retries: int = Field(3, ge=0, le=20, description="retries on transient errors")
    step_deadline: float | None = Field(
        600.0,
        gt=0,
        description=(
            "seconds one step's batch of model calls may take; calls still running or waiting "
            "then are cancelled and fail (error events, the agents skip the step); raise it "
            "for very large populations on slow endpoints; null: no deadline"
        ),
    )
    breaker_failures: int = Field(
        8,
        ge=0,
        description=(
            "transport failures in a row (refused, reset, timeout, 5xx) after which an "
            "endpoint gets no more calls and the run stops; 0: never"
        ),
    )
    cache: bool = Field(True, description="SQLite response cache: replay without model calls")
    cache_path: str | None = Field(
        None, description="cache file; default .socialsim_cache/responses.sqlite"
    )
    fast_path: bool = Field(
        True, description="direct HTTP for OpenAI-compatible endpoints with api_base"
    )
    http_worker: bool | None = Field(
        None,
        description=(
            "send direct-HTTP requests from a child process, so the HTTP client's CPU is "
            "spent off the simulation's core; null: on Linux and macOS machines with 2 or "
            "more cores"
        ),
    )
    local_workers: int | None = Field(
        None, ge=1, description="embedded-model instances (default: cores)"
    )
    local_n_ctx: int = Field(2048, ge=256, le=131072, description="embedded-model context length")
    local_timeout: float | None = Field(
        None,
        gt=0,
        description=(
            "seconds one embedded-model generation may run, counted from the moment an "
            "instance is free (waiting for one never counts); null: no limit, so answers "
            "never depend on the machine's load (a generation is bounded by max_tokens)"
        ),
    )

    @field_validator("api_base", mode="before")
    @classmethod
    def _endpoint_list(cls, value: Any) -> Any:
        """An http(s) URL, or a list of them: non-empty, none twice."""
        if value is None:
            return value
        if isinstance(value, str):
            _check_url(value)
            return value
        if not isinstance(value, list | tuple):
            raise ValueError("expected a URL or a list of URLs, e.g. [http://127.0.0.1:8000/v1]")
        if not value:
            raise ValueError("the list of endpoints is empty: give at least one URL")
        for url in value:
            _check_url(url)
        if len(set(value)) < len(value):
            twice = next(url for url in value if value.count(url) > 1)
            raise ValueError(f"{redact(twice)} is listed twice")
        return tuple(value)

    @field_validator("cache_path")
    @classmethod
    def _cache_file(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A cache file path that can be a file: not a directory, device or under a file."""
        if value is not None and info.data.get("cache", True):
            problem = cache_path_problem(value)
            if problem:
                raise ValueError(problem)
        return value


def _check_url(url: Any) -> None:
    """ValueError unless `url` is an http(s) URL with a host."""
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
        host = parts.hostname if parts is not None else None
    except ValueError:  # e.g. an unclosed IPv6 bracket
        parts = host = None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        shown_url = shown(redact(url) if isinstance(url, str) else url)
        raise ValueError(f"{shown_url} is not an http(s) URL, e.g. http://127.0.0.1:8000/v1")


@dataclass
class LLMRequest:
    """One chat completion to make; `schema` asks for validated structured output."""

    messages: Messages
    schema: type[BaseModel] | None = None
    model: str | None = None  # overrides LLMConfig.model (per-agent models)
    api_base: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    tag: str | None = None  # prompt template id, carried into the call record
    extra: dict[str, Any] = field(default_factory=dict)  # extra litellm kwargs, e.g. mock_response
    # The JSON schema sent to the model, where it narrows `schema`'s own (e.g. an enum of
    # this agent's neighbours): it steers decoding and keys the cache; `schema` validates.
    json_schema: dict[str, Any] | None = None
    # Ask for token log-probabilities: this many alternatives per generated token (None:
    # none). Routes that cannot give them return none (see socialsim.llm.logprobs).
    logprobs: int | None = None

    def sent_schema(self) -> type[BaseModel] | dict[str, Any] | None:
        """What the model is asked to fit: `json_schema` when given, else `schema`."""
        return self.json_schema if self.json_schema is not None else self.schema


@dataclass
class Completion:
    """What one backend attempt returns: the answer text and its token usage."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    logprobs: list[dict[str, Any]] | None = None  # per token, when asked and returned


@dataclass
class CallRecord:
    """Accounting for one logical call (all attempts): becomes an `llm_call` event."""

    model: str
    route: (
        str  # "http" | "litellm" | "local" (route used; cache hits keep the route they would use)
    )
    latency_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None
    cached: bool = False
    attempts: int = 0
    repaired: bool = False
    error: str | None = None
    tag: str | None = None

    def as_payload(self) -> dict[str, Any]:
        """The record as a JSON-ready dict for the event log."""
        return {
            "model": self.model,
            "route": self.route,
            "latency_s": round(self.latency_s, 6),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost": self.cost,
            "cached": self.cached,
            "attempts": self.attempts,
            "repaired": self.repaired,
            "error": self.error,
            "prompt_id": self.tag,
        }


@dataclass
class LLMResult(Generic[T]):
    """The outcome of a call: text, parsed value when a schema was given, or a typed failure."""

    text: str
    record: CallRecord
    value: T | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    logprobs: list[dict[str, Any]] | None = None  # per token, when asked and returned

    @property
    def ok(self) -> bool:
        """True when the call succeeded (and, with a schema, validated)."""
        return self.error is None
