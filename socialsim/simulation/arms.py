"""Arms: one config run as replicates over seeds, in a treatment and a matched control arm.

``replicates: N`` runs the seeds ``seed, seed+1, ..., seed+N-1``; ``control: true`` also
runs each seed in the control arm, where the scenario's manipulation is removed and every
random draw (network, personas, activation, who holds a role) is the same. Layout::

    ARMS_DIR/
      config.yaml            the resolved config
      treatment/s7/ ...      one full run directory per arm and seed
      control/s7/ ...
      results.csv/.parquet   one row per arm x seed: arm, seed, run_dir, then every measure
      summary.json           {"kind": "arms", seeds, arms, headline, effects}
      report.html

``effects`` compares the arms on each headline measure (and the adoption measures of every
claim): treatment and control means over replicates, their difference, and a 95% bootstrap
interval (see :func:`socialsim.analysis.stats.paired_effect`).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis import spread
from socialsim.analysis.io import RunData
from socialsim.analysis.stats import paired_effect
from socialsim.analysis.summarize import flat_metrics, jsonable, write_summary
from socialsim.errors import ConfigError, SocialsimError
from socialsim.simulation.config import ExperimentConfig
from socialsim.simulation.runner import new_run_dir, run_one

EFFECT_SUFFIXES = (
    ".final_reach",
    ".peak",
    ".mean_credence_final",
)


@dataclass
class Arms:
    """The runs of every arm and seed, their tidy results, and the effects with intervals."""

    dir: Path
    cfg: ExperimentConfig
    runs: dict[str, list[RunData]] = field(default_factory=dict)
    results: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def effects(self) -> pd.DataFrame:
        """One row per compared measure: treatment, control, difference, ci_low, ci_high."""
        return pd.DataFrame(self.summary.get("effects", []))


def run_arms(
    cfg: ExperimentConfig,
    out: str | os.PathLike | None = None,
    on_step: Callable[[Any], None] | None = None,
    report: bool | None = None,
    clients: dict | None = None,
    graph: Any = None,
    personas: Any = None,
) -> Arms:
    """Run every seed in the treatment arm (and the control arm); compare them.

    A given ``graph`` and ``personas`` are the same in every run.
    """
    existed = out is not None and Path(out).is_dir()
    root = new_run_dir(cfg, out, suffix="-arms", holds=("summary.json", "treatment"))
    (root / "config.yaml").write_text(cfg.to_yaml(), encoding="utf-8")
    seeds = [cfg.seed + i for i in range(cfg.replicates)]
    arm_names = ["treatment", "control"] if cfg.control else ["treatment"]
    arms = Arms(dir=root, cfg=cfg, runs={a: [] for a in arm_names})
    for seed in seeds:
        for arm in arm_names:
            run_dir = root / arm / f"s{seed}"
            try:
                result = run_one(
                    arm_config(cfg, seed, arm),
                    out=run_dir,
                    on_step=on_step,
                    report=report,
                    clients=clients,
                    in_arms=True,
                    graph=graph,
                    personas=personas,
                )
            except SocialsimError:
                if not any(arms.runs.values()) and not run_dir.exists():
                    # bad input, found before anything ran: leave no trace
                    shutil.rmtree(root, ignore_errors=True)
                    if existed:
                        root.mkdir(parents=True, exist_ok=True)
                raise
            arms.runs[arm].append(result)
    summarize_arms(arms)
    if report if report is not None else cfg.output.report:
        from socialsim.analysis.report import write_report

        write_report(root)
    return arms


def arm_config(cfg: ExperimentConfig, seed: int, arm: str) -> ExperimentConfig:
    """The config of one run of an arms directory: one seed, one arm."""
    return cfg.with_overrides(
        {"seed": seed, "scenario.arm": arm, "replicates": 1, "control": False}
    )


def summarize_arms(arms: Arms) -> dict[str, Any]:
    """Results (one row per arm x seed), effects and the arms' summary.json, from the runs."""
    cfg, root = arms.cfg, arms.dir
    rows = [
        {
            "arm": arm,
            "seed": run.summary["run"]["seed"],
            "run_dir": f"{arm}/s{run.summary['run']['seed']}",
            **flat_metrics(run.summary),
        }
        for arm, runs in arms.runs.items()
        for run in runs
    ]
    arms.results = pd.DataFrame(rows).sort_values(["seed", "arm"], ascending=[True, False])
    arms.results = arms.results.reset_index(drop=True)
    arms.results.to_csv(root / "results.csv", index=False)
    arms.results.to_parquet(root / "results.parquet", index=False)
    seeds = sorted({int(s) for s in arms.results["seed"]})
    first = arms.runs["treatment"][0].summary
    measures = effect_measures(first, arms.results)
    effects = []
    if "control" in arms.runs:
        effects = compare_arms(arms.results, measures, seed=cfg.seed)
        if len(seeds) == 1:
            effects = [
                agent_level_effect(arms.runs["treatment"][0], arms.runs["control"][0], e, cfg.seed)
                for e in effects
            ]
    arms.summary = jsonable(
        {
            "kind": "arms",
            "name": cfg.name,
            "seeds": seeds,
            "replicates": len(seeds),
            "arms": {a: [f"{a}/s{s}" for s in seeds] for a in arms.runs},
            "headline": first.get("headline", []),
            "means": arm_means(arms.results, measures),
            "sd": arm_sds(arms.results, measures),
            "data_quality": arm_quality(arms.results),
            "effects": effects,
        }
    )
    write_summary(root, arms.summary)
    return arms.summary


def is_arms_dir(path: str | os.PathLike) -> bool:
    """True for a directory written by :func:`run_arms`."""
    return (Path(path) / "treatment").is_dir() and (Path(path) / "config.yaml").is_file()


