"""Secrets out of everything written: API keys replaced by ``[redacted]``.

Every error text the LLM client builds and every line the event log writes passes through
:func:`redact`. It removes the values of the keys this process uses and anything shaped
like a key: ``sk-...``, ``Bearer ...``, ``api_key=...``, a URL's ``user:password@``.

- The configured key (each client calls :func:`remember` with the value of its
  ``agents.llm.api_key_env`` variable) is redacted whatever its length, and in every form
  it can take on the way to a file: as is, JSON-escaped (once or twice: an error body
  quoted inside an event line), URL-encoded, as Python's ``repr`` writes it, and
  HTML-escaped.
- The values of environment variables named like ``*_API_KEY``, ``*_TOKEN`` or
  ``*_SECRET`` are known too, from 8 characters up (shorter ones are placeholders such as
  ``no-key``), in the same forms.

Replacing never breaks the JSON of an event line: a match that starts or ends inside an
escape sequence takes the whole sequence with it.

    redact("HTTP 401: Incorrect API key provided: sk-abc123abc123abc123")
    -> "HTTP 401: Incorrect API key provided: [redacted]"
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from urllib.parse import quote, quote_plus, unquote, urlsplit

REDACTED = "[redacted]"
_MIN_ENV_SECRET = 8  # shorter environment values (placeholders such as "no-key") stay
_SECRET_NAMES = re.compile(r"(API_?KEY|TOKEN|SECRET)$", re.IGNORECASE)
# Each shape starts with a literal and is tried only when a substring test finds its start,
# so text without one costs a few substring searches.
_SK = re.compile(r"sk-[A-Za-z0-9_\-]{12,}")  # OpenAI / Anthropic style keys
_BEARER = re.compile(r"(Bearer )[A-Za-z0-9._~+/=\-]{16,}")  # an Authorization header value
_FIELD = re.compile(  # api_key=..., apiKey: ..., "api_key": "..."
    r"""((?i:api[_-]?key)["']?\s*[:=]\s*["']?)[^\s"'&,;}]+"""
)
_USERINFO = re.compile(r"(://[^/\s:@\"']+:)[^/\s@\"']+(?=@)")  # https://user:password@host
_remembered: set[str] = set()
_longest_first: list[str] = []


def encodings(secret: str) -> set[str]:
    """Every form `secret` can take in a written file: raw, JSON, URL, repr and HTML escaped."""
    json_once = {json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    json_twice = {json.dumps(form, ensure_ascii=False)[1:-1] for form in json_once}
    backslashed = secret.replace("\\", "\\\\")
    forms = {
        secret,
        *json_once,
        *json_twice,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret, safe=""),
        repr(secret)[1:-1],
        backslashed.replace("'", "\\'"),
        backslashed.replace('"', '\\"'),
        html.escape(secret, quote=True),
        html.escape(secret, quote=False),
        html.escape(secret, quote=True).replace("&#x27;", "&#39;"),
    }
    return {form for form in forms if form}


def remember_url_credentials(urls: list[str]) -> None:
    """Redact the password of each ``user:password@`` URL, and the HTTP Basic credentials
    made of it (base64 of ``user:password``, what an endpoint that echoes its request
    headers shows)."""
    for url in urls:
        parts = urlsplit(url)
        if parts.password is None:
            continue
        user, password = unquote(parts.username or ""), unquote(parts.password)
        remember(password)
        remember(base64.b64encode(f"{user}:{password}".encode()).decode())


def remember(secret: str | None, min_length: int = 1) -> None:
    """Redact `secret` (a key value), in all its :func:`encodings`, from now on in this process.

    The configured key counts whatever its length; `min_length` is for values that are only
    guessed to be secrets (environment variables named like keys).
    """
    if not secret or len(secret) < min_length:
        return
    fresh = encodings(secret) - _remembered
    if fresh:
        _remembered.update(fresh)
        _longest_first[:] = sorted(_remembered, key=len, reverse=True)


def remember_environment() -> None:
    """Redact the values of environment variables named like API keys, tokens or secrets."""
    for name, value in os.environ.items():
        if _SECRET_NAMES.search(name):
            remember(value, min_length=_MIN_ENV_SECRET)


def _sk(match: re.Match[str]) -> str:
    start = match.start()
    if start and (match.string[start - 1].isalnum() or match.string[start - 1] == "_"):
        return match.group(0)  # inside a word ("task-..."): not a key
    return REDACTED


def _backslashes_before(text: str, end: int) -> int:
    """How many backslashes run up to (not including) position `end`."""
    count = 0
    while end - count > 0 and text[end - count - 1] == "\\":
        count += 1
    return count


def _replace(text: str, secret: str) -> str:
    """`text` with every occurrence of `secret` replaced, escape sequences kept whole.

    An occurrence right after an unpaired backslash takes that backslash too; one ending
    in an unpaired backslash takes the escaped character after it. In JSON text the result
    stays valid JSON; in plain text nothing of the secret is left.
    """
    out: list[str] = []
    at = 0
    while (start := text.find(secret, at)) >= 0:
        end = start + len(secret)
        if start > at and _backslashes_before(text, start) % 2:
            start -= 1
        if end < len(text) and text[end - 1] == "\\" and _backslashes_before(text, end) % 2:
            end += 1
        out += (text[at:start], REDACTED)
        at = end
    out.append(text[at:])
    return "".join(out)


def _known(text: str) -> str:
    """`text` with every remembered secret (in each of its forms) replaced."""
    for secret in _longest_first:
        if secret in text:
            text = _replace(text, secret)
    return text


def _shapes(text: str) -> str:
    """`text` with anything shaped like a key replaced (sk-..., Bearer ..., api_key=...)."""
    if "sk-" in text:
        text = _SK.sub(_sk, text)
    if "Bearer " in text:
        text = _BEARER.sub(r"\1" + REDACTED, text)
    if "://" in text and "@" in text:
        text = _USERINFO.sub(r"\1" + REDACTED, text)
    if "key" in text or "KEY" in text or "Key" in text:
        lower = text.lower()
        if "api" in lower and "key" in lower:
            text = _FIELD.sub(r"\1" + REDACTED, text)
    return text


def redact(text: str) -> str:
    """`text` with every known key and anything shaped like one replaced by ``[redacted]``."""
    if not text:
        return text
    return _shapes(_known(text))


_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')
_KEY_AFTER = re.compile(r"\s*:")


def _value_literal(match: re.Match[str]) -> str:
    """A JSON string literal with known secrets replaced, unless it is an object key."""
    if _KEY_AFTER.match(match.string, match.end()):
        return match.group(0)
    return '"' + _known(match.group(0)[1:-1]) + '"'


def redact_json(text: str) -> str:
    """:func:`redact` for JSON text (a whole value or a run of members, as the event log
    writes): known secrets are replaced inside string values only, so a short key never
    changes a number, an object key or the JSON structure."""
    if not text:
        return text
    if any(secret in text for secret in _longest_first):
        text = _LITERAL.sub(_value_literal, text)
    return _shapes(text)
