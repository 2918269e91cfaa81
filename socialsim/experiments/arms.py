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
claim): treatment and control means over replicates, their difference, and, from
:data:`~socialsim.analysis.stats.MIN_REPLICATES` replicates, a 95% paired t-interval and the
minimum detectable effect (see :func:`socialsim.analysis.stats.paired_effect`); with fewer,
the estimate alone and why there is no interval. ``control: instrument`` adds an
``instrument/`` arm (no manipulation, no probe before the last probe step) and
``instrument_effects``: the control against it, i.e. what the probes themselves do.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis.power import plan_replicates
from socialsim.analysis.stats import MIN_REPLICATES, paired_effect
from socialsim.analysis.summarize import flat_metrics, jsonable, write_summary
from socialsim.core.columns import plain_table
from socialsim.core.csv_safe import write_csv
from socialsim.core.errors import ConfigError, DataFileError, SocialsimError
from socialsim.core.rundata import RunData
from socialsim.experiments.runner import RunOptions, new_run_dir, run_plan
from socialsim.simulation.config import ExperimentConfig
from socialsim.simulation.given import coerce_config

EFFECT_SUFFIXES = (
    ".final_reach",
    ".peak",
    ".mean_credence_final",
)
#: probe measures compared per distance (``claims.<id>.probes_<pop>.<distance>.<suffix>``)
PROBE_SUFFIXES = (".manipulated_share", ".accuracy")
#: what the control and instrument arms are compared on: the state after the last probe
#: step, the one step both arms probe (``probes_<pop>_last``: that step's probes alone)
INSTRUMENT_SUFFIXES = (".final_reach", ".mean_credence_final")


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
        """One row per compared measure: treatment, control, difference, ci_low, ci_high,
        n_replicates, interval, no_interval, sd_difference, mde."""
        return pd.DataFrame(self.summary.get("effects", []))


def run_arms(plan: RunOptions) -> Arms:
    """Run every seed of an arms plan in the treatment arm (and the control arm); compare them.

    A given ``graph`` and ``personas`` are the same in every run.
    """
    cfg = plan.cfg
    existed = plan.out is not None and plan.out.is_dir()
    root = new_run_dir(cfg, plan.out, suffix="-arms", holds=("summary.json", "treatment"))
    (root / "config.yaml").write_text(cfg.to_yaml(), encoding="utf-8")
    arm_names = plan.arm_names
    arms = Arms(dir=root, cfg=cfg, runs={a: [] for a in arm_names})
    for seed in plan.seeds:
        for arm in arm_names:
            run_dir = root / arm / f"s{seed}"
            try:
                result = run_plan(plan.arm(seed, arm, run_dir))
            except SocialsimError:
                if not any(arms.runs.values()) and not run_dir.exists():
                    # bad input, found before anything ran: leave no trace
                    shutil.rmtree(root, ignore_errors=True)
                    if existed:
                        root.mkdir(parents=True, exist_ok=True)
                raise
            arms.runs[arm].append(result)
    summarize_arms(arms)
    if plan.report if plan.report is not None else cfg.output.report:
        from socialsim.analysis.report import write_report

        write_report(root)
    return arms


def arm_config(cfg: ExperimentConfig, seed: int, arm: str) -> ExperimentConfig:
    """The config of one run of an arms directory: one seed, one arm."""
    return coerce_config(
        cfg, {"seed": seed, "scenario.arm": arm, "replicates": 1, "control": False}
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
    write_csv(arms.results, root / "results.csv")
    plain_table(arms.results).to_parquet(root / "results.parquet", index=False)
    seeds = sorted({int(s) for s in arms.results["seed"]})
    first = arms.runs["treatment"][0].summary
    measures = effect_measures(first, arms.results)
    effects = compare_arms(arms.results, measures) if "control" in arms.runs else []
    instrument = (
        compare_arms(arms.results, instrument_measures(arms.results), "control", "instrument")
        if "instrument" in arms.runs
        else None
    )
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
            "seconds_per_replicate": seconds_per_replicate(arms.runs),
            "effects": effects,
            **({"instrument_effects": instrument} if instrument is not None else {}),
        }
    )
    write_summary(root, arms.summary)
    return arms.summary


def is_arms_dir(path: str | os.PathLike) -> bool:
    """True for a directory written by :func:`run_arms`."""
    return (Path(path) / "treatment").is_dir() and (Path(path) / "config.yaml").is_file()


