"""What the command line prints after a run, an arms run or a sweep (stdout), and its consoles."""

from __future__ import annotations

import json

from rich.console import Console

console = Console(soft_wrap=True)
err_console = Console(stderr=True)


def _unusable(q: dict) -> str:
    """Unusable answers by template, and how many a time limit cut, by setting:
    "3 (chat_v1 2, misinfo_credence 1): 3 timed out (...)"."""
    where = _flat_part(q, "unusable_by_template")
    parts = ", ".join(f"{k} {int(v)}" for k, v in where.items() if v)
    said = f"{q.get('unusable', 0)}" + (f" ({parts})" if parts else "")
    by = _flat_part(q, "timed_out_by")
    cut = int(sum(by.values()))
    if not cut:
        return said
    names = next(iter(by)) if len(by) == 1 else ", ".join(f"{k} {int(v)}" for k, v in by.items())
    return f"{said}: {cut} timed out ({names})"


def _flat_part(q: dict, key: str) -> dict:
    """``q[key]`` of a run's summary, or the ``key.<name>`` entries of an arm's flat sums."""
    part = dict(q.get(key) or {})
    part.update({k.split(".", 1)[1]: v for k, v in q.items() if k.startswith(f"{key}.")})
    return part


def print_summary(result) -> None:
    s = result.summary
    r, q = s["run"], s.get("data_quality", {})
    console.print(f"[bold]run[/bold] {result.dir}")
    console.print(
        f"steps {r['steps_run']}, agents {r['agents']}, events {r['events']}, "
        f"LLM calls {q.get('calls', 0)} (cached {q.get('cached', 0)}, repaired "
        f"{q.get('repaired', 0)}, unusable {_unusable(q)})",
        highlight=False,
    )
    for area, counts in q.get("answers", {}).items():
        console.print(
            f"answers {area}: {counts.get('answered')} of {counts.get('asked')} usable, "
            f"{counts.get('failed')} failed (left out of the measures)",
            highlight=False,
        )
    for claim, m in s["measures"].get("claims", {}).items():
        pop = "benign" if "adoption_benign" in m else "all"
        a = m.get(f"adoption_{pop}") or {}
        if a.get("final_reach") is None:
            if a.get("unmeasured"):
                console.print(
                    f"claim {claim} ({pop} agents): no credence known at the end "
                    f"({a['unmeasured']} unmeasured: their measuring answers failed)",
                    highlight=False,
                )
            continue
        console.print(
            f"claim {claim} ({pop} agents, n={a.get('n')}): believers {a['initial_reach']:.0%}"
            f" -> {a['final_reach']:.0%}, mean credence {a['mean_credence_initial']:.2f} -> "
            f"{a['mean_credence_final']:.2f}",
            highlight=False,
        )
        for key, table in m.items():
            if key.startswith("probes_") and not key.endswith("_last") and isinstance(table, dict):
                for distance, row in table.items():
                    share = row.get("manipulated_share")
                    shown = "n/a" if share is None else f"{share:.0%}"
                    console.print(
                        f"  probes ({distance}): {shown} answered the manipulated way "
                        f"({row.get('answered')} answered, {row.get('failed')} failed)",
                        highlight=False,
                    )
    for h in s.get("headline", []):
        if not h["measure"].startswith("claims."):
            console.print(f"{h['label']}: {h['value']:.3g}", highlight=False)
    design = (s.get("scenario") or {}).get("design")
    if isinstance(design, str) and design:
        console.print(design, highlight=False, markup=False)
    if _has_manipulation((s.get("scenario") or {}).get("kind")):
        console.print(
            "no control arm: this cannot tell an effect of the scenario from drift; "
            "add --control (and --replicates N) for the effect with its interval",
            highlight=False,
        )


def _has_manipulation(kind: str | None) -> bool:
    """True for a scenario whose control arm removes something (worth a --control run)."""
    from socialsim.core.registry import SCENARIOS

    if not kind or kind == "none" or kind not in SCENARIOS:
        return False
    return bool(SCENARIOS.get(kind).obj.has_manipulation)


def print_arms(result) -> None:
    from socialsim.experiments.arms import describe_effect

    s = result.summary
    console.print(f"[bold]arms[/bold] {result.dir}")
    console.print(
        f"seeds {s['seeds'][0]}..{s['seeds'][-1]} ({s['replicates']} "
        f"replicate{'' if s['replicates'] == 1 else 's'}), arms: "
        f"{', '.join(s['arms'])}",
        highlight=False,
    )
    first = (getattr(result, "runs", None) or {}).get("treatment") or []
    design = ((first[0].summary.get("scenario") or {}).get("design")) if first else None
    if isinstance(design, str) and design:
        console.print(design, highlight=False, markup=False)
    for arm, q in s.get("data_quality", {}).items():
        if q.get("calls"):
            console.print(
                f"{arm}: LLM calls {q['calls']} (cached {q.get('cached', 0)}, repaired "
                f"{q.get('repaired', 0)}, unusable {_unusable(q)})",
                highlight=False,
            )
    if s.get("effects"):
        with_interval = any(e.get("interval") for e in s["effects"])
        console.print(
            "effect of the scenario (treatment minus matched control, 95% interval over "
            "replicates; 'detectable from': the minimum detectable effect, 80% power, 5% "
            "two-sided, at this number of replicates):"
            if with_interval
            else "effect of the scenario (treatment minus matched control; no interval from "
            "fewer than 3 replicates: one run's agents are not independent draws of the effect; "
            f"`socialsim plan {result.dir} --effect D` gives the replicates an effect D needs "
            "and the minimum detectable effect):",
            highlight=False,
        )
        for effect in s["effects"]:
            line = describe_effect(effect, s.get("seconds_per_replicate"))
            console.print("  " + line, highlight=False, markup=False)
        if s.get("instrument_effects"):
            console.print(
                "effect of the probes themselves (control, probed at its probe steps, minus "
                "the instrument arm, asked only at the end):",
                highlight=False,
            )
            for effect in s["instrument_effects"]:
                line = describe_effect(
                    effect, s.get("seconds_per_replicate"), names=("control", "instrument")
                )
                console.print("  " + line, highlight=False, markup=False)
    else:
        for arm, means in s.get("means", {}).items():
            for key, value in means.items():
                console.print(f"{arm} {key}: mean {value:.3f}", highlight=False)


def print_sweep(results, keys: list[str]) -> int:
    """Print a sweep's cells, the means of its headline metrics and its failed cells; the
    number of failed cells."""
    if results.empty:
        console.print("no cells")
        return 0
    failed = results[results["status"] != "ok"]
    folder = __import__("pathlib").Path(results["run_dir"].iloc[0]).parent.parent
    console.print(f"[bold]sweep[/bold] {folder}: {len(results)} cells, {len(failed)} failed")
    metrics = [
        c
        for c in results.columns
        if c.endswith((".final_reach", ".adherence", ".adherence_non_violators"))
    ][:3]
    if metrics:
        by = [k for k in keys if k != "seed"] or keys
        ok = results[results["status"] == "ok"].copy()
        for key in by:  # a swept list or mapping ({k: 4, p: 0.1}) groups as its text
            ok[key] = ok[key].map(lambda v: json.dumps(v) if isinstance(v, list | dict) else v)
        table = ok.groupby(by, sort=False)[metrics].mean() if by else ok[metrics]
        console.print(table.round(3).to_string(), highlight=False)
    for row in failed.itertuples():
        console.print(f"cell {row.cell} failed: {row.error}", highlight=False, markup=False)
    return len(failed)


__all__ = ["console", "err_console", "print_arms", "print_summary", "print_sweep"]
