"""Toxicity of what agents write: an offline lexicon score from 0 to 1 (``measures.toxicity``).

The lexicon ships with socialsim (``socialsim/analysis/data/toxicity_lexicon.yaml``): five
categories (threat, dehumanising, harmful advice, insult, profanity), each with a weight and
a list of terms. A text's score is ``1 - prod(1 - w)`` over every term occurrence it holds,
``w`` the weight of the term's category: 0 without a match, the weight with one, towards 1
with more. Terms match whole words, in any case; ``*`` ends a word stem and ``...`` stands
for up to five words. Matching is negation-naive: "never mix bleach and ammonia" scores as
the harmful advice itself, so a correction that quotes the advice is scored like the advice
(``docs/measures.md``, "Toxicity", says what else it does not catch).

    toxicity_score("You idiot, mix bleach with ammonia")  # 1 - 0.4 * 0.3 = 0.88
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from socialsim.analysis.report.parts import register_report_part
from socialsim.analysis.stats import clustered_share_ci
from socialsim.core.errors import DataFileError
from socialsim.core.registry import MEASURES, register_measure
from socialsim.core.rundata import RunData, of_kind, payload, populations
from socialsim.core.validation import describe_error
from socialsim.core.yaml_safe import load_yaml_file, load_yaml_text

LEXICON_FILE = "data/toxicity_lexicon.yaml"
GAP_WORDS = 5  # the most words "..." stands for
EXAMPLES = 10  # the most toxic messages the run page shows


def term_pattern(term: str) -> str:
    """The regular expression of a lexicon term (whole words; ``*`` a stem, ``...`` a gap)."""
    words = term.split()
    if not words or words[0] == "..." or words[-1] == "...":
        raise ValueError(f"term {term!r} must start and end with a word")
    parts: list[str] = []
    for word in words:
        if word == "...":
            parts.append(rf"(?:\s+\S+){{0,{GAP_WORDS}}}")
            continue
        stem = word[:-1] if word.endswith("*") and len(word) > 1 else word
        piece = re.escape(stem) + (r"\w*" if stem is not word else "")
        parts.append((r"\s+" if parts else "") + piece)
    return r"(?<!\w)" + "".join(parts) + r"(?!\w)"


def _key_word(term: str) -> tuple[str, bool]:
    """The longest word of a term, lower-cased, and whether it is a stem (``word*``): text
    without it as a whole word (a stem: as the start of a word) cannot match the term."""
    words = [(w[:-1], True) if w.endswith("*") and len(w) > 1 else (w, False) for w in term.split()]
    word, stem = max((w for w in words if w[0] != "..."), key=lambda w: len(w[0]))
    return word.lower(), stem


_ASCII_WORD = re.compile(r"[A-Za-z0-9_]+")


class _KeyWords:
    """Key words (whole words) and stems (word starts), lower-cased, of a lexicon's terms."""

    def __init__(self, keys: list[tuple[str, bool]]) -> None:
        self.words = frozenset(k for k, stem in keys if not stem)
        self.stems = frozenset(k for k, stem in keys if stem)
        self.lengths = sorted({len(k) for k in self.stems})

    def any_in(self, text: str) -> bool:
        """True when ASCII `text` holds a key word, or a word that starts with a key stem."""
        tokens = set(_ASCII_WORD.findall(text.lower()))
        if not self.words.isdisjoint(tokens):
            return True
        stems = self.stems
        return any(t[:n] in stems for t in tokens for n in self.lengths if len(t) >= n)


