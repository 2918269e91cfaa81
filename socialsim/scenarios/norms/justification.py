"""Do agents' reasons agree with the norm they face? Justifications scored against the rule.

A frame's *rule of thumb* is its most expected option (:func:`rule_of_thumb`: the option
most judges find expected, then okay; the first on ties), the behaviour the conformity
baseline picks. Each answered LLM choice is scored by lexical overlap: ``agreement`` is
the share of the rule's content words (:func:`content_stems`) that appear in the
justification, ``own_agreement`` the same share for the chosen behaviour, ``matches_rule``
whether the chosen behaviour is the rule. Content words are the lower-cased runs of letters
and digits (apostrophes dropped) that are not in :data:`STOP_WORDS`, each cut to its stem
by :func:`stem`. The score is deterministic and a lower bound: a paraphrase with other words
(``gratuity`` for ``tip``) scores 0.

Rule agents give no justification of their own (the baseline writes a fixed sentence), so
only ``source: llm`` choices are scored; a run without them has null scores and a reason.
Base and variant versions of a situation (a frame declared ``variant_of`` another) are
paired per agent (:func:`variant_pairs`): does the choice change, and the reason with it?
``docs/measures.md`` ("Norms: justifications") defines every value.

Example: ``justification_summary(justification_table(norm_choices(events)))["agreement"]``.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis.stats import answer_table, count_cell, paired_t_interval
from socialsim.scenarios.norms.frames import NormFrame, NormLibrary, builtin_library

# words that carry no content of a norm (articles, pronouns, auxiliaries, connectives)
STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    im ive id dont doesnt didnt isnt arent wasnt werent cant couldnt shouldnt wont wouldnt
    youd youre youll youve theyre thats whats lets
    also may might must shall one s t""".split()
)
# suffixes cut by `stem`, longest first; "ies" becomes "y"
SUFFIXES = ("ings", "ing", "ies", "ed", "es", "s")
# the lexical-overlap rule a justification changes by: content words less than half shared
CHANGED_BELOW = 0.5
NO_JUSTIFICATION = (
    "no answered LLM choice: rule agents give a fixed baseline sentence, not a reason"
)


def rule_of_thumb(frame: NormFrame) -> str:
    """The frame's rule of thumb: its most expected option's behaviour."""
    return frame.most_expected().behaviour


def stem(word: str) -> str:
    """A word cut to its stem by a fixed rule: ``tipping`` -> ``tip``, ``leave`` -> ``leav``.

    Words of 3 letters or fewer are kept. Otherwise the first of :data:`SUFFIXES` (ings, ing,
    ies, ed, es, s) that leaves 3 letters or more is cut (``ies`` -> ``y``; a final ``s`` after
    ``s``, ``u`` or ``i`` is kept); after ``ing`` / ``ed`` a doubled final consonant other
    than l, s, z loses one letter; last, a final ``e`` is cut when 3 letters or more remain.
    """
    w = word.lower()
    if len(w) <= 3:
        return w
    for suffix in SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            if suffix == "s" and w[-2] in "sui":
                break
            w = w[: -len(suffix)] + ("y" if suffix == "ies" else "")
            if suffix in ("ing", "ings", "ed"):
                if len(w) >= 4 and w[-1] == w[-2] and w[-1] not in "aeioulsz":
                    w = w[:-1]
            break
    if w.endswith("e") and len(w) >= 4:
        w = w[:-1]
    return w


def content_stems(text: Any) -> set[str]:
    """The stems of a text's content words (empty for empty or missing text)."""
    if not isinstance(text, str):
        return set()
    words = re.findall(r"[a-z0-9]+", text.lower().replace("'", "").replace("\u2019", ""))
    return {stem(w) for w in words if w not in STOP_WORDS}


def lexical_agreement(rule: Any, text: Any) -> float | None:
    """Share of the rule's content stems found in the text (None when the rule has none)."""
    wanted = content_stems(rule)
    if not wanted:
        return None
    return len(wanted & content_stems(text)) / len(wanted)


def lexical_distance(a: Any, b: Any) -> float | None:
    """1 - Jaccard similarity of two texts' content stems (None when both have none)."""
    x, y = content_stems(a), content_stems(b)
    if not x and not y:
        return None
    return 1.0 - len(x & y) / len(x | y)


# --- the table ---------------------------------------------------------------------------------
def _frame_facts(frame_ids: pd.Series, library: NormLibrary | None) -> tuple[pd.Series, pd.Series]:
    """Rule and base frame of each frame id from the library (None for unknown ids)."""
    lib = library if library is not None else builtin_library()
    rules, bases = {}, {}
    for fid in frame_ids.dropna().unique().tolist():
        if fid in lib:
            frame = lib.frame(fid)
            rules[fid], bases[fid] = rule_of_thumb(frame), frame.variant_of
    return (
        frame_ids.map(lambda f: rules.get(f)).astype(object),
        frame_ids.map(lambda f: bases.get(f)).astype(object),
    )


