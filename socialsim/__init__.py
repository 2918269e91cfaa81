"""socialsim: social experiments on populations of LLM-backed agents.

import socialsim as ss
cfg = ss.ExperimentConfig.from_yaml("examples/quickstart.yaml")
run = ss.run(cfg)                     # the run's record: events, agents, graph, personas
ss.analysis.spread.adoption_curve(run, "australia_capital", population="benign")
"""

from __future__ import annotations

import os

# litellm fetches a model cost map over the network at import unless told otherwise.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from socialsim.errors import ConfigError, SocialsimError  # noqa: E402
from socialsim.simulation.config import ExperimentConfig  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "ExperimentConfig",
    "SocialsimError",
    "__version__",
    "analysis",
    "run",
    "sweep",
]


def run(config: ExperimentConfig | str | os.PathLike, **kwargs):
    """Run an experiment: a :class:`~socialsim.simulation.runner.Run` (the record in memory).

    With ``replicates > 1`` or ``control: true`` it returns the
    :class:`~socialsim.simulation.arms.Arms` (every run, results, effects with intervals).
    """
    from socialsim.simulation.runner import run as _run

    return _run(config, **kwargs)


def sweep(config: ExperimentConfig | str | os.PathLike, grid: dict | None = None, **kwargs):
    """Run a parameter grid over seeds; return one tidy row per cell (a DataFrame)."""
    from socialsim.simulation.experiment import sweep as _sweep

    return _sweep(config, grid=grid, **kwargs)


def __getattr__(name: str):
    if name == "analysis":
        import importlib

        return importlib.import_module("socialsim.analysis")
    raise AttributeError(f"module 'socialsim' has no attribute {name!r}")
