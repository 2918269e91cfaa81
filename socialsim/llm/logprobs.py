"""Token log-probabilities of an answer, and the probability a model gave the option it chose.

A request may ask for log-probabilities (``LLMRequest.logprobs = k``: the k most likely
tokens at each position). Where the route returns them they come back on the result as a
list of ``{"token", "logprob", "top": [[token, logprob], ...]}``, one per generated token, in
the OpenAI format's order; a route or server that gives none leaves the list ``None``.

- OpenAI-compatible servers and litellm: ``logprobs: true, top_logprobs: k`` on the request.
- The embedded model: read from the model's raw next-token scores while it generates
  (:class:`ScoreRecorder`), before the schema's grammar narrows the choice, so it is the
  model's own distribution, as a server reports it.

:func:`option_probability` turns them into a confidence: at the token where a JSON field's
value (an option letter) was generated, the chosen option's probability renormalised over
the valid options among the alternatives.

    >>> tokens = [
    ...     {"token": '{"answer": "', "logprob": 0.0, "top": []},
    ...     {"token": "B", "logprob": -0.2231, "top": [["B", -0.2231], ["A", -1.6094]]},
    ...     {"token": '"}', "logprob": 0.0, "top": []},
    ... ]
    >>> round(option_probability(tokens, "answer", ("A", "B", "C")), 3)
    0.8
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

TokenLogprobs = list[dict[str, Any]]
LOCAL_TOP = 20  # alternatives kept per token on the embedded model (cheap there)


def from_openai(content: Any) -> TokenLogprobs | None:
    """The ``choices[0].logprobs.content`` list of an OpenAI-format response, normalised.

    Accepts dicts (raw JSON) or objects with attributes (litellm); None when absent or
    malformed, so a server without log-probabilities reads as "none returned".
    """
    if not content:
        return None
    out: TokenLogprobs = []
    try:
        for item in content:
            token, logprob = _field(item, "token"), _field(item, "logprob")
            top = [
                [str(_field(alt, "token")), float(_field(alt, "logprob"))]
                for alt in (_field(item, "top_logprobs") or [])
            ]
            out.append({"token": str(token), "logprob": float(logprob), "top": top})
    except (TypeError, ValueError, KeyError, AttributeError):
        return None
    return out


def _field(item: Any, name: str) -> Any:
    return item[name] if isinstance(item, dict) else getattr(item, name)


def option_probability(
    tokens: TokenLogprobs | None, field: str, options: Sequence[str]
) -> float | None:
    """The probability of the option chosen in JSON `field`, renormalised over `options`.

    The option is the first token of the field's string value (an option letter); its
    alternatives at that position that are also options share the mass. None when there are
    no log-probabilities, the field is not in the text, or the chosen token is no option.
    """
    if not tokens:
        return None
    text = "".join(t["token"] for t in tokens)
    found = re.search(rf'"{re.escape(field)}"\s*:\s*"', text)
    if found is None:
        return None
    at = found.end()
    start = 0
    for token in tokens:
        end = start + len(token["token"])
        if end > at:
            return _renormalised(token, text[at:end], at - start, options)
        start = end
    return None


def _renormalised(
    token: dict[str, Any], rest: str, offset: int, options: Sequence[str]
) -> float | None:
    """The chosen option's share of the options' probability at one token."""
    valid = set(options)
    chosen = _option_in(token["token"][offset:], valid)
    if chosen is None:
        chosen = _option_in(rest, valid)
    if chosen is None:
        return None
    mass: dict[str, float] = {}
    for alt, logprob in [[token["token"], token["logprob"]], *token.get("top", [])]:
        option = _option_in(str(alt)[offset:] if alt == token["token"] else str(alt), valid)
        if option is not None and option not in mass:
            mass[option] = math.exp(float(logprob))
    total = sum(mass.values())
    return mass.get(chosen, 0.0) / total if total > 0 else None


def _option_in(piece: str, valid: set[str]) -> str | None:
    """The option a token stands for: its text without quotes and spaces, if an option."""
    bare = piece.strip().strip('"').strip()
    return bare if bare in valid else None


class ScoreRecorder:
    """A llama-cpp logits processor that records each generated token's log-probability.

    Called with the tokens so far and the raw next-token scores before each sample; the
    token sampled at one call is the last input of the next, so each call settles the one
    before. :meth:`tokens` settles the last one from the answer's text.
    """

    def __init__(self, detokenize: Any, top: int = LOCAL_TOP) -> None:
        self._detokenize = detokenize
        self._top = top
        self._pending: np.ndarray | None = None
        self._out: list[tuple[int, float, list[tuple[int, float]]]] = []

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """Record the scores' log-softmax; settle the token sampled from the last ones."""
        if self._pending is not None and len(input_ids):
            self._settle(int(input_ids[-1]))
        shifted = scores.astype(np.float64) - float(np.max(scores))
        self._pending = shifted - math.log(float(np.exp(shifted).sum()))
        return scores

    def _settle(self, token: int) -> None:
        logs = self._pending
        assert logs is not None
        best = np.argpartition(-logs, self._top)[: self._top]
        best = best[np.argsort(-logs[best])]
        self._out.append((token, float(logs[token]), [(int(i), float(logs[i])) for i in best]))
        self._pending = None

    def tokens(self, text: str, tokenize: Any) -> TokenLogprobs:
        """The recorded tokens in OpenAI's shape; the last one settled from `text`'s rest."""
        out = [self._entry(*item) for item in self._out]
        rest = text[len("".join(t["token"] for t in out)) :]
        if rest and self._pending is not None:
            ids = tokenize(rest.encode("utf-8"), add_bos=False, special=False)
            if len(ids) == 1:
                self._settle(int(ids[0]))
                out.append(self._entry(*self._out[-1]))
        return out

    def _entry(self, token: int, logprob: float, top: list[tuple[int, float]]) -> dict[str, Any]:
        return {
            "token": self._text(token),
            "logprob": logprob,
            "top": [[self._text(i), lp] for i, lp in top],
        }

    def _text(self, token: int) -> str:
        return self._detokenize([token]).decode("utf-8", "replace")
