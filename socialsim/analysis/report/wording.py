"""Words of the report pages: readable measure labels, the claim's text, the design.

A measure key (``claims.australia_capital.adoption_benign.final_reach``) is shown with a
label built from its parts: the measure's name, its population and the claim's statement
(from the claims library the run used), the raw key beside it in small type.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from socialsim.analysis.report.html import _e, plural
from socialsim.core.errors import SocialsimError

ClaimTexts = dict[str, dict[str, str]]  # claim id -> {"manipulated": ..., "true": ...}

_ADOPTION = {
    "final_reach": "Share believing at the end",
    "initial_reach": "Share believing after set-up",
    "peak": "Peak share believing",
    "peak_step": "Step of the peak share believing",
    "mean_credence_final": "Mean credence at the end",
    "mean_credence_initial": "Mean credence after set-up",
    "time_to_10": "First step reaching 10% of the final share",
    "time_to_50": "First step reaching 50% of the final share",
    "time_to_90": "First step reaching 90% of the final share",
    "n": "Agents present at the end",
}
_PROBES = {
    "manipulated_share": "Share of {d} probe answers following the false claim",
    "accuracy": "Share of {d} probe answers that are correct",
    "asked": "{D} probes asked",
    "answered": "{D} probes answered",
    "failed": "{D} probes failed",
}
_OTHER = {
    "exposure": {
        "n_exposed": "Agents exposed",
        "n_adopters": "Believers at the end",
        "conversion_rate": "Share of exposed agents believing at the end",
        "adoption_rate_unexposed": "Share of unexposed agents believing at the end",
        "deliveries": "Message deliveries",
    },
    "persistence": {
        "removal_step": "Step the attackers left",
        "reach_at_removal": "Share believing when the attackers left",
        "reach_final": "Share believing at the end",
        "reach_change": "Change in share believing after the attackers left",
        "probe_manipulated_before": "Probe answers following the false claim, before removal",
        "probe_manipulated_after": "Probe answers following the false claim, after removal",
    },
    "credence_probe_gap": {
        "disagreement": "Share of probes where stated belief and answer disagree",
        "mean_abs_gap": "Mean gap between credence and probe answer",
    },
}
_WHOLE = {
    "disagreement_final": "Mean disagreement across network edges at the end",
    "bimodality_final": "Bimodality of credences at the end",
}


def _words(part: str) -> str:
    return part.replace("_", " ")


def _claim_ref(claim: str, texts: ClaimTexts | None) -> str:
    statement = (texts or {}).get(claim, {}).get("manipulated")
    return f"\u201c{statement}\u201d" if statement else f"claim {claim}"


def _key_words(parts: list[str]) -> list[str]:
    """Parts of a dotted key as words; a part starting with a digit rejoins the one before
    (``gpt-4``, ``1`` -> ``gpt-4.1``)."""
    out: list[str] = []
    for part in parts:
        if out and part[:1].isdigit() and out[-1][-1:].isdigit():
            out[-1] += "." + part
        else:
            out.append(_words(part))
    return out


_GROUPS = ("credence_probe_gap", "adoption", "probes", "exposure", "persistence")


def _group(part: str) -> tuple[str, str] | None:
    """(kind, population) of a claim measure's group key, None when it is not one."""
    if part in _WHOLE:
        return part, "all"
    if part == "cascades":
        return part, ""
    for kind in _GROUPS:
        if part.startswith(kind + "_"):
            return kind, part[len(kind) + 1 :]
    return None


def claim_measure(key: str) -> tuple[str, str, str, list[str]] | None:
    """``(claim, kind, population, rest)`` of a ``claims.<claim>.<group>...`` key, else None.

    ``claim_measure("claims.c1.probes_benign.direct.manipulated_share")`` ->
    ``("c1", "probes", "benign", ["direct", "manipulated_share"])``; a claim id may hold dots.
    """
    parts = key.removeprefix("measures.").split(".")
    if parts[0] != "claims" or len(parts) < 3:
        return None
    at = next((i for i in range(2, len(parts)) if _group(parts[i])), 2)
    kind, pop = _group(parts[at]) or (parts[at], "")
    return ".".join(parts[1:at]), kind, pop, parts[at + 1 :]


