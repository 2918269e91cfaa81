"""Message quality: are the agents' messages sentences, and are they about the claim?

Defined once here and used by the run summary, the report and
``benchmarks/bench_agent_quality.py``; ``docs/measures.md`` ("Message quality") states the
rules. A message is a *sentence* when it has at least 5 words (a word holds a letter), at
least 80% of its characters are letters or spaces, it carries no JSON or template debris
(braces, brackets, angle brackets, pipes, backslashes, underscores, ``key:`` labels, the
prompt's own headings), and at most half of its words are repeats (lists of names repeated
over and over are not sentences). A message is *on topic* when it names one of the claim's
subject words (the content words of its statements; :func:`topic_words`) or speaks of "the
claim" itself.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from socialsim.analysis.report.parts import register_report_part
from socialsim.analysis.stance import claim_statements, subject_words
from socialsim.core.registry import register_measure
from socialsim.core.rundata import RunData, list_column, of_kind, payload

MIN_WORDS = 5
MIN_LETTER_SHARE = 0.8
MAX_REPEAT_SHARE = 0.5
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_TOKEN = re.compile(r"\S+")
_DEBRIS = re.compile(
    r"[{}\[\]<>|\\_]|\b[A-Za-z]+:\s*$|^\s*[A-Za-z]+:\s|you can message|new messages|you remember"
    r"|\bstep \d|\bcredence\b",
    re.IGNORECASE,
)
_CLAIM = re.compile(r"\bclaims?\b", re.IGNORECASE)


class QualityParams(BaseModel):
    """Parameters of the message-quality measure."""

    model_config = ConfigDict(extra="forbid")

    topics: dict[str, list[str]] = Field(
        default_factory=dict,
        description="claim id -> subject words (replaces the words taken from its statements)",
    )


def is_sentence(text: str) -> bool:
    """True when `text` reads as a sentence (the rules in the module docstring)."""
    text = " ".join(str(text or "").split())
    if not text or _DEBRIS.search(text):
        return False
    tokens = _TOKEN.findall(text)
    words = [t for t in tokens if _WORD.search(t)]
    if len(words) < MIN_WORDS:
        return False
    letters = sum(ch.isalpha() or ch == " " for ch in text)
    if letters < MIN_LETTER_SHARE * len(text):
        return False
    folded = [_WORD.search(w).group(0).casefold() for w in words]  # type: ignore[union-attr]
    return 1 - len(set(folded)) / len(folded) <= MAX_REPEAT_SHARE


def is_on_topic(text: str, words: list[str]) -> bool:
    """True when `text` names one of `words` (whole words, any case) or speaks of the claim."""
    low = {w.casefold() for w in _WORD.findall(str(text or ""))}
    return bool(_CLAIM.search(str(text or ""))) or any(w.casefold() in low for w in words)


def topic_words(run: RunData, claim: str, given: dict[str, list[str]] | None = None) -> list[str]:
    """The subject words of a claim: given ones, else its statements' or proposition's words."""
    if given and claim in given:
        return list(given[claim])
    statements, _ = claim_statements(run, claim)
    if statements is not None:
        return subject_words(*statements)
    scenario = run.config.get("scenario") or {}
    params = scenario.get("params") or {}
    if params.get("proposition", "four_day_week") == claim or "proposition" in params:
        from socialsim.core.errors import SocialsimError
        from socialsim.scenarios.propositions import proposition_library

        try:
            library = proposition_library(
                params.get("propositions_file"), params.get("custom_propositions")
            )
        except SocialsimError:
            library = proposition_library(None, params.get("custom_propositions"))
        if claim in library:
            return subject_words(library[claim].text)
    return []


def message_table(run: RunData) -> pd.DataFrame:
    """Every agent-written message: ``step, agent, claim, text, sentence, on_topic``.

    ``claim`` is the first claim the message carries (empty when none); ``on_topic`` is
    None where the claim has no subject words to check against.
    """
    msgs = of_kind(run.events, "message")
    agent = pd.to_numeric(msgs["agent"], errors="coerce")
    msgs = msgs[agent.fillna(-1).to_numpy() >= 0]
    texts = payload(msgs, "text").fillna("").astype(str).tolist()
    claims = [_first(c) for c in list_column(payload(msgs, "claims")).tolist()]
    return pd.DataFrame(
        {
            "step": msgs["step"].to_numpy(),
            "agent": pd.to_numeric(msgs["agent"]).to_numpy(),
            "claim": claims,
            "text": texts,
        }
    )


def _first(claims: Any) -> str:
    """The first claim id of a message's claims (a list, an array or None)."""
    if claims is None or isinstance(claims, float | str):
        return claims if isinstance(claims, str) else ""
    items = list(claims)
    return str(items[0]) if items else ""


def quality_summary(run: RunData, params: QualityParams | None = None) -> dict[str, Any] | None:
    """Counts and shares of sentences and on-topic messages (None when no agent wrote any)."""
    params = params or QualityParams()
    table = message_table(run)
    if table.empty:
        return None
    # each distinct text (and text-claim pair) judged once: relayed messages repeat
    codes, distinct = pd.factorize(table["text"])
    sentence = np.array([is_sentence(t) for t in distinct], dtype=bool)[codes].tolist()
    words = {c: topic_words(run, c, params.topics) for c in set(table["claim"]) if c}
    pairs = pd.DataFrame({"text": table["text"], "claim": table["claim"]})
    pairs = pairs[[bool(words.get(c)) for c in pairs["claim"]]]
    judged = {
        (text, claim): is_on_topic(text, words[claim])
        for text, claim in pairs.drop_duplicates().itertuples(index=False)
    }
    topical = [judged[(text, claim)] for text, claim in pairs.itertuples(index=False)]
    n = len(table)
    return {
        "messages": n,
        "sentences": int(sum(sentence)),
        "sentence_share": sum(sentence) / n,
        "checked_for_topic": len(topical),
        "on_topic": int(sum(topical)),
        "on_topic_share": (sum(topical) / len(topical)) if topical else None,
        "topic_words": {c: w for c, w in sorted(words.items())},
    }


@register_report_part("message quality")
def quality_part(run: RunData, figs: Any, tables: list) -> None:
    """One table: agent messages, the share that are sentences and the share on topic."""
    summary = ((run.summary or {}).get("measures") or {}).get("message_quality")
    if summary is None:  # not summarised yet: compute it
        given = ((run.config.get("analysis") or {}).get("measures") or {}).get("message_quality")
        summary = quality_summary(run, QualityParams.model_validate(given or {}))
    if summary is None:
        return
    on_topic = summary["on_topic_share"]
    rows = [
        ("agent messages", summary["messages"], ""),
        ("sentences", summary["sentences"], f"{summary['sentence_share']:.0%}"),
        (
            "on topic",
            summary["on_topic"],
            "not checked: no subject words" if on_topic is None else f"{on_topic:.0%}",
        ),
    ]
    table = pd.DataFrame(rows, columns=["messages", "count", "share"])
    tables.append(("Message quality (rules in docs/measures.md)", table))


@register_measure("message_quality", params=QualityParams)
def message_quality(run: RunData, params: QualityParams) -> dict[str, Any] | None:
    """Share of agent messages that are sentences, and of those about their claim."""
    return None if run.events.empty else quality_summary(run, params)


__all__ = [
    "QualityParams",
    "is_on_topic",
    "is_sentence",
    "message_table",
    "quality_summary",
    "topic_words",
]