class LexiconCategory(BaseModel):
    """One category of the lexicon: its weight and its terms."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    weight: float = Field(..., gt=0.0, le=1.0, description="score of one matched term")
    terms: list[str] = Field(..., min_length=1)

    @field_validator("terms")
    @classmethod
    def _terms_compile(cls, terms: list[str]) -> list[str]:
        for term in terms:
            term_pattern(term)  # ValueError naming the term
        return terms


class Lexicon(BaseModel):
    """The toxicity lexicon: categories by name, each with a weight and terms."""

    model_config = ConfigDict(extra="forbid")

    version: int = 1
    categories: dict[str, LexiconCategory] = Field(..., min_length=1)
    _patterns: dict[str, re.Pattern[str]] = PrivateAttr(default_factory=dict)
    _keys: _KeyWords | None = PrivateAttr(default=None)

    def model_post_init(self, context: Any) -> None:
        """Compile each category's terms into one case-insensitive pattern, and note a key
        word of each term (its longest word or stem) for the quick check of ASCII text."""
        keys: list[tuple[str, bool]] = []
        for name, category in self.categories.items():
            longest_first = sorted(category.terms, key=len, reverse=True)
            body = "|".join(term_pattern(t) for t in longest_first)
            self._patterns[name] = re.compile(body, re.IGNORECASE)
            keys += [_key_word(t) for t in category.terms]
        # a non-ASCII letter can match an ASCII one in any case (the Kelvin sign, the long s)
        if all(_ASCII_WORD.fullmatch(k) for k, _ in keys):
            self._keys = _KeyWords(keys)

    def hits(self, text: str) -> dict[str, int]:
        """Matched term occurrences per category (every category, 0 when none matched).

        A term matches only where each of its words stands in the text as a whole word (a
        stem: as the start of one), so plain-ASCII text (most messages) that holds no term's
        key word is not scanned term by term."""
        text = str(text or "").replace("\u2019", "'")
        if self._keys is not None and text.isascii() and not self._keys.any_in(text):
            return dict.fromkeys(self._patterns, 0)
        return {name: len(p.findall(text)) for name, p in self._patterns.items()}

    def score_hits(self, hits: dict[str, int]) -> float:
        """The score ``1 - prod(1 - w) ** n`` of matched occurrences per category.

        Rounded to 12 decimals, so one match scores its weight exactly (0.6, not 0.6000...1).
        """
        keep = 1.0
        for name, n in hits.items():
            keep *= (1.0 - self.categories[name].weight) ** n
        return round(1.0 - keep, 12)


def _parse_lexicon(data: Any, source: str) -> Lexicon:
    try:
        return Lexicon.model_validate(data)
    except ValidationError as exc:
        raise DataFileError(f"{source}: {describe_error(exc)}") from None


@lru_cache(maxsize=1)
def builtin_lexicon() -> Lexicon:
    """The lexicon shipped with socialsim."""
    text = resources.files("socialsim.analysis").joinpath(LEXICON_FILE).read_text("utf-8")
    source = f"socialsim/analysis/{LEXICON_FILE}"
    return _parse_lexicon(load_yaml_text(text, source, error=DataFileError), source)


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """A lexicon from a YAML file of the built-in's shape; the built-in one without a path."""
    if path is None:
        return builtin_lexicon()
    return _parse_lexicon(load_yaml_file(path, "toxicity lexicon", error=DataFileError), str(path))


def category_hits(text: str, lexicon: Lexicon | None = None) -> dict[str, int]:
    """Matched term occurrences of each category in `text`."""
    return (lexicon or builtin_lexicon()).hits(text)


def toxicity_score(text: str, lexicon: Lexicon | None = None) -> float:
    """The toxicity of `text` from 0 (no lexicon term) towards 1 (see the module docstring)."""
    lexicon = lexicon or builtin_lexicon()
    return lexicon.score_hits(lexicon.hits(text))


