"""The summary of a run (summary.json), its flat metric row, and the tables/ folder.

summary.json is written once, from the run's record, by :func:`summarize_run`:

- ``run``: who and what (id, name, seed, mode, steps run, agents, events by kind);
- ``scenario``: the scenario's descriptive facts (kind, arm, role ids, ...), never a measure;
- ``populations``: the size of each population measures are taken over;
- ``data_quality``: model calls, cached, repaired, unusable answers (by step), those a time
  limit cut (by the setting that cut them), and answers asked / answered / failed per
  measure area;
- ``measures``: every measure, each under one key (``docs/measures.md`` defines them);
- ``headline``: the measures the report leads with.

A run with a control arm adds ``effects`` at the level of its arms (see
:mod:`socialsim.experiments.arms`). A sweep directory's summary.json is written by
:func:`analyze_sweep` (``kind: "sweep"``, its cells, and its ``prompt_sensitivity``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis import cascades, network, spread
from socialsim.analysis.measures import (
    _disagreement,
    _parents,
    claim_threshold,
    claims_in,
    compute_measures,
)
from socialsim.analysis.report.parts import report_parts
from socialsim.analysis.stats import INTERVALS
from socialsim.core.csv_safe import read_csv, write_csv
from socialsim.core.errors import ConfigError, DataFileError
from socialsim.core.rundata import (
    RunData,
    as_bool,
    load_run,
    of_kind,
    payload,
    populations,
    removal_steps,
)


def stopped_in_step(steps: pd.DataFrame) -> int | None:
    """The step a run stopped inside (an endpoint down, every call failed), from its steps
    table's ``complete`` column; None for a run that ran to its end."""
    if steps is None or "complete" not in steps or steps.empty:
        return None
    stopped = steps.loc[(as_bool(steps["complete"]) == 0).to_numpy(dtype=bool), "step"]
    return int(stopped.iloc[-1]) if len(stopped) else None


def run_facts(run: RunData) -> dict[str, Any]:
    """Identity and size of the run: id, name, seed, mode, steps run, agents, events by kind;
    ``stopped_in_step`` for a run that stopped before its end (resumable)."""
    cfg = run.config
    ev = run.events
    kinds = ev["kind"].value_counts().to_dict() if not ev.empty else {}
    steps_run = run.last_step()
    if steps_run is None and not ev.empty and ev["step"].notna().any():
        steps_run = int(ev["step"].max())
    removed = removal_steps(ev) if not ev.empty else {}
    run_id = str(ev["run"].iloc[0]) if not ev.empty and "run" in ev else None
    stopped = stopped_in_step(run.steps)
    return {
        **({} if stopped is None else {"stopped_in_step": stopped}),
        "id": run_id or (f"{cfg.get('name')}-s{cfg.get('seed')}" if cfg else None),
        "name": cfg.get("name"),
        "seed": cfg.get("seed"),
        "mode": cfg.get("mode"),
        "policy": (cfg.get("agents") or {}).get("policy"),
        "steps_run": steps_run,
        "agents": run.n_agents,
        "present_final": (
            int(run.personas["present"].astype(bool).sum())
            if "present" in run.personas and len(run.personas) == run.n_agents
            else run.n_agents - len(removed)
        ),
        "events": int(len(ev)),
        "events_by_kind": {str(k): int(v) for k, v in kinds.items()},
    }


def _truthy(values: pd.Series) -> pd.Series:
    text = values.astype(str)
    return values.notna() & ~text.isin(["", "None", "False", "false", "0", "nan", "NaN"])


# The time-limit setting a call's error names, e.g. "(agents.llm.call_timeout)"; logs written
# before the errors named the full key say "(call_timeout)".
_TIME_LIMIT = r"\((?:agents\.llm\.)?(timeout|call_timeout|local_timeout|step_deadline)\)"


