"""A run plan: the config coerced once, with everything a run needs, and the one way to run it.

Every way in (``socialsim run``, ``ss.run``, an arm of an arms directory, a sweep's cell)
makes a :class:`RunPlan` with :func:`plan_run` and hands it to :func:`execute`::

    plan = plan_run("examples/quickstart.yaml", overrides=["steps=5"], out="runs/q")
    run = execute(plan)        # a Run; an Arms with replicates > 1 or control: true
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from socialsim.core.errors import ConfigError
from socialsim.core.validation import shown
from socialsim.experiments.arms import Arms, arm_config, arm_names, arm_seeds, run_arms
from socialsim.experiments.runner import Run, run_plan
from socialsim.simulation.config import ExperimentConfig
from socialsim.simulation.given import coerce_config


@dataclass(frozen=True)
class RunPlan:
    """One run (or arms) to make: the resolved config and how and where to run it.

    ``out`` is the run directory (None: ``output.dir/NAME-sSEED``); ``report`` overrides
    ``output.report``; ``on_step(model)`` is called after every step (the progress bar);
    ``clients`` are model clients to use instead of building them; ``graph`` and
    ``personas`` are given from Python; ``in_arms`` marks one arm of an arms directory.
    """

    cfg: ExperimentConfig
    out: Path | None = None
    report: bool | None = None
    on_step: Callable[[Any], None] | None = None
    clients: dict | None = None
    graph: Any = None
    personas: Any = None
    in_arms: bool = False

    @property
    def is_arms(self) -> bool:
        """True when the config asks for replicates or a control arm (an arms directory)."""
        return self.cfg.replicates > 1 or self.cfg.control

    @property
    def seeds(self) -> list[int]:
        """The seeds the plan runs in each arm: seed, seed+1, ... (``replicates`` of them)."""
        return arm_seeds(self.cfg)

    @property
    def arm_names(self) -> list[str]:
        """The plan's arms: treatment, then control and instrument where the config sets them."""
        return arm_names(self.cfg)

    @property
    def steps_total(self) -> int | None:
        """The steps of every run the plan makes (each seed in each arm); None in event mode,
        whose runs go on until a time."""
        if self.cfg.mode != "step":
            return None
        return self.cfg.steps * len(self.seeds) * len(self.arm_names)

    def arm(self, seed: int, arm: str, out: Path) -> RunPlan:
        """The plan of one run of this arms plan: one seed, one arm, into `out`."""
        return replace(self, cfg=arm_config(self.cfg, seed, arm), out=out, in_arms=True)


def plan_run(
    config: ExperimentConfig | dict | str | os.PathLike,
    overrides: list[str] | dict[str, Any] | None = None,
    *,
    out: str | os.PathLike | None = None,
    report: bool | None = None,
    on_step: Callable[[Any], None] | None = None,
    clients: dict | None = None,
    graph: Any = None,
    personas: Any = None,
    base_dir: str | os.PathLike | None = None,
) -> RunPlan:
    """A :class:`RunPlan` from a config in any form (an ExperimentConfig, a dict or a YAML
    path) with ``--set`` style `overrides`; `base_dir` places a dict's relative paths."""
    cfg = coerce_config(config, overrides, base_dir=base_dir)
    if out is not None and not isinstance(out, str | os.PathLike):
        raise ConfigError(f"out: {shown(out)} must be a directory's path (a str or a Path)")
    return RunPlan(
        cfg=cfg,
        out=Path(out) if out is not None else None,
        report=report,
        on_step=on_step,
        clients=clients,
        graph=graph,
        personas=personas,
    )


def execute(plan: RunPlan) -> Run | Arms:
    """Run the plan and write its directory: a :class:`Run`, or the :class:`Arms` of an arms
    plan (``replicates > 1`` or ``control``: every seed in the treatment arm and, with
    ``control``, the control arm)."""
    return run_arms(plan) if plan.is_arms else run_plan(plan)
