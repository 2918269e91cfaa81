"""A circuit breaker per endpoint: a backend that keeps failing is not asked again.

Each attempt runs through the :class:`Breaker` of its endpoint (:meth:`Breaker.attempt`),
which cuts it at its timeout and counts its outcome. After
`threshold` transport failures in a row (connection refused or reset, timeouts, 5xx) the
breaker opens: attempts fail at once with :class:`EndpointOpen`, whose message names the
endpoint, what went wrong and the fix. Any other outcome (an answer, a 4xx, a rate limit)
shows the endpoint is up and closes it. After `cooldown` seconds an open breaker lets
attempts through again; one more transport failure opens it again. A pool of replicas
(:mod:`socialsim.llm.endpoints`) has one breaker, counting failures only while every
replica is out of rotation.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from socialsim.core.validation import clip
from socialsim.llm.redact import redact
from socialsim.llm.retry import PermanentError, TransientError, TransportError

T = TypeVar("T")

_TIMEOUT = re.compile(r"timeout after [0-9.]+s")
_STATUS = re.compile(r"HTTP [0-9]{3}")


class EndpointOpen(PermanentError):
    """An attempt refused because its endpoint's breaker is open."""

    label = "unavailable"


#: how resolvers say a host name does not exist (glibc, macOS, Windows, aiohttp)
_NO_HOST = (
    "name or service not known",
    "nodename nor servname",
    "no address associated",
    "temporary failure in name resolution",
    "getaddrinfo failed",
)


def fix_for(message: str, api_base: str | None, api_key_env: str | None) -> str:
    """What the user should check, given what an endpoint's failures look like."""
    reason = short_reason(message)
    if reason.startswith("timeout"):
        return (
            "check that the server answers (it accepts connections but replies too slowly); "
            "raise agents.llm.timeout for slow models"
        )
    if reason in ("HTTP 401", "HTTP 403") or "authentication" in message.lower():
        if api_base is not None and "@" in api_base.split("//", 1)[-1].split("/", 1)[0]:
            return "check the user and password in agents.llm.api_base"
        variable = api_key_env or "OPENAI_API_KEY"
        return f"check the API key in ${variable} (agents.llm.api_key_env names the variable)"
    if reason == "HTTP 429":
        return (
            "the server is limiting the request rate: lower agents.llm.concurrency or raise "
            "agents.llm.retries"
        )
    if reason.startswith("HTTP 5"):
        return "check the server's own log; it answers with server errors"
    if reason == "host not found":
        return "check the host name in agents.llm.api_base"
    where = "set agents.llm.api_base" if api_base is None else "check agents.llm.api_base"
    return f"check that the server is running or {where}"


def short_reason(message: str) -> str:
    """A failure in a few words: "connection refused", "timeout after 60s", "HTTP 503"."""
    text = message.lower()
    if any(word in text for word in _NO_HOST):
        return "host not found"
    if "refused" in text or "cannot reach" in text or "connect call failed" in text:
        return "connection refused"
    if "connection error" in text or "apiconnectionerror" in text:
        return "cannot connect"
    found = _TIMEOUT.search(message) or _STATUS.search(message)
    if found:
        return found.group(0)
    if "timeout" in text or "timed out" in text:
        return "timeout"
    if "reset" in text or "disconnected" in text:
        return "connection reset"
    return clip(" ".join(message.split()), 160)


@dataclass
class Breaker:
    """Consecutive transport failures of one endpoint; open at `threshold` (0: never)."""

    endpoint: str
    threshold: int = 8
    cooldown: float = 30.0
    api_base: str | None = None
    api_key_env: str | None = None
    failures: int = 0
    opened_at: float | None = None
    reason: str = ""
    tripped: str | None = field(default=None)  # the open message, kept until a success
    replicas: int = 1  # endpoints behind `endpoint` (a pool's URLs, comma-separated)

    def _open(self) -> bool:
        return self.opened_at is not None and time.monotonic() - self.opened_at < self.cooldown

    def check(self) -> None:
        """Raise EndpointOpen while the breaker is open (its cooldown not over)."""
        if self._open():
            raise EndpointOpen(self.tripped or redact(self.endpoint))

    def success(self) -> None:
        """The endpoint answered: close the breaker and forget the failures."""
        self.failures = 0
        self.opened_at = None
        self.tripped = None

    def failure(self, message: str) -> None:
        """One transport failure; opens the breaker at the threshold."""
        self.failures += 1
        self.reason = short_reason(message)
        if self.threshold and self.failures >= self.threshold and not self._open():
            self.opened_at = time.monotonic()
            fix = fix_for(message, self.api_base, self.api_key_env)
            endpoint = redact(self.endpoint)  # a key or password in the URL is never shown
            if self.replicas > 1:
                self.tripped = (
                    f"model endpoints {endpoint} are all down: {self.failures} requests "
                    f"in a row failed ({self.reason}); {fix}"
                )
            else:
                self.tripped = (
                    f"model endpoint {endpoint} failed {self.failures} requests in a row "
                    f"({self.reason}); {fix}"
                )

    async def attempt(
        self, send: Callable[[], Awaitable[T]], timeout: float, timeout_text: str
    ) -> T:
        """One attempt: refused while open, cut at `timeout` (a TransportError), outcome counted."""
        self.check()
        try:
            async with asyncio.timeout(timeout):
                done = await send()
        except TimeoutError:
            self.failure(timeout_text)
            raise TransportError(timeout_text) from None
        except TransportError as exc:
            self.failure(str(exc))
            raise
        except (TransientError, PermanentError):
            self.success()  # the endpoint answered, with an error of another kind
            raise
        self.success()
        return done


class Breakers:
    """The breakers of one client, one per endpoint, made on first use."""

    def __init__(self, threshold: int, api_key_env: str | None, cooldown: float = 30.0) -> None:
        self.threshold = threshold
        self.api_key_env = api_key_env
        self.cooldown = cooldown
        self._by_endpoint: dict[str, Breaker] = {}

    def of(self, model: str, route: str, api_base: str | None) -> Breaker:
        """The breaker of the endpoint a call goes to (one that never opens for local models)."""
        endpoint = api_base or model
        breaker = self._by_endpoint.get(endpoint)
        if breaker is None:
            threshold = 0 if route == "local" else self.threshold
            breaker = Breaker(endpoint, threshold, self.cooldown, api_base, self.api_key_env)
            self._by_endpoint[endpoint] = breaker
        return breaker

    def of_pool(self, urls: tuple[str, ...]) -> Breaker:
        """The one breaker of a pool of replicas: it opens only while all of them are down."""
        label = ", ".join(urls)
        breaker = self._by_endpoint.get(label)
        if breaker is None:
            breaker = Breaker(label, self.threshold, self.cooldown, label, self.api_key_env)
            breaker.replicas = len(urls)
            self._by_endpoint[label] = breaker
        return breaker

    @property
    def tripped(self) -> str | None:
        """The message of a breaker that opened with no answer since, or None."""
        for breaker in self._by_endpoint.values():
            if breaker.tripped is not None:
                return breaker.tripped
        return None
