"""Stance by keywords: which version of a claim a text supports.

A claim with a true and a manipulated statement (the claims library) gets, for each side,
the words its statement has that the other lacks (``australia_capital``: ``canberra`` and
``sydney``). A text naming only one side's words takes that side; naming both or neither
gives no stance, and a negation or doubt word in the text turns the side round ("I doubt it
is Sydney" supports the true version). The method is cheap and documented in
``docs/measures.md``; it reads words, not meaning.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from socialsim.core.rundata import RunData

STOPWORDS = frozenset(
    "a an the is are was were be been of in on at to and or by for with as from that this "
    "it its their there".split()
)

_WORD = re.compile(r"[^\W_]+")
# words that turn a mention of one side into a denial of it
NEGATIONS = frozenset(
    "not no never doubt doubts doubtful false untrue wrong isn't aren't wasn't don't doesn't "
    "isnt arent dont doesnt disagree myth nonsense".split()
)
_NEGATION = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, sorted(NEGATIONS))) + r")(?!\w)")


class StanceKeywords(BaseModel):
    """Words or phrases that mark support for the claim's true or manipulated version."""

    model_config = ConfigDict(extra="forbid")

    true: list[str] = Field(default_factory=list)
    manipulated: list[str] = Field(default_factory=list)


def stance_keywords(true_statement: str, manipulated_statement: str) -> StanceKeywords:
    """The words of each statement that the other lacks (lowercase, common words dropped).

    ``stance_keywords("The capital is Canberra.", "The capital is Sydney.")`` gives
    ``true=["canberra"], manipulated=["sydney"]``.
    """
    true_words = _words(true_statement)
    manipulated_words = _words(manipulated_statement)
    return StanceKeywords(
        true=[w for w in dict.fromkeys(true_words) if w not in set(manipulated_words)],
        manipulated=[w for w in dict.fromkeys(manipulated_words) if w not in set(true_words)],
    )


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.casefold()) if w not in STOPWORDS]


def claim_statements(run: RunData, claim: str) -> tuple[tuple[str, str] | None, str]:
    """The (true, manipulated) statements of a misinformation run's library claim, or None and why."""
    scenario = run.config.get("scenario") or {}
    params = scenario.get("params") or {}
    if (
        scenario.get("kind") != "misinformation"
        or params.get("claim", "eiffel_tower_rome") != claim
    ):
        return None, "no true and manipulated statements for this claim (set keywords)"
    from socialsim.core.claims import claim_library
    from socialsim.core.errors import DataFileError

    try:
        library = claim_library(params.get("claims_file"), params.get("custom_claims"))
    except DataFileError:
        library = claim_library(None, params.get("custom_claims"))
    if claim not in library:
        return None, "the claim is not in the claims library (set keywords)"
    found = library[claim]
    return (found.true_statement, found.manipulated_statement), "statements"


def claim_keywords(
    run: RunData, claim: str, given: dict[str, StanceKeywords] | None = None
) -> tuple[StanceKeywords | None, str]:
    """Stance keywords of a claim and where they came from, or None and the reason.

    Given keywords win; else the true and manipulated statements of a misinformation run's
    library claim (the credence there is belief in the manipulated statement).
    """
    if given and claim in given:
        return given[claim], "params"
    statements, source = claim_statements(run, claim)
    if statements is None:
        return None, source
    return stance_keywords(*statements), source


def subject_words(*statements: str) -> list[str]:
    """The content words of a claim's statements (lowercase, common words dropped, in order)."""
    return list(dict.fromkeys(w for text in statements for w in _words(text)))


def _pattern(phrases: list[str]) -> re.Pattern[str] | None:
    parts = [r"\s+".join(map(re.escape, _WORD.findall(p.casefold()))) for p in phrases]
    parts = [p for p in parts if p]
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)") if parts else None


def message_stance(texts: pd.Series | list[str], keywords: StanceKeywords) -> np.ndarray:
    """+1 a text names only manipulated keywords, -1 only true ones, 0 neither or both.

    A text that also holds a negation or doubt word (:data:`NEGATIONS`: "I doubt it is
    Sydney", "Sydney is not the capital") takes the opposite side, unless the claim's own
    keywords contain such a word (its statements then differ by the negation itself).
    """
    true_re, manip_re = _pattern(keywords.true), _pattern(keywords.manipulated)
    keyword_words = {
        w for p in keywords.true + keywords.manipulated for w in _WORD.findall(p.casefold())
    }
    negation_re = None if keyword_words & NEGATIONS else _NEGATION
    out = np.zeros(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        low = str(text or "").casefold().replace("’", "'")
        t = bool(true_re and true_re.search(low))
        m = bool(manip_re and manip_re.search(low))
        stance = (1 if m else -1) if t != m else 0
        if stance and negation_re is not None and negation_re.search(low):
            stance = -stance
        out[i] = stance
    return out