def data_quality(events: pd.DataFrame) -> dict[str, Any]:
    """Model use and answer quality from ``llm_call`` events, overall and by step.

    ``unusable``: calls that ended with an error (transport, or an answer that failed
    validation after its repair round); ``repaired``: answers that needed the repair round;
    ``cached``: answered from the response cache; ``timed_out``: unusable calls cut by a time
    limit, and ``timed_out_by`` the setting that cut them (``agents.llm.call_timeout``: n);
    ``unusable_by_template``: unusable calls by prompt template or question tag (``chat_v1``,
    ``misinfo_credence``: which part of the run lost answers).
    Tokens and cost are summed.
    """
    calls = of_kind(events, "llm_call")
    if calls.empty:
        return {
            "calls": 0,
            "cached": 0,
            "repaired": 0,
            "unusable": 0,
            "timed_out": 0,
            "by_step": [],
        }

    def num(key: str) -> pd.Series:
        return pd.to_numeric(payload(calls, key), errors="coerce")

    frame = pd.DataFrame(
        {
            "step": pd.to_numeric(calls["step"], errors="coerce").fillna(-1).astype(int),
            "cached": as_bool(payload(calls, "cached")).fillna(0).astype(int),
            "repaired": _truthy(payload(calls, "repaired")).astype(int),
            "unusable": _truthy(payload(calls, "error")).astype(int),
        }
    )
    by_step = frame.groupby("step").agg(
        calls=("cached", "size"), cached=("cached", "sum"), repaired=("repaired", "sum"),
        unusable=("unusable", "sum"),
    ).reset_index()  # fmt: skip
    prompt, completion = num("prompt_tokens").fillna(0), num("completion_tokens").fillna(0)
    latency = num("latency_s")
    models = sorted({str(m) for m in payload(calls, "model").dropna()})
    templates = sorted({str(t) for t in payload(calls, "prompt_id").dropna() if str(t)})
    limits = payload(calls, "error").dropna().astype(str).str.extract(_TIME_LIMIT)[0].dropna()
    timed_out_by = {f"agents.llm.{k}": int(n) for k, n in sorted(limits.value_counts().items())}
    template = payload(calls, "prompt_id").astype(object).where(lambda t: t.notna(), "?")
    unusable_by = frame["unusable"].groupby(template.astype(str).to_numpy()).sum()
    return {
        "models": models,
        "templates": templates,
        "calls": int(len(frame)),
        "cached": int(frame["cached"].sum()),
        "repaired": int(frame["repaired"].sum()),
        "unusable": int(frame["unusable"].sum()),
        "unusable_share": float(frame["unusable"].mean()),
        "timed_out": int(len(limits)),
        "timed_out_by": timed_out_by,
        "unusable_by_template": {str(t): int(n) for t, n in sorted(unusable_by.items()) if n},
        "prompt_tokens": int(prompt.sum()),
        "completion_tokens": int(completion.sum()),
        "cost": float(num("cost").fillna(0).sum()),
        "mean_latency_s": float(latency.mean()) if latency.notna().any() else None,
        "by_step": by_step.to_dict(orient="records"),
    }


def _answers_of(measures: dict[str, Any]) -> dict[str, Any]:
    """Asked / answered / failed per measure area, gathered from the measures."""
    out: dict[str, Any] = {}
    for claim, m in measures.get("claims", {}).items():
        for key, table in m.items():
            # probes_<pop>: every probe step (probes_<pop>_last repeats the last one's)
            if key.startswith("probes_") and not key.endswith("_last") and isinstance(table, dict):
                tot = {"asked": 0, "answered": 0, "failed": 0}
                for row in table.values():
                    for k in tot:
                        tot[k] += int(row.get(k) or 0)
                out[f"probes.{claim}"] = tot
    for area, section in measures.items():
        if area != "claims" and isinstance(section, dict):
            for path, value in _walk_dicts(section, (area,)):
                if path[-1] == "answers" and isinstance(value, dict):
                    out[".".join(path[:-1])] = value
    return out


def _walk_dicts(tree: dict[str, Any], prefix: tuple[str, ...]):
    for k, v in tree.items():
        if isinstance(v, dict):
            yield (*prefix, str(k)), v
            yield from _walk_dicts(v, (*prefix, str(k)))