def analyze_arms(path: str | os.PathLike, plugins: bool = False) -> Arms:
    """Analyse an arms directory again: every run's summary, then results and effects
    (`plugins`: import the plugins its config names; without, a config naming any is refused)."""
    from socialsim.analysis.summarize import check_record, reanalyze
    from socialsim.core.rundata import load_run

    root = Path(path)
    cfg = ExperimentConfig.from_yaml(root / "config.yaml", plugins=plugins)
    arms = Arms(dir=root, cfg=cfg)
    names, seeds = arm_names(cfg), arm_seeds(cfg)
    if not (root / "treatment").is_dir():
        raise ConfigError(f"{str(root)!r} holds no treatment runs; is it an arms directory?")
    missing = [f"{a}/s{s}" for a in names for s in seeds if not (root / a / f"s{s}").is_dir()]
    if missing:
        listed = ", ".join(missing[:4]) + (
            f" and {len(missing) - 4} more" if len(missing) > 4 else ""
        )
        raise DataFileError(
            f"{str(root)!r} is missing the runs {listed} that its config.yaml makes, so it is "
            "not analysed again (nothing was rewritten); restore them, or finish the arms with "
            f"socialsim run --resume {str(root)!r}"
        )
    run_dirs = [(a, root / a / f"s{s}") for a in names for s in seeds]
    for _, run_dir in run_dirs:  # every run whole before any file is rewritten
        check_record(run_dir)
    for arm, run_dir in run_dirs:
        reanalyze(run_dir)  # checked above
        arms.runs.setdefault(arm, []).append(load_run(run_dir))
    summarize_arms(arms)
    return arms


def arm_seeds(cfg: ExperimentConfig) -> list[int]:
    """The seeds a config runs in each arm: seed, seed+1, ... (``replicates`` of them)."""
    return [cfg.seed + i for i in range(cfg.replicates)]


def arm_names(cfg: ExperimentConfig) -> list[str]:
    """A config's arms: treatment, then control and instrument where it sets them."""
    if not cfg.control:
        return ["treatment"]
    return ["treatment", "control"] + (["instrument"] if cfg.control == "instrument" else [])


def effect_measures(summary: dict[str, Any], results: pd.DataFrame) -> list[str]:
    """The measures the arms are compared on: the headline ones, then each claim's adoption,
    then its probes' manipulated and correct shares at every distance (the contamination)."""
    keys = [h["measure"] for h in summary.get("headline", [])]
    for col in results.columns:
        if col.startswith("claims.") and ".adoption_" in col and col.endswith(EFFECT_SUFFIXES):
            if col not in keys:
                keys.append(col)
    for col in results.columns:
        if _probe_share(col) and "_last." not in col and col not in keys:
            keys.append(col)
    return [k for k in keys if k in results.columns]


def instrument_measures(results: pd.DataFrame) -> list[str]:
    """The measures the control and instrument arms are compared on: each claim's adoption
    after the final step, and the probes of the last probe step (``probes_<pop>_last``). The
    instrument arm probes only then, so pooled probe shares and peaks, which in the control
    take in earlier probe steps too, would compare different times."""
    adoption = [
        c
        for c in results.columns
        if c.startswith("claims.") and ".adoption_" in c and c.endswith(INSTRUMENT_SUFFIXES)
    ]
    return adoption + [c for c in results.columns if _probe_share(c) and "_last." in c]


def _probe_share(col: str) -> bool:
    return col.startswith("claims.") and ".probes_" in col and col.endswith(PROBE_SUFFIXES)


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


def compare_arms(
    results: pd.DataFrame,
    measures: list[str],
    arm: str = "treatment",
    against: str = "control",
) -> list[dict[str, Any]]:
    """Effects of `arm` (the treatment) against `against` (the control), paired by seed, one
    dict per measure. ``compare_arms(results, m, "control", "instrument")`` is the effect of
    the probes themselves: the control, probed at its probe steps, against the instrument arm,
    asked nothing before the last probe step.

    Each is ``{"measure", **paired_effect(...)}``: estimate, interval (from
    :data:`~socialsim.analysis.stats.MIN_REPLICATES` replicates) or the reason there is none,
    the SD of the paired differences and the minimum detectable effect.
    """
    t = results[results["arm"] == arm].set_index("seed")
    c = results[results["arm"] == against].set_index("seed")
    seeds = t.index.intersection(c.index)
    out = []
    for m in measures:
        effect = paired_effect(t.loc[seeds, m].to_numpy(), c.loc[seeds, m].to_numpy())
        out.append({"measure": m, **effect})
    return out


def seconds_per_replicate(runs: dict[str, list[RunData]]) -> float | None:
    """Wall seconds one replicate took, every arm together (the mean over seeds per arm,
    summed over arms); None when a run's summary does not record ``run.wall_s``."""
    total = 0.0
    for arm_runs in runs.values():
        walls = [(r.summary.get("run") or {}).get("wall_s") for r in arm_runs]
        if not walls or any(not isinstance(w, int | float) for w in walls):
            return None
        total += sum(walls) / len(walls)
    return total


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"about {max(1, round(seconds))} seconds"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} minutes"
    return f"about {seconds / 3600:.1f} hours"


