"""socialsim: social experiments on populations of LLM-backed agents.

import socialsim as ss
cfg = ss.ExperimentConfig.from_yaml("examples/quickstart.yaml")
run = ss.run(cfg)                     # the run's record: events, agents, graph, personas
ss.analysis.spread.adoption_curve(run, "australia_capital", population="benign")

with ss.SocialModel(graph=G, personas=df, policy="degroot", steps=20) as model:
    model.run_model()                 # a Mesa model; the record stays in memory
    record = model.record()
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

# litellm fetches a model cost map over the network at import unless told otherwise.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from socialsim.core.errors import ConfigError, EndpointDown, SocialsimError  # noqa: E402
from socialsim.core.registry import (  # noqa: E402
    register_measure,
    register_network,
    register_policy,
    register_scenario,
)
from socialsim.simulation.config import ExperimentConfig  # noqa: E402

if TYPE_CHECKING:
    from socialsim.simulation.model import SocialModel

from socialsim.core.version import __version__

__all__ = [
    "ConfigError",
    "EndpointDown",
    "ExperimentConfig",
    "Rule",
    "RuleContext",
    "RuleParams",
    "RuleUpdate",
    "Scenario",
    "SocialModel",
    "SocialsimError",
    "__version__",
    "analysis",
    "register_measure",
    "register_network",
    "register_policy",
    "register_scenario",
    "run",
    "sweep",
]


def run(
    config: ExperimentConfig | dict | str | os.PathLike,
    out: str | os.PathLike | None = None,
    overrides: list[str] | dict | None = None,
    on_step=None,
    report: bool | None = None,
    clients: dict | None = None,
    graph=None,
    personas=None,
):
    """Run an experiment: a :class:`~socialsim.experiments.runner.Run` (the record in memory).

    ``config`` is an ExperimentConfig, a dict or a YAML path; ``overrides`` are ``--set``
    style (``["steps=20"]`` or ``{"steps": 20}``); ``out`` is the run directory;
    ``on_step(model)`` is called after each step. ``ss.run(cfg, graph=G, personas=df)`` runs
    on a networkx graph and a personas table given from Python. With ``replicates > 1`` or
    ``control: true`` it returns the :class:`~socialsim.experiments.arms.Arms` (every run,
    results, effects with intervals).
    """
    from socialsim.experiments.plan import execute, plan_run

    plan = plan_run(
        config,
        overrides,
        out=out,
        report=report,
        on_step=on_step,
        clients=clients,
        graph=graph,
        personas=personas,
    )
    return execute(plan)


def sweep(config: ExperimentConfig | str | os.PathLike, grid: dict | None = None, **kwargs):
    """Run a parameter grid over seeds; return one tidy row per cell (a DataFrame)."""
    from socialsim.experiments.sweep import sweep as _sweep

    return _sweep(config, grid=grid, **kwargs)


def __getattr__(name: str):
    import importlib

    if name == "analysis":
        return importlib.import_module("socialsim.analysis")
    if name == "SocialModel":  # imported on first use: Mesa and the scenarios load with it
        return importlib.import_module("socialsim.simulation.model").SocialModel
    if name in _LAZY:  # the bases to subclass, imported on first use
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'socialsim' has no attribute {name!r}")


_LAZY = {
    "Rule": "socialsim.agents.policies.rule_base",
    "RuleParams": "socialsim.agents.policies.rule_base",
    "RuleContext": "socialsim.agents.policies.base",
    "RuleUpdate": "socialsim.agents.policies.base",
    "Scenario": "socialsim.simulation.world",
}