def justification_table(choices: pd.DataFrame, library: NormLibrary | None = None) -> pd.DataFrame:
    """Norm choices (from ``norm_choices``) with their justifications scored.

    Adds ``rule`` and ``variant_of`` (from the log; a log without them looks the frame up in
    `library`, by default the built-in one), ``version`` (``variant`` or ``base``),
    ``scored`` (an answered LLM choice with a non-empty justification and a rule with
    content words), ``matches_rule`` (1.0 / 0.0 for answered choices with a rule),
    ``agreement`` and ``own_agreement`` (NaN unless scored).
    """
    table = choices.copy()
    for col in ("rule", "variant_of", "source", "justification", "frame_id", "behaviour"):
        if col not in table:
            table[col] = None
    table["rule"] = table["rule"].astype(object).where(table["rule"].notna(), None)
    missing = table["rule"].isna()
    if missing.any():
        rules, bases = _frame_facts(table.loc[missing, "frame_id"], library)
        table.loc[missing, "rule"] = rules
        table.loc[missing, "variant_of"] = bases
    table["variant_of"] = table["variant_of"].astype(object).where(table["variant_of"].notna())
    table["version"] = np.where(table["variant_of"].notna(), "variant", "base")
    answered = (table["status"] == "answered") & table["rule"].notna()
    table["matches_rule"] = (table["behaviour"] == table["rule"]).astype(float).where(answered)
    text = table["justification"].map(_text)
    rule_words = table["rule"].map(content_stems)
    table["scored"] = (
        answered & (table["source"] == "llm") & (text != "") & (rule_words.map(len) > 0)
    )
    scored = table["scored"]
    table["agreement"] = [
        lexical_agreement(r, t) if s else np.nan
        for r, t, s in zip(table["rule"], text, scored, strict=True)
    ]
    table["own_agreement"] = [
        lexical_agreement(b, t) if s else np.nan
        for b, t, s in zip(table["behaviour"], text, scored, strict=True)
    ]
    table["agreement"] = table["agreement"].astype(float)
    table["own_agreement"] = table["own_agreement"].astype(float)
    return table


def variant_pairs(table: pd.DataFrame) -> pd.DataFrame:
    """Per agent, its first answered LLM choice in a base frame beside the one in its variant.

    ``agent, base, variant, choice_changed, rule_changed`` (1.0 / 0.0), ``shift`` (the
    justifications' :func:`lexical_distance`, NaN when one is empty) and
    ``justification_changed`` (shift above 1 - :data:`CHANGED_BELOW`; NaN with the shift).
    """
    cols = ["agent", "base", "variant", "choice_changed", "rule_changed", "shift"]
    cols.append("justification_changed")
    rows = table[
        (table["status"] == "answered") & (table["source"] == "llm") & table["rule"].notna()
    ]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    first = rows.sort_values("step", kind="stable").drop_duplicates(["agent", "frame_id"])
    keys = zip(first["agent"].astype(int), first["frame_id"], first.itertuples(), strict=True)
    by_key = {(a, f): r for a, f, r in keys}
    out = []
    for (agent, fid), row in by_key.items():
        base = by_key.get((agent, row.variant_of)) if isinstance(row.variant_of, str) else None
        if base is None:
            continue
        shift = lexical_distance(base.justification, row.justification)
        empty = not (_text(base.justification) and _text(row.justification))
        out.append(
            {
                "agent": agent,
                "base": row.variant_of,
                "variant": fid,
                "choice_changed": float(base.behaviour != row.behaviour),
                "rule_changed": float(base.rule != row.rule),
                "shift": np.nan if empty or shift is None else shift,
            }
        )
    pairs = pd.DataFrame(out, columns=cols[:-1])
    pairs["justification_changed"] = (pairs["shift"] > 1 - CHANGED_BELOW).astype(float)
    pairs.loc[pairs["shift"].isna(), "justification_changed"] = np.nan
    return pairs[cols]