def analyze_arms(path: str | os.PathLike) -> Arms:
    """Analyse an arms directory again: every run's summary, then results and effects."""
    from socialsim.analysis.io import load_run
    from socialsim.analysis.summarize import analyze_dir

    root = Path(path)
    cfg = ExperimentConfig.from_yaml(root / "config.yaml")
    arms = Arms(dir=root, cfg=cfg)
    for arm in ("treatment", "control"):
        runs = sorted((root / arm).glob("s*"), key=lambda p: int(p.name[1:]))
        for run_dir in runs:
            analyze_dir(run_dir)
            arms.runs.setdefault(arm, []).append(load_run(run_dir))
    if not arms.runs.get("treatment"):
        raise ConfigError(f"{str(root)!r} holds no treatment runs; is it an arms directory?")
    summarize_arms(arms)
    return arms


def effect_measures(summary: dict[str, Any], results: pd.DataFrame) -> list[str]:
    """The measures the arms are compared on: the headline ones, then each claim's adoption."""
    keys = [h["measure"] for h in summary.get("headline", [])]
    for col in results.columns:
        if col.startswith("claims.") and ".adoption_" in col and col.endswith(EFFECT_SUFFIXES):
            if col not in keys:
                keys.append(col)
    return [k for k in keys if k in results.columns]


def arm_quality(results: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Model calls, cached, repaired and unusable answers per arm, summed over replicates."""
    cols = [c for c in results.columns if c.startswith("data_quality.")]
    return {
        arm: {c.split(".", 1)[1]: int(rows[c].fillna(0).sum()) for c in cols}
        for arm, rows in results.groupby("arm", sort=False)
    }


def arm_sds(results: pd.DataFrame, measures: list[str]) -> dict[str, dict[str, float | None]]:
    """Standard deviation of each measure per arm across its seeds (ddof 1; None with one
    replicate): how much a result varies from seed to seed."""
    out: dict[str, dict[str, float | None]] = {}
    for arm, rows in results.groupby("arm", sort=False):
        out[str(arm)] = {}
        for m in measures:
            x = pd.to_numeric(rows[m], errors="coerce").dropna()
            out[str(arm)][m] = float(x.std(ddof=1)) if len(x) > 1 else None
    return out


def arm_means(results: pd.DataFrame, measures: list[str]) -> dict[str, dict[str, float]]:
    """Mean of each measure per arm, over its replicates."""
    return {
        arm: {m: float(rows[m].mean()) for m in measures}
        for arm, rows in results.groupby("arm", sort=False)
    }


def compare_arms(results: pd.DataFrame, measures: list[str], seed: int = 0) -> list[dict[str, Any]]:
    """Effects of the treatment against the control, paired by seed, one dict per measure."""
    t = results[results["arm"] == "treatment"].set_index("seed")
    c = results[results["arm"] == "control"].set_index("seed")
    seeds = t.index.intersection(c.index)
    out = []
    for m in measures:
        effect = paired_effect(t.loc[seeds, m].to_numpy(), c.loc[seeds, m].to_numpy(), rng=seed)
        out.append({"measure": m, **effect})
    return out


AGENT_LEVEL = re.compile(r"^claims\.(.+)\.adoption_(\w+)\.(final_reach|mean_credence_final)$")


def agent_level_effect(
    treatment: RunData,
    control: RunData,
    effect: dict[str, Any],
    seed: int = 0,
    threshold: float = 0.5,
) -> dict[str, Any]:
    """With one replicate, an interval for a final adoption measure from its agents.

    Both arms hold the same agents, so the per-agent final values (adopts: 0/1, or the
    credence) are paired by agent and the mean difference is bootstrapped over the agents of
    the population present at the end in both arms. The interval then reflects which agents
    the run happened to have, not seed-to-seed variation: say ``"interval": "agents"``.
    Other measures keep no interval.
    """
    match = AGENT_LEVEL.match(effect["measure"])
    if match is None:
        return {**effect, "interval": None}
    claim, population, what = match.groups()
    values = []
    for run in (treatment, control):
        steps, matrix = spread.credence_array(run, claim)
        ids = spread.population_ids(run, population)
        present = spread.presence(run, steps)[-1]
        keep = present if ids is None else np.isin(np.arange(len(present)), ids) & present
        values.append((matrix[-1], keep))
    (t_vals, t_keep), (c_vals, c_keep) = values
    both = t_keep & c_keep
    t, c = t_vals[both], c_vals[both]
    if what == "final_reach":
        t, c = (t >= threshold).astype(float), (c >= threshold).astype(float)
    paired = paired_effect(t, c, rng=seed)
    return {
        **effect,
        "ci_low": paired["ci_low"],
        "ci_high": paired["ci_high"],
        "n_agents": paired["n_replicates"],
        "interval": "agents",
    }


def describe_effect(effect: dict[str, Any]) -> str:
    """One line: ``claims.c1....final_reach: 0.43 vs 0.10 control, +0.33 [0.21, 0.45] (n=5)``."""

    def f(x: Any) -> str:
        return "n/a" if x is None else f"{x:.3f}"

    ci = (
        f" [{f(effect['ci_low'])}, {f(effect['ci_high'])}]"
        if effect.get("ci_low") is not None
        else " (no interval: one replicate)"
    )
    if effect.get("interval") == "agents" and effect.get("ci_low") is not None:
        ci += f" over {effect.get('n_agents')} agents of one replicate"
    diff = effect.get("difference")
    sign = "+" if diff is not None and diff >= 0 else ""
    return (
        f"{effect['measure']}: {f(effect.get('treatment'))} treatment vs "
        f"{f(effect.get('control'))} control, difference {sign}{f(diff)}{ci} "
        f"(n={effect.get('n_replicates')})"
    )