def lookup(tree: dict[str, Any], dotted: str) -> Any:
    """The value at a dotted key of a nested dict (None when absent)."""
    node: Any = tree
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def headline(
    measures: dict[str, Any], kind: str | None, declared: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """The measures the report and the CLI lead with.

    A scenario family's report part may lead with measures of its own (collaboration: the
    gap of each model; see :mod:`socialsim.analysis.report.parts`); then those the scenario
    names (`declared`: its ``headline_measures``, kept in summary.json's
    ``scenario.measures``), their values read from `measures`; a run without a scenario (or
    whose declared measures are absent) leads with each claim's final reach.
    ``[{"measure": "claims.c1.adoption_benign.final_reach", "label": ..., "value": ...,
    "figure": "adoption_c1"}]``; the measure key is a dotted path into ``measures``.
    """
    out: list[dict[str, Any]] = []
    for part in report_parts():
        if part.headline is not None:
            out.extend(part.headline(measures, kind))
    for item in declared or []:
        value = lookup(measures, str(item.get("measure")))
        if isinstance(value, int | float) and not isinstance(value, bool):
            out.append({**item, "value": value})
    if not out:
        for claim, m in measures.get("claims", {}).items():
            pop = "benign" if "adoption_benign" in m else "all"
            value = lookup(m, f"adoption_{pop}.final_reach")
            if value is None:
                continue
            who = "benign agents" if pop == "benign" else "all agents"
            out.append(
                {
                    "measure": f"claims.{claim}.adoption_{pop}.final_reach",
                    "label": f"Share believing {claim} at the end ({who})",
                    "value": value,
                    "figure": f"adoption_{claim}",
                }
            )
    return out


def summarize_run(
    run: RunData, threshold: float | None = None, scenario: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON-ready summary of a run (layout in the module docstring).

    Every measure takes its params from the run's ``analysis.measures``; `threshold`, when
    given, replaces ``analysis.measures.claims.threshold``. `scenario` holds the scenario's
    descriptive facts (the model's ``scenario.summary``); re-analysing an old run keeps those
    of its existing summary.json.
    """
    facts = dict(scenario if scenario is not None else run.summary.get("scenario") or {})
    in_arms = bool((run.summary.get("run") or {}).get("in_arms"))
    cfg_scenario = run.config.get("scenario") or {}
    facts.setdefault("kind", cfg_scenario.get("kind", "none"))
    facts.setdefault("arm", cfg_scenario.get("arm", "treatment"))
    pops = populations(run)
    ev = run.events
    given = None if threshold is None else {"claims": {"threshold": threshold}}
    measures = compute_measures(run, given)
    measures.setdefault("claims", {})
    quality = data_quality(ev)
    quality["answers"] = _answers_of(measures)
    facts_run = run_facts(run)
    if in_arms:
        facts_run["in_arms"] = True
    wall_s = (run.summary.get("run") or {}).get("wall_s")
    if wall_s is not None:  # how long the run took, kept when a run is analysed again
        facts_run["wall_s"] = wall_s
    out = {
        "run": facts_run,
        "scenario": facts,
        "populations": {name: int(len(ids)) for name, ids in pops.items()},
        "data_quality": quality,
        "measures": measures,
        "headline": headline(measures, facts.get("kind"), facts.get("measures")),
        "intervals": {"level": 0.95, "methods": INTERVALS},
    }
    return jsonable(out)


def jsonable(value: Any) -> Any:
    """Plain JSON types: numpy scalars unwrapped, NaN and infinities as None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def flat_metrics(summary: dict[str, Any]) -> dict[str, float]:
    """Scalar columns for a sweep or arms row, one per measure, named by its dotted key.

    ``claims.c1.adoption_all.final_reach``, ``norms.adherence``, ``network.clustering`` ...
    (the path under ``measures``), plus ``data_quality.calls`` / ``.unusable`` /
    ``.repaired`` / ``.cached`` / ``.timed_out``, ``.timed_out_by.<setting>`` and
    ``.unusable_by_template.<template>``.
    """
    out: dict[str, float] = {}
    for path, value in _walk(summary.get("measures", {})):
        out[".".join(path)] = value
    quality = summary.get("data_quality", {})
    for key in ("calls", "cached", "repaired", "unusable", "timed_out"):
        if key in quality:
            out[f"data_quality.{key}"] = float(quality[key])
    for setting, n in (quality.get("timed_out_by") or {}).items():
        out[f"data_quality.timed_out_by.{setting}"] = float(n)
    for template, n in (quality.get("unusable_by_template") or {}).items():
        out[f"data_quality.unusable_by_template.{template}"] = float(n)
    return out


def _walk(tree: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], float]]:
    if isinstance(tree, dict):
        items = []
        for k, v in tree.items():
            items.extend(_walk(v, (*prefix, str(k))))
        return items
    if isinstance(tree, bool):
        return [(prefix, float(tree))]
    if isinstance(tree, int | float) or tree is None:
        return [(prefix, float("nan") if tree is None else float(tree))] if prefix else []
    return []


def run_tables(run: RunData, threshold: float | None = None) -> dict[str, pd.DataFrame]:
    """The analysis tables of a run by file stem (``adoption_c1``, ``norm_adherence`` ...).

    ``adoption_<claim>`` is long over populations (a ``population`` column). Belief counts
    at `threshold`, else at the run's ``analysis.measures.claims.threshold``. Each scenario
    family adds its own tables (its report part's ``tables``; an empty table is left out).
    """
    threshold = claim_threshold(run, threshold)
    ev = run.events
    pops = populations(run)
    tables: dict[str, pd.DataFrame] = {}
    for claim in claims_in(run):
        curves = [
            spread.adoption_curve(run, claim, threshold, population=pop).assign(population=pop)
            for pop in ("all", "benign")
            if pop in pops
        ]
        tables[f"adoption_{claim}"] = pd.concat(curves, ignore_index=True)
        tables[f"polarization_{claim}"] = spread.polarization(run, claim)
        if run.has_network:
            tables[f"disagreement_{claim}"] = _disagreement(run, claim)
        if not ev.empty:
            tables[f"cascades_{claim}"] = cascades.forest_table(_parents(run, claim, threshold))
            tables[f"probes_{claim}"] = spread.probe_accuracy(run, claim)
    for part in report_parts():
        if part.tables is not None:
            tables.update(part.tables(run))
    if run.has_network:
        tables["degree_distribution"] = network.degree_distribution(run.network)
    return {k: v for k, v in tables.items() if not v.empty}


def write_summary(root: Path, summary: dict[str, Any]) -> None:
    """Write summary.json atomically (a temporary file renamed over the old one)."""
    tmp = root / "summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    tmp.replace(root / "summary.json")


def write_tables(root: Path, run: RunData, threshold: float | None = None) -> None:
    """Write tables/*.csv of a run (`threshold`: as in :func:`run_tables`)."""
    tables_dir = root / "tables"
    tables_dir.mkdir(exist_ok=True)
    for name, table in run_tables(run, threshold).items():
        write_csv(table, tables_dir / f"{name}.csv")


def require_run(root: Path) -> None:
    """ConfigError unless `root` holds a run's event log (nothing is written into it then)."""
    if not ((root / "events.jsonl").is_file() or (root / "events.parquet").is_file()):
        raise ConfigError(
            f"{str(root)!r} holds no run (no events.jsonl); pass a run, arms or sweep directory"
        )


def check_record(root: Path) -> None:
    """DataFileError unless `root` holds a whole run record to analyse again: the event log
    (as long as its summary.json counted, when there is one), config.yaml and the agents
    table. Nothing is written into a directory that fails."""
    require_run(root)
    refuse_unfinished(root)
    missing = [
        name
        for name, files in (
            ("config.yaml", ("config.yaml",)),
            ("the agents table (agents.parquet or agents.csv)", ("agents.parquet", "agents.csv")),
        )
        if not any((root / f).is_file() for f in files)
    ]
    if missing:
        raise DataFileError(
            f"{str(root)!r} is missing {' and '.join(missing)}: its record is not whole, so it "
            "is not analysed again (nothing was rewritten); restore it or run the experiment again"
        )
    counted = _counted_events(root)
    held = _logged_events(root)
    if counted is not None and held != counted:
        raise DataFileError(
            f"{str(root)!r}: its event log holds {held:,} events, but its summary.json counted "
            f"{counted:,}: the log was cut or changed after the run, so it is not analysed again "
            "(nothing was rewritten); restore it or run the experiment again"
        )


def refuse_unfinished(root: Path) -> None:
    """DataFileError for a run killed before it finished (a checkpoint, no summary.json, no
    step marked as the one it stopped in): ``--resume`` finishes it; analysing it first
    would leave a summary of part of the run where the resume looks for none."""
    if (root / "summary.json").is_file():
        return
    if not any((root / name).is_file() for name in ("checkpoint.npz", "checkpoint.snapshots")):
        return
    steps = None
    if (root / "steps.csv").is_file():
        try:
            steps = read_csv(root / "steps.csv")
        except (OSError, ValueError):
            steps = None
    if steps is not None and stopped_in_step(steps) is not None:
        return  # stopped by an error with its record written: analysed as it stands
    raise DataFileError(
        f"{str(root)!r} is a run that was killed before it finished (it has a checkpoint and "
        f"no summary.json); finish it with `socialsim run --resume {root}`, then analyse it "
        "(nothing was written)"
    )


def _counted_events(root: Path) -> int | None:
    """The number of events the run's summary.json counted (None: no summary to go by)."""
    try:
        counted = json.loads((root / "summary.json").read_text(encoding="utf-8"))["run"]["events"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return None
    return counted if isinstance(counted, int) and not isinstance(counted, bool) else None


def _logged_events(root: Path) -> int:
    """The whole lines of events.jsonl (a line cut by a kill is not an event), else the rows
    of events.parquet."""
    log = root / "events.jsonl"
    if not log.is_file():
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(root / "events.parquet").metadata.num_rows)
    lines = 0
    with open(log, "rb") as fh:
        while chunk := fh.read(1 << 20):
            lines += chunk.count(b"\n")
    return lines


def analyze_dir(path: str | Path, threshold: float | None = None) -> dict[str, Any]:
    """Analyse a run directory again: rewrite summary.json and tables/*.csv; return the summary.

    The measures take their params from the run's config.yaml (``analysis.measures``;
    `threshold`, when given, replaces the claims threshold). The scenario's descriptive facts
    of the existing summary.json are kept. A sweep directory gets its sweep summary instead
    (:func:`analyze_sweep`).
    """
    root = Path(path)
    if (root / "sweep.json").is_file():
        return analyze_sweep(root)
    check_record(root)
    return reanalyze(root, threshold)


def reanalyze(root: Path, threshold: float | None = None) -> dict[str, Any]:
    """Rewrite the summary.json and tables/*.csv of a run whose record :func:`check_record`
    passed; return the summary."""
    run = load_run(root)
    summary = summarize_run(run, threshold)
    write_summary(root, summary)
    write_tables(root, run, threshold)
    return summary


def sweep_results(root: Path) -> pd.DataFrame:
    """A sweep directory's results table (results.csv, else results.parquet)."""
    if (root / "results.csv").is_file():
        return read_csv(root / "results.csv")
    return pd.read_parquet(root / "results.parquet")


def analyze_sweep(path: str | Path) -> dict[str, Any]:
    """Write a sweep directory's summary.json from its results and cells; return it.

    ``{"kind": "sweep", "name", "grid", "cells", "failed", "headline", "prompt_sensitivity"}``:
    the headline measures of its first finished cell, and their sensitivity to the prompt's
    wording (None unless the grid sweeps ``agents.prompt.template`` or
    ``scenario.params.wording``; see
    :mod:`socialsim.analysis.prompt_sensitivity`).
    """
    from socialsim.analysis.prompt_sensitivity import cell_headline, sweep_sensitivity

    root = Path(path)
    results = sweep_results(root)
    try:
        setup = json.loads((root / "sweep.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        setup = {}
    headline = cell_headline(root, results)
    failed = int((results["status"] != "ok").sum()) if "status" in results else 0
    summary = {
        "kind": "sweep",
        "name": (setup.get("config") or {}).get("name"),
        "grid": setup.get("grid") or {},
        "cells": int(len(results)),
        "failed": failed,
        "headline": headline,
        "prompt_sensitivity": sweep_sensitivity(
            results, headline, grid=setup.get("grid"), root=root
        ),
    }
    summary = jsonable(summary)
    write_summary(root, summary)
    return summary