def claim_of(headline: dict[str, Any]) -> str | None:
    """The claim a headline entry is about: from its measure key, else its adoption figure."""
    parsed = claim_measure(str(headline.get("measure", "")))
    if parsed is not None:
        return parsed[0]
    figure = str(headline.get("figure") or "")
    return figure.removeprefix("adoption_") if figure.startswith("adoption_") else None


def measure_label(key: str, texts: ClaimTexts | None = None) -> str:
    """A readable label for a measure key: what is measured, of whom, about which claim.

    ``measure_label("claims.c1.adoption_all.peak")`` is ``"Peak share believing (all agents),
    claim c1"`` (the two joined by a dash); with `texts` the claim is named by its false
    statement.
    """
    parsed = claim_measure(key)
    if parsed is None:
        parts = key.removeprefix("measures.").split(".")
        head = _words(parts[0]).capitalize()
        return head + (": " + ", ".join(_key_words(parts[1:])) if len(parts) > 1 else "")
    claim, kind, pop, rest = parsed
    group = f"{kind}_{pop}" if pop and kind not in _WHOLE else kind
    base = pop.removesuffix("_last")  # probes_<pop>_last: the last probe step's alone
    who = f"{base} agents" if base in ("all", "benign") else ""
    if pop.endswith("_last") and kind == "probes":
        who = f"{who}, last probe step" if who else "last probe step"
    leaf = rest[-1] if rest else ""
    if kind == "adoption" and leaf in _ADOPTION:
        what = _ADOPTION[leaf]
    elif kind == "probes" and len(rest) == 2 and leaf in _PROBES:
        what = _PROBES[leaf].format(d=_words(rest[0]), D=_words(rest[0]).capitalize())
    elif kind in _OTHER and leaf in _OTHER[kind]:
        what = _OTHER[kind][leaf]
    elif kind in _WHOLE and not rest:
        what = _WHOLE[kind]
    else:
        what, who = ", ".join(_key_words([group, *rest])).capitalize(), ""
    ref = _claim_ref(claim, texts)
    return f"{what} ({who}) \u2014 {ref}" if who else f"{what} \u2014 {ref}"


def claim_texts(config: dict[str, Any], claims: list[str], base: Path | None = None) -> ClaimTexts:
    """The false and true statements of `claims` from the claims library the config used.

    The library is the built-in claims plus the scenario's ``claims_file`` (read relative to
    `base` when not found as given) and ``custom_claims``; a claim not in it is left out.
    """
    from socialsim.core.claims import claim_library

    params = (config.get("scenario") or {}).get("params") or {}
    params = params if isinstance(params, dict) else {}
    custom = params.get("custom_claims") if isinstance(params.get("custom_claims"), list) else None
    path = params.get("claims_file")
    if isinstance(path, str) and base is not None and not Path(path).exists():
        path = str(base / path) if (base / path).exists() else path
    library: dict[str, Any] = {}
    for source, extra in ((path, custom), (None, custom), (None, None)):
        try:
            library = claim_library(source if isinstance(source, str) else None, extra)
            break
        except SocialsimError:
            continue
    return {
        c: {"manipulated": library[c].manipulated_statement, "true": library[c].true_statement}
        for c in claims
        if c in library
    }


