"""Secrets out of everything written: API keys replaced by ``[redacted]``.

Every error text the LLM client builds and every line the event log writes passes through
:func:`redact`. It removes the values of the keys this process uses (each client calls
:func:`remember` with the value of its ``agents.llm.api_key_env`` variable; the values of
environment variables named like ``*_API_KEY``, ``*_TOKEN`` or ``*_SECRET`` are known too)
and anything shaped like a key: ``sk-...``, ``Bearer ...``, ``api_key=...``.

    redact("HTTP 401: Incorrect API key provided: sk-abc123abc123abc123")
    -> "HTTP 401: Incorrect API key provided: [redacted]"
"""

from __future__ import annotations

import os
import re

REDACTED = "[redacted]"
_MIN_SECRET = 8  # shorter values (placeholders such as "no-key") are not worth hiding
_SECRET_NAMES = re.compile(r"(API_?KEY|TOKEN|SECRET)$", re.IGNORECASE)
# Each shape starts with a literal and is tried only when a substring test finds its start,
# so text without one costs a few substring searches.
_SK = re.compile(r"sk-[A-Za-z0-9_\-]{12,}")  # OpenAI / Anthropic style keys
_BEARER = re.compile(r"(Bearer )[A-Za-z0-9._~+/=\-]{16,}")  # an Authorization header value
_FIELD = re.compile(  # api_key=..., apiKey: ..., "api_key": "..."
    r"""((?i:api[_-]?key)["']?\s*[:=]\s*["']?)[^\s"'&,;}]+"""
)
_remembered: set[str] = set()
_longest_first: list[str] = []


def remember(secret: str | None) -> None:
    """Redact `secret` (a key value) from now on in this process."""
    if secret and len(secret) >= _MIN_SECRET and secret not in _remembered:
        _remembered.add(secret)
        _longest_first[:] = sorted(_remembered, key=len, reverse=True)


def remember_environment() -> None:
    """Redact the values of environment variables named like API keys, tokens or secrets."""
    for name, value in os.environ.items():
        if _SECRET_NAMES.search(name):
            remember(value)


def _sk(match: re.Match[str]) -> str:
    start = match.start()
    if start and (match.string[start - 1].isalnum() or match.string[start - 1] == "_"):
        return match.group(0)  # inside a word ("task-..."): not a key
    return REDACTED


def redact(text: str) -> str:
    """`text` with every known key and anything shaped like one replaced by ``[redacted]``."""
    if not text:
        return text
    for secret in _longest_first:
        if secret in text:
            text = text.replace(secret, REDACTED)
    if "sk-" in text:
        text = _SK.sub(_sk, text)
    if "Bearer " in text:
        text = _BEARER.sub(r"\1" + REDACTED, text)
    if "key" in text or "KEY" in text or "Key" in text:
        lower = text.lower()
        if "api" in lower and "key" in lower:
            text = _FIELD.sub(r"\1" + REDACTED, text)
    return text
