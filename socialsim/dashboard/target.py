"""What the dashboard shows: a config (with ``--set`` overrides), a run directory to replay or
an arms directory whose treatment and control replay side by side;
checked once on the command line and handed to the page through an environment variable."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from socialsim.core.errors import ConfigError

ENV_VAR = "SOCIALSIM_DASHBOARD"


@dataclass(frozen=True)
class Target:
    """A config to run live, a run directory to replay or an arms directory to compare."""

    kind: Literal["config", "replay", "arms"]
    path: str
    overrides: tuple[str, ...] = field(default_factory=tuple)

    def to_env(self) -> str:
        """The target as the JSON the page reads from :data:`ENV_VAR`."""
        return json.dumps({"kind": self.kind, "path": self.path, "overrides": self.overrides})

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Target:
        """The target the command line set (ConfigError when the page is served without it)."""
        raw = (environ if environ is not None else os.environ).get(ENV_VAR)
        if not raw:
            raise ConfigError(
                f"{ENV_VAR} is not set; start the dashboard with `socialsim dashboard PATH`"
            )
        data = json.loads(raw)
        return cls(data["kind"], data["path"], tuple(data.get("overrides") or ()))


def is_run_dir(path: Path) -> bool:
    """True for a run directory: an event log and an agents table."""
    return (path / "events.jsonl").is_file() and any(
        (path / name).is_file() for name in ("agents.parquet", "agents.csv")
    )


def resolve_target(
    path: str | Path, overrides: list[str] | None = None, plugins: bool = False
) -> Target:
    """Check `path` (a config, validated with its overrides, or a run directory).

    The plugins a run directory's config names (or those of a config inside a run
    directory) are imported only with `plugins` (``--plugins``): a replay needs none.
    """
    from socialsim.core.registry import trust_plugins, written_by_socialsim
    from socialsim.experiments.arms import is_arms_dir
    from socialsim.simulation.config import ExperimentConfig

    path = Path(path)
    overrides = list(overrides or [])
    if path.is_file():
        if path.name == "config.yaml" and written_by_socialsim(path.parent):
            trust_plugins(path.parent, plugins, needed=True, command="dashboard")
        ExperimentConfig.from_yaml(path, overrides=overrides)
        return Target("config", str(path.resolve()), tuple(overrides))
    if path.is_dir() and is_run_dir(path):
        if overrides:
            raise ConfigError("--set applies to a config; a run directory is replayed as recorded")
        trust_plugins(path, plugins, needed=False, command="dashboard")
        return Target("replay", str(path.resolve()))
    if path.is_dir() and is_arms_dir(path):
        from socialsim.dashboard.arms_replay import paired_seeds

        if overrides:
            raise ConfigError(
                "--set applies to a config; an arms directory is replayed as recorded"
            )
        if not paired_seeds(path):
            raise ConfigError(
                f"{str(path)!r} has no seed run in both a treatment and a control arm; run the "
                "config with control: true to compare the arms, or pass one run's directory"
            )
        trust_plugins(path, plugins, needed=False, command="dashboard")
        return Target("arms", str(path.resolve()))
    if path.is_dir():
        raise ConfigError(
            f"{str(path)!r} is not a run or arms directory (no events.jsonl with agents.parquet "
            "or agents.csv, no treatment/ with config.yaml); pass a config, a run's directory "
            "(e.g. ARMS_DIR/treatment/s7) or an arms directory"
        )
    raise ConfigError(f"{str(path)!r} does not exist; pass a config (YAML) or a run directory")