# --- cells -------------------------------------------------------------------------------------
def agent_mean_cell(values: pd.Series, agents: pd.Series) -> dict[str, Any]:
    """Mean over agents of each agent's mean score, with a t-interval over the agent means.

    ``{n, agents, mean, ci_low, ci_high}``: an agent's scores are not independent (one
    agent answers many items), so the agent is the unit; the interval is
    :func:`~socialsim.analysis.stats.paired_t_interval` of the agent means, clipped to 0..1.
    Under 2 agents the interval is None and ``no_interval`` says why.
    """
    frame = pd.DataFrame({"v": pd.to_numeric(values, errors="coerce"), "a": agents}).dropna()
    means = frame.groupby("a")["v"].mean().to_numpy(dtype=float)
    out: dict[str, Any] = {"n": len(frame), "agents": len(means), "mean": None}
    out |= {"ci_low": None, "ci_high": None}
    if len(means):
        out["mean"] = float(means.mean())
    if len(means) >= 2:
        low, high = paired_t_interval(means)
        out["ci_low"], out["ci_high"] = float(max(low, 0.0)), float(min(high, 1.0))
    else:
        out["no_interval"] = f"{len(means)} agent(s); an interval needs at least 2"
    return out


def _share(rows: pd.DataFrame, outcome: str) -> dict[str, Any]:
    """Wilson cell of a 1.0 / 0.0 column over the rows where it is known."""
    known = rows[rows[outcome].notna()].assign(status="answered") if len(rows) else rows
    table = answer_table(known, None, outcome) if len(known) else pd.DataFrame()
    return count_cell(table.iloc[0] if not table.empty else None)


def _means_by(rows: pd.DataFrame, key: str) -> dict[str, dict[str, Any]]:
    return {
        str(value): agent_mean_cell(group["agreement"], group["agent"])
        for value, group in rows.groupby(key, sort=True)
    }


def _variant_block(table: pd.DataFrame) -> dict[str, Any]:
    pairs = variant_pairs(table)
    changed, kept = pairs["choice_changed"] == 1.0, pairs["choice_changed"] == 0.0
    both = pairs[pairs["shift"].notna()]
    follows = both.assign(
        same=(both["justification_changed"] == both["choice_changed"]).astype(float)
    )
    return {
        "pairs": len(pairs),
        "choice_changed": _share(pairs, "choice_changed"),
        "choice_changed_rule_changed": _share(
            pairs[pairs["rule_changed"] == 1.0], "choice_changed"
        ),
        "choice_changed_rule_kept": _share(pairs[pairs["rule_changed"] == 0.0], "choice_changed"),
        "shift_choice_changed": agent_mean_cell(
            pairs.loc[changed, "shift"], pairs.loc[changed, "agent"]
        ),
        "shift_choice_kept": agent_mean_cell(pairs.loc[kept, "shift"], pairs.loc[kept, "agent"]),
        "justification_follows_choice": _share(follows, "same"),
    }


def justification_summary(table: pd.DataFrame) -> dict[str, Any]:
    """The justification measures of a :func:`justification_table`, JSON-ready.

    Over benign agents (no scenario role): ``choices`` (LLM answered, failed, scored,
    empty; rule choices, not scored), ``agreement`` (overall, agent-clustered mean with a
    t-interval), ``by_frame``, ``by_version`` (base / variant), ``by_choice`` (choices that
    match the rule / do not), ``matches_rule`` and ``says_rule_does_other`` (Wilson cells)
    and ``variants`` (base-variant pairs). With no scored choice the values are null and
    ``reason`` says why.
    """
    rows = table[table["agent_role"].isna()] if "agent_role" in table else table
    llm = rows[rows["source"] == "llm"]
    answered = llm[llm["status"] == "answered"]
    scored = rows[rows["scored"].astype(bool)]
    out: dict[str, Any] = {
        "choices": {
            "llm_answered": len(answered),
            "llm_failed": int((llm["status"] == "failed").sum()),
            "scored": len(scored),
            "empty": sum(not _text(t) for t in answered["justification"]),
            "no_rule": int(answered["rule"].isna().sum()),
            "rule": int((rows["source"] == "rule").sum()),
        },
        "agreement": agent_mean_cell(scored["agreement"], scored["agent"]),
    }
    if scored.empty:
        return out | {"reason": NO_JUSTIFICATION if answered.empty else "no justification to score"}
    other = scored[scored["matches_rule"] == 0.0]
    other = other.assign(says_rule=(other["agreement"] > other["own_agreement"]).astype(float))
    return out | {
        "by_frame": _means_by(scored, "frame_id"),
        "by_version": _means_by(scored, "version"),
        "by_choice": _means_by(
            scored.assign(choice=np.where(scored["matches_rule"] == 1.0, "rule", "other")), "choice"
        ),
        "matches_rule": count_cell(
            _first(answer_table(llm[llm["rule"].notna()], None, "matches_rule"))
        ),
        "says_rule_does_other": _share(other, "says_rule"),
        "variants": _variant_block(rows),
    }


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _first(table: pd.DataFrame) -> pd.Series | None:
    return table.iloc[0] if not table.empty else None