def describe_effect(
    effect: dict[str, Any],
    seconds_per_replicate: float | None = None,
    min_replicates: int = MIN_REPLICATES,
    names: tuple[str, str] = ("treatment", "control"),
) -> str:
    """One line: ``m: 0.430 treatment vs 0.100 control, difference +0.330 [0.210, 0.450]
    (paired t 95%, n=5; detectable from 0.120)``, or the estimate and why it has no interval.

    `seconds_per_replicate` (wall time of one replicate, all arms) estimates how long the run
    that gives an interval takes. `names` label the two arms compared (the effect's
    ``treatment`` and ``control`` values).
    """

    def f(x: Any) -> str:
        return "n/a" if x is None else f"{x:.3f}"

    diff = effect.get("difference")
    sign = "+" if diff is not None and diff >= 0 else ""
    head = (
        f"{effect['measure']}: {f(effect.get('treatment'))} {names[0]} vs "
        f"{f(effect.get('control'))} {names[1]}, difference {sign}{f(diff)}"
    )
    interval = effect.get("interval")
    if interval and effect.get("ci_low") is not None:
        mde = effect.get("mde")
        if effect.get("sd_difference") == 0:
            detail = "; the paired differences did not vary"
        else:
            detail = f"; detectable from {f(mde)}" if mde is not None else ""
        return (
            f"{head} [{f(effect['ci_low'])}, {f(effect['ci_high'])}] "
            f"({interval['method']} {interval['level']:.0%}, n={interval['n']}{detail})"
        )
    n = int(effect.get("n_replicates") or 0)
    if 0 < n < min_replicates:
        more = f"; run --replicates {min_replicates} for one"
        if seconds_per_replicate is not None:
            more += f" ({_duration(seconds_per_replicate * min_replicates)})"
        return f"{head} (no interval: {n} replicate{'s' if n != 1 else ''}{more})"
    reason = effect.get("no_interval") or "none computed"
    return f"{head} (no interval: {reason})"


SHARE_SUFFIXES = ("reach", "peak", "credence_initial", "credence_final", "rate", "share",
                  "accuracy", "accuracy_before", "accuracy_after")  # fmt: skip


def is_share(measure: str, values: pd.Series | None = None) -> bool:
    """True for a measure bounded in [0, 1] (a share, a rate, a credence), by its name and,
    when given, its values."""
    named = measure.rsplit(".", 1)[-1].endswith(SHARE_SUFFIXES)
    if values is None:
        return named
    x = pd.to_numeric(values, errors="coerce").dropna()
    return named and bool(((x >= 0) & (x <= 1)).all())


def plan_arms(
    path: str | os.PathLike,
    effect: float,
    measure: str | None = None,
    power: float = 0.8,
    alpha: float = 0.05,
) -> list[dict[str, Any]]:
    """Sample-size plan from a pilot arms directory: per compared measure (or `measure`),
    :func:`~socialsim.analysis.power.plan_replicates` on its seed-level paired differences."""
    root = Path(path)
    if (root / "sweep.json").is_file():
        raise SocialsimError(
            f"{str(root)!r} is a sweep directory; plan reads the arms directory of a pilot "
            "(socialsim run CONFIG --control)"
        )
    if not is_arms_dir(root) or not (root / "results.csv").is_file():
        raise SocialsimError(
            f"{str(root)!r} is not a finished arms directory (no results.csv); pass the "
            "directory of `socialsim run CONFIG --control`"
        )
    if effect <= 0 or not np.isfinite(effect):
        raise SocialsimError(f"--effect must be a positive difference to detect, not {effect}")
    results = pd.read_csv(root / "results.csv")
    if "control" not in set(results["arm"]):
        raise SocialsimError(
            f"{str(root)!r} has no control arm; plan from a pilot run with --control"
        )
    if not (root / "summary.json").is_file():
        raise DataFileError(
            f"{str(root)!r} has no summary.json; write it again with socialsim analyze "
            f"{str(root)!r}"
        )
    summary = json.loads((root / "summary.json").read_text(encoding="utf-8"))
    measures = [e["measure"] for e in summary.get("effects", []) if e.get("measure")]
    if measure is not None:
        if measure not in results.columns:
            shown = ", ".join(measures[:6]) + (", ..." if len(measures) > 6 else "")
            raise SocialsimError(f"--measure {measure!r} is not in results.csv; try one of {shown}")
        measures = [measure]
    t = results[results["arm"] == "treatment"].set_index("seed")
    c = results[results["arm"] == "control"].set_index("seed")
    seeds = t.index.intersection(c.index)
    rows = []
    for m in measures:
        diffs = pd.to_numeric(t.loc[seeds, m], errors="coerce") - pd.to_numeric(
            c.loc[seeds, m], errors="coerce"
        )
        bounded = is_share(m, results[m])
        plan = plan_replicates(diffs.to_numpy(float), effect, power, alpha, bounded=bounded)
        rows.append({"measure": m, **plan})
    return rows