class ToxicityParams(BaseModel):
    """Parameters of the toxicity measure."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    threshold: float = Field(
        0.5, gt=0.0, le=1.0, description="score at or above which a message counts as toxic"
    )


def message_toxicity(run: RunData, lexicon: Lexicon | None = None) -> pd.DataFrame:
    """Every agent-written message scored: ``step, agent, role, score, categories, text``.

    ``role`` is the sender's scenario role, ``benign`` for an agent without one; scenario
    broadcasts (sender < 0) are left out. ``categories`` names the categories matched.
    """
    columns = ["step", "agent", "role", "score", "categories", "text"]
    builtin = lexicon is None or lexicon is builtin_lexicon()
    if builtin and "toxicity_messages" in run.cache:  # the built-in lexicon's, scored once
        return run.cache["toxicity_messages"]
    msgs = of_kind(run.events, "message")
    if msgs.empty:
        return pd.DataFrame(columns=columns)
    agent = pd.to_numeric(msgs["agent"], errors="coerce").fillna(-1).astype(int)
    keep = agent.to_numpy() >= 0
    msgs, agent = msgs[keep], agent[keep]
    lexicon = lexicon or builtin_lexicon()
    texts = payload(msgs, "text").fillna("").astype(str)
    codes, distinct = pd.factorize(texts)  # each distinct text scored once: relays repeat
    scored = [lexicon.hits(t) for t in distinct]
    score_of = np.array([lexicon.score_hits(h) for h in scored], dtype=float)
    names_of = np.array([",".join(k for k, n in h.items() if n) for h in scored], dtype=object)
    role_of = _roles(run)
    table = pd.DataFrame(
        {
            "step": pd.to_numeric(msgs["step"], errors="coerce").fillna(-1).astype(int).to_numpy(),
            "agent": agent.to_numpy(),
            "role": [role_of.get(a, "benign") for a in agent.tolist()],
            "score": score_of[codes] if len(codes) else np.zeros(0),
            "categories": names_of[codes] if len(codes) else np.zeros(0, dtype=object),
            "text": texts.tolist(),
        },
        columns=columns,
    )
    if builtin:
        run.cache["toxicity_messages"] = table
    return table


def _roles(run: RunData) -> dict[int, str]:
    """Agent -> its scenario role (placebo role holders of a control arm included)."""
    out: dict[int, str] = {}
    for name, ids in populations(run).items():
        if name not in ("all", "benign"):
            out.update({int(a): name for a in ids})
    return out


def share_cell(messages: pd.DataFrame, threshold: float) -> dict[str, Any]:
    """Messages, mean score, toxic count and share of a set of scored messages (``agent``,
    ``score``), the interval with senders as clusters (Wilson's when no agent sent two)."""
    values = messages["score"].to_numpy(dtype=float)
    n = int(values.size)
    toxic = int((values >= threshold).sum())
    low, high = (None, None)
    if n:
        low, high = clustered_share_ci(values >= threshold, messages["agent"].to_numpy())
        low, high = (None, None) if np.isnan(low) else (low, high)
    return {
        "messages": n,
        "mean": float(values.mean()) if n else None,
        "toxic": toxic,
        "share": toxic / n if n else None,
        "ci_low": low,
        "ci_high": high,
    }


def toxicity_summary(
    run: RunData, params: ToxicityParams | None = None, lexicon: Lexicon | None = None
) -> dict[str, Any] | None:
    """Toxicity of the agents' messages overall, by role and by step (layout in docs/measures.md).

    None for a run without agent messages, except a control arm: there the counts are 0, so
    an arms table compares the treatment's toxic messages with the control's.
    """
    params = params or ToxicityParams()
    lexicon = lexicon or builtin_lexicon()
    table = message_toxicity(run, lexicon)
    control = (run.config.get("scenario") or {}).get("arm") == "control"
    if table.empty and not control:
        return None
    out: dict[str, Any] = {
        "threshold": params.threshold,
        **share_cell(table, params.threshold),
    }
    matched = [set(c.split(",")) for c in table["categories"]]
    out["categories"] = {name: sum(name in m for m in matched) for name in lexicon.categories}
    roles = [name for name in populations(run) if name != "all"]
    if roles:
        out["by_role"] = {
            role: share_cell(table[table["role"] == role], params.threshold) for role in roles
        }
    out["by_step"] = [
        {"step": int(step), **share_cell(rows, params.threshold)}
        for step, rows in table.groupby("step", sort=True)
    ]
    return out


@register_measure("toxicity", params=ToxicityParams)
def toxicity(run: RunData, params: ToxicityParams) -> dict[str, Any] | None:
    """Mean lexicon toxicity of agent messages and the share at or above the threshold."""
    return None if run.events.empty else toxicity_summary(run, params)


def toxicity_by_step(run: RunData, threshold: float = 0.5) -> pd.DataFrame:
    """The ``toxicity_by_step`` table: ``step, population, messages, mean, toxic, share, ci``."""
    table = message_toxicity(run)
    rows = []
    for step, at_step in table.groupby("step", sort=True):
        groups = [("all", at_step)] + list(at_step.groupby("role", sort=True))
        for population, rows_of in groups:
            rows.append(
                {
                    "step": int(step),
                    "population": population,
                    **share_cell(rows_of, threshold),
                }
            )
    return pd.DataFrame(rows)


def _params_of(run: RunData) -> ToxicityParams:
    given = ((run.config.get("analysis") or {}).get("measures") or {}).get("toxicity")
    params = MEASURES.validate("toxicity", given, "analysis.measures.toxicity")
    assert isinstance(params, ToxicityParams)
    return params


def _tables(run: RunData) -> dict[str, pd.DataFrame]:
    return {"toxicity_by_step": toxicity_by_step(run, _params_of(run).threshold)}


@register_report_part("toxicity", tables=_tables)
def toxicity_part(run: RunData, figs: Any, tables: list) -> None:
    """Toxicity by role, and the most toxic messages (texts escaped when the page renders)."""
    written = ((getattr(run, "summary", None) or {}).get("measures") or {}).get("toxicity")
    params = _params_of(run)
    summary = written if written is not None else toxicity_summary(run, params)
    if not summary or not summary["messages"]:
        return
    groups = {"all": summary, **(summary.get("by_role") or {})}
    keys = ("messages", "mean", "toxic", "share", "ci_low", "ci_high")
    by_role = pd.DataFrame(
        [{"population": name, **{k: cell[k] for k in keys}} for name, cell in groups.items()]
    )
    title = (
        f"Toxicity of agent messages (lexicon score; toxic at {summary['threshold']:g} or above)"
    )
    tables.append((title, by_role))
    scored = message_toxicity(run)
    worst = scored[scored["score"] > 0].sort_values("score", ascending=False, kind="stable")
    if not worst.empty:
        examples = worst.head(EXAMPLES).reset_index(drop=True)
        tables.append(("Most toxic agent messages", examples))


__all__ = [
    "Lexicon",
    "LexiconCategory",
    "ToxicityParams",
    "builtin_lexicon",
    "category_hits",
    "load_lexicon",
    "message_toxicity",
    "share_cell",
    "term_pattern",
    "toxicity",
    "toxicity_by_step",
    "toxicity_score",
    "toxicity_summary",
]