def claim_section(claims: list[str], texts: ClaimTexts) -> str:
    """The page's "The claim" section: each claim's false and true statements, or its id."""
    if not claims:
        return ""
    out = [f"<h2>{'The claim' if len(claims) == 1 else 'The claims'}</h2>"]
    for claim in claims:
        text = texts.get(claim)
        if text is None:
            out.append(
                f'<p class="claim">Claim <code>{_e(claim)}</code> '
                '<span class="note">(its statement is not in the claims library)</span></p>'
            )
            continue
        out.append(
            f'<div class="claim"><p><b>False version</b> (the one spread; credence and '
            f"adoption are belief in it): &ldquo;{_e(text['manipulated'])}&rdquo;</p>"
            f"<p><b>True version</b>: &ldquo;{_e(text['true'])}&rdquo;</p>"
            f'<p class="note">claim id <code>{_e(claim)}</code></p></div>'
        )
    return "".join(out)


def _seeds(seeds: list[Any]) -> str:
    if not seeds:
        return ""
    shown = ", ".join(str(s) for s in seeds[:8]) + (", ..." if len(seeds) > 8 else "")
    return f"{'seed' if len(seeds) == 1 else 'seeds'} {shown}"


def arms_design(summary: dict[str, Any], kind: str | None, n_runs: int) -> str:
    """One sentence: the scenario, the arms, the replicates and seeds of an arms directory."""
    arms = list(summary.get("arms") or {})
    seeds = list(summary.get("seeds") or [])
    replicates = summary.get("replicates") or len(seeds)
    scenario = f"the {kind} scenario" if kind and kind != "none" else "the config"
    if "control" in arms:
        how = (
            f"{scenario} in a treatment arm and a matched control arm (the same seeds, "
            "network, personas and activation; the control without the manipulation)"
        )
    else:
        how = f"{scenario} in {plural(len(arms) or 1, 'arm')} ({', '.join(arms) or 'treatment'}), "
        how += "with no control arm, so no effect is estimated"
    reps = plural(replicates, "replicate") + (" per arm" if len(arms) > 1 else "")
    seeds_text = f" ({_seeds(seeds)})" if seeds else ""
    return f"Design: {how}; {reps}{seeds_text}: {plural(n_runs, 'run')} in all."


def run_design(summary: dict[str, Any], config: dict[str, Any], parent: dict[str, Any]) -> str:
    """One sentence: the scenario, arm and seed of a run and, in an arms run, its design;
    then the scenario's own design sentence (e.g. how beliefs were read), if it gives one."""
    scenario = summary.get("scenario") if isinstance(summary.get("scenario"), dict) else {}
    own = scenario.get("design")
    text = _run_design(summary, config, parent)
    return f"{text} {own}" if isinstance(own, str) and own else text


def _run_design(summary: dict[str, Any], config: dict[str, Any], parent: dict[str, Any]) -> str:
    facts = summary.get("run") if isinstance(summary.get("run"), dict) else {}
    scenario = summary.get("scenario") if isinstance(summary.get("scenario"), dict) else {}
    kind = scenario.get("kind") or (config.get("scenario") or {}).get("kind")
    what = f"the {kind} scenario" if kind and kind != "none" else "no scenario"
    seed = facts.get("seed", config.get("seed"))
    if facts.get("in_arms") or parent.get("kind") == "arms":
        arm = scenario.get("arm") or "treatment"
        seed_text = f" (seed {seed})" if seed is not None else ""
        text = f"Design: the {arm} arm{seed_text} of an arms run of {what}"
        if parent.get("kind") == "arms":
            arms = " and ".join(parent.get("arms") or {}) or "treatment"
            seeds = list(parent.get("seeds") or [])
            reps = parent.get("replicates") or len(seeds)
            text += f" ({arms} arms, {plural(reps, 'replicate')}: {_seeds(seeds)})"
        return text + "; the effect against the other arm is on the arms page."
    seed_text = f", seed {seed}" if seed is not None else ""
    replicates = config.get("replicates")
    extra = f" (of {plural(replicates, 'replicate')})" if replicates and replicates > 1 else ""
    return f"Design: one run{extra} of {what}{seed_text}, with no control arm."
